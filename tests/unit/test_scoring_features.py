"""Tests for the mart readers of the scoring models (orchestration.scoring.features).

A small in-memory ``marts`` schema stands in for the warehouse (tests/unit/scoring_marts.py):
MRR series written by hand and turned into ``mrr_movements`` rows the way the mart defines them,
and a classification for every month in which a customer had MRR in the trailing twelve months.
"""

from __future__ import annotations

import math
from datetime import date

import duckdb
import pandas as pd
import pytest

from orchestration.scoring import features as f
from tests.unit.scoring_marts import FIRST_MONTH, FIRST_MRR_MONTH, LAST_MONTH, create_marts, months


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    create_marts(connection)
    yield connection
    connection.close()


def row(panel: pd.DataFrame, customer: str, month: str) -> pd.Series:
    hit = panel[
        (panel["customer_id"] == customer)
        & (pd.to_datetime(panel["as_of_month"]) == pd.Timestamp(month + "-01"))
    ]
    assert len(hit) == 1, f"no single row for {customer} {month}"
    return hit.iloc[0]


def test_month_arithmetic():
    assert f.month_add(date(2024, 11, 1), 3) == date(2025, 2, 1)
    assert f.month_add(date(2024, 1, 1), -1) == date(2023, 12, 1)
    assert f.months_between(date(2020, 6, 1), date(2024, 1, 1)) == 43


def test_first_and_latest_as_of_month(con):
    assert f.first_as_of_month(con) == FIRST_MONTH
    assert f.latest_as_of_month(con) == LAST_MONTH


def test_latest_as_of_month_is_capped_at_the_month_asked_for(con):
    # The data ends (2025-12) before the month asked for: the last month built.
    assert f.latest_as_of_month(con, up_to=date(2026, 10, 1)) == date(2025, 12, 1)
    # An earlier month is scored as asked, even one before the marts begin.
    assert f.latest_as_of_month(con, up_to=date(2025, 5, 1)) == date(2025, 5, 1)
    assert f.latest_as_of_month(con, up_to=date(2023, 2, 1)) == date(2023, 2, 1)
    assert f.latest_as_of_month(con, up_to=LAST_MONTH) == LAST_MONTH


def test_latest_as_of_month_counts_months_without_active_customers(con):
    """portfolio_concentration has a row for a month without any active customer; that month
    was built, so it is the latest even though customer_classification stops earlier."""
    con.execute("insert into marts.portfolio_concentration values (date '2026-01-01', 0)")
    assert f.latest_as_of_month(con) == date(2026, 1, 1)
    assert f.latest_as_of_month(con, up_to=date(2026, 3, 1)) == date(2026, 1, 1)


def test_latest_as_of_month_of_empty_marts_is_none(con):
    con.execute("delete from marts.portfolio_concentration")
    assert f.latest_as_of_month(con) is None
    assert f.latest_as_of_month(con, up_to=date(2026, 10, 1)) is None


def test_missing_month_reason(con):
    assert f.missing_month_reason(con, LAST_MONTH) is None
    assert f.missing_month_reason(con, FIRST_MONTH) is None
    after = f.missing_month_reason(con, date(2026, 10, 1))
    assert after == (
        "no active customer at 2026-10: the marts' last month with active customers is 2025-12"
    )
    before = f.missing_month_reason(con, date(2023, 12, 1))
    assert before == (
        "no active customer at 2023-12: the marts' first month with active customers is 2024-01"
    )
    con.execute("delete from marts.customer_classification where as_of_month = '2025-03-01'")
    assert f.missing_month_reason(con, date(2025, 3, 1)) == (
        "no active customer at 2025-03 (no customer has TTM revenue then)"
    )
    con.execute("delete from marts.customer_classification")
    assert f.missing_month_reason(con, LAST_MONTH).startswith(
        "marts.customer_classification is empty"
    )
    with pytest.raises(ValueError, match="first day of the month"):
        f.missing_month_reason(con, date(2025, 3, 15))


def test_panel_rows_are_customers_with_mrr(con):
    panel = f.churn_panel(con, LAST_MONTH)
    assert "no_mrr" not in set(panel["customer_id"])
    assert not panel.duplicated(["as_of_month", "customer_id"]).any()
    # "shrinks" has MRR until 2025-01; its churn month has no row.
    shrinks = panel[panel["customer_id"] == "shrinks"]
    assert max(pd.to_datetime(shrinks["as_of_month"])) == pd.Timestamp("2025-01-01")
    # "back" has no row in its gap 2024-08 .. 2024-10.
    back = set(pd.to_datetime(panel.loc[panel["customer_id"] == "back", "as_of_month"]))
    assert not back & {pd.Timestamp(m) for m in ("2024-08-01", "2024-09-01", "2024-10-01")}


