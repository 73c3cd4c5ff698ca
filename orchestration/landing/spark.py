"""Land the exports as Spark tables (Parquet) for the ``spark`` dbt target.

The exports go through the same loader as on DuckDB (:func:`load_landing`: the contract
check, the reader rejects, the encodings, the load log) into a scratch DuckDB file, and each
``landing`` table is then written to Spark's catalogue as a Parquet table of the same name
and columns, so both engines build from identical landing rows. ``landing.load_log`` is
appended to (it keeps the history of loads, as on DuckDB); every other table is replaced.

Command line (``make load-spark``)::

    python -m orchestration.landing load --engine spark --landing-dir data/landing
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from orchestration.landing.contract import LANDING_SCHEMA
from orchestration.landing.loader import TableLoad, load_landing
from orchestration.warehouse.connection import connect_warehouse
from orchestration.warehouse.spark import spark_session

#: The load log is appended to; the other landing tables are replaced by every load.
APPENDED_TABLES = ("load_log",)


def load_landing_to_spark(
    landing_dir: Path | str, progress: bool = False, encoding: str | None = None
) -> list[TableLoad]:
    """Check and load the landing folder into Spark's ``landing`` database.

    Returns what was done with each contract table, as :func:`load_landing` does.
    """
    with tempfile.TemporaryDirectory(prefix="portfolio-landing-") as scratch:
        scratch_dir = Path(scratch)
        with connect_warehouse(scratch_dir / "scratch.duckdb") as con:
            loads = load_landing(con, landing_dir, progress=progress, encoding=encoding)
            tables = [
                name
                for (name,) in con.execute(
                    "select table_name from information_schema.tables "
                    "where table_schema = ? order by table_name",
                    [LANDING_SCHEMA],
                ).fetchall()
            ]
            for table in tables:
                con.execute(
                    f"copy {LANDING_SCHEMA}.{table} "
                    f"to '{scratch_dir / table}.parquet' (format parquet)"
                )
        with spark_session() as spark:
            spark.sql(f"create database if not exists {LANDING_SCHEMA}")
            for table in tables:
                frame = spark.read.parquet(str(scratch_dir / f"{table}.parquet"))
                # An appended table (the load log) is never overwritten: append creates it
                # when missing.
                mode = "append" if table in APPENDED_TABLES else "overwrite"
                name = f"{LANDING_SCHEMA}.{table}"
                frame.write.mode(mode).format("parquet").saveAsTable(name)
                if progress:
                    print(f"spark  {name:<24} {mode}", file=sys.stderr)
    return loads
