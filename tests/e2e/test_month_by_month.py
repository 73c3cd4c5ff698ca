"""Month-end runs, one month after the other, end where one full build ends.

A generated portfolio (20 customers, 3 months to 2026-04) is built twice from the same
landing folder:

- month by month, as the month-end schedule does: a first build of 2026-02 alone (every
  model; the monthly marts hold that month only), then one run per later month that rebuilds
  only the monthly marts (var ``as_of_month``) on top of the previous warehouse;
- once in full (no month var).

Every mart must be identical, row for row: a monthly mart that read its own earlier months,
or a month's rows that depended on which months were built before, would differ.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.demo.generator import generate
from tests.conftest import build_warehouse, mart_names, query

pytestmark = pytest.mark.slow

MONTHS = ("2026-02", "2026-03", "2026-04")


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("month_by_month")
    landing = root / "landing"
    generate(
        landing, customers=20, months=len(MONTHS), end_month=MONTHS[-1], seed=5, progress=False
    )
    monthly = root / "monthly" / "portfolio.duckdb"
    monthly.parent.mkdir()
    build_warehouse(landing, monthly, vars_=f"{{as_of_month: '{MONTHS[0]}'}}")
    for month in MONTHS[1:]:
        build_warehouse(
            landing,
            monthly,
            select="config.materialized:incremental",
            vars_=f"{{as_of_month: '{month}'}}",
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
    assert {"customer_concentration", "mrr_movements", "classification_transitions"} <= set(names)
    for mart in names:
        sql = f"select * from marts.{mart} order by all"
        full, monthly = query(builds["full"], sql), query(builds["monthly"], sql)
        assert len(full) > 0, mart
        assert monthly == full, mart
