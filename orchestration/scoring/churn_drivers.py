"""Churn-risk drivers: why the churn model scores a customer as it does, feature by feature.

The churn model (``churn_risk.py``) is a logistic regression on standardised numeric features
and a one-hot classification, so its log-odds of churn for a customer is a sum::

    log_odds(x) = b + sum_j w_j t_j(x)

over the encoded columns ``t_j`` (a numeric feature standardised with the training mean and
standard deviation, ``z = (x - mean) / sd``; a class indicator 0 or 1) with coefficients ``w_j``
and intercept ``b``. Subtracting the same sum at the average training customer (the training
mean ``t̄_j`` of every encoded column) splits it exactly into

* ``baseline_log_odds`` = ``b + sum_j w_j t̄_j``: the log-odds of the average training
  customer (also the mean of the model's log-odds over its training rows), the same for every
  customer of a month; and
* one **contribution** per encoded column, ``w_j (t_j(x) - t̄_j)``; for a numeric feature
  ``t̄_j`` is 0 (standardised on the same rows), so its contribution is ``w_j z_j``:
  coefficient times standardised value.

``baseline_log_odds + sum of contributions = log_odds(x) = logit(churn_probability_3m)``,
exactly (to rounding). For a linear logit model the contribution of a feature is its SHAP value
on the log-odds scale under feature independence (interventional SHAP with the training rows as
background): with no interactions, the average change of the log-odds when the feature is set
from a training row's value to the customer's is the same in every coalition of the other
features. The unit tests check this against an exact Shapley computation by enumeration of
coalitions that uses nothing but the model's ``decision_function``.

**The classification is one feature.** Its one-hot columns are summed back into a single
contribution, ``w_class(x) - sum_k w_k p_k`` (``p_k`` the training share of class ``k``): the
SHAP value of the grouped feature, and the question an account manager asks ("does being a D
customer raise the risk?"), not one row per indicator. Its ``feature_value`` is null (the class
is text); ``feature_label`` names the class.

**The three drivers.** Every feature's contribution is ranked, largest first (towards churn;
ties by the model's feature order), and ranks 1, 2 and 3 are kept. A customer with fewer than
three features raising its risk gets the next largest contributions in the remaining ranks,
negative ones (``direction`` 'lowers risk'): the features that lower its risk least, so that
every scored customer has exactly three rows and ranks mean the same for everyone. A
contribution of exactly 0 (a feature at the training average) is 'lowers risk': it does not
raise it. ``other_features_contribution`` is the sum of the contributions not in the three rows,
so a customer's three contributions + that + ``baseline_log_odds`` = its log-odds.

No Dagster import: usable from notebooks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.pipeline import Pipeline

from orchestration.scoring.churn_risk import CATEGORICAL_FEATURES, NUMERIC_FEATURES, ScoringFit

__all__ = [
    "DRIVER_COLUMNS",
    "DRIVERS_PER_CUSTOMER",
    "FEATURE_LABELS",
    "Attribution",
    "attribute",
    "drivers",
    "feature_label",
    "top_drivers",
]

#: Rows per scored customer.
DRIVERS_PER_CUSTOMER = 3
#: The model's features, in its order (numeric, then categorical): the order that breaks ties.
FEATURES: tuple[str, ...] = (*NUMERIC_FEATURES, *CATEGORICAL_FEATURES)
RAISES, LOWERS = "raises risk", "lowers risk"

#: Plain words for the classes, as customer_classification defines them.
CLASS_WORDS = {
    "A": "large, high margin",
    "B": "large, low margin",
    "C": "small, high margin",
    "D": "small, low margin",
}


def _compared(value: float, average: float, above: str, below: str) -> str:
    if value > average:
        return above
    if value < average:
        return below
    return "equal to"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _mrr(value: float, average: float) -> str:
    relation = _compared(value, average, "above", "below")
    return f"MRR {math.exp(value):,.0f} a month, {relation} the typical {math.exp(average):,.0f}"


def _mrr_change(months: int) -> Callable[[float, float], str]:
    def label(value: float, _average: float) -> str:
        change = math.expm1(value)
        if value < 0:
            return f"MRR fell in the last {months} months ({change:+.0%})"
        if value > 0:
            return f"MRR grew in the last {months} months ({change:+.0%})"
        return f"MRR unchanged in the last {months} months (or started since)"

    return label


def _contractions(value: float, _average: float) -> str:
    count = round(value)
    if count == 0:
        return "No MRR contraction in the last 12 months"
    return f"{_plural(count, 'MRR contraction')} in the last 12 months"


def _margin(value: float, average: float) -> str:
    relation = _compared(value, average, "above", "below")
    return f"Gross margin {value:.0%}, {relation} the average {average:.0%}"


def _labour(value: float, average: float) -> str:
    relation = _compared(value, average, "above", "below")
    return f"Labour cost {value:.0%} of revenue, {relation} the average {average:.0%}"


def _revenue_share(value: float, average: float) -> str:
    relation = _compared(value, average, "above", "below")
    return f"{value:.2%} of portfolio revenue, {relation} the average {average:.2%}"


def _offerings(value: float, average: float) -> str:
    relation = _compared(value, average, "more than", "fewer than")
    return f"Owns {_plural(round(value), 'offering')}, {relation} the average {average:.1f}"


def _legacy(value: float, _average: float) -> str:
    return "Owns a legacy offering" if value >= 0.5 else "Owns no legacy offering"


def _tcp(value: float, _average: float) -> str:
    return "In the target client profile" if value >= 0.5 else "Outside the target client profile"


def _tenure(value: float, average: float) -> str:
    relation = _compared(value, average, "longer than", "shorter than")
    months, typical = round(math.expm1(value)), math.expm1(average)
    if months == 0:
        return f"New customer: MRR started this month (typical tenure {typical:.0f} months)"
    return f"Customer for {_plural(months, 'month')}, {relation} the typical {typical:.0f}"


def _anniversary(value: float, _average: float) -> str:
    if value >= 0.5:
        return "Contract year ends within 3 months"
    return "No contract anniversary in the next 3 months"


#: For each numeric feature: its plain-words label from (the customer's value, the training
#: average of the feature). "Typical" MRR and tenure are the exponentials of the average of
#: their logarithms (geometric means), the values the model centres on.
FEATURE_LABELS: dict[str, Callable[[float, float], str]] = {
    "log_mrr": _mrr,
    "mrr_log_change_3m": _mrr_change(3),
    "mrr_log_change_6m": _mrr_change(6),
    "contractions_12m": _contractions,
    "gross_margin_pct": _margin,
    "labor_cost_share": _labour,
    "revenue_share": _revenue_share,
    "offerings_owned": _offerings,
    "owns_legacy_offering": _legacy,
    "in_tcp": _tcp,
    "log_tenure_months": _tenure,
    "contract_year_ends_within_3m": _anniversary,
}


def feature_label(feature: str, value: object, average: float | None = None) -> str:
    """Plain words for a customer's value of a model feature (``average``: the feature's
    training mean; not used for the classification, whose ``value`` is the class)."""
    if feature == "classification":
        words = CLASS_WORDS.get(str(value))
        return f"Class {value} customer" + (f" ({words})" if words else "")
    if average is None:
        raise ValueError(f"{feature}: the training average is needed for its label")
    return FEATURE_LABELS[feature](float(value), float(average))


@dataclass(frozen=True)
class Attribution:
    """Each feature's contribution to the log-odds of churn of some customers."""

    #: One row per customer (the index of the rows explained), one column per model feature
    #: (:data:`FEATURES`): its contribution to the log-odds relative to the average training
    #: customer.
    contributions: pd.DataFrame
    #: The log-odds of the average training customer.
    baseline_log_odds: float
    #: The model's log-odds for each row (``decision_function``).
    log_odds: np.ndarray
    #: The training mean of each numeric feature (the reference its labels compare with).
    training_means: dict[str, float]


