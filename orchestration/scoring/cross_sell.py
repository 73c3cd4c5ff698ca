"""Cross-sell recommendations: which current offerings each active customer should buy next.

Candidates
----------
For a customer at ``as_of_month``: every offering with lifecycle ``current`` and at least one
owner (so it has an ARPO) that the customer does not own (``owns_offering`` false in
``marts.customer_offering_matrix``: no TTM revenue from it). Legacy offerings are never
recommended. This is the whitespace of ``marts.customer_cross_sell``.

Propensity ("customers like you own it")
----------------------------------------
One L2-regularised logistic regression per candidate offering, fitted on all active customers of
the month: does the customer own the offering, given which *other* offerings it owns (legacy ones
included: they say something about the customer), the log of its TTM revenue, whether it is in
the TCP and its industry (one-hot)? A non-owner's fitted probability is its propensity: the
share of customers with its profile that own the offering. An offering owned by every customer or
by only one is not modelled: its propensity is its penetration rate.

``expected_revenue = propensity * avg_revenue_per_owner`` (ARPO from
``marts.offering_penetration``: TTM revenue per owner, so an expected yearly revenue). The top 3
candidates by propensity (ties: offering_id) are written, ``rank`` 1..3, as the snapshot of
``as_of_month`` in ``scoring.cross_sell_recommendations``.

Evaluation (hit rate)
---------------------
Fit on the ownership at an earlier month ``B`` (default 6 months before the latest), recommend
3 offerings to every customer active at ``B`` and at the latest month ``T``, and count a *hit*
when the customer owns at ``T`` one of the offerings recommended to it at ``B`` (it had no TTM
revenue from it at ``B``, so it bought it in ``B + 1 .. T``). ``hit_rate`` = customers with a
hit / customers evaluated; ``precision`` = recommended offerings bought / recommendations made.
The popularity baseline recommends the 3 candidates with the most owners at ``B`` that the
customer lacks.

No Dagster import: usable from notebooks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from orchestration.scoring.threads import blas_threads_for_fitting
from orchestration.scoring.versioning import hashed_version

__all__ = [
    "TOP_N",
    "HitRate",
    "candidate_offerings",
    "evaluate",
    "hit_rate",
    "model_version",
    "ownership_matrix",
    "popularity_recommendations",
    "propensities",
    "recommend",
]

TOP_N = 3
DEFAULT_EVALUATION_MONTHS = 6
#: Parameters of each offering's logistic regression.
MODEL_PARAMS = {"C": 1.0, "max_iter": 5000, "random_state": 0}
METHOD = "cross-sell-logit-v1"
RECOMMENDATION_COLUMNS = [
    "as_of_month",
    "customer_id",
    "offering_id",
    "rank",
    "propensity",
    "expected_revenue",
    "model_version",
]


def model_version(as_of_month: date) -> str:
    """A hash of the method, the parameters and the month fitted on."""
    spec = {
        "params": MODEL_PARAMS,
        "top_n": TOP_N,
        "as_of_month": as_of_month.isoformat(),
    }
    return hashed_version(METHOD, spec)


def ownership_matrix(ownership: pd.DataFrame) -> pd.DataFrame:
    """Customers x offerings (bool) from ``features.offering_ownership`` rows."""
    matrix = ownership.pivot_table(
        index="customer_id",
        columns="offering_id",
        values="owns_offering",
        aggfunc="max",
        fill_value=False,
    )
    return matrix.astype(bool).sort_index().sort_index(axis=1)


def candidate_offerings(catalogue: pd.DataFrame) -> list[str]:
    """Offerings that may be recommended: ``current``, with at least one owner and an ARPO."""
    keep = (
        (catalogue["lifecycle"] == "current")
        & (catalogue["owning_customers"] > 0)
        & catalogue["avg_revenue_per_owner"].notna()
    )
    return sorted(catalogue.loc[keep, "offering_id"])


def _profile_features(profiles: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    rows = profiles.set_index("customer_id").reindex(index)
    out = pd.DataFrame(index=index)
    out["log_revenue_ttm"] = np.log1p(rows["revenue_ttm"].astype(float).clip(lower=0).fillna(0))
    out["in_tcp"] = rows["in_tcp"].fillna(False).astype(float)
    industry = rows["industry"].fillna("unknown").astype(str)
    return out.join(pd.get_dummies(industry, prefix="industry", dtype=float))


def propensities(
    ownership: pd.DataFrame, profiles: pd.DataFrame, catalogue: pd.DataFrame
) -> pd.DataFrame:
    """P(owns offering | other offerings owned, size, TCP, industry) per customer and candidate.

    Returns a customers x candidate offerings frame of probabilities (owners included).
    """
    matrix = ownership_matrix(ownership)
    profile = _profile_features(profiles, matrix.index)
    # Standardised once: each column is scaled on its own, so dropping the modelled offering's
    # column afterwards gives the same features as scaling without it.
    features = StandardScaler().fit_transform(matrix.astype(float).join(profile).to_numpy())
    out = pd.DataFrame(index=matrix.index)
    # One BLAS thread: faster for these small products (orchestration.scoring.threads).
    with blas_threads_for_fitting():
        for offering in candidate_offerings(catalogue):
            if offering not in matrix.columns:
                continue
            owns = matrix[offering].to_numpy()
            n_owners = int(owns.sum())
            if n_owners < 2 or n_owners == owns.size:
                out[offering] = owns.mean()
                continue
            x = np.delete(features, matrix.columns.get_loc(offering), axis=1)
            model = LogisticRegression(**MODEL_PARAMS).fit(x, owns)
            out[offering] = model.predict_proba(x)[:, 1]
    return out


def _top_n(scores: pd.DataFrame, matrix: pd.DataFrame, top_n: int) -> pd.DataFrame:
    """Long table of each customer's ``top_n`` unowned offerings by score (ties: offering_id)."""
    long = scores.rename_axis(index="customer_id", columns="offering_id").stack().rename("score")
    long = long.reset_index()
    owned = matrix.rename_axis(index="customer_id", columns="offering_id").stack()
    owned = owned[owned].reset_index()[["customer_id", "offering_id"]]
    long = long.merge(owned, how="left", indicator=True)
    long = long[long["_merge"] == "left_only"].drop(columns="_merge")
    long = long.sort_values(
        ["customer_id", "score", "offering_id"], ascending=[True, False, True], kind="mergesort"
    )
    long["rank"] = long.groupby("customer_id").cumcount() + 1
    return long[long["rank"] <= top_n].reset_index(drop=True)


