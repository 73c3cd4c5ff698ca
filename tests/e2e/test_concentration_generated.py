"""Concentration marts on a generated portfolio, against a separate implementation.

The figures are recomputed here from the landing CSV files with Python's
``decimal`` and plain loops — no SQL, no shared code with the models — for
every as_of_month, and compared with both marts.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import query

pytestmark = pytest.mark.slow

REVENUE_TYPES = ("mrr", "project_labor", "t_and_m", "block_time", "product_resale")


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_of(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def expected_figures(landing: Path) -> tuple[dict, dict]:
    """Per as_of_month: customers' figures and the portfolio's, from the CSV alone."""
    revenue = defaultdict(Decimal)  # (customer, month index, revenue type) -> amount
    months = []
    with (landing / "invoice_lines.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            index = month_index(date.fromisoformat(row["invoice_date"]))
            months.append(index)
            revenue[row["customer_id"], index, row["revenue_type"]] += Decimal(
                row["extended_price"]
            )
    customers_by_month: dict[date, dict] = {}
    portfolio_by_month: dict[date, dict] = {}
    for as_of in range(min(months), max(months) + 1):
        totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for (customer, index, revenue_type), amount in revenue.items():
            if as_of - 11 <= index <= as_of:
                totals[customer][revenue_type] += amount
        active = {
            c: {**t, "total": sum(t.values(), Decimal(0))}
            for c, t in totals.items()
            if sum(t.values(), Decimal(0)) > 0
        }
        ranked = sorted(active, key=lambda c: (-active[c]["total"], c))
        n = len(ranked)
        total = sum(active[c]["total"] for c in ranked)
        cumulative = Decimal(0)
        rows = {}
        pareto = None
        for rank, customer in enumerate(ranked, start=1):
            cumulative += active[customer]["total"]
            if pareto is None and cumulative >= Decimal("0.8") * total:
                pareto = rank
            rows[customer] = {
                "rank": rank,
                "revenue": active[customer]["total"],
                "split": tuple(active[customer].get(t, Decimal(0)) for t in REVENUE_TYPES),
                "share": float(active[customer]["total"] / total),
                "cumulative_share": float(cumulative / total),
                "customer_share": rank / n,
            }
        ascending = [active[c]["total"] for c in reversed(ranked)]
        gini = sum((2 * i - n - 1) * x for i, x in enumerate(ascending, start=1)) / (n * total)
        portfolio_by_month[month_of(as_of)] = {
            "active": n,
            "revenue": total,
            "hhi": sum(float(100 * active[c]["total"] / total) ** 2 for c in ranked),
            "top1": float(sum(active[c]["total"] for c in ranked[:1]) / total),
            "top5": float(sum(active[c]["total"] for c in ranked[:5]) / total),
            "top10": float(sum(active[c]["total"] for c in ranked[:10]) / total),
            "gini": float(gini),
            "pareto": pareto,
            "pareto_share": pareto / n,
        }
        customers_by_month[month_of(as_of)] = rows
    return customers_by_month, portfolio_by_month


@pytest.fixture(scope="module")
def built(demo_build: tuple[Path, Path]) -> tuple[Path, Path]:
    return demo_build


def test_portfolio_concentration_matches_an_independent_computation(built) -> None:
    landing, warehouse = built
    _, expected = expected_figures(landing)
    rows = query(
        warehouse,
        """
        select as_of_month, active_customers, revenue_ttm, hhi, top1_share, top5_share,
               top10_share, gini, pareto_80_customer_count, pareto_80_customer_share
        from marts.portfolio_concentration order by as_of_month
        """,
    )
    assert [r[0] for r in rows] == sorted(expected)
    for month, active, revenue, hhi, top1, top5, top10, gini, pareto, pareto_share in rows:
        e = expected[month]
        assert (active, revenue, pareto) == (e["active"], e["revenue"], e["pareto"]), month
        assert hhi == pytest.approx(e["hhi"], rel=1e-9)
        assert (top1, top5, top10) == pytest.approx((e["top1"], e["top5"], e["top10"]), rel=1e-12)
        assert gini == pytest.approx(e["gini"], abs=1e-12)
        assert pareto_share == pytest.approx(e["pareto_share"], rel=1e-12)


def test_customer_concentration_matches_an_independent_computation(built) -> None:
    landing, warehouse = built
    expected, _ = expected_figures(landing)
    rows = query(
        warehouse,
        """
        select as_of_month, customer_id, revenue_rank, revenue_ttm, revenue_mrr_ttm,
               revenue_project_labor_ttm, revenue_t_and_m_ttm, revenue_block_time_ttm,
               revenue_product_resale_ttm, revenue_share, cumulative_revenue_share,
               cumulative_customer_share
        from marts.customer_concentration
        """,
    )
    assert len(rows) == sum(len(customers) for customers in expected.values())
    for month, customer, rank, revenue, *split, share, cumulative, customer_share in rows:
        e = expected[month][customer]
        assert (rank, revenue, tuple(split)) == (e["rank"], e["revenue"], e["split"])
        assert share == pytest.approx(e["share"], rel=1e-12)
        assert cumulative == pytest.approx(e["cumulative_share"], rel=1e-12)
        assert customer_share == pytest.approx(e["customer_share"], rel=1e-12)
