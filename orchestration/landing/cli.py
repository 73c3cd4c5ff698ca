"""Command line of the landing step: check the landing folder, or load it into a warehouse.

    python -m orchestration.landing check --landing-dir data/landing
    python -m orchestration.landing load --landing-dir data/landing \\
        --warehouse warehouse/portfolio.duckdb [--encoding cp1252]
    python -m orchestration.landing load --engine spark --landing-dir data/landing

CSV files are read in the encoding of ``--encoding`` or ``PORTFOLIO_LANDING_ENCODING``:
``auto`` (default; UTF-8 when the whole file is UTF-8, else Windows-1252), ``utf-8``,
``cp1252`` or ``latin-1``.
"""

from __future__ import annotations

import argparse
import os
import sys

from orchestration import settings
from orchestration.landing.contract import LANDING_TABLES, OPTIONAL_TABLES
from orchestration.landing.encodings import normalise_encoding
from orchestration.landing.loader import LandingError, check_landing, load_landing
from orchestration.warehouse.connection import connect_warehouse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.landing",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["check", "load"])
    parser.add_argument(
        "--landing-dir",
        default=os.environ.get("PORTFOLIO_LANDING_DIR", "data/landing"),
        help="folder holding <table>.csv or <table>.parquet (env PORTFOLIO_LANDING_DIR)",
    )
    parser.add_argument(
        "--warehouse",
        default=os.environ.get("PORTFOLIO_WAREHOUSE", "warehouse/portfolio.duckdb"),
        help="DuckDB file to load into (env PORTFOLIO_WAREHOUSE)",
    )
    parser.add_argument(
        "--engine",
        choices=["duckdb", "spark"],
        default=None,
        help="warehouse to load into: duckdb (the file of --warehouse) or spark (Parquet "
        "tables in the local Spark warehouse, PORTFOLIO_SPARK_DIR); default: spark when "
        "PORTFOLIO_DBT_TARGET is spark, else duckdb",
    )
    parser.add_argument(
        "--encoding",
        default=None,
        help="text encoding of the CSV files: auto (UTF-8, else Windows-1252), utf-8, cp1252 "
        "or latin-1 (env PORTFOLIO_LANDING_ENCODING, default auto)",
    )
    args = parser.parse_args(argv)
    try:
        encoding = normalise_encoding(args.encoding, "--encoding") if args.encoding else None
    except ValueError as error:
        parser.error(str(error))
    try:
        if args.command == "check":
            files = check_landing(args.landing_dir, encoding=encoding)
            for table in LANDING_TABLES:
                if table in files:
                    print(f"{table:<16} {files[table].path}")
                else:
                    print(f"{table:<16} absent: {OPTIONAL_TABLES[table]}")
            return 0
        engine = args.engine or ("spark" if settings.dbt_target() == "spark" else "duckdb")
        if engine == "spark":
            from orchestration.landing.spark import load_landing_to_spark

            load_landing_to_spark(args.landing_dir, progress=True, encoding=encoding)
            return 0
        with connect_warehouse(args.warehouse) as con:
            load_landing(con, args.landing_dir, progress=True, encoding=encoding)
        return 0
    except LandingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
