"""End to end on a hand-made landing folder whose figures are checked by hand.

Four customers invoiced 400, 300, 200 and 100 in one month: HHI = 40² + 30² +
20² + 10² = 3 000, Gini = (−3·100 − 1·200 + 1·300 + 3·400) / (4 · 1 000) = 0.25,
and 400 + 300 + 200 = 900 ≥ 800 so 3 customers reach 80 %.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import (
    MANAGED_SERVICES_OFFERING,
    build_warehouse,
    compile_model,
    invoice_line,
    query,
    write_table,
)

pytestmark = pytest.mark.slow

#: The marts these tests read, with every model they are built from.
CONCENTRATION_MARTS = "+customer_concentration +portfolio_concentration"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hand_checked")
    landing = root / "landing"
    landing.mkdir()
    customers = ["A", "B", "C", "D", "E"]
    write_table(
        landing,
        "customers",
        [
            {
                "customer_id": c,
                "customer_name": f"Customer {c}",
                "industry": "legal",
                "created_date": "2020-01-01",
            }
            for c in customers
        ],
    )
    write_table(landing, "offerings", [MANAGED_SERVICES_OFFERING])
    for table in ("agreements", "agreement_lines", "time_entries", "churn_events"):
        write_table(landing, table, [])
    write_table(
        landing,
        "invoice_lines",
        [
            # 2025-01: the hand-checked month.
            invoice_line(1, "2025-01-10", "A", "400.00"),
            invoice_line(2, "2025-01-10", "B", "250.00"),
            invoice_line(3, "2025-01-20", "B", "50.00", "t_and_m"),
            invoice_line(4, "2025-01-10", "C", "200.00"),
            invoice_line(5, "2025-01-31", "D", "100.00"),
            # E is invoiced and fully credited in the same window: inactive.
            invoice_line(6, "2025-01-05", "E", "75.00"),
            invoice_line(7, "2025-01-25", "E", "-75.00"),
            # 2026-01: A's 2025-01 invoice has left the window (M-12); B's
            # 2025-02 invoice is inside it (M-11). B 90, C 10.
            invoice_line(8, "2025-02-01", "B", "90.00"),
            invoice_line(9, "2026-01-31", "C", "10.00"),
        ],
    )
    warehouse = root / "portfolio.duckdb"
    # Only what the tests read (the rebuild test rebuilds these two).
    build_warehouse(landing, warehouse, select=CONCENTRATION_MARTS)
    return warehouse


def test_hand_checked_month(warehouse: Path) -> None:
    row = query(
        warehouse,
        """
        select active_customers, revenue_ttm, hhi, gini, top1_share, top5_share,
               pareto_80_customer_count, pareto_80_customer_share
        from marts.portfolio_concentration where as_of_month = date '2025-01-01'
        """,
    )[0]
    active, revenue, hhi, gini, top1, top5, pareto_count, pareto_share = row
    assert active == 4
    assert revenue == 1000
    assert hhi == pytest.approx(3000, abs=1e-9)
    assert gini == pytest.approx(0.25, abs=1e-12)
    assert top1 == pytest.approx(0.4)
    assert top5 == pytest.approx(1.0)
    assert pareto_count == 3
    assert pareto_share == pytest.approx(0.75)


def test_hand_checked_customers(warehouse: Path) -> None:
    rows = query(
        warehouse,
        """
        select customer_id, revenue_rank, revenue_ttm, revenue_mrr_ttm, revenue_t_and_m_ttm,
               revenue_service_ttm, revenue_share, cumulative_revenue_share,
               cumulative_customer_share
        from marts.customer_concentration where as_of_month = date '2025-01-01'
        order by revenue_rank
        """,
    )
    assert [r[0] for r in rows] == ["A", "B", "C", "D"]  # E netted to 0 by a credit
    b = rows[1]
    assert (b[1], b[2], b[3], b[4], b[5]) == (2, 300, 250, 50, 300)
    assert [r[6] for r in rows] == pytest.approx([0.4, 0.3, 0.2, 0.1])
    assert [r[7] for r in rows] == pytest.approx([0.4, 0.7, 0.9, 1.0])
    assert [r[8] for r in rows] == pytest.approx([0.25, 0.5, 0.75, 1.0])


def test_window_edges_and_every_month_has_a_snapshot(warehouse: Path) -> None:
    months = query(warehouse, "select count(*) from marts.portfolio_concentration")[0][0]
    assert months == 13  # 2025-01 … 2026-01
    rows = query(
        warehouse,
        """
        select customer_id, revenue_ttm from marts.customer_concentration
        where as_of_month = date '2026-01-01' order by revenue_rank
        """,
    )
    assert rows == [("B", 90), ("C", 10)]


def test_month_vars_are_validated(warehouse: Path) -> None:
    result = compile_model(
        "customer_concentration", '{as_of_month: "2025-13\'; drop table x; --"}', warehouse.parent
    )
    assert result.returncode != 0
    assert "var 'as_of_month' must be a month as YYYY-MM" in result.stdout


def test_rebuilding_a_range_of_months_leaves_the_marts_identical(warehouse: Path) -> None:
    # One month after the other: tests/e2e/test_month_by_month.py; a range, as a backfill
    # runs it, here.
    tables = ("marts.customer_concentration", "marts.portfolio_concentration")

    def snapshot() -> dict[str, list[tuple]]:
        return {t: query(warehouse, f"select * from {t} order by all") for t in tables}

    before = snapshot()
    landing = warehouse.parent / "landing"
    build_warehouse(
        landing,
        warehouse,
        select=CONCENTRATION_MARTS.replace("+", ""),
        vars_="{start_month: '2025-02', end_month: '2025-12'}",
    )
    assert snapshot() == before
