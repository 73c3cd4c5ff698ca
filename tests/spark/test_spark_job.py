"""The Dagster job on the ``spark`` dbt target scores exactly as the same job on DuckDB.

``make test-spark`` runs this module; it needs the optional dependency group ``spark`` and
Java 17. One small generated portfolio is built twice by ``python -m orchestration.commands.run
--all-months --full-refresh`` (the command of ``make build``), each run in a Dagster instance
of its own with the clock injected (``PORTFOLIO_CLOCK``): once on DuckDB (write-audit-publish
of a DuckDB file) and once with ``PORTFOLIO_DBT_TARGET=spark`` (landing, dbt, scoring on a
DuckDB mirror of Spark's tables, publish log, all in a local Spark warehouse). Then one
scoring asset is run again for an earlier month on each engine (a run of a subset, which keeps
the full build's month: the scoring tables' history on Spark goes through the mirror).

The Spark tables are read through Spark's Python API in a child process (a Spark session
holds the metastore of its process: the test process stays free of it) and compared with the
DuckDB warehouse's: every table of ``marts`` exists on Spark with the same row count, and every
scoring table holds the same rows, value by value (decimals exactly, floating-point figures
within 1e-9, dates and text exactly), with Spark column types for decimals, dates, doubles and
text. The publish log of each engine records the same row counts.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.conftest import PROJECT_DIR
from tests.spark.reader import read_spark_tables

CUSTOMERS = 20
MONTHS = 13
END_MONTH = "2026-10"
SEED = 3
#: "Now" of the runs: a few days after the demo's last month closed.
CLOCK = "2026-11-05T10:00:00"
FIRST_MONTH = date(2025, 10, 1)
LAST_MONTH = date(2026, 10, 1)
#: The month the second run scores again, with the scoring table of :data:`RESCORED`.
RESCORED_MONTH = "2026-09"
RESCORED = "customer_lifetime_value"

FLOAT_TOLERANCE = 1e-9
SCORING_TABLES = (
    "retention_curves",
    "customer_lifetime_value",
    "churn_risk_scores",
    "churn_risk_drivers",
    "cross_sell_recommendations",
)
#: Columns that record when a fit ran, not what it computed.
BUILD_TIME_COLUMNS = {"retention_curves": {"fitted_at"}}
#: Spark's type of the scoring columns whose type matters to readers.
SPARK_TYPES = {
    ("customer_lifetime_value", "as_of_month"): "date",
    ("customer_lifetime_value", "customer_id"): "string",
    ("customer_lifetime_value", "monthly_gross_margin"): "decimal(18,2)",
    ("customer_lifetime_value", "residual_lifetime_value"): "decimal(18,2)",
    ("customer_lifetime_value", "derl_months"): "double",
    ("customer_lifetime_value", "tenure_months"): "int",
    ("churn_risk_scores", "churn_probability_3m"): "double",
    ("churn_risk_scores", "trained_through_month"): "date",
    ("cross_sell_recommendations", "expected_revenue"): "decimal(18,2)",
    ("retention_curves", "converged"): "boolean",
    ("retention_curves", "fitted_at"): "timestamp",
}


def _run(root: Path, landing: Path, target: str, *args: str) -> subprocess.CompletedProcess:
    """``python -m orchestration.commands.run *args`` on ``target`` in a Dagster instance,
    manifest folder, warehouse and Spark folder of ``root``."""
    home = root / "dagster_home"
    if not home.exists():
        home.mkdir(parents=True)
        shutil.copy(PROJECT_DIR / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "PORTFOLIO_DBT_TARGET": target,
        "PORTFOLIO_LANDING_DIR": str(landing),
        "PORTFOLIO_WAREHOUSE": str(root / "warehouse" / "portfolio.duckdb"),
        "PORTFOLIO_DAGSTER_TARGET_DIR": str(root / "dagster-target"),
        "PORTFOLIO_SPARK_DIR": str(root / "spark"),
        "PORTFOLIO_CLOCK": CLOCK,
        "PORTFOLIO_EXPORT_DIR": "off",
        "PORTFOLIO_REPORT_DIR": "off",
        "SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP", "127.0.0.1"),
    }
    env.pop("PORTFOLIO_CUT_OFF_MONTH", None)
    result = subprocess.run(
        [sys.executable, "-m", "orchestration.commands.run", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    log = home / "last-run.log"
    tail = log.read_text()[-6000:] if log.exists() else ""
    assert result.returncode == 0, f"{target} run failed:\n{result.stdout}\n{result.stderr}\n{tail}"
    return result


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """The same landing built by the job on DuckDB and on Spark, one scoring asset rescored
    for an earlier month on each; the Spark tables read back."""
    from orchestration.demo.generator import generate

    root = tmp_path_factory.mktemp("spark-job")
    landing = root / "landing"
    generate(
        landing, customers=CUSTOMERS, months=MONTHS, end_month=END_MONTH, seed=SEED, progress=False
    )
    rescore = ["--month", RESCORED_MONTH, "--select", f'key:"scoring/{RESCORED}"']
    outputs = {}
    for target in ("dev", "spark"):
        outputs[target] = _run(root / target, landing, target, "--all-months", "--full-refresh")
        outputs[f"{target}-rescore"] = _run(root / target, landing, target, *rescore)
    tables = read_spark_tables(
        root / "spark" / "spark",
        tables=[("audit", "publish_log")],
        schemas=["marts", "scoring"],
    )
    spark = {
        "marts": {name: len(t.rows) for (schema, name), t in tables.items() if schema == "marts"},
        "scoring": {
            name: (t.columns, t.rows) for (schema, name), t in tables.items() if schema == "scoring"
        },
        "dtypes": {name: t.dtypes for (schema, name), t in tables.items() if schema == "scoring"},
        "publish_log": (
            tables[("audit", "publish_log")].dicts() if ("audit", "publish_log") in tables else []
        ),
    }
    yield {
        "warehouse": root / "dev" / "warehouse" / "portfolio.duckdb",
        "spark": spark,
        "outputs": outputs,
    }


def _duckdb_rows(warehouse: Path, sql: str) -> tuple[list[str], list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        relation = con.execute(sql)
        return [column[0] for column in relation.description], relation.fetchall()


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
    return left == right


def _sort_key(row: tuple) -> tuple:
    """Rows in one order on both engines: floats rounded (last bits may differ), None first."""
    key = []
    for value in row:
        if value is None:
            key.append((0, ""))
        else:
            key.append((1, f"{value:.6e}" if isinstance(value, float) else str(value)))
    return tuple(key)


def test_spark_run_says_what_it_skipped(runs: dict[str, object]) -> None:
    output = runs["outputs"]["spark"].stdout
    assert "PORTFOLIO_DBT_TARGET=spark" in output
    assert "==> built on Spark in" in output
    assert "month-end report:" not in output


def test_every_mart_exists_on_spark_with_duckdbs_row_count(runs: dict[str, object]) -> None:
    _, rows = _duckdb_rows(
        runs["warehouse"],
        "select table_name from duckdb_tables() where schema_name = 'marts' order by 1",
    )
    duck_counts = {
        name: _duckdb_rows(runs["warehouse"], f'select count(*) from marts."{name}"')[1][0][0]
        for (name,) in rows
    }
    spark_counts = runs["spark"]["marts"]
    assert len(duck_counts) > 20
    assert sorted(spark_counts) == sorted(duck_counts)
    assert spark_counts == duck_counts


@pytest.mark.parametrize("table", SCORING_TABLES)
def test_scoring_table_equals_duckdbs(runs: dict[str, object], table: str) -> None:
    duck_columns, duck_rows = _duckdb_rows(runs["warehouse"], f"select * from scoring.{table}")
    spark_columns, spark_rows = runs["spark"]["scoring"][table]
    assert spark_columns == duck_columns
    assert duck_rows, f"scoring.{table} is empty on DuckDB: nothing compared"
    assert len(spark_rows) == len(duck_rows)
    kept = [i for i, c in enumerate(duck_columns) if c not in BUILD_TIME_COLUMNS.get(table, ())]
    left = sorted((tuple(row[i] for i in kept) for row in duck_rows), key=_sort_key)
    right = sorted((tuple(row[i] for i in kept) for row in spark_rows), key=_sort_key)
    problems = []
    for duck_row, spark_row in zip(left, right, strict=True):
        for index, (a, b) in enumerate(zip(duck_row, spark_row, strict=True)):
            if not _values_equal(a, b):
                problems.append(f"{duck_columns[kept[index]]}: DuckDB {a!r} vs Spark {b!r}")
    assert not problems, f"scoring.{table}: {len(problems)} differences, e.g. {problems[:5]}"


def test_scoring_history_is_kept_on_spark(runs: dict[str, object]) -> None:
    """The rescoring run of an earlier month kept the full build's month, on both engines."""
    expected = {date(2026, 9, 1), LAST_MONTH}
    _, duck = _duckdb_rows(
        runs["warehouse"], f"select distinct as_of_month from scoring.{RESCORED} order by 1"
    )
    columns, rows = runs["spark"]["scoring"][RESCORED]
    month = columns.index("as_of_month")
    assert {row[0] for row in duck} == expected
    assert {row[month] for row in rows} == expected
    for other in SCORING_TABLES:
        if other != RESCORED:
            columns, rows = runs["spark"]["scoring"][other]
            assert {row[columns.index("as_of_month")] for row in rows} == {LAST_MONTH}


def test_spark_column_types(runs: dict[str, object]) -> None:
    dtypes = runs["spark"]["dtypes"]
    for (table, column), spark_type in SPARK_TYPES.items():
        assert dtypes[table][column] == spark_type, (table, column)


def test_publish_logs_agree(runs: dict[str, object]) -> None:
    _, duck = _duckdb_rows(
        runs["warehouse"],
        "select first_month, last_month, full_refresh, row_counts "
        "from audit.publish_log order by published_at",
    )
    spark = sorted(runs["spark"]["publish_log"], key=lambda row: row["published_at"])
    assert [(r["first_month"], r["last_month"], r["full_refresh"]) for r in spark] == [
        (FIRST_MONTH, LAST_MONTH, True),
        (date(2026, 9, 1), date(2026, 9, 1), False),
    ]
    assert [row[:3] for row in duck] == [
        (r["first_month"], r["last_month"], r["full_refresh"]) for r in spark
    ]
    for (*_, duck_counts), spark_row in zip(duck, spark, strict=True):
        assert dict(spark_row["row_counts"]) == dict(duck_counts)
    assert all(row["landing_fingerprint"] for row in spark)
