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

Customers whose lifetime ended before ``W`` (``k < e``) are left out. When nobody has delayed
entry (every ``e = 0``) this is exactly the multi-cohort likelihood of ``retention.fit_sbg``
(tested); ``fit_sbg`` itself cannot be used because survivor counts cannot express an entry.

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

import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, digamma

from orchestration.scoring import retention
from orchestration.scoring.features import months_between

__all__ = [
    "ALL_SEGMENT",
    "ANNUAL_DISCOUNT_RATE_ENV",
    "SEGMENTS",
    "annual_discount_rate",
    "customer_lifetime_value",
    "fit_sbg_with_entry",
    "lifetimes_for_fit",
    "log_likelihood_with_entry",
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

_LOG_BOUND = 15.0
_BOUND_MARGIN = 1e-3
_GRADIENT_TOLERANCE = 1e-6


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
        "method": METHOD,
        "as_of_month": as_of_month.isoformat(),
        "observation_start": observation_start.isoformat(),
        **extra,
    }
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
    return f"{METHOD}-{digest}"


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


def _grouped(tenure: np.ndarray, censored: np.ndarray, entry: np.ndarray) -> tuple[np.ndarray, ...]:
    """Distinct (tenure, censored, entry) triples and how many customers share each."""
    keys = np.stack([tenure, censored.astype(np.int64), entry], axis=1)
    uniq, counts = np.unique(keys, axis=0, return_counts=True)
    return (
        uniq[:, 0].astype(float),
        uniq[:, 1].astype(bool),
        uniq[:, 2].astype(float),
        counts.astype(float),
    )


def _loglik(a: float, b: float, k, c, e, n) -> float:
    churned = betaln(a + 1.0, b + k) - betaln(a, b + e)
    alive = betaln(a, b + k) - betaln(a, b + e)
    return float(np.sum(n * np.where(c, alive, churned)))


def _score(a: float, b: float, k, c, e, n) -> tuple[float, float]:
    d_entry_a = digamma(a) - digamma(a + b + e)
    d_entry_b = digamma(b + e) - digamma(a + b + e)
    g_a = np.where(
        c,
        digamma(a) - digamma(a + b + k),
        digamma(a + 1.0) - digamma(a + b + k + 1.0),
    )
    g_b = np.where(
        c,
        digamma(b + k) - digamma(a + b + k),
        digamma(b + k) - digamma(a + b + k + 1.0),
    )
    return float(np.sum(n * (g_a - d_entry_a))), float(np.sum(n * (g_b - d_entry_b)))


def _validated(
    tenures: Sequence[int], censored: Sequence[bool], entries: Sequence[int] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = np.asarray(tenures, dtype=float)
    c = np.asarray(censored, dtype=bool)
    e = np.zeros_like(k) if entries is None else np.asarray(entries, dtype=float)
    if not (k.ndim == c.ndim == e.ndim == 1 and k.size == c.size == e.size):
        raise ValueError("tenures, censored and entries must be flat and of one length")
    if k.size == 0:
        raise ValueError("no customers given")
    for name, arr in (("tenures", k), ("entries", e)):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.floor(arr)) or np.any(arr < 0):
            raise ValueError(f"{name} must be whole numbers >= 0")
    if np.any(e > k):
        raise ValueError("an entry is after the end of its lifetime (entry > tenure)")
    return k.astype(np.int64), c, e.astype(np.int64)


def log_likelihood_with_entry(
    alpha: float,
    beta: float,
    tenures: Sequence[int],
    censored: Sequence[bool],
    entries: Sequence[int] | None = None,
) -> float:
    """sBG log-likelihood of customer lifetimes observed from their entry on.

    ``sum ln[P(T = k + 1) / S(e)]`` over churned and ``sum ln[S(k) / S(e)]`` over censored
    customers (tenure ``k``, entry ``e``; see the module docstring). With every ``e = 0`` it equals
    ``retention.log_likelihood`` of ``retention.survivors_from_tenures(tenures, censored)``.
    """
    if not (alpha > 0 and beta > 0):
        raise ValueError("alpha and beta must be > 0")
    return _loglik(alpha, beta, *_grouped(*_validated(tenures, censored, entries)))


def fit_sbg_with_entry(
    tenures: Sequence[int],
    censored: Sequence[bool],
    entries: Sequence[int] | None = None,
) -> retention.SBGFit:
    """Fit the sBG model by maximum likelihood to lifetimes with delayed entry.

    Parameters
    ----------
    tenures : sequence of int
        Renewals made per customer (``retention.survivors_from_tenures`` convention).
    censored : sequence of bool
        True for a customer still active (right-censored).
    entries : sequence of int, optional
        Renewals each customer had made when observation began (``<= tenure``); None for 0.

    Returns
    -------
    retention.SBGFit
        With ``n_cohorts`` = number of distinct entries. ``converged`` is True when the optimum
        is inside the search box (``exp(+-15)``) and the optimiser succeeded or the gradient
        vanishes there. It is False on the box: typically no detectable heterogeneity, where
        ``alpha`` and ``beta`` grow together and the model tends to a constant monthly churn
        probability ``alpha / (alpha + beta)``.

    Raises
    ------
    ValueError
        Malformed input, or no churned customer (the likelihood has no maximum).

    Notes
    -----
    Maximises over ``(ln alpha, ln beta)`` with L-BFGS-B and the analytic gradient, from the best
    point of a coarse grid, as ``retention.fit_sbg`` does; it reproduces ``fit_sbg`` when no
    customer has delayed entry (tested against Fader & Hardie 2007).
    """
    k, c, e = _validated(tenures, censored, entries)
    n_lost = int(np.sum(~c))
    if n_lost == 0:
        raise ValueError(
            "no customer churned: the sBG likelihood has no maximum, so there is nothing to fit"
        )
    stats = _grouped(k, c, e)
    n_customers = int(k.size)

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        a, b = np.exp(x)
        g_a, g_b = _score(a, b, *stats)
        return -_loglik(a, b, *stats) / n_customers, -np.array([a * g_a, b * g_b]) / n_customers

    grid_a = np.linspace(-3.0, 6.0, 10)
    grid_b = np.linspace(-3.0, 10.0, 14)
    start = min(
        ((ga, gb) for ga in grid_a for gb in grid_b),
        key=lambda p: -_loglik(math.exp(p[0]), math.exp(p[1]), *stats),
    )
    res = minimize(
        objective,
        x0=np.array(start),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 2,
        options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 1000},
    )
    alpha, beta = (float(v) for v in np.exp(res.x))
    interior = bool(np.all(np.abs(res.x) < _LOG_BOUND - _BOUND_MARGIN))
    # L-BFGS-B's line search can stop ("ABNORMAL") on a flat ridge at the maximum: accept a
    # point where the gradient (per customer, in log parameters) vanishes.
    stationary = bool(np.max(np.abs(objective(res.x)[1])) < _GRADIENT_TOLERANCE)
    return retention.SBGFit(
        alpha=alpha,
        beta=beta,
        log_likelihood=_loglik(alpha, beta, *stats),
        n_customers=n_customers,
        n_lost=n_lost,
        n_cohorts=int(np.unique(e).size),
        converged=interior and (bool(res.success) or stationary),
        message=str(res.message),
    )


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
        fits[segment] = fit_sbg_with_entry(rows["tenure"], rows["censored"], rows["entry"])
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
