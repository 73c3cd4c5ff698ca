"""Tests for the mart readers of the scoring models (orchestration.scoring.features).

A small in-memory ``marts`` schema stands in for the warehouse (tests/unit/scoring_marts.py):
MRR series written by hand and turned into ``mrr_movements`` rows the way the mart defines them,
a classification for every month in which a customer had MRR in the trailing twelve months, and
``churn_risk_features`` rows with the columns of the dbt model. The features and label of that
model are computed and unit-tested in dbt (models/marts/scoring/churn_risk_features.yml); here
:func:`features.churn_panel` is tested for what it adds: the months it reads and the censoring
of the label at its month.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import pytest

from orchestration.months import month_add
from orchestration.scoring import churn_risk
from orchestration.scoring import features as f
from tests.unit.scoring_marts import (
    FIRST_MONTH,
    FIRST_MRR_MONTH,
    LAST_MONTH,
    churn_risk_features,
    create_marts,
    customer_classification,
    model_contract,
    months,
    mrr_movements,
)


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


def test_months_between():
    assert f.months_between(date(2020, 6, 1), date(2024, 1, 1)) == 43
    assert f.months_between(date(2024, 1, 1), date(2023, 12, 1)) == -1


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


def test_the_panel_is_the_models_rows_up_to_its_month_in_order(con):
    model = con.execute("select * from marts.churn_risk_features").df()
    panel = f.churn_panel(con, date(2025, 9, 1))
    assert list(panel.columns) == [
        "as_of_month",
        "customer_id",
        "churned_within_3m",
        "is_label_observed",
        *f.PANEL_FEATURES,
    ]
    expected = (
        model[pd.to_datetime(model["as_of_month"]) <= pd.Timestamp("2025-09-01")]
        .sort_values(["as_of_month", "customer_id"])
        .reset_index(drop=True)
    )
    assert 0 < len(expected) < len(model)
    columns = ["as_of_month", "customer_id", *f.PANEL_FEATURES]
    pd.testing.assert_frame_equal(panel[columns], expected[columns])
    assert {*churn_risk.NUMERIC_FEATURES, *churn_risk.CATEGORICAL_FEATURES} <= set(f.PANEL_FEATURES)
    assert panel["churned_within_3m"].dtype == bool and panel["is_label_observed"].dtype == bool


def test_the_fake_mart_has_the_columns_of_the_dbt_model():
    classification = customer_classification()
    frame = churn_risk_features(classification, mrr_movements())
    assert len(frame) > 0 and set(frame.columns) == set(model_contract())
    assert {"churn_month_within_3m", "label_window_end_month", *f.PANEL_FEATURES} <= set(frame)


@pytest.mark.parametrize("through", ["2024-11", "2025-01", "2025-02", "2025-10", "2025-12"])
def test_the_label_is_censored_at_the_panels_month(con, through):
    """A churn counts when it is in the row's three months and no later than the panel's
    month; the label is observed when all three months are."""
    month = date.fromisoformat(through + "-01")
    panel = f.churn_panel(con, month).set_index(["as_of_month", "customer_id"])
    model = con.execute("select * from marts.churn_risk_features").df()
    model = model.set_index(["as_of_month", "customer_id"]).loc[panel.index]
    churn = pd.to_datetime(model["churn_month_within_3m"])
    assert (panel["churned_within_3m"] == (churn <= pd.Timestamp(month))).all()
    observed = [month_add(m.date(), 3) <= month for m, _ in panel.index]
    assert panel["is_label_observed"].tolist() == observed


def test_the_label_by_hand(con):
    """ "shrinks" churns in 2025-02 (a churn row that month), "late" in 2025-11."""
    through_january = f.churn_panel(con, date(2025, 1, 1))
    through_february = f.churn_panel(con, date(2025, 2, 1))
    november = row(through_january, "shrinks", "2024-11")
    assert not november["churned_within_3m"] and not november["is_label_observed"]
    november = row(through_february, "shrinks", "2024-11")
    assert november["churned_within_3m"] and november["is_label_observed"]
    january = row(through_february, "shrinks", "2025-01")
    assert january["churned_within_3m"] and not january["is_label_observed"]
    assert not row(through_february, "shrinks", "2024-10")["churned_within_3m"]
    assert row(f.churn_panel(con, LAST_MONTH), "late", "2025-08")["churned_within_3m"]


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
