"""Churn risk: the probability that an active MRR customer churns within the next 3 months.

Target
------
For a customer with MRR at month ``M`` (and active, i.e. classified, at ``M``): does it have a
``churn`` movement in ``marts.mrr_movements`` (MRR falls to 0) in ``M + 1``, ``M + 2`` or
``M + 3``? Rows and features come from ``features.churn_panel``; every feature of a row uses
months up to ``M`` only. Customers without MRR cannot have an MRR churn and are not scored.
Churn notices (``marts.churn_events.notice_date``) are deliberately not features: a customer that
has given notice is already known to be leaving, and the score is meant to find the others.

Model
-----
A scikit-learn pipeline: standard scaling of the numeric features, one-hot of the classification,
and an L2-regularised logistic regression (``C = 0.03``: strong shrinkage, because a portfolio of a
few hundred customers has only tens of churns a year). Logistic regression keeps the
probabilities calibrated to the base rate (no class re-weighting) and its coefficients readable.
The feature set and ``C`` were chosen on generated portfolios other than the one the end-to-end
test checks, with a time split inside their training window.

Time-based holdout (how ``holdout_auc`` is measured)
---------------------------------------------------
Let ``T`` be the latest as_of_month and ``h`` the holdout length (``holdout_months``, default 12).
Pretend the model had been trained at month ``S = T - h``: then only the labels of
as_of_months ``<= S - 3`` were known. So

* **train** on as_of_months ``<= T - 3 - h`` (their 3-month windows end by ``S``);
* **test** on as_of_months ``T - h .. T - 3``: predictions made from ``S`` on, whose 3-month
  outcome is fully observed by ``T``.

The months ``T - 2 - h`` and ``T - 1 - h`` between them are left out: their outcome windows
overlap the training rows' and the test rows' (the same churn would be a training label and a test
label). Nothing of a later month reaches a training row. ``holdout_auc`` is
``sklearn.metrics.roc_auc_score`` on the test rows; ``baseline_auc`` that of the naive baseline,
the training churn rate of the row's classification (A/B/C/D); ``rule_auc`` that of the rule
"MRR fell in the last 3 months". An AUC is None when the test rows hold only churners or only
non-churners: then there is nothing to rank, and the metadata says so.

Scores
------
The model is then refitted on every row whose outcome is known (as_of_months ``<= T - 3``;
``trained_through_month`` = ``T - 3``) and scores the customers with MRR at ``T``: the snapshot
of ``T`` in ``scoring.churn_risk_scores`` (one row per as_of_month and customer).
``risk_band``: ``high`` when the probability is at least twice the training churn rate,
``medium`` when above it, ``low`` otherwise. ``model_version`` is a hash of the features, the
parameters and the training window, so it changes when any of them does.

No Dagster import: usable from notebooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from orchestration.months import month_add
from orchestration.scoring.features import CHURN_HORIZON_MONTHS
from orchestration.scoring.versioning import hashed_version

__all__ = [
    "CATEGORICAL_FEATURES",
    "NUMERIC_FEATURES",
    "ChurnEvaluation",
    "ScoringFit",
    "TimeSplit",
    "auc_or_none",
    "build_model",
    "evaluate",
    "fit_for_scoring",
    "model_version",
    "mrr_fell_rule",
    "risk_bands",
    "score_customers",
    "segment_baseline",
    "split_panel",
    "time_split",
]

#: Features of ``features.churn_panel`` the model uses.
NUMERIC_FEATURES: tuple[str, ...] = (
    "log_mrr",
    "mrr_log_change_3m",
    "mrr_log_change_6m",
    "contractions_12m",
    "gross_margin_pct",
    "labor_cost_share",
    "revenue_share",
    "offerings_owned",
    "owns_legacy_offering",
    "in_tcp",
    "log_tenure_months",
    "contract_year_ends_within_3m",
)
CATEGORICAL_FEATURES: tuple[str, ...] = ("classification",)
LABEL = "churned_within_3m"
DEFAULT_HOLDOUT_MONTHS = 12
#: Parameters of the logistic regression (lbfgs is deterministic; random_state is fixed anyway).
MODEL_PARAMS = {"C": 0.03, "max_iter": 5000, "random_state": 0}
METHOD = "churn-logit-v1"


@dataclass(frozen=True)
class TimeSplit:
    """The months of a time-based holdout (see the module docstring)."""

    latest_month: date
    holdout_months: int
    train_end: date
    test_start: date
    test_end: date


def time_split(latest_month: date, holdout_months: int = DEFAULT_HOLDOUT_MONTHS) -> TimeSplit:
    """Train on as_of_months ``<= T - 3 - h``, test on ``T - h .. T - 3`` (``T`` = latest).

    Raises:
        ValueError: ``holdout_months`` < 3 (the test window would be empty).
    """
    if holdout_months < CHURN_HORIZON_MONTHS:
        raise ValueError(
            f"holdout_months must be >= {CHURN_HORIZON_MONTHS} (the label horizon), "
            f"got {holdout_months}"
        )
    return TimeSplit(
        latest_month=latest_month,
        holdout_months=holdout_months,
        train_end=month_add(latest_month, -CHURN_HORIZON_MONTHS - holdout_months),
        test_start=month_add(latest_month, -holdout_months),
        test_end=month_add(latest_month, -CHURN_HORIZON_MONTHS),
    )


def _months(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.date


def split_panel(panel: pd.DataFrame, split: TimeSplit) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The training and test rows of ``panel`` (``features.churn_panel`` through
    ``split.latest_month``) for ``split``.

    Raises:
        ValueError: a selected row's 3-month outcome is not fully observed (the panel was read
            through an earlier month than ``split.latest_month``).
    """
    month = _months(panel["as_of_month"])
    train = panel[month <= split.train_end]
    test = panel[(month >= split.test_start) & (month <= split.test_end)]
    for name, rows in (("training", train), ("test", test)):
        if not rows["is_label_observed"].all():
            raise ValueError(f"{name} rows with an unobserved 3-month outcome: check the split")
    return train, test


