"""Load the landing folder's exports into the warehouse's ``landing`` schema.

The landing contract (DOMAIN.md §2) is seven tables, one file each, as CSV with
a header or as Parquet: ``<table>.csv`` or ``<table>.parquet``. This module is
the only code that touches those files. It

1. checks the contract before anything is built: every table has exactly one
   file, and every required column is present (a missing file or column is a
   :class:`LandingError` naming the file and the column);
2. copies the required columns, as text exactly as exported, into
   ``landing.<table>`` with DuckDB's own CSV and Parquet readers (extra
   columns are ignored);
3. keeps every malformed CSV line (too many or too few fields, an
   unterminated quote) that DuckDB's reader rejects, with its text and line
   number, in ``landing.reader_rejects`` instead of failing the load — the
   dbt models list them in ``audit.rejected_rows``;
4. records what it read in ``landing.load_log``.

Typing happens in the dbt staging models, which read these tables as sources.

Command line::

    python -m orchestration.landing check --landing-dir data/landing
    python -m orchestration.landing load --landing-dir data/landing \\
        --warehouse warehouse/portfolio.duckdb
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

#: Required columns of each landing table, in contract order (DOMAIN.md §2).
LANDING_TABLES: dict[str, tuple[str, ...]] = {
    "customers": (
        "customer_id",
        "customer_name",
        "industry",
        "employee_count",
        "region",
        "account_manager",
        "created_date",
        "tcp_override",
    ),
    "offerings": (
        "offering_id",
        "offering_name",
        "offering_family",
        "revenue_type",
        "lifecycle",
        "is_full_package_component",
        "list_price",
    ),
    "agreements": (
        "agreement_id",
        "customer_id",
        "agreement_type",
        "start_date",
        "end_date",
        "cancelled_date",
    ),
    "agreement_lines": (
        "agreement_line_id",
        "agreement_id",
        "offering_id",
        "quantity",
        "unit_price",
        "billing_cycle",
        "effective_date",
        "cancelled_date",
    ),
    "invoice_lines": (
        "invoice_line_id",
        "invoice_id",
        "invoice_date",
        "customer_id",
        "offering_id",
        "revenue_type",
        "quantity",
        "extended_price",
        "extended_cost",
    ),
    "time_entries": (
        "time_entry_id",
        "work_date",
        "customer_id",
        "offering_id",
        "technician_id",
        "hours_actual",
        "loaded_hourly_cost",
    ),
    "churn_events": (
        "churn_event_id",
        "customer_id",
        "offering_id",
        "event_type",
        "notice_date",
        "effective_date",
        "reason_code",
        "initiated_by",
        "was_flagged_at_risk",
    ),
}

LANDING_SCHEMA = "landing"
FILE_FORMATS = ("csv", "parquet")

#: Connection settings for every DuckDB file this project writes: the file
#: stays readable by DuckDB 1.4+ (BI tools and the DuckDB CLI).
DUCKDB_CONFIG = {"storage_compatibility_version": "v1.4.0"}


class LandingError(Exception):
    """The landing folder breaks the contract (missing file or column)."""


@dataclass(frozen=True)
class LandingFile:
    """One landing table's file."""

    table: str
    path: Path
    file_format: str

    def header(self) -> list[str]:
        """Column names in the file's header (CSV) or schema (Parquet)."""
        if self.file_format == "csv":
            with self.path.open(newline="", encoding="utf-8-sig") as handle:
                header = next(csv.reader(handle), None)
            if not header:
                raise LandingError(f"{self.path}: the file is empty (a header line is required)")
            return header
        with duckdb.connect() as con:
            rows = con.execute(
                f"describe select * from read_parquet({_sql_string(str(self.path))})"
            ).fetchall()
        return [row[0] for row in rows]

    def reader_sql(self, rejects_table: str | None = None) -> str:
        """A DuckDB table expression that reads the file, every column as text.

        CSV is read with a fixed dialect (comma, double quotes) and the
        header's columns, so one malformed line cannot confuse dialect
        detection; with ``rejects_table`` the reader skips malformed lines
        and records them there (DuckDB's ``store_rejects``).
        """
        literal = _sql_string(str(self.path))
        if self.file_format == "parquet":
            return f"read_parquet({literal})"
        columns = ", ".join(f"{_sql_string(c)}: 'VARCHAR'" for c in self.header())
        options = [
            "header = true",
            "auto_detect = false",
            "delim = ','",
            "quote = '\"'",
            "escape = '\"'",
            f"columns = {{{columns}}}",
        ]
        if rejects_table:
            options += [
                "store_rejects = true",
                f"rejects_table = {_sql_string(rejects_table)}",
                f"rejects_scan = {_sql_string(rejects_table + '_scan')}",
            ]
        return f"read_csv({literal}, {', '.join(options)})"


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def find_landing_file(landing_dir: Path | str, table: str) -> LandingFile:
    """Return the single file holding ``table`` in ``landing_dir``.

    Raises:
        LandingError: no file, or both a CSV and a Parquet file, for the table.
    """
    landing_dir = Path(landing_dir)
    found = [
        LandingFile(table, landing_dir / f"{table}.{fmt}", fmt)
        for fmt in FILE_FORMATS
        if (landing_dir / f"{table}.{fmt}").is_file()
    ]
    if not found:
        raise LandingError(
            f"missing landing file for table '{table}': expected "
            f"{landing_dir / (table + '.csv')} or {landing_dir / (table + '.parquet')}"
        )
    if len(found) > 1:
        raise LandingError(
            f"ambiguous landing files for table '{table}': "
            + " and ".join(str(f.path) for f in found)
            + " both exist; keep one"
        )
    return found[0]


