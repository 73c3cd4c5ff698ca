"""Tests for the churn-risk drivers (orchestration.scoring.churn_drivers).

The contributions are checked three ways, none of which reuses the attribution's formula:
figures worked out by hand for a model whose coefficients are set by hand; an exact Shapley
computation by enumeration of every coalition of features, which calls nothing but the model's
``decision_function`` (interventional SHAP with the training rows as background); and the
identity baseline + contributions = logit of the probability ``score_customers`` writes.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from orchestration.months import month_add
from orchestration.scoring import churn_drivers as cd
from orchestration.scoring import churn_risk as cr

LATEST = date(2026, 10, 1)
FEATURES = [*cr.NUMERIC_FEATURES, *cr.CATEGORICAL_FEATURES]


def synthetic_panel(customers: int = 80, months: int = 18, seed: int = 1) -> pd.DataFrame:
    """A panel shaped like features.churn_panel through LATEST: churn depends on the margin
    and the 3-month MRR change; every numeric feature varies, classes A-D."""
    rng = np.random.default_rng(seed)
    rows = []
    month = month_add(LATEST, -(months - 1))
    classes = rng.choice(list("ABCD"), customers)
    while month <= LATEST:
        values = {feature: rng.normal(size=customers) for feature in cr.NUMERIC_FEATURES}
        log_odds = -2.5 - 1.5 * values["gross_margin_pct"] - 1.0 * values["mrr_log_change_3m"]
        churned = rng.random(customers) < 1 / (1 + np.exp(-log_odds))
        for i in range(customers):
            rows.append(
                {
                    "as_of_month": month,
                    "customer_id": f"C{i:03d}",
                    cr.LABEL: bool(churned[i]),
                    "is_label_observed": month_add(month, 3) <= LATEST,
                    "classification": classes[i],
                    **{feature: float(values[feature][i]) for feature in cr.NUMERIC_FEATURES},
                }
            )
        month = month_add(month, 1)
    return pd.DataFrame(rows)


def logit(p: float) -> float:
    return math.log(p) - math.log1p(-p)


# --------------------------------------------------------------------------------------------
# By hand: a model with hand-set coefficients on four training rows
# --------------------------------------------------------------------------------------------
def hand_model():
    """Four training rows in which every numeric feature is 0, 0, 2, 2 (mean 1, population
    standard deviation 1) and the classes are A, A, A, D; then coefficients set by hand:
    log_mrr 0.5, gross_margin_pct -2, class A 0.4, class D -0.8, the rest 0, intercept -3."""
    train = pd.DataFrame(
        {
            **{feature: [0.0, 0.0, 2.0, 2.0] for feature in cr.NUMERIC_FEATURES},
            "classification": ["A", "A", "A", "D"],
            cr.LABEL: [True, False, True, False],
        }
    )
    model = cr.fit_model(train)
    names = list(model.named_steps["columns"].get_feature_names_out())
    coefficients = dict.fromkeys(names, 0.0)
    coefficients.update(
        {
            "numeric__log_mrr": 0.5,
            "numeric__gross_margin_pct": -2.0,
            "categorical__classification_A": 0.4,
            "categorical__classification_D": -0.8,
        }
    )
    regression = model.named_steps["model"]
    regression.coef_ = np.array([[coefficients[name] for name in names]])
    regression.intercept_ = np.array([-3.0])
    return model, train


def hand_customer() -> pd.DataFrame:
    """log_mrr 5 (z = 4), gross margin 0.5 (z = -0.5), every other numeric feature at its
    mean 1 (z = 0), class D."""
    row = {feature: 1.0 for feature in cr.NUMERIC_FEATURES}
    row.update({"log_mrr": 5.0, "gross_margin_pct": 0.5, "classification": "D"})
    return pd.DataFrame([{"customer_id": "X", **row}])


def test_contributions_worked_out_by_hand():
    model, train = hand_model()
    customer = hand_customer()
    attribution = cd.attribute(model, train, customer)
    got = attribution.contributions.iloc[0]
    assert got["log_mrr"] == pytest.approx(0.5 * 4)  # coefficient x standardised value
    assert got["gross_margin_pct"] == pytest.approx(-2.0 * -0.5)
    # Class D against the average training customer (3/4 A, 1/4 D): -0.8 - (0.75 x 0.4 +
    # 0.25 x -0.8) = -0.9, the one-hot columns taken together.
    assert got["classification"] == pytest.approx(-0.9)
    assert (got.drop(["log_mrr", "gross_margin_pct", "classification"]) == 0).all()
    # The average training customer: -3 + 0.75 x 0.4 + 0.25 x -0.8 = -2.9.
    assert attribution.baseline_log_odds == pytest.approx(-2.9)
    # Its log-odds: -3 + 0.5 x 4 - 2 x -0.5 - 0.8 = -0.8 = -2.9 + 2 + 1 - 0.9.
    assert attribution.log_odds[0] == pytest.approx(-0.8)
    assert attribution.baseline_log_odds + got.sum() == pytest.approx(-0.8)
    assert attribution.training_means["log_mrr"] == 1.0


def test_top_drivers_by_hand_fill_the_third_rank_with_the_next_largest():
    model, train = hand_model()
    customer = hand_customer()
    table = cd.top_drivers(cd.attribute(model, train, customer), customer)
    rows = table[["driver_rank", "feature", "contribution", "direction"]].to_numpy().tolist()
    # Two features raise the risk; the third rank is the next largest contribution: 0, of the
    # first feature in the model's order among the eleven at their mean (ties by order).
    assert rows == [
        [1, "log_mrr", pytest.approx(2.0), "raises risk"],
        [2, "gross_margin_pct", pytest.approx(1.0), "raises risk"],
        [3, "mrr_log_change_3m", 0.0, "lowers risk"],
    ]
    assert table["other_features_contribution"].tolist() == pytest.approx([-0.9] * 3)
    assert table["baseline_log_odds"].tolist() == pytest.approx([-2.9] * 3)
    assert table["feature_value"].tolist() == [5.0, 0.5, 1.0]
    assert table["feature_label"].tolist() == [
        f"MRR {math.exp(5):,.0f} a month, above the typical {math.e:,.0f}",
        "Gross margin 50%, below the average 100%",
        "MRR grew in the last 3 months (+172%)",
    ]


def test_a_customer_with_no_risk_raising_feature_gets_its_three_least_negative():
    contributions = pd.DataFrame(
        [[-0.1 * (i + 1) for i in range(len(FEATURES))]], columns=FEATURES, index=[7]
    )
    contributions["in_tcp"] = -0.05  # the least negative
    contributions["classification"] = -0.1  # ties with log_mrr: the model's order decides
    attribution = cd.Attribution(
        contributions=contributions,
        baseline_log_odds=-3.0,
        log_odds=np.array([-3.0 + contributions.to_numpy().sum()]),
        training_means=dict.fromkeys(cr.NUMERIC_FEATURES, 0.0),
    )
    row = pd.DataFrame(
        [{"customer_id": "X", **dict.fromkeys(cr.NUMERIC_FEATURES, 0.0), "classification": "B"}],
        index=[7],
    )
    table = cd.top_drivers(attribution, row)
    assert table["feature"].tolist() == ["in_tcp", "log_mrr", "classification"]
    assert table["direction"].tolist() == ["lowers risk"] * 3
    assert math.isnan(table["feature_value"].iloc[2])  # the class is text
    assert table["feature_label"].iloc[2] == "Class B customer (large, low margin)"
    shown = table["contribution"].sum()
    assert table["other_features_contribution"].iloc[0] == pytest.approx(
        contributions.to_numpy().sum() - shown
    )


# --------------------------------------------------------------------------------------------
# Against Shapley values computed from the model's decision_function alone
# --------------------------------------------------------------------------------------------
def exact_shapley(model, background: pd.DataFrame, customer: pd.Series) -> dict[str, float]:
    """Interventional Shapley values of the log-odds by enumeration of all 2^13 coalitions:
    v(S) = mean over the background rows of decision_function(customer's values on S, the
    row's elsewhere); phi_i = sum over S without i of |S|! (n - |S| - 1)! / n! (v(S + i) -
    v(S)). Uses no coefficient. A coalition is a bit mask over FEATURES."""
    n = len(FEATURES)
    masks = np.arange(2**n)
    rows = len(background)
    frame = {}
    for i, feature in enumerate(FEATURES):
        own = np.repeat((masks >> i) & 1 == 1, rows)
        frame[feature] = np.where(own, customer[feature], np.tile(background[feature], 2**n))
    values = model.decision_function(pd.DataFrame(frame)).reshape(2**n, rows).mean(axis=1)
    sizes = np.array([bin(mask).count("1") for mask in masks])
    weights = np.array(
        [math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n) for k in range(n)]
    )
    phi = {}
    for i, feature in enumerate(FEATURES):
        without = masks[(masks >> i) & 1 == 0]
        phi[feature] = float(
            (weights[sizes[without]] * (values[without | (1 << i)] - values[without])).sum()
        )
    return phi


def test_contributions_are_the_exact_shapley_values_of_the_log_odds():
    panel = synthetic_panel(customers=8, months=8, seed=3)
    train = panel[panel["as_of_month"] <= month_add(LATEST, -3)]  # 40 rows
    assert train[cr.LABEL].nunique() == 2
    model = cr.fit_model(train)
    current = panel[panel["as_of_month"] == LATEST].iloc[:1]
    attribution = cd.attribute(model, train, current)
    for index, customer in current.iterrows():
        phi = exact_shapley(model, train, customer)
        got = attribution.contributions.loc[index]
        for feature in FEATURES:
            assert got[feature] == pytest.approx(phi[feature], abs=1e-9), feature
        # Efficiency: v(all) - v(none) = log-odds - mean training log-odds.
        assert sum(phi.values()) == pytest.approx(
            model.decision_function(current.loc[[index], FEATURES])[0]
            - model.decision_function(train[FEATURES]).mean(),
            abs=1e-9,
        )


def test_each_contribution_is_the_mean_log_odds_change_of_setting_that_feature():
    """For a model without interactions the Shapley value of a feature is the average change of
    the log-odds over the training rows when that feature alone takes the customer's value."""
    panel = synthetic_panel()
    fit = cr.fit_for_scoring(panel, LATEST)
    attribution = cd.attribute(fit.model, fit.train, fit.current)
    background = fit.train[FEATURES]
    before = fit.model.decision_function(background)
    assert attribution.baseline_log_odds == pytest.approx(before.mean(), abs=1e-12)
    for index, customer in fit.current.head(5).iterrows():
        for feature in FEATURES:
            changed = background.copy()
            changed[feature] = customer[feature]
            change = (fit.model.decision_function(changed) - before).mean()
            assert attribution.contributions.loc[index, feature] == pytest.approx(
                change, abs=1e-10
            ), feature


