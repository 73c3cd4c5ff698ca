"""Retention curves and residual lifetime value per classification segment (sBG model).

Two tables of the ``scoring`` schema come from here, each computed as of one ``as_of_month``
(``pipeline.py`` writes them, one snapshot per month):

``scoring.retention_curves``
    Per as_of_month and segment (the A/B/C/D classification, plus ``all``) the
    shifted-beta-geometric model (``retention.py``, Fader & Hardie 2007) fitted to customers'
    monthly MRR lifetimes, and the projected survival ``S(t)`` and retention rate ``r_t`` for
    tenure months ``t = 1 .. 36``.
``scoring.customer_lifetime_value``
    Per as_of_month and active MRR customer: DERL, the discounted expected residual lifetime
    in months (``retention.derl``, Fader & Hardie 2010), with its segment's parameters and its
    tenure so far, times its monthly gross margin.

Lifetimes (one per customer, from ``marts.mrr_movements``; see ``features.customer_lifetimes``)
----------------------------------------------------------------------------------------------
* A month is a period; the **cohort** is the customer's first month with MRR.
* **Tenure** ``k`` = renewals made = months from the first month with MRR to the last month with
  MRR before its first churn (or to ``as_of_month`` when it never churned). A churned customer
  with tenure ``k`` left in period ``T = k + 1``; a customer still paying at ``as_of_month`` is
  right-censored (``T > k``). A customer that churned and came back keeps its first lifetime
  (the sBG model has no return); its current spell is its tenure for DERL.
* **Segment** = its classification at the latest as_of_month up to its last month with MRR: the
  class of an active customer now, the class of a churned one before it left. Customers never
  classified count in ``all`` only.

Delayed entry (left truncation)
-------------------------------
The warehouse sees MRR before its first month of invoice data ``W`` only through the agreements of
the export, which normally holds the customers still there at ``W``: a cohort of 2019 appears
with its survivors only. Fitting such cohorts as if complete would overstate retention. Each
customer is therefore observed from its **entry** ``e = max(0, months from its first MRR month
to W)`` on, and its likelihood is conditional on having survived to it::

    churned after k renewals:  P(T = k + 1) / S(e) = B(a + 1, b + k) / B(a, b + e)
    still active after k:      S(k) / S(e)         = B(a, b + k)     / B(a, b + e)

Customers whose lifetime ended before ``W`` (``k < e``) are left out.
``retention.fit_sbg_with_entry`` fits this likelihood; when nobody has delayed entry (every
``e = 0``) it is the multi-cohort likelihood of ``retention.fit_sbg`` (survivor counts cannot
express an entry).

Lifetime value
--------------
``residual_lifetime_value = derl_months * monthly_gross_margin`` where

* ``derl_months = retention.derl(alpha, beta, d, renewals=tenure_months)``: the expected number of
  *future* months paid for, each discounted, for a customer in its ``tenure_months + 1``-th
  month (the current month, already billed, is not counted);
* ``monthly_gross_margin = gross_margin_ttm / 12`` from ``marts.customer_classification`` at
  ``as_of_month``. For a customer younger than 12 months the trailing window holds fewer months
  of margin, so this understates its monthly margin; a loss-making customer has a negative value;
* ``d`` is the monthly discount rate ``(1 + annual) ** (1 / 12) - 1`` with ``annual`` from
  ``PORTFOLIO_CLV_ANNUAL_DISCOUNT_RATE`` (default 0.10, so ``d`` = 0.797 %).

A segment whose customers show no churn has no fit (its likelihood has no maximum); its customers
are valued with the ``all`` parameters (``parameters_segment`` says which were used).

No Dagster import: usable from notebooks.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from orchestration.scoring import retention
from orchestration.scoring.features import months_between
from orchestration.scoring.versioning import hashed_version

__all__ = [
    "ALL_SEGMENT",
    "ANNUAL_DISCOUNT_RATE_ENV",
    "SEGMENTS",
    "annual_discount_rate",
    "customer_lifetime_value",
    "lifetimes_for_fit",
    "model_version",
    "monthly_discount_rate",
    "retention_curves",
]

SEGMENTS = ("A", "B", "C", "D")
ALL_SEGMENT = "all"
#: Tenure months projected in scoring.retention_curves.
CURVE_HORIZON_MONTHS = 36
ANNUAL_DISCOUNT_RATE_ENV = "PORTFOLIO_CLV_ANNUAL_DISCOUNT_RATE"
DEFAULT_ANNUAL_DISCOUNT_RATE = 0.10
#: Bump when the method changes (part of model_version).
METHOD = "sbg-delayed-entry-v1"


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------
def annual_discount_rate(environ: Mapping[str, str] | None = None) -> float:
    """The annual discount rate from ``PORTFOLIO_CLV_ANNUAL_DISCOUNT_RATE`` (default 0.10).

    A fraction: 0.10 is 10 % a year. Must be > 0 (DERL diverges without discounting) and < 1.

    Raises:
        ValueError: not a number, or outside (0, 1).
    """
    env = os.environ if environ is None else environ
    raw = (env.get(ANNUAL_DISCOUNT_RATE_ENV) or "").strip()
    if raw == "":
        return DEFAULT_ANNUAL_DISCOUNT_RATE
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{ANNUAL_DISCOUNT_RATE_ENV} must be a number, got {raw!r}") from None
    if not (math.isfinite(value) and 0 < value < 1):
        raise ValueError(
            f"{ANNUAL_DISCOUNT_RATE_ENV} must be a fraction in (0, 1) such as 0.10, got {raw!r}"
        )
    return value


def monthly_discount_rate(annual: float) -> float:
    """The monthly rate equivalent to ``annual``: ``(1 + annual) ** (1 / 12) - 1``."""
    if not (math.isfinite(annual) and annual > 0):
        raise ValueError(f"annual discount rate must be > 0, got {annual!r}")
    return (1.0 + annual) ** (1.0 / 12.0) - 1.0


def model_version(as_of_month: date, observation_start: date, **extra: Any) -> str:
    """A deterministic version string: the method, the data window and any settings."""
    spec = {
        "as_of_month": as_of_month.isoformat(),
        "observation_start": observation_start.isoformat(),
        **extra,
    }
    return hashed_version(METHOD, spec)


# --------------------------------------------------------------------------------------------
# Lifetimes and the delayed-entry fit
# --------------------------------------------------------------------------------------------
def lifetimes_for_fit(lifetimes: pd.DataFrame, observation_start: date) -> pd.DataFrame:
    """Tenure, censoring and entry of each customer, from ``features.customer_lifetimes``.

    Adds ``tenure`` (renewals made in the first lifetime), ``censored`` (never churned up to
    ``as_of_month``), ``entry`` (renewals made before ``observation_start``, 0 for cohorts that
    start then or later) and ``segment`` (``unclassified`` when null), and drops customers whose
    first lifetime ended before ``observation_start`` (``tenure < entry``). Censoring is as of
    the month the lifetimes were read for.
    """
    out = pd.DataFrame(
        {
            "customer_id": lifetimes["customer_id"].to_numpy(),
            "cohort": [pd.Timestamp(m).date() for m in lifetimes["first_mrr_month"]],
            "censored": lifetimes["first_churn_month"].isna().to_numpy(),
            "segment": lifetimes["segment"].fillna("unclassified").to_numpy(),
        }
    )
    last = [pd.Timestamp(m).date() for m in lifetimes["last_mrr_month"]]
    out["tenure"] = [months_between(c, e) for c, e in zip(out["cohort"], last, strict=True)]
    out["entry"] = [max(0, months_between(c, observation_start)) for c in out["cohort"]]
    if (out["tenure"] < 0).any():
        raise ValueError("a customer's last MRR month precedes its first")
    return out[out["tenure"] >= out["entry"]].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# The two tables
# --------------------------------------------------------------------------------------------
def fit_segments(lifetimes: pd.DataFrame) -> dict[str, retention.SBGFit]:
    """One fit per segment present (A/B/C/D) and for ``all``, from :func:`lifetimes_for_fit`.

    A segment without any churned customer (or without customers) is left out.
    """
    fits: dict[str, retention.SBGFit] = {}
    for segment in (*SEGMENTS, ALL_SEGMENT):
        rows = lifetimes if segment == ALL_SEGMENT else lifetimes[lifetimes["segment"] == segment]
        if rows.empty or rows["censored"].all():
            continue
        fits[segment] = retention.fit_sbg_with_entry(
            rows["tenure"], rows["censored"], rows["entry"]
        )
    return fits


def retention_curves(
    fits: Mapping[str, retention.SBGFit],
    *,
    as_of_month: date,
    fitted_at: datetime,
    version: str,
    horizon: int = CURVE_HORIZON_MONTHS,
) -> pd.DataFrame:
    """The long table of scoring.retention_curves: one row per segment and tenure month.

    ``survival`` = S(t), the probability that a new customer of the segment still has MRR after
    ``t`` months; ``retention_rate`` = r_t = S(t) / S(t - 1), the share of those still there after
    ``t - 1`` months that stay one more month; the fit's parameters and quality on every row.
    """
    frames = []
    for segment, fit in fits.items():
        table = retention.project(fit, horizon).iloc[1:]
        frames.append(
            pd.DataFrame(
                {
                    "as_of_month": as_of_month,
                    "segment": segment,
                    "tenure_month": table["t"].astype("int64").to_numpy(),
                    "survival": table["survival"].to_numpy(),
                    "retention_rate": table["retention"].to_numpy(),
                    "alpha": fit.alpha,
                    "beta": fit.beta,
                    "log_likelihood": fit.log_likelihood,
                    "n_customers": fit.n_customers,
                    "n_churned": fit.n_lost,
                    "converged": fit.converged,
                    "fitted_at": fitted_at,
                    "model_version": version,
                }
            )
        )
    columns = [
        "as_of_month",
        "segment",
        "tenure_month",
        "survival",
        "retention_rate",
        "alpha",
        "beta",
        "log_likelihood",
        "n_customers",
        "n_churned",
        "converged",
        "fitted_at",
        "model_version",
    ]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def customer_lifetime_value(
    lifetimes: pd.DataFrame,
    fits: Mapping[str, retention.SBGFit],
    *,
    as_of_month: date,
    monthly_discount: float,
    version: str,
) -> pd.DataFrame:
    """The table scoring.customer_lifetime_value, from ``features.customer_lifetimes``.

    One row per customer with MRR at ``as_of_month`` that is classified then (so has a gross
    margin): ``tenure_months`` = months since its current MRR spell started (its renewals),
    ``derl_months`` with its segment's fit (``all`` when the segment has none),
    ``residual_lifetime_value = derl_months * monthly_gross_margin``.
    """
    columns = [
        "as_of_month",
        "customer_id",
        "segment",
        "tenure_months",
        "derl_months",
        "monthly_gross_margin",
        "residual_lifetime_value",
        "alpha",
        "beta",
        "parameters_segment",
        "model_version",
    ]
    rows = lifetimes[
        lifetimes["is_active"].astype(bool)
        & lifetimes["current_segment"].notna()
        & lifetimes["monthly_gross_margin"].notna()
    ]
    if rows.empty or ALL_SEGMENT not in fits:
        return pd.DataFrame(columns=columns)
    segment = rows["current_segment"].to_numpy()
    used = np.array([s if s in fits else ALL_SEGMENT for s in segment], dtype=object)
    alpha = np.array([fits[s].alpha for s in used])
    beta = np.array([fits[s].beta for s in used])
    tenure = np.array(
        [months_between(pd.Timestamp(s).date(), as_of_month) for s in rows["spell_start_month"]],
        dtype=np.int64,
    )
    derl = np.asarray(retention.derl(alpha, beta, monthly_discount, tenure), dtype=float)
    margin = rows["monthly_gross_margin"].to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "as_of_month": as_of_month,
            "customer_id": rows["customer_id"].to_numpy(),
            "segment": segment,
            "tenure_months": tenure,
            "derl_months": derl,
            "monthly_gross_margin": margin,
            "residual_lifetime_value": derl * margin,
            "alpha": alpha,
            "beta": beta,
            "parameters_segment": used,
            "model_version": version,
        }
    )[columns]