def file_columns(landing_file: LandingFile) -> list[str]:
    """Column names of a landing file as its reader sees them."""
    return landing_file.header()


def check_landing(
    landing_dir: Path | str, con: duckdb.DuckDBPyConnection | None = None
) -> dict[str, LandingFile]:
    """Check the whole landing contract and return each table's file.

    Every problem is collected before raising, so one run lists them all.

    Raises:
        LandingError: with one line per missing file or missing column.
    """
    landing_dir = Path(landing_dir)
    if not landing_dir.is_dir():
        raise LandingError(f"landing folder {landing_dir} does not exist")
    own_connection = con is None
    con = con or duckdb.connect()
    problems: list[str] = []
    files: dict[str, LandingFile] = {}
    try:
        for table, required in LANDING_TABLES.items():
            try:
                landing_file = find_landing_file(landing_dir, table)
                present = {c.strip().lower() for c in file_columns(landing_file)}
            except LandingError as error:
                problems.append(str(error))
                continue
            except (duckdb.Error, OSError, UnicodeDecodeError) as error:
                problems.append(f"cannot read the file of table '{table}': {error}")
                continue
            missing = [c for c in required if c not in present]
            problems.extend(
                f"{landing_file.path}: missing required column '{column}'" for column in missing
            )
            if not missing:
                files[table] = landing_file
    finally:
        if own_connection:
            con.close()
    if problems:
        raise LandingError("landing contract broken:\n  " + "\n  ".join(problems))
    return files


def _select_required_columns(
    landing_file: LandingFile, required: tuple[str, ...], rejects_table: str
) -> str:
    # Map header names case-insensitively, so `Customer_ID` still loads.
    by_lower = {c.strip().lower(): c for c in file_columns(landing_file)}
    columns = ",\n    ".join(
        f"cast({_quote_identifier(by_lower[c])} as varchar) as {_quote_identifier(c)}"
        for c in required
    )
    return f"select\n    {columns}\nfrom {landing_file.reader_sql(rejects_table)}"


def load_landing(
    con: duckdb.DuckDBPyConnection, landing_dir: Path | str, progress: bool = False
) -> dict[str, int]:
    """Check the contract, then (re)load every landing table into ``landing``.

    Malformed CSV lines do not stop the load: they are kept, one row per
    rejected record, in ``landing.reader_rejects``. Returns the number of rows
    loaded per table.
    """
    files = check_landing(landing_dir, con)
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    counts: dict[str, int] = {}
    con.execute(f"create schema if not exists {LANDING_SCHEMA}")
    con.execute(
        f"""
        create table if not exists {LANDING_SCHEMA}.load_log (
            table_name varchar,
            file_path varchar,
            file_format varchar,
            rows_loaded bigint,
            malformed_lines bigint,
            loaded_at timestamp
        )
        """
    )
    con.execute(
        f"""
        create or replace table {LANDING_SCHEMA}.reader_rejects (
            table_name varchar,
            file_path varchar,
            line bigint,
            error_type varchar,
            error_message varchar,
            csv_line varchar
        )
        """
    )
    for table, landing_file in files.items():
        rejects_table = f"temp_rejects_{table}"
        select = _select_required_columns(landing_file, LANDING_TABLES[table], rejects_table)
        con.execute(f"create or replace table {LANDING_SCHEMA}.{table} as {select}")
        (count,) = con.execute(f"select count(*) from {LANDING_SCHEMA}.{table}").fetchone()
        malformed = 0
        if landing_file.file_format == "csv":
            # One record can raise several errors (an unterminated quote and
            # then too many columns): keep one row per rejected record.
            con.execute(
                f"""
                insert into {LANDING_SCHEMA}.reader_rejects
                select
                    ? as table_name,
                    ? as file_path,
                    line,
                    string_agg(distinct cast(error_type as varchar), '; ') as error_type,
                    string_agg(distinct error_message, '; ') as error_message,
                    min(csv_line) as csv_line
                from {rejects_table}
                group by line
                """,
                [table, str(landing_file.path.resolve())],
            )
            (malformed,) = con.execute(
                f"select count(distinct line) from {rejects_table}"
            ).fetchone()
        counts[table] = count
        con.execute(
            f"insert into {LANDING_SCHEMA}.load_log values (?, ?, ?, ?, ?, ?)",
            [
                table,
                str(landing_file.path.resolve()),
                landing_file.file_format,
                count,
                malformed,
                loaded_at,
            ],
        )
        if progress:
            note = f", {malformed:,} malformed lines set aside" if malformed else ""
            print(
                f"loaded {table:<16} {count:>12,} rows{note}  from {landing_file.path}",
                file=sys.stderr,
            )
    return counts


def connect_warehouse(path: Path | str) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) a warehouse file with the project's settings."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), config=DUCKDB_CONFIG)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.landing", description=__doc__)
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
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            files = check_landing(args.landing_dir)
            for table, landing_file in files.items():
                print(f"{table:<16} {landing_file.path}")
            return 0
        with connect_warehouse(args.warehouse) as con:
            load_landing(con, args.landing_dir, progress=True)
        return 0
    except LandingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
