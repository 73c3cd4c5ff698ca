"""The account plan of a warehouse built by the real job, against this module's own rule.

``marts.account_plan`` is built by the run's second dbt step, after the scoring assets, so the
month the run scored (its last) carries that run's churn risk, drivers and cross-sell. Here the
plan of that month is recomputed in Python from the rows of its inputs (classes, quarter-end
transitions, profitability, renewals, scores) and the customers export, following the rule the
docs block ``account_plan_priority`` states, and compared row by row with the mart.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date

import duckdb
import pytest

from tests.orchestration.conftest import DEMO_LAST_MONTH, ServedDemo

pytestmark = pytest.mark.slow

LAST_MONTH = date.fromisoformat(DEMO_LAST_MONTH)
AT_RISK_BANDS = {"high"}  # the default of the var account_plan_at_risk_bands


def rows(con: duckdb.DuckDBPyConnection, sql: str, *params: object) -> list[dict]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def expected_plan(con: duckdb.DuckDBPyConnection, served: ServedDemo, month: date) -> dict:
    """customer_id -> the plan's row, by the documented rule."""
    with (served.landing / "customers.csv").open(newline="") as handle:
        managers = {
            row["customer_id"]: (row["account_manager"] or "unassigned")
            for row in csv.DictReader(handle)
        }
    classes = rows(con, "select * from marts.customer_classification where as_of_month = ?", month)
    scores = {
        r["customer_id"]: r
        for r in rows(con, "select * from scoring.churn_risk_scores where as_of_month = ?", month)
    }
    top_offers = {
        r["customer_id"]: r
        for r in rows(
            con,
            "select * from scoring.cross_sell_recommendations where as_of_month = ? and rank = 1",
            month,
        )
    }
    movements: dict[str, dict] = {}
    for r in rows(
        con,
        "select * from marts.classification_transitions where quarter_end_month <= ? "
        "order by quarter_end_month",
        month,
    ):
        movements[r["customer_id"]] = r  # the latest quarter end wins
    renewals: dict[str, dict] = {}
    for r in rows(
        con,
        "select * from marts.renewal_calendar where as_of_month = ? "
        "order by end_date desc, agreement_id desc",
        month,
    ):
        renewals[r["customer_id"]] = r  # the earliest end wins
    plan = {}
    for c in classes:
        customer = c["customer_id"]
        score = scores.get(customer)
        at_risk = score is not None and score["risk_band"] in AT_RISK_BANDS
        revenue = float(c["revenue_ttm"])
        gap = max(c["margin_cut_off_pct"] * revenue - float(c["gross_margin_ttm"]), 0.0)
        klass = c["classification"]
        if klass == "A" and at_risk:
            tier, action, value = 1, "protect", score["churn_probability_3m"] * revenue
        elif klass == "B":
            tier, action, value = 2, "upgrade_or_reprice", gap
        elif klass == "C":
            offer = top_offers.get(customer)
            tier, action = 3, "cross_sell"
            value = float(offer["expected_revenue"]) if offer else 0.0
        elif klass == "D":
            tier, value = 4, gap
            action = "upgrade_to_full_package" if c["in_tcp"] else "reprice_or_let_go"
        else:
            tier, action, value = 5, "confirm_package", revenue
        plan[customer] = {
            "account_manager": managers[customer],
            "priority_tier": tier,
            "next_action": action,
            "priority_value": value,
            "margin_gap": gap,
            "class_movement": (movements.get(customer) or {}).get("transition"),
            "next_renewal_agreement_id": (renewals.get(customer) or {}).get("agreement_id"),
            "churn_probability_3m": score["churn_probability_3m"] if score else None,
            "top_cross_sell_offering_id": (top_offers.get(customer) or {}).get("offering_id"),
            "sort": (c["revenue_ttm"], customer),
        }
    return plan


def test_the_scored_month_plan_follows_the_rule(served_demo: ServedDemo) -> None:
    with duckdb.connect(str(served_demo.warehouse), read_only=True) as con:
        expected = expected_plan(con, served_demo, LAST_MONTH)
        actual = {
            r["customer_id"]: r
            for r in rows(con, "select * from marts.account_plan where as_of_month = ?", LAST_MONTH)
        }
        drivers = rows(
            con,
            "select customer_id, driver_rank, feature_label from scoring.churn_risk_drivers "
            "where as_of_month = ?",
            LAST_MONTH,
        )
    assert expected and actual.keys() == expected.keys()
    for customer, want in expected.items():
        got = actual[customer]
        for column in (
            "account_manager",
            "priority_tier",
            "next_action",
            "class_movement",
            "next_renewal_agreement_id",
            "churn_probability_3m",
            "top_cross_sell_offering_id",
        ):
            assert got[column] == want[column], (customer, column)
        assert abs(float(got["priority_value"]) - want["priority_value"]) <= 0.01, customer
        assert abs(float(got["margin_gap"]) - want["margin_gap"]) <= 0.01, customer
    # Ranks: within each book by tier, then value (ties broken further down the list).
    books: dict[str, list[dict]] = defaultdict(list)
    for got in actual.values():
        books[got["account_manager"]].append(got)
    for book in books.values():
        book.sort(key=lambda r: r["priority_rank"])
        assert [r["priority_rank"] for r in book] == list(range(1, len(book) + 1))
        keys = [(r["priority_tier"], -float(r["priority_value"])) for r in book]
        assert keys == sorted(keys)
    # The month was scored by the same run: its scores and drivers are in the plan.
    assert any(r["churn_probability_3m"] is not None for r in actual.values())
    labels = {(d["customer_id"], d["driver_rank"]): d["feature_label"] for d in drivers}
    for customer, got in actual.items():
        assert got["churn_driver_1"] == labels.get((customer, 1)), customer
    # D customers are no longer alike: their margin gaps rank them.
    d_values = [float(r["priority_value"]) for r in actual.values() if r["priority_tier"] == 4]
    assert len(d_values) > 1 and len(set(d_values)) > 1


def test_an_unscored_month_has_no_risk_and_no_protect_tier(served_demo: ServedDemo) -> None:
    with duckdb.connect(str(served_demo.warehouse), read_only=True) as con:
        months = [
            m
            for (m,) in con.execute(
                "select distinct as_of_month from marts.account_plan "
                "where as_of_month not in (select as_of_month from scoring.churn_risk_scores) "
                "order by 1"
            ).fetchall()
        ]
        assert months  # the job scores its last month only
        counts = con.execute(
            "select count(*), count(churn_probability_3m), count(case when priority_tier = 1 "
            "then 1 end), count(top_cross_sell_offering_id) from marts.account_plan "
            "where as_of_month = ?",
            [months[0]],
        ).fetchone()
    assert counts[0] > 0
    assert counts[1:] == (0, 0, 0)
