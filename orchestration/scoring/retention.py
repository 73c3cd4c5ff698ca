"""Shifted-beta-geometric (sBG) retention model of Fader & Hardie, in plain numpy/scipy.

The model (Fader & Hardie 2007) describes a *contractual*, *discrete-time* setting: customers are
acquired at time 0 and, at the end of every period, each remaining customer either renews or
churns for good.

* A customer's per-period churn probability ``theta`` is constant over their lifetime.
* ``theta`` varies across customers according to a Beta(alpha, beta) distribution.

Time convention used throughout this module
-------------------------------------------
``T`` is the period in which a customer churns (``T = 1`` means they did not renew at the end of
their first period).  ``survivors[t]`` counts the customers of a cohort with ``T > t``, i.e. those
still active after ``t`` renewal opportunities; ``survivors[0]`` is the cohort size.  For a
subscription billed at the start of each period, ``survivors[t]`` is the number of customers who
made ``t`` renewals (and so paid for period ``t + 1``).  A customer's *tenure* in this module is
the number of renewals they made: a churned customer with tenure ``k`` has ``T = k + 1``, an active
customer with tenure ``k`` has ``T > k``.

Formulas (with ``B`` the beta function)::

    P(T = t)   = B(alpha + 1, beta + t - 1) / B(alpha, beta)                     t >= 1
    S(t)       = P(T > t) = B(alpha, beta + t) / B(alpha, beta)                  t >= 0
    r_t        = S(t) / S(t - 1) = (beta + t - 1) / (alpha + beta + t - 1)       t >= 1

and the recursions ``P(T = 1) = alpha / (alpha + beta)``,
``P(T = t) = (beta + t - 2) / (alpha + beta + t - 1) * P(T = t - 1)``.  The retention rate
``r_t`` rises with tenure although no individual customer's churn probability changes: the
high-``theta`` customers leave first (sorting on heterogeneity).

Two maximum-likelihood fits share one optimiser: :func:`fit_sbg` on cohorts' survivor counts, and
:func:`fit_sbg_with_entry` on customer lifetimes, optionally with delayed entry (left
truncation: customers first observed after some renewals, conditioned on having survived them).

References
----------
* Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. *Journal of
  Interactive Marketing*, 21(1), 76-90.
* Fader, P. S. & Hardie, B. G. S. (2010). Customer-base valuation in a contractual setting: the
  perils of ignoring heterogeneity. *Marketing Science*, 29(1), 85-93.

This module has no Dagster dependency so that it can be imported in notebooks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, digamma, hyp2f1

__all__ = [
    "SBGFit",
    "churn_probability",
    "derl",
    "fit_sbg",
    "fit_sbg_with_entry",
    "log_likelihood",
    "log_likelihood_with_entry",
    "project",
    "retention_rate",
    "survival",
    "survivors_from_tenures",
]

# Box bounds for (log alpha, log beta) during optimisation.  A maximum on (or next to) a bound
# means the likelihood has no interior maximum (e.g. data with no detectable heterogeneity, where
# alpha and beta diverge together) and the fit is reported as not converged.
_LOG_BOUND = 15.0
_BOUND_MARGIN = 1e-3
#: Largest gradient (per customer, in log parameters) of a maximum where the optimiser stopped
#: without reporting success.
_GRADIENT_TOLERANCE = 1e-6
#: Coarse grids of (ln alpha, ln beta) whose best point starts the optimiser: for survivor
#: counts (:func:`fit_sbg`), and for customer lifetimes (:func:`fit_sbg_with_entry`), whose beta
#: reaches further because monthly lifetimes with delayed entry often have a low churn
#: probability (a large beta).
_COHORT_GRID = (np.linspace(-3.0, 5.0, 9), np.linspace(-3.0, 5.0, 9))
_LIFETIME_GRID = (np.linspace(-3.0, 6.0, 10), np.linspace(-3.0, 10.0, 14))


# --------------------------------------------------------------------------------------------
# Input helpers
# --------------------------------------------------------------------------------------------
def _positive(name: str, value: Any) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.size and (not np.all(np.isfinite(arr)) or np.any(arr <= 0)):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return arr


def _periods(name: str, value: Any, minimum: int) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.size:
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite, got {value!r}")
        if np.any(arr != np.floor(arr)):
            raise ValueError(f"{name} must be whole periods (integers), got {value!r}")
        if np.any(arr < minimum):
            raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return arr


def _result(arr: np.ndarray) -> float | np.ndarray:
    arr = np.asarray(arr, dtype=float)
    return float(arr) if arr.ndim == 0 else arr


def _as_cohorts(survivors: Any) -> list[np.ndarray]:
    """Validate ``survivors`` (one cohort or a list of cohorts) into a list of int arrays."""
    if isinstance(survivors, (str, bytes)):
        raise ValueError("survivors must be a list of counts or a list of such lists")
    try:
        n_items = len(survivors)
    except TypeError as exc:
        raise ValueError("survivors must be a list of counts or a list of such lists") from exc
    if n_items == 0:
        raise ValueError("survivors is empty")
    multi = np.ndim(survivors[0]) > 0
    raw = list(survivors) if multi else [survivors]

    cohorts: list[np.ndarray] = []
    for i, counts in enumerate(raw):
        where = f"cohort {i}: " if multi else ""
        if isinstance(counts, (str, bytes)):
            raise ValueError(f"{where}survivor counts must be numbers, got {counts!r}")
        try:
            arr = np.asarray(counts, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}survivor counts must be numbers, got {counts!r}") from exc
        if arr.ndim != 1:
            raise ValueError(
                f"{where}survivor counts must be a flat list (period 0 first); mixing counts "
                "and lists, or nesting deeper than a list of lists, is not supported"
            )
        if arr.size < 2:
            raise ValueError(
                f"{where}need at least 2 periods (the cohort size and at least one later "
                f"count), got {arr.size}"
            )
        if not np.all(np.isfinite(arr)) or np.any(arr != np.floor(arr)):
            raise ValueError(f"{where}survivor counts must be whole numbers, got {counts!r}")
        if np.any(arr < 0):
            raise ValueError(f"{where}survivor counts must be non-negative, got {counts!r}")
        if arr[0] <= 0:
            raise ValueError(f"{where}the first count (cohort size) must be > 0, got {arr[0]:g}")
        if np.any(np.diff(arr) > 0):
            bad = int(np.argmax(np.diff(arr) > 0)) + 1
            raise ValueError(
                f"{where}survivor counts must be non-increasing, but period {bad} has "
                f"{arr[bad]:g} > {arr[bad - 1]:g} in period {bad - 1}"
            )
        cohorts.append(arr.astype(np.int64))
    return cohorts


def _sufficient_statistics(cohorts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Aggregate cohorts into ``lost[t]`` (churned in period t) and ``alive[t]`` (censored at t).

    Both arrays are indexed by ``t = 0 .. max length - 1``; ``lost[0]`` is always 0.
    """
    horizon = max(c.size for c in cohorts)
    lost = np.zeros(horizon, dtype=np.int64)
    alive = np.zeros(horizon, dtype=np.int64)
    for c in cohorts:
        lost[1 : c.size] += c[:-1] - c[1:]
        alive[c.size - 1] += c[-1]
    return lost, alive