def _encoded(model: Pipeline, rows: pd.DataFrame) -> np.ndarray:
    encoded = model.named_steps["columns"].transform(rows[list(FEATURES)])
    return np.asarray(encoded.toarray() if sparse.issparse(encoded) else encoded, dtype=float)


def _encoded_features(model: Pipeline) -> list[str]:
    """The model feature of each encoded column, in the order of the coefficients."""
    columns = model.named_steps["columns"]
    encoder = columns.named_transformers_["categorical"]
    owners = [
        *NUMERIC_FEATURES,
        *(
            feature
            for feature, categories in zip(CATEGORICAL_FEATURES, encoder.categories_, strict=True)
            for _ in categories
        ),
    ]
    names = columns.get_feature_names_out()
    if len(names) != len(owners) or not all(
        name.split("__", 1)[1].startswith(owner) for name, owner in zip(names, owners, strict=True)
    ):
        raise ValueError(f"unexpected encoded columns {list(names)}")
    return owners


def attribute(model: Pipeline, train: pd.DataFrame, rows: pd.DataFrame) -> Attribution:
    """Each feature's additive contribution to the log-odds of ``rows``, relative to the
    average of ``train`` (the rows ``model`` was fitted on), one-hot columns summed per feature.

    ``baseline_log_odds + contributions.sum(axis=1) == log_odds`` to rounding.
    """
    regression = model.named_steps["model"]
    coefficients = regression.coef_[0]
    centre = _encoded(model, train).mean(axis=0)
    per_column = (_encoded(model, rows) - centre) * coefficients
    owners = np.array(_encoded_features(model))
    contributions = pd.DataFrame(
        {feature: per_column[:, owners == feature].sum(axis=1) for feature in FEATURES},
        index=rows.index,
    )
    scaler = model.named_steps["columns"].named_transformers_["numeric"]
    return Attribution(
        contributions=contributions,
        baseline_log_odds=float(regression.intercept_[0] + coefficients @ centre),
        log_odds=(model.decision_function(rows[list(FEATURES)]) if len(rows) else np.array([])),
        training_means=dict(zip(NUMERIC_FEATURES, map(float, scaler.mean_), strict=True)),
    )


