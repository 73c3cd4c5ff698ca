"""Tests for the churn-risk model (orchestration.scoring.churn_risk) on synthetic panels."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from orchestration.months import month_add
from orchestration.scoring import churn_risk as cr

LATEST = date(2026, 10, 1)


def synthetic_panel(
    first: date = date(2023, 11, 1),
    latest: date = LATEST,
    customers: int = 150,
    seed: int = 0,
    signal: float = 3.0,
) -> pd.DataFrame:
    """A panel shaped like features.churn_panel: churn depends on gross_margin_pct (low margin,
    more churn) with strength ``signal``; the classification carries no information."""
    rng = np.random.default_rng(seed)
    rows = []
    month = first
    margin = rng.uniform(-0.2, 0.6, customers)
    classes = rng.choice(list("ABCD"), customers)
    while month <= latest:
        p = 1 / (1 + np.exp(-(-3.0 - signal * (margin - 0.2))))
        churned = rng.random(customers) < p
        for i in range(customers):
            rows.append(
                {
                    "as_of_month": month,
                    "customer_id": f"C{i:03d}",
                    cr.LABEL: bool(churned[i]),
                    "is_label_observed": month_add(month, 3) <= latest,
                    "gross_margin_pct": margin[i],
                    "classification": classes[i],
                    "mrr_log_change_3m": rng.normal(0, 0.1),
                    **{
                        f: rng.normal()
                        for f in cr.NUMERIC_FEATURES
                        if f not in ("gross_margin_pct", "mrr_log_change_3m")
                    },
                }
            )
        month = month_add(month, 1)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# The time split
# --------------------------------------------------------------------------------------------
def test_time_split_months():
    split = cr.time_split(LATEST, 12)
    assert split.train_end == date(2025, 7, 1)  # T - 3 - h
    assert split.test_start == date(2025, 10, 1)  # T - h
    assert split.test_end == date(2026, 7, 1)  # T - 3
    with pytest.raises(ValueError, match=">= 3"):
        cr.time_split(LATEST, 2)


@pytest.mark.parametrize("holdout", [3, 6, 12, 18])
def test_no_label_window_of_a_training_row_reaches_the_test_rows(holdout):
    panel = synthetic_panel()
    train, test = cr.split_panel(panel, cr.time_split(LATEST, holdout))
    assert len(train) and len(test)
    last_train = max(train["as_of_month"])
    first_test = min(test["as_of_month"])
    # A training row's outcome window (as_of + 1 .. as_of + 3) ends before the first test
    # row's window (as_of + 1 ..) starts: no churn is both a training and a test label.
    assert month_add(last_train, 3) < month_add(first_test, 1)
    # ...and it was known when the test period began (simulated training date T - h).
    assert month_add(last_train, 3) <= month_add(LATEST, -holdout)
    # Every test outcome is fully observed by the latest month; nothing after it is used.
    assert month_add(max(test["as_of_month"]), 3) <= LATEST
    assert train["is_label_observed"].all() and test["is_label_observed"].all()
    # The rows left out are exactly the two months between.
    between = panel[(panel["as_of_month"] > last_train) & (panel["as_of_month"] < first_test)]
    assert sorted(set(between["as_of_month"])) == [
        month_add(LATEST, -holdout - 2),
        month_add(LATEST, -holdout - 1),
    ]


def test_split_refuses_a_panel_read_through_an_earlier_month():
    panel = synthetic_panel(latest=date(2026, 8, 1))  # outcomes of 2026-06 .. 08 not known
    with pytest.raises(ValueError, match="unobserved"):
        cr.split_panel(panel, cr.time_split(LATEST, 3))


# --------------------------------------------------------------------------------------------
# AUC and the baselines
# --------------------------------------------------------------------------------------------
def test_auc_matches_a_hand_count_of_pairs():
    labels = [True, False, True, False, True]
    scores = [0.9, 0.8, 0.4, 0.1, 0.8]
    # Positive-negative pairs (3 x 2): 0.9 beats both, 0.4 beats 0.1 only, 0.8 beats 0.1 and
    # ties 0.8 (half): (2 + 1 + 1.5) / 6.
    assert cr.auc_or_none(labels, scores) == pytest.approx(4.5 / 6)


def test_auc_is_none_without_both_classes():
    assert cr.auc_or_none([False, False], [0.1, 0.2]) is None
    assert cr.auc_or_none([True, True], [0.1, 0.2]) is None
    assert cr.auc_or_none([], []) is None


def test_segment_baseline_is_the_training_rate_of_the_class():
    train = pd.DataFrame(
        {"classification": ["A", "A", "A", "A", "B", "B"], cr.LABEL: [1, 0, 0, 0, 1, 1]}
    )
    rows = pd.DataFrame({"classification": ["B", "A", "D"]})
    np.testing.assert_allclose(cr.segment_baseline(train, rows), [1.0, 0.25, 3 / 6])


def test_mrr_fell_rule():
    rows = pd.DataFrame({"mrr_log_change_3m": [-0.2, 0.0, 0.3]})
    np.testing.assert_array_equal(cr.mrr_fell_rule(rows), [1.0, 0.0, 0.0])


# --------------------------------------------------------------------------------------------
# Evaluation and scoring
# --------------------------------------------------------------------------------------------
def test_evaluation_finds_a_real_signal_and_beats_the_uninformative_baseline():
    evaluation = cr.evaluate(synthetic_panel(signal=4.0), LATEST, 12)
    assert evaluation.holdout_auc is not None and evaluation.holdout_auc > 0.65
    assert evaluation.baseline_auc is not None and abs(evaluation.baseline_auc - 0.5) < 0.1
    assert evaluation.beats_baseline
    assert evaluation.n_test_rows == 150 * 10  # months 2025-10 .. 2026-07
    assert evaluation.n_train_rows == 150 * 21  # months 2023-11 .. 2025-07


def test_evaluation_without_churn_in_the_holdout_reports_no_auc():
    panel = synthetic_panel()
    test_months = (panel["as_of_month"] >= date(2025, 10, 1)) & (
        panel["as_of_month"] <= date(2026, 7, 1)
    )
    panel.loc[test_months, cr.LABEL] = False
    evaluation = cr.evaluate(panel, LATEST, 12)
    assert evaluation.holdout_auc is None and evaluation.baseline_auc is None
    assert not evaluation.beats_baseline
    assert "0 churners" in evaluation.note
    assert evaluation.as_dict()["beats_baseline"] is False


def test_scores_cover_the_latest_month_with_a_model_trained_through_t_minus_3():
    panel = synthetic_panel(signal=4.0)
    evaluation = cr.evaluate(panel, LATEST, 12)
    scores, facts = cr.score_customers(panel, LATEST, evaluation, 12)
    assert list(scores.columns) == cr.SCORE_COLUMNS
    assert len(scores) == 150 and scores["customer_id"].is_unique
    assert (scores["as_of_month"] == LATEST).all()
    assert (scores["trained_through_month"] == date(2026, 7, 1)).all()
    assert scores["churn_probability_3m"].between(0, 1).all()
    assert (scores["holdout_auc"] == evaluation.holdout_auc).all()
    assert facts["n_training_rows"] == 150 * 33  # 2023-11 .. 2026-07
    # Low-margin customers are scored riskier.
    margin = panel[panel["as_of_month"] == LATEST].set_index("customer_id")["gross_margin_pct"]
    by_customer = scores.set_index("customer_id")["churn_probability_3m"]
    assert np.corrcoef(margin.loc[by_customer.index], by_customer)[0, 1] < -0.5
    # Bands relative to the training churn rate.
    base = facts["training_churn_rate"]
    expected = np.where(
        by_customer >= 2 * base, "high", np.where(by_customer > base, "medium", "low")
    )
    np.testing.assert_array_equal(scores.set_index("customer_id")["risk_band"], expected)


def test_risk_bands():
    np.testing.assert_array_equal(
        cr.risk_bands([0.01, 0.05, 0.051, 0.1, 0.3], 0.05),
        ["low", "low", "medium", "high", "high"],
    )


def test_model_version_is_deterministic_and_tracks_the_training_window():
    a = cr.model_version(date(2026, 7, 1), 12)
    assert a == cr.model_version(date(2026, 7, 1), 12)
    assert a != cr.model_version(date(2026, 6, 1), 12)
    assert a != cr.model_version(date(2026, 7, 1), 6)
    assert a.startswith(cr.METHOD)


def test_model_version_hashes_the_features_parameters_and_training_window():
    """The method, then the first 12 hexadecimal digits of the SHA-256 of the spec as JSON with
    sorted keys: the scheme of the versions already written."""
    spec = {
        "method": cr.METHOD,
        "numeric_features": list(cr.NUMERIC_FEATURES),
        "categorical_features": list(cr.CATEGORICAL_FEATURES),
        "params": cr.MODEL_PARAMS,
        "horizon_months": 3,
        "holdout_months": 12,
        "trained_through_month": "2026-07-01",
    }
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
    assert cr.model_version(date(2026, 7, 1), 12) == f"{cr.METHOD}-{digest[:12]}"
