"""The demo's command line: ``python -m orchestration.demo`` and the ``portfolio-demo`` script.

Parses the options, runs the generator it is given and prints each table's row count on stdout;
:func:`print_progress` is the line per chunk of customers the generator prints on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from orchestration.landing.contract import FILE_FORMATS


def build_parser() -> argparse.ArgumentParser:
    """The options of the command, with their defaults."""
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.demo",
        description="Write deterministic demo landing data (the seven tables of the landing "
        "contract) for a fictitious managed-service provider.",
    )
    parser.add_argument("--customers", type=int, default=300, help="number of customers (300)")
    parser.add_argument("--months", type=int, default=36, help="months in the window (36)")
    parser.add_argument(
        "--end-month", default="2026-10", help="last month of the window, YYYY-MM (2026-10)"
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (42)")
    parser.add_argument(
        "--output", default="data/landing", help="landing folder, created if missing"
    )
    parser.add_argument("--format", choices=FILE_FORMATS, default="csv", dest="file_format")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return parser


def run(generate: Callable[..., dict[str, int]], argv: list[str] | None = None) -> int:
    """Runs the command: ``generate`` (the generator's ``generate``) with the options in
    ``argv`` (default: the process's arguments); a ``ValueError`` becomes a usage error."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        counts = generate(
            args.output,
            customers=args.customers,
            months=args.months,
            end_month=args.end_month,
            seed=args.seed,
            file_format=args.file_format,
            progress=not args.quiet,
        )
    except ValueError as exc:
        parser.error(str(exc))
    for table, n in counts.items():
        print(f"{table}: {n}")
    return 0


def print_progress(done: int, customers: int, rows: int, seconds: float) -> None:
    """The progress line after a chunk: customers done of all, rows written, seconds taken."""
    print(
        f"demo_data: customers {done}/{customers}, {rows:,} rows, {seconds:.1f} s",
        file=sys.stderr,
        flush=True,
    )