def _loglik_from_stats(alpha: float, beta: float, lost: np.ndarray, alive: np.ndarray) -> float:
    """Log-likelihood of survivor counts from :func:`_sufficient_statistics`."""
    t = np.arange(lost.size, dtype=float)
    base = betaln(alpha, beta)
    ll = 0.0
    m = lost > 0
    if m.any():
        ll += float(np.sum(lost[m] * (betaln(alpha + 1.0, beta + t[m] - 1.0) - base)))
    m = alive > 0
    if m.any():
        ll += float(np.sum(alive[m] * (betaln(alpha, beta + t[m]) - base)))
    return ll


def _score_from_stats(
    alpha: float, beta: float, lost: np.ndarray, alive: np.ndarray
) -> tuple[float, float]:
    """Gradient of the log-likelihood with respect to (alpha, beta)."""
    t = np.arange(lost.size, dtype=float)
    n = float(lost.sum() + alive.sum())
    d_ab = digamma(alpha + beta + t)
    g_a = float(np.sum(lost * (digamma(alpha + 1.0) - d_ab)))
    g_a += float(np.sum(alive * (digamma(alpha) - d_ab)))
    g_a -= n * (digamma(alpha) - digamma(alpha + beta))
    m = lost > 0
    g_b = float(np.sum(lost[m] * (digamma(beta + t[m] - 1.0) - d_ab[m])))
    g_b += float(np.sum(alive * (digamma(beta + t) - d_ab)))
    g_b -= n * (digamma(beta) - digamma(alpha + beta))
    return g_a, g_b


