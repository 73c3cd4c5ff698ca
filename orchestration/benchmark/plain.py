"""Run the plain SQL script (``plain_core_marts.sql``) over a landing folder.

The benchmark's yardstick: the core marts computed by one hand-written DuckDB script, with no
dbt, no Dagster, no validation and no write-audit-publish. This module defines the typed input
views the script reads (``landing_<table>``: ``read_csv`` with the landing contract's column
types, DuckDB's parallel CSV reader, or ``read_parquet`` with casts), then runs the script
through the duckdb Python API into a separate DuckDB file, with DuckDB's default memory limit
and threads.

Command line (the benchmark runs it in a child process, to measure its wall time and peak
memory on their own)::

    python -m orchestration.benchmark.plain --landing target/bench/10000/landing \\
        --output target/bench/10000/plain/plain.duckdb
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb

from orchestration.landing.contract import TABLES_BY_NAME
from orchestration.warehouse.connection import sql_string

SCRIPT = Path(__file__).with_name("plain_core_marts.sql")

#: The landing tables the script reads (churn events are not in the core marts).
INPUT_TABLES = (
    "customers",
    "offerings",
    "invoice_lines",
    "time_entries",
    "agreements",
    "agreement_lines",
)

#: The staging type of each landing contract column type.
DUCKDB_TYPES = {
    "text": "varchar",
    "date": "date",
    "number": "decimal(18, 4)",
    "integer": "bigint",
    "boolean": "boolean",
}

#: The tables the script writes, in the schema ``marts``.
OUTPUT_TABLES = (
    "customer_concentration",
    "portfolio_concentration",
    "customer_classification",
    "customer_offering_matrix",
    "mrr_movements",
)


def input_view_sql(table: str, path: Path) -> str:
    """``create temp view landing_<table>``: the file ``path`` typed as the contract says.

    A CSV file is read with ``read_csv`` and explicit column types (no type sniffing; the
    header must list the contract's columns in the contract's order, as the demo writes
    them); a Parquet file with ``read_parquet`` and a cast of each column.
    """
    columns = TABLES_BY_NAME[table].columns
    if path.suffix == ".csv":
        types = ", ".join(
            f"{sql_string(c.name)}: {sql_string(DUCKDB_TYPES[c.type])}" for c in columns
        )
        source = (
            f"read_csv({sql_string(str(path))}, header = true, delim = ',', quote = '\"', "
            f"columns = {{{types}}})"
        )
        select = "*"
    else:
        source = f"read_parquet({sql_string(str(path))})"
        select = ", ".join(f"cast({c.name} as {DUCKDB_TYPES[c.type]}) as {c.name}" for c in columns)
    return f"create or replace temp view landing_{table} as select {select} from {source}"


def landing_file(landing: Path, table: str) -> Path:
    """The landing file of ``table``: ``<table>.csv`` or ``<table>.parquet``."""
    for suffix in (".csv", ".parquet"):
        path = landing / f"{table}{suffix}"
        if path.exists():
            return path
    raise FileNotFoundError(f"{landing}: no {table}.csv or {table}.parquet (the script needs it)")


def run_plain(landing: Path, output: Path) -> dict[str, int]:
    """Run the script over ``landing`` into a new DuckDB file ``output``; rows per table."""
    output.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (output, output.with_name(output.name + ".wal")):
        leftover.unlink(missing_ok=True)
    with duckdb.connect(str(output)) as con:
        for table in INPUT_TABLES:
            con.execute(input_view_sql(table, landing_file(landing, table)))
        con.execute(SCRIPT.read_text())
        counts = {
            table: con.execute(f"select count(*) from marts.{table}").fetchall()[0][0]
            for table in OUTPUT_TABLES
        }
        con.execute("checkpoint")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.benchmark.plain", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--landing", required=True, type=Path, help="landing folder")
    parser.add_argument("--output", required=True, type=Path, help="DuckDB file to write")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = run_plain(args.landing, args.output)
    rows = ", ".join(f"{table} {n:,}" for table, n in counts.items())
    print(f"plain SQL: {rows} in {time.perf_counter() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