def build_model() -> Pipeline:
    """The unfitted pipeline: scaling + one-hot + logistic regression."""
    columns = ColumnTransformer(
        [
            ("numeric", StandardScaler(), list(NUMERIC_FEATURES)),
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore"),
                list(CATEGORICAL_FEATURES),
            ),
        ]
    )
    return Pipeline([("columns", columns), ("model", LogisticRegression(**MODEL_PARAMS))])


def _features(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[[*NUMERIC_FEATURES, *CATEGORICAL_FEATURES]]


def fit_model(train: pd.DataFrame) -> Pipeline:
    """Fit :func:`build_model` on ``train``.

    Raises:
        ValueError: the rows hold only churners or only non-churners.
    """
    labels = train[LABEL].astype(bool)
    if labels.nunique() < 2:
        raise ValueError(
            f"cannot fit the churn model: the {len(train)} training rows hold "
            f"{int(labels.sum())} churners"
        )
    return build_model().fit(_features(train), labels.to_numpy())


def predict(model: Pipeline, rows: pd.DataFrame) -> np.ndarray:
    """P(churn within 3 months) for ``rows``."""
    return model.predict_proba(_features(rows))[:, 1]


def auc_or_none(labels: Sequence[bool], scores: Sequence[float]) -> float | None:
    """``roc_auc_score``, or None when the labels hold a single class (AUC undefined)."""
    y = np.asarray(labels, dtype=bool)
    if y.size == 0 or y.all() or not y.any():
        return None
    return float(roc_auc_score(y, np.asarray(scores, dtype=float)))


def segment_baseline(train: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """The naive baseline: each row's training churn rate of its classification (A/B/C/D).

    A class absent from training gets the overall training rate.
    """
    labels = train[LABEL].astype(float)
    rates = labels.groupby(train["classification"]).mean()
    overall = float(labels.mean()) if len(labels) else 0.0
    return rows["classification"].map(rates).fillna(overall).to_numpy(dtype=float)


def mrr_fell_rule(rows: pd.DataFrame) -> np.ndarray:
    """The single-feature rule: 1 when MRR is lower than 3 months ago, else 0."""
    return (rows["mrr_log_change_3m"] < 0).to_numpy(dtype=float)


@dataclass(frozen=True)
class ChurnEvaluation:
    """Holdout evaluation of the churn model; AUCs are None when undefined (see ``note``)."""

    train_end: date
    test_start: date
    test_end: date
    n_train_rows: int
    n_train_churned: int
    n_test_rows: int
    n_test_churned: int
    n_test_churned_customers: int
    holdout_auc: float | None
    baseline_auc: float | None
    rule_auc: float | None
    note: str

    @property
    def beats_baseline(self) -> bool:
        """The model's holdout AUC is higher than the segment baseline's."""
        return (
            self.holdout_auc is not None
            and self.baseline_auc is not None
            and self.holdout_auc > self.baseline_auc
        )

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        for key in ("train_end", "test_start", "test_end"):
            out[key] = out[key].isoformat()
        out["beats_baseline"] = self.beats_baseline
        return out


def evaluate(
    panel: pd.DataFrame, latest_month: date, holdout_months: int = DEFAULT_HOLDOUT_MONTHS
) -> ChurnEvaluation:
    """Fit on the training months, score the holdout months, compare with the baselines."""
    split = time_split(latest_month, holdout_months)
    train, test = split_panel(panel, split)
    y_test = test[LABEL].astype(bool).to_numpy()
    counts = {
        "train_end": split.train_end,
        "test_start": split.test_start,
        "test_end": split.test_end,
        "n_train_rows": len(train),
        "n_train_churned": int(train[LABEL].sum()),
        "n_test_rows": len(test),
        "n_test_churned": int(y_test.sum()),
        "n_test_churned_customers": int(test.loc[y_test, "customer_id"].nunique()),
    }
    if len(test) == 0 or y_test.all() or not y_test.any():
        return ChurnEvaluation(
            **counts,
            holdout_auc=None,
            baseline_auc=None,
            rule_auc=None,
            note=f"no AUC: the {len(test)} holdout rows hold {int(y_test.sum())} churners, "
            "so there is nothing to rank",
        )
    try:
        model = fit_model(train)
    except ValueError as error:
        return ChurnEvaluation(
            **counts, holdout_auc=None, baseline_auc=None, rule_auc=None, note=str(error)
        )
    return ChurnEvaluation(
        **counts,
        holdout_auc=auc_or_none(y_test, predict(model, test)),
        baseline_auc=auc_or_none(y_test, segment_baseline(train, test)),
        rule_auc=auc_or_none(y_test, mrr_fell_rule(test)),
        note="",
    )


def model_version(trained_through_month: date, holdout_months: int) -> str:
    """A hash of the features, the parameters and the training window."""
    spec = {
        "numeric_features": NUMERIC_FEATURES,
        "categorical_features": CATEGORICAL_FEATURES,
        "params": MODEL_PARAMS,
        "horizon_months": CHURN_HORIZON_MONTHS,
        "holdout_months": holdout_months,
        "trained_through_month": trained_through_month.isoformat(),
    }
    return hashed_version(METHOD, spec)


def risk_bands(probabilities: Sequence[float], base_rate: float) -> np.ndarray:
    """``high`` (>= 2 x base rate), ``medium`` (> base rate) or ``low``."""
    p = np.asarray(probabilities, dtype=float)
    return np.where(p >= 2 * base_rate, "high", np.where(p > base_rate, "medium", "low"))


SCORE_COLUMNS = [
    "as_of_month",
    "customer_id",
    "churn_probability_3m",
    "risk_band",
    "model_version",
    "holdout_auc",
    "baseline_auc",
    "trained_through_month",
]


@dataclass(frozen=True)
class ScoringFit:
    """The model the scores of ``latest_month`` come from, and the rows it saw."""

    #: The fitted pipeline (:func:`build_model`).
    model: Pipeline
    #: The rows it was fitted on: as_of_months ``<= trained_through`` (outcome known).
    train: pd.DataFrame
    #: The rows it scores: the customers with MRR at ``latest_month``.
    current: pd.DataFrame
    #: ``latest_month - 3``.
    trained_through: date


def fit_for_scoring(panel: pd.DataFrame, latest_month: date) -> ScoringFit:
    """Fit the model on every row of ``panel`` whose outcome is known at ``latest_month``
    (as_of_months ``<= latest_month - 3``); the rows of ``latest_month`` are the ones to score.

    Deterministic (lbfgs, fixed parameters): the same panel gives the same coefficients, so
    :func:`score_customers` and the drivers of ``churn_drivers`` explain the same model.

    Raises:
        ValueError: the rows with a known outcome hold only churners or only non-churners.
    """
    trained_through = month_add(latest_month, -CHURN_HORIZON_MONTHS)
    month = _months(panel["as_of_month"])
    train = panel[month <= trained_through]
    return ScoringFit(
        model=fit_model(train),
        train=train,
        current=panel[month == latest_month],
        trained_through=trained_through,
    )


def score_customers(
    panel: pd.DataFrame,
    latest_month: date,
    evaluation: ChurnEvaluation,
    holdout_months: int = DEFAULT_HOLDOUT_MONTHS,
) -> tuple[pd.DataFrame, dict[str, object]]:
    """Refit on every row with a known outcome and score the customers with MRR at
    ``latest_month``: the table scoring.churn_risk_scores and facts about the fit.

    Raises:
        ValueError: the rows with a known outcome hold only churners or only non-churners.
    """
    fit = fit_for_scoring(panel, latest_month)
    model, train, current, trained_through = fit.model, fit.train, fit.current, fit.trained_through
    base_rate = float(train[LABEL].mean())
    probability = predict(model, current) if len(current) else np.array([])
    version = model_version(trained_through, holdout_months)
    scores = pd.DataFrame(
        {
            "as_of_month": latest_month,
            "customer_id": current["customer_id"].to_numpy(),
            "churn_probability_3m": probability,
            "risk_band": risk_bands(probability, base_rate),
            "model_version": version,
            "holdout_auc": evaluation.holdout_auc,
            "baseline_auc": evaluation.baseline_auc,
            "trained_through_month": trained_through,
        },
        columns=SCORE_COLUMNS,
    )
    coefficients = dict(
        zip(
            model.named_steps["columns"].get_feature_names_out(),
            np.round(model.named_steps["model"].coef_[0], 4).tolist(),
            strict=True,
        )
    )
    facts = {
        "model_version": version,
        "trained_through_month": trained_through.isoformat(),
        "n_training_rows": len(train),
        "training_churn_rate": round(base_rate, 6),
        "coefficients": coefficients,
    }
    return scores, facts