# Survivor counts (fit_sbg) and customer lifetimes with entries (fit_sbg_with_entry) each keep
# their own arrangement of the sBG likelihood and gradient; both go to the one optimiser,
# _maximise. The maximum is flat enough that the last-bit differences of another arrangement
# move the estimates (by about 1e-8 relative), so each keeps the arithmetic of its results.
def _grouped(tenure: np.ndarray, censored: np.ndarray, entry: np.ndarray) -> tuple[np.ndarray, ...]:
    """Distinct (tenure, censored, entry) triples of customer lifetimes and how many customers
    share each: ``(k, c, e, n)``, tenures and entries as floats, flags as bools."""
    keys = np.stack([tenure, censored.astype(np.int64), entry], axis=1)
    uniq, counts = np.unique(keys, axis=0, return_counts=True)
    return (
        uniq[:, 0].astype(float),
        uniq[:, 1].astype(bool),
        uniq[:, 2].astype(float),
        counts.astype(float),
    )


def _loglik(a: float, b: float, k, c, e, n) -> float:
    """Log-likelihood of grouped lifetimes with delayed entry (see :func:`fit_sbg_with_entry`).

    ``ln[P(T = k + 1) / S(e)]`` per churned and ``ln[S(k) / S(e)]`` per censored customer.
    """
    churned = betaln(a + 1.0, b + k) - betaln(a, b + e)
    alive = betaln(a, b + k) - betaln(a, b + e)
    return float(np.sum(n * np.where(c, alive, churned)))


def _score(a: float, b: float, k, c, e, n) -> tuple[float, float]:
    """Gradient of :func:`_loglik` with respect to (alpha, beta)."""
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


