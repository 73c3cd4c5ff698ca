"""The same landing data built on DuckDB and on Apache Spark gives the same marts.

``make test-spark`` runs this module (``.ci/run`` too); it needs the optional dependency
group ``spark`` (PySpark, dbt-spark) and Java 17. One generated portfolio is landed twice by
the project's loader (``python -m orchestration.landing load``, into a DuckDB file and, with
``--engine spark``, into a local Spark warehouse) and built by ``dbt build`` on each target,
every data test included and, on Spark, every dbt unit test. Then every table of the schemas
``marts`` and ``audit`` is read back, DuckDB's through DuckDB and Spark's through Spark's
Python API, and compared row by row: every column, decimals exactly, floating-point figures
(ratios, shares, logarithms) within 1e-12, dates and text exactly. A second pass rebuilds the
last two months incrementally on both engines (Spark's insert_overwrite of month partitions
against DuckDB's replace_months) after a change to the landing data (the last month's churn
events removed) and with the cut-off month moved back one month, so that the last month
yields no row any more and must vanish from every monthly mart, and compares again.
"""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.conftest import BIN_DIR, PROJECT_DIR, build_warehouse
from tests.spark.reader import read_spark_tables

#: Floating-point columns (DuckDB's double, Spark's double) agree within this, relative to
#: the larger magnitude or absolute near zero.
FLOAT_TOLERANCE = 1e-12
#: Schemas whose every table is compared.
COMPARED_SCHEMAS = ("marts", "audit")
#: Columns that record when a build ran, not what it computed.
BUILD_TIME_COLUMNS = {("audit", "data_quality_summary"): {"invocation_id", "built_at"}}

CUSTOMERS = 60
MONTHS = 24
END_MONTH = "2025-09"
SEED = 11


def _spark_env(spark_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PORTFOLIO_SPARK_DIR": str(spark_dir),
        "PORTFOLIO_DBT_TARGET": "spark",
        "DBT_PROFILES_DIR": str(PROJECT_DIR / "profiles"),
        "DBT_PROJECT_DIR": str(PROJECT_DIR),
        "SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP", "127.0.0.1"),
        # Spark spends most of a small query planning it: four dbt threads keep both cores busy.
        "PORTFOLIO_THREADS": "4",
    }


def _run(command: list[str], env: dict[str, str], cwd: Path) -> None:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, (
        f"{' '.join(command)} failed:\n{result.stdout[-20000:]}\n{result.stderr[-5000:]}"
    )


def _spark_load(landing: Path, spark_dir: Path) -> None:
    command = [sys.executable, "-m", "orchestration.landing", "load", "--engine", "spark"]
    _run([*command, "--landing-dir", str(landing)], _spark_env(spark_dir), spark_dir.parent)


def _spark_build(spark_dir: Path, *args: str) -> None:
    """``dbt build`` on the spark target: data tests and, unless excluded, unit tests."""
    command = [
        str(BIN_DIR / "dbt"),
        "build",
        "--target-path",
        str(spark_dir.parent / "dbt-target-spark"),
        "--log-path",
        str(spark_dir.parent / "dbt-logs-spark"),
        *args,
    ]
    _run(command, _spark_env(spark_dir), PROJECT_DIR)


def _without_last_month_churn_events(landing: Path, last_month: str) -> None:
    """Drops the churn events effective in ``last_month`` (YYYY-MM) from the landing file."""
    path = landing / "churn_events.csv"
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames
        rows = [row for row in reader if not row["effective_date"].startswith(last_month)]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Full builds of one generated portfolio on both engines (landing, DuckDB file, Spark
    folder), then the comparison's Spark session."""
    from orchestration.demo.generator import generate

    root = tmp_path_factory.mktemp("spark-parity")
    landing = root / "landing"
    generate(
        landing, customers=CUSTOMERS, months=MONTHS, end_month=END_MONTH, seed=SEED, progress=False
    )
    warehouse = root / "duckdb" / "portfolio.duckdb"
    warehouse.parent.mkdir()
    spark_dir = root / "spark"
    build_warehouse(landing, warehouse, data_tests=True)
    _spark_load(landing, spark_dir)
    _spark_build(spark_dir, "--full-refresh")
    yield {"landing": landing, "warehouse": warehouse, "spark_dir": spark_dir, "root": root}


def _duckdb_tables(warehouse: Path) -> dict[tuple[str, str], tuple[list[str], list[tuple]]]:
    tables = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ? and table_type = 'BASE TABLE' order by 1, 2",
            [list(COMPARED_SCHEMAS)],
        ).fetchall()
        for schema, table in names:
            relation = con.execute(f"select * from {schema}.{table}")
            columns = [column[0] for column in relation.description]
            tables[(schema, table)] = (columns, relation.fetchall())
    return tables


def _spark_tables(
    spark_dir: Path, wanted: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[list[str], list[tuple]]]:
    """Every ``wanted`` table that exists on Spark: (columns, rows), read by Spark."""
    return {
        name: (table.columns, table.rows)
        for name, table in read_spark_tables(spark_dir, wanted).items()
    }


