"""Month-end runs, one month after the other, end where one full build ends.

A generated portfolio (40 customers, 5 months to 2026-04) is built twice from the same
landing folder:

- month by month as the data arrives, as the month-end schedule does: each month's run
  builds every model with the data up to that month only (vars ``as_of_month`` and
  ``cut_off_month``) on top of the previous warehouse, whose monthly marts keep their other
  months; so a month's rows are first built before the later months exist;
- once in full (no month var).

Every mart must be identical, row for row: a monthly mart that read its own earlier months,
or a month's rows that depended on which months were built before, would differ. The
``churn_risk_features`` rows whose 3-month label sees a churn of a later run must have been
rebuilt by that run (the data holds such rows; a test checks that it does). Re-running a
month on complete data is covered by ``tests/orchestration/test_wap_runs.py``.

A run that tests only its own months (var ``test_run_months_only``, set by a Dagster run on a
warehouse whose monthly marts exist) must see a fault in its month and not one in another.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from orchestration.demo.generator import generate
from tests.conftest import BIN_DIR, PROJECT_DIR, build_warehouse, mart_names, query

pytestmark = pytest.mark.slow

MONTHS = ("2025-12", "2026-01", "2026-02", "2026-03", "2026-04")


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("month_by_month")
    landing = root / "landing"
    generate(
        landing, customers=40, months=len(MONTHS), end_month=MONTHS[-1], seed=9, progress=False
    )
    monthly = root / "monthly" / "portfolio.duckdb"
    monthly.parent.mkdir()
    for month in MONTHS:
        build_warehouse(
            landing, monthly, vars_=f"{{as_of_month: '{month}', cut_off_month: '{month}'}}"
        )
    full = root / "full" / "portfolio.duckdb"
    full.parent.mkdir()
    build_warehouse(landing, full)
    return {"monthly": monthly, "full": full}


def test_every_month_is_in_the_monthly_marts(builds: dict[str, Path]) -> None:
    months = query(
        builds["monthly"],
        "select strftime(as_of_month, '%Y-%m') from marts.portfolio_concentration order by 1",
    )
    assert [m for (m,) in months] == list(MONTHS)


def test_month_by_month_equals_one_full_build(builds: dict[str, Path]) -> None:
    names = mart_names(builds["full"])
    assert names == mart_names(builds["monthly"])
    assert {
        "customer_concentration",
        "mrr_movements",
        "classification_transitions",
        "churn_risk_features",
    } <= set(names)
    for mart in names:
        sql = f"select * from marts.{mart} order by all"
        full, monthly = query(builds["full"], sql), query(builds["monthly"], sql)
        assert len(full) > 0, mart
        assert monthly == full, mart


def test_the_arriving_data_holds_labels_that_a_later_run_completes(
    builds: dict[str, Path],
) -> None:
    # Rows of a month before the last whose churn falls in a later month: the run of their own
    # month could not see it, so only a later run's rebuild makes them equal to the full build.
    (rows,) = query(
        builds["full"],
        f"""
        select count(*) from marts.churn_risk_features
        where churned_within_3m and churn_month_within_3m > as_of_month
            and as_of_month < '{MONTHS[-1]}-01'
        """,
    )[0]
    assert rows > 0


def run_dbt_tests(warehouse: Path, vars_: str) -> subprocess.CompletedProcess[str]:
    """``dbt test`` of the data tests reading customer_offering_matrix (generic tests on it and
    singular reconciliations) on ``warehouse``."""
    env = {
        **os.environ,
        "PORTFOLIO_WAREHOUSE": str(warehouse),
        "DBT_PROFILES_DIR": str(PROJECT_DIR / "profiles"),
    }
    return subprocess.run(
        [
            str(BIN_DIR / "dbt"),
            "test",
            "--select",
            "customer_offering_matrix,test_type:data",
            "--vars",
            vars_,
            "--target-path",
            str(warehouse.parent / "dbt-target"),
            "--log-path",
            str(warehouse.parent / "dbt-logs"),
        ],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )


def test_a_run_testing_its_own_months_reads_only_those(
    builds: dict[str, Path], tmp_path: Path
) -> None:
    # A copy of the month-by-month warehouse with one matrix row twice in its first month and
    # another twice in its last month. A run of the last month that tests only its own months
    # sees one duplicate, not two: the test ran, on that month alone.
    warehouse = tmp_path / "portfolio.duckdb"
    shutil.copy(builds["monthly"], warehouse)
    with duckdb.connect(str(warehouse)) as con:
        for month in (MONTHS[0], MONTHS[-1]):
            con.execute(
                f"""
                insert into marts.customer_offering_matrix
                select * from marts.customer_offering_matrix
                where as_of_month = '{month}-01' limit 1
                """
            )
        (duplicates,) = con.execute(
            """
            select count(*) from (
                select as_of_month, customer_id, offering_id
                from marts.customer_offering_matrix group by all having count(*) > 1
            )
            """
        ).fetchall()[0]
    assert duplicates == 2
    result = run_dbt_tests(
        warehouse, f"{{as_of_month: '{MONTHS[-1]}', test_run_months_only: true}}"
    )
    assert result.returncode == 1
    assert "FAIL 1 unique_combination_of_columns_customer_offering_matrix" in result.stdout
    # The reconciliation of the matrix with the customers' revenue (macro in_run_months).
    assert "FAIL 1 assert_offering_matrix_revenue_reconciles" in result.stdout