def test_baseline_plus_contributions_is_the_logit_of_the_scored_probability():
    panel = synthetic_panel()
    evaluation = cr.evaluate(panel, LATEST, 12)
    scores, facts = cr.score_customers(panel, LATEST, evaluation, 12)
    fit = cr.fit_for_scoring(panel, LATEST)
    table, drivers_facts = cd.drivers(fit, LATEST, "v")
    assert list(table.columns) == cd.DRIVER_COLUMNS
    assert drivers_facts["customers"] == len(scores) == 80
    by_customer = table.groupby("customer_id").agg(
        shown=("contribution", "sum"),
        other=("other_features_contribution", "first"),
        baseline=("baseline_log_odds", "first"),
        rows=("driver_rank", "count"),
        ranks=("driver_rank", list),
    )
    assert (by_customer["rows"] == 3).all()
    assert all(ranks == [1, 2, 3] for ranks in by_customer["ranks"])
    for score in scores.itertuples():
        row = by_customer.loc[score.customer_id]
        assert row.shown + row.other + row.baseline == pytest.approx(
            logit(score.churn_probability_3m), abs=1e-9
        )
    # Largest first, and a rank's contribution is at least any left out.
    ordered = table.groupby("customer_id")["contribution"].apply(list)
    assert all(values == sorted(values, reverse=True) for values in ordered)
    contributions = cd.attribute(fit.model, fit.train, fit.current).contributions
    third = table[table["driver_rank"] == 3].set_index("customer_id")["contribution"]
    largest_left = {
        fit.current.loc[index, "customer_id"]: sorted(values, reverse=True)[3]
        for index, values in contributions.iterrows()
    }
    assert all(third[c] >= largest_left[c] for c in third.index)
    # The model learnt the planted signal: low margin raises the risk, a rising MRR lowers it.
    coefficients = facts["coefficients"]
    assert coefficients["numeric__gross_margin_pct"] < 0
    assert coefficients["numeric__mrr_log_change_3m"] < 0