def _sort_key(row: tuple) -> tuple:
    """Rows in one order on both engines: by every value, floats rounded (they may differ in
    the last bits), None first."""
    key = []
    for value in row:
        if value is None:
            key.append((0, ""))
        elif isinstance(value, float):
            key.append((1, f"{value:.9e}"))
        elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            key.append((1, f"{Decimal(value):025.10f}"))
        else:
            key.append((1, str(value)))
    return tuple(key)


def _values_equal(left: object, right: object) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, float) or isinstance(right, float):
        if math.isnan(float(left)) and math.isnan(float(right)):
            return True
        return math.isclose(
            float(left), float(right), rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE
        )
    if isinstance(left, Decimal) or isinstance(right, Decimal):
        return Decimal(left) == Decimal(right)
    if isinstance(left, date) and isinstance(right, date):
        return left == right
    return left == right


def _differences(
    duck: dict[tuple[str, str], tuple[list[str], list[tuple]]],
    spark: dict[tuple[str, str], tuple[list[str], list[tuple]]],
) -> list[str]:
    problems: list[str] = []
    for name, (duck_columns, duck_rows) in duck.items():
        label = ".".join(name)
        if name not in spark:
            problems.append(f"{label}: no such table on Spark")
            continue
        spark_columns, spark_rows = spark[name]
        if sorted(duck_columns) != sorted(spark_columns):
            problems.append(f"{label}: columns differ: {duck_columns} vs {spark_columns}")
            continue
        skipped = BUILD_TIME_COLUMNS.get(name, set())
        columns = [column for column in duck_columns if column not in skipped]
        duck_index = [duck_columns.index(column) for column in columns]
        spark_index = [spark_columns.index(column) for column in columns]
        left = sorted((tuple(row[i] for i in duck_index) for row in duck_rows), key=_sort_key)
        right = sorted((tuple(row[i] for i in spark_index) for row in spark_rows), key=_sort_key)
        if len(left) != len(right):
            problems.append(f"{label}: {len(left)} rows on DuckDB, {len(right)} on Spark")
            continue
        mismatches = [
            (duck_row, spark_row)
            for duck_row, spark_row in zip(left, right, strict=True)
            if not all(map(_values_equal, duck_row, spark_row))
        ]
        if mismatches:
            duck_row, spark_row = mismatches[0]
            detail = [
                f"{column}: {a!r} vs {b!r}"
                for column, a, b in zip(columns, duck_row, spark_row, strict=True)
                if not _values_equal(a, b)
            ]
            problems.append(
                f"{label}: {len(mismatches)} of {len(left)} rows differ; first: "
                + "; ".join(detail)
            )
    return problems


def _compare(warehouse: Path, spark_dir: Path) -> tuple[int, int]:
    duck = _duckdb_tables(warehouse)
    assert duck, "the DuckDB build has no table to compare"
    spark = _spark_tables(spark_dir, list(duck))
    problems = _differences(duck, spark)
    assert not problems, "DuckDB and Spark differ:\n" + "\n".join(problems)
    return len(duck), sum(len(rows) for _, rows in duck.values())


def test_landing_tables_are_identical(builds: dict[str, Path]) -> None:
    """The loader's --engine spark lands exactly the rows the DuckDB load has."""
    with duckdb.connect(str(builds["warehouse"]), read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'landing' and table_name not in ('load_log') order by 1"
            ).fetchall()
        ]
        duck = {}
        for table in tables:
            relation = con.execute(f"select * from landing.{table}")
            duck[("landing", table)] = (
                [column[0] for column in relation.description],
                relation.fetchall(),
            )
    assert {"customers", "invoice_lines", "reader_rejects"} <= set(tables)
    problems = _differences(duck, _spark_tables(builds["spark_dir"], list(duck)))
    assert not problems, "\n".join(problems)


def test_every_mart_is_identical_after_a_full_build(builds: dict[str, Path]) -> None:
    tables, rows = _compare(builds["warehouse"], builds["spark_dir"])
    assert tables >= 20 and rows > 1000, (tables, rows)


def test_every_mart_is_identical_after_a_month_run(builds: dict[str, Path]) -> None:
    """Incremental runs of the last two months, the last one now after the cut-off month:
    Spark replaces the month partitions the run rebuilt and drops those left without rows,
    as DuckDB's replace_months deletes and inserts."""
    landing, warehouse, spark_dir = builds["landing"], builds["warehouse"], builds["spark_dir"]
    _without_last_month_churn_events(landing, END_MONTH)
    month_vars = "{start_month: '2025-08', end_month: '2025-09', cut_off_month: '2025-08'}"
    build_warehouse(landing, warehouse, vars_=month_vars, data_tests=True)
    _spark_load(landing, spark_dir)
    _spark_build(spark_dir, "--vars", month_vars, "--exclude-resource-type", "unit_test")
    _compare(warehouse, spark_dir)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (last,) = con.execute("select max(as_of_month) from marts.mrr_movements").fetchone()
    assert last == date(2025, 8, 1), "the month after the cut-off was not dropped"
