"""The gross-profit bridge on a generated portfolio, against this module's own computation.

From the rows of ``marts.mrr_movements`` (MRR per customer and month, checked against the
landing files by test_mrr_generated.py) and ``marts.customer_profitability`` (checked by
test_profitability_e2e.py), each customer's monthly recurring gross profit is computed here as
the definition states — MRR × the customer's TTM service margin rate (service margin / service
revenue), or the portfolio's rate that month when the customer has no service revenue, or 0 when
the portfolio has none either; rounded to 6 decimals — and booked under its MRR movement. Every
column of ``marts.gross_profit_bridge`` must match in every month.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from orchestration.months import month_add
from tests.conftest import query

pytestmark = pytest.mark.slow

#: Rounding of each customer's gross profit (6 decimals) may differ in the last digit between
#: DuckDB's and Python's rounding of the same double; a month's sum may differ by that per row.
PER_ROW = Decimal("0.000001")

COLUMNS = (
    "starting_gross_profit",
    "new_gross_profit",
    "expansion_gross_profit",
    "contraction_gross_profit",
    "churned_gross_profit",
    "reactivation_gross_profit",
    "margin_change",
    "ending_gross_profit",
    "retained_gross_profit",
    "retained_capped_gross_profit",
)


def expected_bridge(warehouse: Path) -> dict[date, dict[str, Decimal]]:
    profitability = query(
        warehouse,
        "select as_of_month, customer_id, revenue_service_ttm, service_margin_ttm "
        "from marts.customer_profitability",
    )
    own_rate: dict[tuple[date, str], float] = {}
    totals: dict[date, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for month, customer, revenue, margin in profitability:
        if revenue > 0:
            own_rate[month, customer] = float(margin) / float(revenue)
        totals[month][0] += margin
        totals[month][1] += revenue
    portfolio_rate = {m: float(mg) / float(rv) for m, (mg, rv) in totals.items() if rv > 0}

    movements = query(
        warehouse,
        "select as_of_month, customer_id, movement, mrr, previous_mrr from marts.mrr_movements",
    )
    mrr = {(m, c): value for m, c, _, value, _ in movements if value > 0}

    def gross_profit(month: date, customer: str) -> Decimal:
        value = mrr.get((month, customer))
        if value is None:
            return Decimal(0)
        rate = own_rate.get((month, customer), portfolio_rate.get(month, 0.0))
        return Decimal(f"{float(value) * rate:.6f}")

    bridge: dict[date, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(COLUMNS, Decimal(0)))
    for month, customer, movement, _, previous_mrr in movements:
        now = gross_profit(month, customer)
        before = gross_profit(month_add(month, -1), customer)
        row = bridge[month]
        row["starting_gross_profit"] += before
        row["ending_gross_profit"] += now
        if movement in ("new", "reactivation"):
            row[f"{movement}_gross_profit"] += now
        elif movement == "churn":
            row["churned_gross_profit"] += before
        elif movement == "expansion":
            row["expansion_gross_profit"] += now - before
        elif movement == "contraction":
            row["contraction_gross_profit"] += before - now
        else:
            row["margin_change"] += now - before
        if previous_mrr > 0:
            row["retained_gross_profit"] += now
            row["retained_capped_gross_profit"] += min(now, before)
    return bridge


def test_every_month_of_the_bridge_matches(demo_build: tuple[Path, Path]) -> None:
    _, warehouse = demo_build
    expected = expected_bridge(warehouse)
    rows = query(
        warehouse,
        f"select as_of_month, {', '.join(COLUMNS)}, gross_profit_nrr, gross_profit_grr, "
        "(select count(*) from marts.mrr_movements m where m.as_of_month = b.as_of_month) "
        "from marts.gross_profit_bridge b order by 1",
    )
    assert rows and sum(r[1] for r in rows) > 0
    checked = 0
    for row in rows:
        month, values, nrr, grr, customers = row[0], row[1:11], row[11], row[12], row[13]
        want = expected.get(month, dict.fromkeys(COLUMNS, Decimal(0)))
        tolerance = PER_ROW * max(customers, 1)
        for column, got in zip(COLUMNS, values, strict=True):
            assert abs(got - want[column]) <= tolerance, (month, column, got, want[column])
        starting = want["starting_gross_profit"]
        if starting > 0:
            assert nrr == pytest.approx(float(want["retained_gross_profit"] / starting), rel=1e-6)
            assert grr == pytest.approx(
                float(want["retained_capped_gross_profit"] / starting), rel=1e-6
            )
            checked += 1
        else:
            assert nrr is None and grr is None
    assert checked > 0
    # Where the portfolio has service revenue, some customer's change is margin alone.
    assert any(want["margin_change"] != 0 for want in expected.values())