def recommend(
    ownership: pd.DataFrame,
    profiles: pd.DataFrame,
    catalogue: pd.DataFrame,
    *,
    as_of_month: date,
    top_n: int = TOP_N,
) -> pd.DataFrame:
    """The table scoring.cross_sell_recommendations for ``as_of_month``."""
    matrix = ownership_matrix(ownership)
    scores = propensities(ownership, profiles, catalogue)
    if scores.empty or scores.shape[1] == 0:
        return pd.DataFrame(columns=RECOMMENDATION_COLUMNS)
    top = _top_n(scores, matrix.reindex(columns=scores.columns, fill_value=False), top_n)
    arpo = catalogue.set_index("offering_id")["avg_revenue_per_owner"].astype(float)
    top["propensity"] = top["score"]
    top["expected_revenue"] = top["propensity"] * top["offering_id"].map(arpo).to_numpy()
    top["as_of_month"] = as_of_month
    top["model_version"] = model_version(as_of_month)
    return top[RECOMMENDATION_COLUMNS]


def popularity_recommendations(
    ownership: pd.DataFrame, catalogue: pd.DataFrame, top_n: int = TOP_N
) -> pd.DataFrame:
    """The baseline: each customer's ``top_n`` unowned candidates with the most owners."""
    matrix = ownership_matrix(ownership)
    candidates = [c for c in candidate_offerings(catalogue) if c in matrix.columns]
    owners = catalogue.set_index("offering_id")["owning_customers"].astype(float)
    scores = pd.DataFrame(
        np.tile(owners.reindex(candidates).to_numpy(), (len(matrix), 1)),
        index=matrix.index,
        columns=candidates,
    )
    return _top_n(scores, matrix[candidates], top_n)


@dataclass(frozen=True)
class HitRate:
    """How often recommendations made at ``before_month`` were bought by ``after_month``."""

    customers: int
    customers_with_hit: int
    recommendations: int
    recommendations_bought: int

    @property
    def hit_rate(self) -> float | None:
        return self.customers_with_hit / self.customers if self.customers else None

    @property
    def precision(self) -> float | None:
        return self.recommendations_bought / self.recommendations if self.recommendations else None

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "hit_rate": self.hit_rate, "precision": self.precision}


def hit_rate(recommendations: pd.DataFrame, ownership_after: pd.DataFrame) -> HitRate:
    """Score ``recommendations`` (customer_id, offering_id) against later ownership.

    Only customers present in ``ownership_after`` (still active) are evaluated.
    """
    active = ownership_after["customer_id"].unique()
    recs = recommendations[recommendations["customer_id"].isin(active)]
    owned = ownership_after.loc[
        ownership_after["owns_offering"].astype(bool), ["customer_id", "offering_id"]
    ].drop_duplicates()
    matched = recs[["customer_id", "offering_id"]].merge(owned, how="left", indicator=True)
    bought = (matched["_merge"] == "both").to_numpy()
    hits = matched.loc[bought, "customer_id"].nunique()
    return HitRate(
        customers=int(recs["customer_id"].nunique()),
        customers_with_hit=int(hits),
        recommendations=len(recs),
        recommendations_bought=int(bought.sum()),
    )


def evaluate(
    ownership_before: pd.DataFrame,
    profiles_before: pd.DataFrame,
    catalogue_before: pd.DataFrame,
    ownership_after: pd.DataFrame,
    *,
    before_month: date,
) -> dict[str, object]:
    """Hit rates of the model and of the popularity baseline (see the module docstring)."""
    model = recommend(ownership_before, profiles_before, catalogue_before, as_of_month=before_month)
    baseline = popularity_recommendations(ownership_before, catalogue_before)
    model_hits = hit_rate(model, ownership_after)
    baseline_hits = hit_rate(baseline, ownership_after)
    return {
        "model": model_hits.as_dict(),
        "popularity": baseline_hits.as_dict(),
        "model_hit_rate": model_hits.hit_rate,
        "popularity_hit_rate": baseline_hits.hit_rate,
    }
