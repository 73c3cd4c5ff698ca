"""Writes the demo landing folder: the catalogue, then the customers chunk by chunk.

The same arguments always produce byte-identical files. Every customer draws from its own random
generator, ``random.Random(f"{seed}-{i}")``, so its rows do not depend on the chunking; customers
are generated and written in chunks of :data:`CHUNK_SIZE`, so memory stays flat for 100,000
customers. Each file is written under a temporary name and renamed when every table is complete.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from orchestration.demo import cli
from orchestration.demo.catalogue import offering_rows
from orchestration.demo.context import Context, make_context
from orchestration.demo.simulation import CUSTOMER_TABLES, CustomerBuilder
from orchestration.demo.writers import COLUMN_KINDS, SINKS, Sink
from orchestration.landing.contract import FILE_FORMATS, LANDING_TABLES

CHUNK_SIZE = 1_000
"""Customers generated and written per chunk (one Parquet row group per table and chunk)."""


def generate(
    output_dir: str | os.PathLike[str],
    customers: int = 300,
    months: int = 36,
    end_month: str = "2026-10",
    seed: int = 42,
    file_format: str = "csv",
    progress: bool = True,
) -> dict[str, int]:
    """Write the seven demo landing tables into ``output_dir`` and return row counts per table.

    Args:
        output_dir: landing folder; created if missing. The seven ``<table>.csv`` and
            ``<table>.parquet`` files in it are replaced (the other format's files are removed
            so that the folder holds one file per table); nothing else is touched.
        customers: number of customers (``C00001`` ...).
        months: length of the window in months, ending with ``end_month``.
        end_month: last month of the window, ``YYYY-MM``.
        seed: random seed; the same arguments give byte-identical files.
        file_format: ``csv`` or ``parquet``.
        progress: print a progress line per chunk of customers to stderr.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if months < 1:
        raise ValueError("months must be at least 1")
    if file_format not in FILE_FORMATS:
        formats = " or ".join(repr(f) for f in FILE_FORMATS)
        raise ValueError(f"file_format must be {formats}, got {file_format!r}")
    ctx = make_context(customers, months, end_month, seed)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    for table in LANDING_TABLES:
        for ext in FILE_FORMATS:
            (out / f"{table}.{ext}").unlink(missing_ok=True)

    sink_class = SINKS[file_format]
    tmp_paths = {t: out / f".{t}.{file_format}.tmp" for t in LANDING_TABLES}
    counts = dict.fromkeys(LANDING_TABLES, 0)
    started = time.monotonic()
    try:
        with ExitStack() as stack:
            sinks = {t: sink_class(tmp_paths[t], cols, stack) for t, cols in COLUMN_KINDS.items()}
            _write_all(ctx, sinks, counts, progress, started)
    except BaseException:
        for tmp in tmp_paths.values():
            tmp.unlink(missing_ok=True)
        raise
    for table, tmp in tmp_paths.items():
        os.replace(tmp, out / f"{table}.{file_format}")
    return counts


def _write_all(
    ctx: Context,
    sinks: dict[str, Sink],
    counts: dict[str, int],
    progress: bool,
    started: float,
) -> None:
    """Writes the catalogue, then the customers chunk by chunk."""
    customers = ctx.customers
    offerings = offering_rows()
    sinks["offerings"].write(offerings)
    counts["offerings"] = len(offerings)
    for chunk_start in range(1, customers + 1, CHUNK_SIZE):
        chunk_end = min(customers, chunk_start + CHUNK_SIZE - 1)
        buffers: dict[str, list[tuple]] = {t: [] for t in CUSTOMER_TABLES}
        for i in range(chunk_start, chunk_end + 1):
            for table, rows in CustomerBuilder(ctx, i).build().items():
                buffers[table].extend(rows)
        for table, rows in buffers.items():
            if rows:
                sinks[table].write(rows)
                counts[table] += len(rows)
        if progress:
            cli.print_progress(
                chunk_end, customers, sum(counts.values()), time.monotonic() - started
            )


def main(argv: list[str] | None = None) -> int:
    """The command line (:mod:`orchestration.demo.cli`) with this module's :func:`generate`: the
    entry point of ``python -m orchestration.demo`` and of the ``portfolio-demo`` script."""
    return cli.run(generate, argv)


if __name__ == "__main__":
    sys.exit(main())