def test_panel_features_by_hand(con):
    panel = f.churn_panel(con, LAST_MONTH)
    shrinks = row(panel, "shrinks", "2024-12")
    assert shrinks["mrr"] == 120
    assert shrinks["contractions_12m"] == 2  # 2024-06 and 2024-09
    assert shrinks["mrr_log_change_3m"] == pytest.approx(0.0)  # 120 in 2024-09 too
    assert shrinks["mrr_log_change_6m"] == pytest.approx(math.log(120 / 150))  # 150 in 2024-06
    assert shrinks["tenure_months"] == 18  # since 2023-06
    assert shrinks["owns_legacy_offering"] == 1
    assert shrinks["labor_cost_share"] == pytest.approx(0.25)
    assert shrinks["classification"] == "D"
    assert row(panel, "shrinks", "2024-05")["contractions_12m"] == 0
    back = row(panel, "back", "2024-12")
    assert back["tenure_months"] == 1  # current spell since the reactivation in 2024-11
    assert back["had_mrr_3m_ago"] == 0 and back["mrr_log_change_3m"] == 0
    steady = panel[panel["customer_id"] == "steady"].set_index(
        pd.to_datetime(panel.loc[panel["customer_id"] == "steady", "as_of_month"])
    )
    # First MRR 2023-06: its contract years end at 2024-06, 2025-06, ...
    ends_soon = steady["contract_year_ends_within_3m"]
    assert ends_soon.loc["2024-02-01"] == 0 and ends_soon.loc["2024-03-01"] == 1
    assert ends_soon.loc["2024-05-01"] == 1 and ends_soon.loc["2024-06-01"] == 0


def test_panel_labels_look_exactly_three_months_ahead(con):
    panel = f.churn_panel(con, LAST_MONTH)
    # "shrinks" churns in 2025-02 (a churn row that month).
    labels = {m: row(panel, "shrinks", m)["churned_within_3m"] for m in ("2024-10", "2024-11")}
    assert labels == {"2024-10": False, "2024-11": True}
    assert row(panel, "shrinks", "2025-01")["churned_within_3m"]
    assert row(panel, "back", "2024-07")["churned_within_3m"]  # churn row 2024-08
    assert not row(panel, "back", "2024-04")["churned_within_3m"]  # 2024-05 .. 07: no churn
    assert not row(panel, "steady", "2025-06")["churned_within_3m"]


def test_panel_reads_nothing_after_its_month(con):
    """Rows of a panel read through 2025-09 equal those of the full panel: the same features,
    the same labels where observed. "late" churns in 2025-11: unseen through 2025-09."""
    full = f.churn_panel(con, LAST_MONTH)
    early = f.churn_panel(con, date(2025, 9, 1))
    assert max(pd.to_datetime(early["as_of_month"])) == pd.Timestamp("2025-09-01")
    keys = ["as_of_month", "customer_id"]
    merged = early.merge(full, on=keys, suffixes=("", "_full"), validate="one_to_one")
    assert len(merged) == len(early)
    for column in early.columns:
        if column in keys or column in ("churned_within_3m", "is_label_observed"):
            continue
        pd.testing.assert_series_equal(merged[column], merged[f"{column}_full"], check_names=False)
    observed = merged[merged["is_label_observed"]]
    assert (observed["churned_within_3m"] == observed["churned_within_3m_full"]).all()
    assert set(pd.to_datetime(observed["as_of_month"])) == {
        pd.Timestamp(m) for m in months(FIRST_MONTH, date(2025, 6, 1))
    }
    late = row(early, "late", "2025-08")
    assert not late["churned_within_3m"] and not late["is_label_observed"]
    assert row(full, "late", "2025-08")["churned_within_3m"]


def test_customer_lifetimes_as_of_a_month(con):
    at_end = f.customer_lifetimes(con, LAST_MONTH).set_index("customer_id")
    before = f.customer_lifetimes(con, date(2025, 9, 1)).set_index("customer_id")
    assert sorted(at_end.index) == ["back", "late", "shrinks", "steady"]
    # "late" churned in 2025-11: as of 2025-09 it is active and its churn is not seen.
    assert pd.isna(before.loc["late", "first_churn_month"]) and before.loc["late", "is_active"]
    assert before.loc["late", "current_segment"] == "B"
    assert at_end.loc["late", "first_churn_month"] == pd.Timestamp("2025-11-01")
    assert at_end.loc["late", "last_mrr_month"] == pd.Timestamp("2025-10-01")
    assert not at_end.loc["late", "is_active"]
    assert at_end.loc["late", "segment"] == "B"  # its class before it left
    # "back": first lifetime 2024-02 .. 2024-07, current spell since 2024-11.
    back = at_end.loc["back"]
    assert (back["first_mrr_month"], back["first_churn_month"], back["last_mrr_month"]) == (
        pd.Timestamp("2024-02-01"),
        pd.Timestamp("2024-08-01"),
        pd.Timestamp("2024-07-01"),
    )
    assert back["spell_start_month"] == pd.Timestamp("2024-11-01") and back["is_active"]
    assert back["mrr"] == 60
    steady = at_end.loc["steady"]
    assert steady["first_mrr_month"] == pd.Timestamp(FIRST_MRR_MONTH)
    assert steady["segment"] == "A"
    assert steady["monthly_gross_margin"] == pytest.approx(steady["gross_margin_ttm"] / 12)


def test_an_unknown_month_is_refused(con):
    with pytest.raises(ValueError, match="no as_of_month 2026-01"):
        f.customer_lifetimes(con, date(2026, 1, 1))