def _validated_lifetimes(
    tenures: Sequence[int], censored: Sequence[bool], entries: Sequence[int] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customer-level tenures, censoring flags and entries (0 when None) as arrays.

    Raises:
        ValueError: not flat and of one length, empty, not whole numbers >= 0, or an entry
            after its tenure.
    """
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


def _maximise(
    loglik: Callable[[float, float], float],
    score: Callable[[float, float], tuple[float, float]],
    *,
    n_customers: int,
    n_lost: int,
    n_cohorts: int,
    grid: tuple[np.ndarray, np.ndarray],
    accept_stationary: bool,
) -> SBGFit:
    """The maximum-likelihood sBG fit: the optimiser of :func:`fit_sbg` and
    :func:`fit_sbg_with_entry`.

    Maximises ``loglik(alpha, beta)`` per customer over ``(ln alpha, ln beta)`` with L-BFGS-B
    and the analytic gradient ``score(alpha, beta)`` (with respect to alpha and beta), inside the
    box ``[-15, 15]**2``, from the best point of ``grid`` (ln alpha values, ln beta values). The
    fit has converged when its optimum is inside the box and the optimiser reported success or,
    with ``accept_stationary``, the gradient vanishes there. The caller checks that at least one
    customer churned.
    """

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        a, b = np.exp(x)
        g_a, g_b = score(a, b)
        return -loglik(a, b) / n_customers, -np.array([a * g_a, b * g_b]) / n_customers

    start = min(
        ((ga, gb) for ga in grid[0] for gb in grid[1]),
        key=lambda p: -loglik(math.exp(p[0]), math.exp(p[1])),
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
    stationary = accept_stationary and bool(
        np.max(np.abs(objective(res.x)[1])) < _GRADIENT_TOLERANCE
    )
    return SBGFit(
        alpha=alpha,
        beta=beta,
        log_likelihood=loglik(alpha, beta),
        n_customers=n_customers,
        n_lost=n_lost,
        n_cohorts=n_cohorts,
        converged=interior and (bool(res.success) or stationary),
        message=str(res.message),
    )


# --------------------------------------------------------------------------------------------
# Model functions
# --------------------------------------------------------------------------------------------
def survival(alpha: Any, beta: Any, t: Any) -> float | np.ndarray:
    """Survivor function ``S(t) = P(T > t)`` of the sBG model.

    ``S(t) = B(alpha, beta + t) / B(alpha, beta)``, evaluated as
    ``exp(betaln(alpha, beta + t) - betaln(alpha, beta))`` for numerical stability.

    Parameters
    ----------
    alpha, beta : float or array_like
        Parameters (> 0) of the Beta distribution of the per-period churn probability.
    t : int or array_like of int
        Number of renewal opportunities (>= 0).  ``S(0) = 1``.  Inputs broadcast with numpy rules.

    Returns
    -------
    float or numpy.ndarray
        Probability that a newly acquired customer is still active after ``t`` periods
        (a float when every input is a scalar).

    References
    ----------
    Fader & Hardie (2007), "How to project customer retention".
    """
    a = _positive("alpha", alpha)
    b = _positive("beta", beta)
    tt = _periods("t", t, minimum=0)
    return _result(np.exp(betaln(a, b + tt) - betaln(a, b)))


def churn_probability(alpha: Any, beta: Any, t: Any) -> float | np.ndarray:
    """Probability ``P(T = t)`` that a newly acquired customer churns in period ``t``.

    ``P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta) = S(t - 1) - S(t)``; equivalently
    ``P(T = 1) = alpha / (alpha + beta)`` and
    ``P(T = t) = (beta + t - 2) / (alpha + beta + t - 1) * P(T = t - 1)``.

    Parameters
    ----------
    alpha, beta : float or array_like
        Model parameters (> 0).
    t : int or array_like of int
        Period (>= 1).  Inputs broadcast with numpy rules.

    Returns
    -------
    float or numpy.ndarray
        The (unconditional) churn probability in period ``t``.

    References
    ----------
    Fader & Hardie (2007), "How to project customer retention".
    """
    a = _positive("alpha", alpha)
    b = _positive("beta", beta)
    tt = _periods("t", t, minimum=1)
    return _result(np.exp(betaln(a + 1.0, b + tt - 1.0) - betaln(a, b)))


def retention_rate(alpha: Any, beta: Any, t: Any) -> float | np.ndarray:
    """Period-``t`` retention rate ``r_t = S(t) / S(t - 1)`` of the sBG model.

    ``r_t = (beta + t - 1) / (alpha + beta + t - 1)``: the share of customers active after
    ``t - 1`` renewals who renew once more.  It increases with ``t`` towards 1.

    Parameters
    ----------
    alpha, beta : float or array_like
        Model parameters (> 0).
    t : int or array_like of int
        Period (>= 1).  Inputs broadcast with numpy rules.

    Returns
    -------
    float or numpy.ndarray
        Retention rate(s) in (0, 1).

    References
    ----------
    Fader & Hardie (2007), "How to project customer retention".
    """
    a = _positive("alpha", alpha)
    b = _positive("beta", beta)
    tt = _periods("t", t, minimum=1)
    return _result((b + tt - 1.0) / (a + b + tt - 1.0))


def log_likelihood(alpha: float, beta: float, survivors: Any) -> float:
    """Log-likelihood of survivor data under the sBG model.

    For one cohort with counts ``n_0, ..., n_L`` (period 0 first) the log-likelihood is::

        LL = sum_{t=1..L} (n_{t-1} - n_t) * ln P(T = t)  +  n_L * ln S(L)

    (customers lost in period ``t`` contribute ``P(T = t)``, customers still active at the end of
    the observation window are right-censored and contribute ``S(L)``).  For several cohorts,
    each observed for its own length ``L``, the log-likelihood is the sum over cohorts.

    Parameters
    ----------
    alpha, beta : float
        Model parameters (> 0).
    survivors : list of int, or list of lists of int
        Survivor counts as accepted by :func:`fit_sbg`.

    Returns
    -------
    float
        The log-likelihood (natural log).

    References
    ----------
    Fader & Hardie (2007), "How to project customer retention".
    """
    a = float(_positive("alpha", alpha))
    b = float(_positive("beta", beta))
    lost, alive = _sufficient_statistics(_as_cohorts(survivors))
    return _loglik_from_stats(a, b, lost, alive)


@dataclass(frozen=True)
class SBGFit:
    """Result of :func:`fit_sbg` and :func:`fit_sbg_with_entry`.

    Attributes
    ----------
    alpha, beta : float
        Maximum-likelihood estimates of the Beta(alpha, beta) mixing distribution of the
        per-period churn probability.
    log_likelihood : float
        Maximised log-likelihood (natural log).
    n_customers : int
        Total number of customers (sum of the cohort sizes).
    n_lost : int
        Number of customers observed to churn.
    n_cohorts : int
        Number of cohorts fitted (:func:`fit_sbg`) or of distinct entries
        (:func:`fit_sbg_with_entry`).
    converged : bool
        True when the estimate lies in the interior of the search box
        (``exp(-15) < alpha, beta < exp(15)``) and the optimiser reported success;
        :func:`fit_sbg_with_entry` also accepts an interior point where the gradient vanishes
        (the optimiser's line search can stop on a flat ridge at the maximum).  False typically
        means the data show no heterogeneity (``alpha`` and ``beta`` drift to infinity together,
        towards a constant churn probability ``alpha / (alpha + beta)``) or the churn is
        concentrated in period 1; treat the estimates with suspicion.
    message : str
        The optimiser's message.
    """

    alpha: float
    beta: float
    log_likelihood: float
    n_customers: int
    n_lost: int
    n_cohorts: int
    converged: bool
    message: str = ""

    @property
    def mean_churn_probability(self) -> float:
        """Mean per-period churn probability of a new customer, ``alpha / (alpha + beta)``."""
        return self.alpha / (self.alpha + self.beta)

    def survival(self, t: Any) -> float | np.ndarray:
        """``S(t)`` at the fitted parameters; see :func:`survival`."""
        return survival(self.alpha, self.beta, t)

    def churn_probability(self, t: Any) -> float | np.ndarray:
        """``P(T = t)`` at the fitted parameters; see :func:`churn_probability`."""
        return churn_probability(self.alpha, self.beta, t)

    def retention_rate(self, t: Any) -> float | np.ndarray:
        """``r_t`` at the fitted parameters; see :func:`retention_rate`."""
        return retention_rate(self.alpha, self.beta, t)

    def derl(self, discount: Any, renewals: Any = 0) -> float | np.ndarray:
        """DERL at the fitted parameters; see :func:`derl`."""
        return derl(self.alpha, self.beta, discount, renewals)


def fit_sbg(survivors: Any) -> SBGFit:
    """Fit the sBG model by maximum likelihood to one or several cohorts' survivor counts.

    Parameters
    ----------
    survivors : list of int, or list of lists of int
        Either one cohort's survivor counts, period 0 (the cohort size) first, e.g.
        ``[1000, 869, 743, 653, 593, 551, 517, 491]``; or a list of such lists, one per cohort,
        each observed for its own number of periods.  Counts must be whole, non-negative and
        non-increasing, each cohort needs at least 2 entries and a positive first count.  Customers
        still counted in a cohort's last entry are treated as right-censored.

    Returns
    -------
    SBGFit
        Frozen dataclass with ``alpha``, ``beta``, ``log_likelihood``, ``n_customers``, ``n_lost``,
        ``n_cohorts``, ``converged`` and ``message``.

    Raises
    ------
    ValueError
        For malformed counts (see above) or when no customer was lost at all (the likelihood then
        increases without bound as ``alpha -> 0`` and has no maximum).

    Notes
    -----
    The log-likelihood (see :func:`log_likelihood`) is maximised over ``(ln alpha, ln beta)`` with
    L-BFGS-B and the analytic gradient (digamma functions), starting from the best point of a
    coarse grid, by the optimiser :func:`fit_sbg_with_entry` uses too; all probabilities are
    computed in log space with ``scipy.special.betaln``.  With
    the data of Fader & Hardie (2007, Table 1) this reproduces the published estimates:
    "High End" alpha = 0.668, beta = 3.806, LL = -1611.2; "Regular" alpha = 0.704,
    beta = 1.182, LL = -1680.3.

    References
    ----------
    Fader & Hardie (2007), "How to project customer retention" (model and estimation).
    """
    cohorts = _as_cohorts(survivors)
    lost, alive = _sufficient_statistics(cohorts)
    n_lost = int(lost.sum())
    if n_lost == 0:
        raise ValueError(
            "no customer was lost in any period: the sBG likelihood has no maximum "
            "(it keeps increasing as alpha -> 0), so there is nothing to fit"
        )
    return _maximise(
        lambda a, b: _loglik_from_stats(a, b, lost, alive),
        lambda a, b: _score_from_stats(a, b, lost, alive),
        n_customers=int(sum(int(c[0]) for c in cohorts)),
        n_lost=n_lost,
        n_cohorts=len(cohorts),
        grid=_COHORT_GRID,
        accept_stationary=False,
    )


def log_likelihood_with_entry(
    alpha: float,
    beta: float,
    tenures: Sequence[int],
    censored: Sequence[bool],
    entries: Sequence[int] | None = None,
) -> float:
    """sBG log-likelihood of customer lifetimes observed from their entry on.

    ``sum ln[P(T = k + 1) / S(e)]`` over churned and ``sum ln[S(k) / S(e)]`` over censored
    customers (tenure ``k``, entry ``e``; see :func:`fit_sbg_with_entry`). With every ``e = 0``
    it equals :func:`log_likelihood` of ``survivors_from_tenures(tenures, censored)``.
    """
    if not (alpha > 0 and beta > 0):
        raise ValueError("alpha and beta must be > 0")
    return _loglik(alpha, beta, *_grouped(*_validated_lifetimes(tenures, censored, entries)))


def fit_sbg_with_entry(
    tenures: Sequence[int],
    censored: Sequence[bool],
    entries: Sequence[int] | None = None,
) -> SBGFit:
    """Fit the sBG model by maximum likelihood to customer lifetimes with delayed entry.

    Delayed entry (left truncation): a customer first seen after ``e`` renewals (because
    observation began then) is known to have survived them, so its likelihood is conditional on
    ``T > e``::

        churned after k renewals:  P(T = k + 1) / S(e) = B(alpha + 1, beta + k) / B(alpha, beta + e)
        still active after k:      S(k) / S(e)         = B(alpha, beta + k)     / B(alpha, beta + e)

    With every ``e = 0`` this is the likelihood of :func:`fit_sbg`, and the fit is that of
    :func:`fit_sbg` (to the optimiser's tolerance) on the survivor counts of
    :func:`survivors_from_tenures`.

    Parameters
    ----------
    tenures : sequence of int
        Renewals made per customer (:func:`survivors_from_tenures` convention).
    censored : sequence of bool
        True for a customer still active (right-censored).
    entries : sequence of int, optional
        Renewals each customer had made when observation began (``<= tenure``); None for 0.

    Returns
    -------
    SBGFit
        With ``n_cohorts`` = number of distinct entries.

    Raises
    ------
    ValueError
        Malformed input, or no churned customer (the likelihood has no maximum).

    Notes
    -----
    The optimiser of :func:`fit_sbg`, from a grid reaching larger ``beta`` (monthly lifetimes
    often churn little), and ``converged`` also when the optimiser stopped at an interior point
    where the gradient vanishes (see :class:`SBGFit`).
    """
    k, c, e = _validated_lifetimes(tenures, censored, entries)
    n_lost = int(np.sum(~c))
    if n_lost == 0:
        raise ValueError(
            "no customer churned: the sBG likelihood has no maximum, so there is nothing to fit"
        )
    stats = _grouped(k, c, e)
    return _maximise(
        lambda a, b: _loglik(a, b, *stats),
        lambda a, b: _score(a, b, *stats),
        n_customers=int(k.size),
        n_lost=n_lost,
        n_cohorts=int(np.unique(e).size),
        grid=_LIFETIME_GRID,
        accept_stationary=True,
    )


def _derl_series(alpha: float, beta: float, discount: float, n: float) -> float:
    """Sum ``sum_{k>=0} x**k * S(n+k)/S(n-1)`` term by term (fallback for :func:`derl`).

    Terms are built from ``ln r_{n+j} = log1p(-alpha / (alpha + beta + n + j - 1))`` in blocks;
    the sum stops once the remaining tail, bounded by ``term_K * x / (1 - x) = term_K / d``,
    is below 1e-17 of the partial sum.
    """
    log_x = -np.log1p(discount)
    block = 1 << 16
    total = 0.0
    log_prefix = 0.0  # ln of prod_{j<k0} r_{n+j} * x**k0 for the block start k0
    k0 = 0
    while True:
        j = np.arange(k0, k0 + block, dtype=float)
        log_terms = np.cumsum(np.log1p(-alpha / (alpha + beta + n + j - 1.0)) + log_x)
        log_terms += log_prefix - log_x  # term_k carries x**k, not x**(k+1)
        terms = np.exp(log_terms)
        total += float(np.sum(terms))
        if terms[-1] / discount <= 1e-17 * total:
            return total
        log_prefix = float(log_terms[-1]) + log_x
        k0 += block


def derl(alpha: Any, beta: Any, discount: Any, renewals: Any = 0) -> float | np.ndarray:
    """Discounted expected residual lifetime (DERL) of an active customer (Fader & Hardie 2010).

    Convention: the customer has made ``renewals = n - 1`` renewals (so is in their ``n``-th
    period, which is already paid for) and is evaluated just before the next renewal decision.
    DERL is the expected number of *future* periods they pay for, each discounted to that moment:
    the next period (``n + 1``) counts 1 (undiscounted) if they renew, the one after
    ``1 / (1 + d)``, and so on.  The current period is *not* counted.  In terms of the
    survivor function::

        DERL = sum_{t >= n} S(t) / S(n - 1) / (1 + d)**(t - n)

    which has the closed form (Fader & Hardie 2010)::

        DERL(d | alpha, beta, n - 1) = (beta + n - 1) / (alpha + beta + n - 1)
                                       * 2F1(1, beta + n; alpha + beta + n; 1 / (1 + d))

    The leading factor is the retention rate ``r_n``; a customer's residual value is
    ``DERL * per-period margin``.  To include the current period's payment as well, add 1.
    Because retention rises with tenure, DERL increases with ``renewals``; it is bounded by
    ``(1 + d) / d`` (the value for a customer who never churns).

    Parameters
    ----------
    alpha, beta : float or array_like
        Model parameters (> 0).
    discount : float or array_like
        Discount rate per period ``d`` (> 0), e.g. 0.10 for annual periods at 10 %, or about
        0.008 for monthly periods at 10 % a year.
    renewals : int or array_like of int, default 0
        Renewals made so far, ``n - 1`` (>= 0); 0 for a newly acquired customer.  With the tenure
        convention of :func:`survivors_from_tenures` this is the customer's tenure.

    Returns
    -------
    float or numpy.ndarray
        DERL in periods (a float when every input is a scalar).  Inputs broadcast with numpy rules.

    Notes
    -----
    The hypergeometric function is evaluated with ``scipy.special.hyp2f1``.  For arguments close
    to 1 (small ``d``) combined with long tenures (e.g. ``d < 0.01`` and ``n`` in the hundreds)
    scipy can return a non-finite value; such entries, and any value outside the bounds
    ``r_n <= DERL <= r_n * (1 + d) / d``, are recomputed by summing the series above term by term.

    References
    ----------
    Fader & Hardie (2010), "Customer-base valuation in a contractual setting".
    """
    a = _positive("alpha", alpha)
    b = _positive("beta", beta)
    d = _positive("discount", discount)
    n = _periods("renewals", renewals, minimum=0) + 1.0
    a, b, d, n = np.broadcast_arrays(a, b, d, n)
    r_n = (b + n - 1.0) / (a + b + n - 1.0)
    with np.errstate(all="ignore"):
        value = np.asarray(r_n * hyp2f1(1.0, b + n, a + b + n, 1.0 / (1.0 + d)), dtype=float)
    bad = ~np.isfinite(value) | (value < r_n * (1 - 1e-12)) | (value > r_n * (1 + d) / d)
    if np.any(bad):
        value = value.copy()
        keys = np.stack([a[bad], b[bad], d[bad], n[bad]], axis=-1)
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        fixed = np.array([_derl_series(*row) for row in uniq])
        value[bad] = fixed[inverse.ravel()]
    return _result(value)


# --------------------------------------------------------------------------------------------
# Helpers for the scoring asset
# --------------------------------------------------------------------------------------------
def survivors_from_tenures(
    tenures: Sequence[int] | np.ndarray,
    censored: Sequence[bool] | np.ndarray,
    cohorts: Sequence[Any] | np.ndarray | None = None,
) -> list[list[int]]:
    """Build survivor-count lists (for :func:`fit_sbg`) from customer-level tenures.

    Parameters
    ----------
    tenures : sequence of int
        Per customer, the number of periods survived, i.e. renewals made (>= 0).  A churned
        customer with tenure ``k`` churned in period ``T = k + 1``; for a monthly subscription
        that is the number of months they were active minus 1.  An active customer with tenure
        ``k`` has been observed through ``k`` renewals (``T > k``).
    censored : sequence of bool
        Per customer, True if still active (right-censored), False if churned.
    cohorts : sequence of hashable, optional
        Per customer, the acquisition cohort (e.g. start month).  Only changes how the output is
        split and ordered (the likelihood of the result does not depend on it); None pools all
        customers.

    Returns
    -------
    list of list of int
        Survivor counts, period 0 first, ordered by cohort (sorted) and then by length.  Within a
        cohort ``survivors[t]`` is the number of customers with tenure >= ``t``, for ``t`` up to the
        observation length ``L`` of the cohort, which is the tenure of its active customers.  In
        the usual case, where all active customers of a cohort share one tenure and its churned
        customers have smaller tenures, a cohort yields exactly one list (its survivor curve); a
        cohort without active customers yields one list ending in 0 after its last loss.

        If a cohort's active customers have different tenures (e.g. a cohort spanning partial
        periods), it is split into one list per distinct active tenure, each churned customer
        going to the shortest list that observes its loss (``L >= k + 1``), plus a list ending in 0
        for losses later than every active tenure.  The log-likelihood of the result always
        equals the customer-level one, ``sum ln P(T = k + 1)`` over churned plus
        ``sum ln S(k)`` over active customers.  Lists of length 1 (only active customers with
        tenure 0) carry no information and are omitted, so the result may be empty.

    Raises
    ------
    ValueError
        If the inputs differ in length, are empty, or tenures are negative or not whole numbers.
    """
    ten = np.asarray(tenures)
    cen = np.asarray(censored)
    if ten.ndim != 1 or cen.ndim != 1:
        raise ValueError("tenures and censored must be one-dimensional sequences")
    if ten.size != cen.size:
        raise ValueError(f"tenures ({ten.size}) and censored ({cen.size}) differ in length")
    if ten.size == 0:
        raise ValueError("no customers given")
    try:
        ten_f = np.asarray(ten, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError("tenures must be whole numbers of periods") from exc
    if not np.all(np.isfinite(ten_f)) or np.any(ten_f != np.floor(ten_f)):
        raise ValueError("tenures must be whole numbers of periods (no missing values)")
    if np.any(ten_f < 0):
        raise ValueError("tenures must be >= 0")
    if cen.dtype != bool:
        if not np.all(np.isin(cen, [0, 1])):
            raise ValueError("censored must be booleans (True = still active)")
        cen = cen.astype(bool)
    ten_i = ten_f.astype(np.int64)

    if cohorts is None:
        codes = np.zeros(ten_i.size, dtype=np.int64)
        n_groups = 1
    else:
        keys = pd.Series(list(cohorts) if not isinstance(cohorts, np.ndarray) else cohorts)
        if keys.size != ten_i.size:
            raise ValueError(f"cohorts ({keys.size}) and tenures ({ten_i.size}) differ in length")
        if keys.isna().any():
            raise ValueError("cohorts contains missing values")
        codes, uniques = pd.factorize(keys, sort=True)
        n_groups = len(uniques)

    out: list[list[int]] = []
    for g in range(n_groups):
        in_g = codes == g
        t_g, c_g = ten_i[in_g], cen[in_g]
        lengths = np.unique(t_g[c_g])
        churned = t_g[~c_g]
        if churned.size and (lengths.size == 0 or churned.max() + 1 > lengths[-1]):
            lengths = np.append(lengths, churned.max() + 1)
        # observation length of each customer's pseudo-cohort
        obs = np.where(c_g, t_g, 0)
        if churned.size:
            obs[~c_g] = lengths[np.searchsorted(lengths, churned + 1, side="left")]
        for length in lengths:
            if length == 0:
                continue
            members = t_g[obs == length]
            if members.size == 0:
                continue
            at_least = np.bincount(members, minlength=length + 1)[::-1].cumsum()[::-1]
            out.append([int(v) for v in at_least[: length + 1]])
    return out


def project(fit: SBGFit, horizon: int) -> pd.DataFrame:
    """Tabulate the fitted survivor curve and retention rates for periods ``0 .. horizon``.

    Parameters
    ----------
    fit : SBGFit
        A fitted model from :func:`fit_sbg`.
    horizon : int
        Last period to tabulate (>= 1).

    Returns
    -------
    pandas.DataFrame
        One row per period ``t = 0 .. horizon`` with columns ``t``, ``survival`` (``S(t)``),
        ``retention`` (``r_t``, NaN for ``t = 0``) and ``churn_probability`` (``P(T = t)``, NaN
        for ``t = 0``).  Multiply ``survival`` by a cohort size to get expected survivors.
    """
    if not isinstance(fit, SBGFit):
        raise ValueError("fit must be an SBGFit returned by fit_sbg")
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"horizon must be an integer >= 1, got {horizon!r}")
    t = np.arange(int(horizon) + 1)
    retention = np.full(t.size, np.nan)
    churn = np.full(t.size, np.nan)
    retention[1:] = fit.retention_rate(t[1:])
    churn[1:] = fit.churn_probability(t[1:])
    return pd.DataFrame(
        {
            "t": t,
            "survival": np.asarray(fit.survival(t), dtype=float),
            "retention": retention,
            "churn_probability": churn,
        }
    )