def top_drivers(
    attribution: Attribution, rows: pd.DataFrame, count: int = DRIVERS_PER_CUSTOMER
) -> pd.DataFrame:
    """The ``count`` largest contributions of each row of ``rows`` (largest first, ties by
    feature order), one output row each: ``customer_id``, ``driver_rank`` (1..count),
    ``feature``, ``feature_label``, ``feature_value`` (null for the classification),
    ``contribution``, ``direction``, ``other_features_contribution`` and
    ``baseline_log_odds``."""
    if count > len(FEATURES):
        raise ValueError(f"the model has {len(FEATURES)} features, not {count}")
    values = attribution.contributions.loc[rows.index, list(FEATURES)].to_numpy()
    out = []
    for (_, row), contributions in zip(rows.iterrows(), values, strict=True):
        order = np.argsort(-contributions, kind="stable")[:count]
        shown = contributions[order]
        other = float(contributions.sum() - shown.sum())
        for rank, index in enumerate(order, start=1):
            feature = FEATURES[index]
            contribution = float(contributions[index])
            value = row[feature]
            numeric = feature in attribution.training_means
            out.append(
                {
                    "customer_id": row["customer_id"],
                    "driver_rank": rank,
                    "feature": feature,
                    "feature_label": feature_label(
                        feature, value, attribution.training_means.get(feature)
                    ),
                    "feature_value": float(value) if numeric else math.nan,
                    "contribution": contribution,
                    "direction": RAISES if contribution > 0 else LOWERS,
                    "other_features_contribution": other,
                    "baseline_log_odds": attribution.baseline_log_odds,
                }
            )
    return pd.DataFrame(
        out,
        columns=[
            "customer_id",
            "driver_rank",
            "feature",
            "feature_label",
            "feature_value",
            "contribution",
            "direction",
            "other_features_contribution",
            "baseline_log_odds",
        ],
    )


#: The columns of scoring.churn_risk_drivers the model fills (the pipeline adds customer_name).
DRIVER_COLUMNS = [
    "as_of_month",
    "customer_id",
    "driver_rank",
    "feature",
    "feature_label",
    "feature_value",
    "contribution",
    "direction",
    "other_features_contribution",
    "baseline_log_odds",
    "model_version",
]


def drivers(
    fit: ScoringFit, latest_month: date, version: str
) -> tuple[pd.DataFrame, dict[str, object]]:
    """The three drivers of every customer ``fit`` scores at ``latest_month`` (the table
    scoring.churn_risk_drivers without names) and facts about them."""
    attribution = attribute(fit.model, fit.train, fit.current)
    table = top_drivers(attribution, fit.current)
    table.insert(0, "as_of_month", latest_month)
    table["model_version"] = version
    first = table.loc[table["driver_rank"] == 1, "feature"].value_counts()
    facts = {
        "baseline_log_odds": round(attribution.baseline_log_odds, 6),
        "customers": int(len(fit.current)),
        "first_driver_counts": {feature: int(n) for feature, n in first.items()},
        "customers_without_a_risk_raising_feature": int(
            ((table["driver_rank"] == 1) & (table["direction"] == LOWERS)).sum()
        ),
    }
    return table[DRIVER_COLUMNS], facts