def test_a_class_the_training_rows_lack_still_adds_up():
    """OneHotEncoder ignores an unknown class (all indicators 0): its contribution is minus the
    training average of the class terms, and the sum still gives the log-odds."""
    model, train = hand_model()
    customer = hand_customer().assign(classification="B")
    attribution = cd.attribute(model, train, customer)
    assert attribution.contributions.loc[0, "classification"] == pytest.approx(-0.1)
    total = attribution.baseline_log_odds + attribution.contributions.iloc[0].sum()
    assert total == pytest.approx(attribution.log_odds[0]) == pytest.approx(-3 + 2 + 1)


# --------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("feature", "value", "average", "label"),
    [
        ("mrr_log_change_3m", math.log(0.8), 0.0, "MRR fell in the last 3 months (-20%)"),
        ("mrr_log_change_6m", math.log(1.25), 0.0, "MRR grew in the last 6 months (+25%)"),
        ("mrr_log_change_3m", 0.0, -0.1, "MRR unchanged in the last 3 months (or started since)"),
        ("log_mrr", math.log(1500), math.log(2000), "MRR 1,500 a month, below the typical 2,000"),
        ("contractions_12m", 0.0, 0.3, "No MRR contraction in the last 12 months"),
        ("contractions_12m", 1.0, 0.3, "1 MRR contraction in the last 12 months"),
        ("contractions_12m", 2.0, 0.3, "2 MRR contractions in the last 12 months"),
        ("gross_margin_pct", 0.12, 0.3, "Gross margin 12%, below the average 30%"),
        ("labor_cost_share", 0.6, 0.4, "Labour cost 60% of revenue, above the average 40%"),
        ("revenue_share", 0.02, 0.005, "2.00% of portfolio revenue, above the average 0.50%"),
        ("offerings_owned", 1.0, 2.5, "Owns 1 offering, fewer than the average 2.5"),
        ("owns_legacy_offering", 1.0, 0.2, "Owns a legacy offering"),
        ("in_tcp", 0.0, 0.6, "Outside the target client profile"),
        (
            "log_tenure_months",
            math.log(5),
            math.log(25),
            "Customer for 4 months, shorter than the typical 24",
        ),
        (
            "log_tenure_months",
            0.0,
            math.log(13),
            "New customer: MRR started this month (typical tenure 12 months)",
        ),
        ("contract_year_ends_within_3m", 1.0, 0.25, "Contract year ends within 3 months"),
        ("classification", "D", None, "Class D customer (small, low margin)"),
    ],
)
def test_feature_labels(feature, value, average, label):
    assert cd.feature_label(feature, value, average) == label


def test_every_model_feature_has_a_label():
    assert set(cd.FEATURE_LABELS) == set(cr.NUMERIC_FEATURES)
    assert tuple(FEATURES) == cd.FEATURES
