"""Tests for the shifted-beta-geometric retention model (orchestration.scoring.retention)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import betaln

from orchestration.scoring import retention as r

# Fader & Hardie (2007), Table 1: survivors at the start of years 0..7 (1,000 customers each).
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]
# Published maximum-likelihood estimates (alpha, beta, LL).
PUBLISHED = {"regular": (0.704, 1.182, -1680.3), "high_end": (0.668, 3.806, -1611.2)}
DATA = {"regular": REGULAR, "high_end": HIGH_END}

params = st.floats(min_value=0.05, max_value=20.0, allow_nan=False, allow_infinity=False)
periods = st.integers(min_value=1, max_value=200)
fast = settings(max_examples=150, deadline=None)


# --------------------------------------------------------------------------------------------
# Independent reference implementations (used only by the tests)
# --------------------------------------------------------------------------------------------
def direct_churn_probabilities(alpha: float, beta: float, horizon: int) -> np.ndarray:
    """P(T = t) for t = 1..horizon by the recursion given in Fader & Hardie (2007)."""
    p = np.empty(horizon)
    p[0] = alpha / (alpha + beta)
    for t in range(2, horizon + 1):
        p[t - 1] = (beta + t - 2) / (alpha + beta + t - 1) * p[t - 2]
    return p


def direct_loglik(alpha: float, beta: float, counts: list[int]) -> float:
    """Single-cohort log-likelihood written out with the recursion, S(t) = 1 - sum P(T = s)."""
    horizon = len(counts) - 1
    p = direct_churn_probabilities(alpha, beta, horizon)
    lost = [counts[t - 1] - counts[t] for t in range(1, horizon + 1)]
    s_last = 1.0 - p.sum()
    return sum(n * math.log(pt) for n, pt in zip(lost, p, strict=True)) + counts[-1] * math.log(
        s_last
    )


def direct_multi_loglik(alpha: float, beta: float, cohorts: list[list[int]]) -> float:
    return sum(direct_loglik(alpha, beta, c) for c in cohorts)


def truncated_derl(alpha: float, beta: float, discount: float, renewals: int) -> float:
    """sum_{t >= n} [S(t) / S(n-1)] / (1 + d)**(t - n), truncated where the tail is < 1e-17."""
    n = renewals + 1
    extra = int(math.ceil(40.0 / math.log1p(discount)))
    t = np.arange(n, n + extra + 1, dtype=float)
    log_ratio = betaln(alpha, beta + t) - betaln(alpha, beta + n - 1)
    return float(np.sum(np.exp(log_ratio - (t - n) * math.log1p(discount))))


def observed_information_se(cohorts: list[list[int]], alpha: float, beta: float) -> np.ndarray:
    """Standard errors of (alpha, beta) from a central-difference Hessian of direct_multi_loglik."""
    x0 = np.array([alpha, beta])
    h = 1e-4 * x0
    hess = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * h[i], np.eye(2)[j] * h[j]
            f = [
                direct_multi_loglik(*(x0 + si * ei + sj * ej), cohorts)
                for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1))
            ]
            hess[i, j] = (f[0] - f[1] - f[2] + f[3]) / (4 * h[i] * h[j])
    return np.sqrt(np.diag(np.linalg.inv(-hess)))


def simulate_churn_periods(alpha: float, beta: float, size: int, rng: np.random.Generator):
    """Draw theta ~ Beta(alpha, beta) per customer, then T ~ Geometric(theta) on {1, 2, ...}."""
    return rng.geometric(rng.beta(alpha, beta, size))


# --------------------------------------------------------------------------------------------
# Published example (Fader & Hardie 2007)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("segment", ["regular", "high_end"])
def test_fit_reproduces_published_estimates(segment):
    fit = r.fit_sbg(DATA[segment])
    alpha, beta, ll = PUBLISHED[segment]
    assert fit.converged
    assert round(fit.alpha, 3) == alpha
    assert round(fit.beta, 3) == beta
    assert round(fit.log_likelihood, 1) == ll
    assert fit.n_customers == 1000
    assert fit.n_lost == 1000 - DATA[segment][-1]
    assert fit.n_cohorts == 1


@pytest.mark.parametrize("segment", ["regular", "high_end"])
def test_log_likelihood_matches_direct_recursion(segment):
    counts = DATA[segment]
    fit = r.fit_sbg(counts)
    expected = direct_loglik(fit.alpha, fit.beta, counts)
    assert fit.log_likelihood == pytest.approx(expected, rel=1e-12)
    assert r.log_likelihood(fit.alpha, fit.beta, counts) == pytest.approx(expected, rel=1e-12)
    # The published (rounded) estimates give the published LL with the direct formula too.
    alpha, beta, ll = PUBLISHED[segment]
    assert round(direct_loglik(alpha, beta, counts), 1) == ll


@pytest.mark.parametrize("segment", ["regular", "high_end"])
def test_fit_is_a_local_maximum_of_the_direct_likelihood(segment):
    counts = DATA[segment]
    fit = r.fit_sbg(counts)
    best = direct_loglik(fit.alpha, fit.beta, counts)
    for da, db in ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1), (1, -1), (-1, 1)):
        a, b = fit.alpha * (1 + 1e-4 * da), fit.beta * (1 + 1e-4 * db)
        assert direct_loglik(a, b, counts) <= best + 1e-9


def test_segments_are_not_swapped():
    """High End keeps more customers, so its mean churn probability alpha/(alpha+beta) is lower."""
    high, regular = r.fit_sbg(HIGH_END), r.fit_sbg(REGULAR)
    assert high.mean_churn_probability < regular.mean_churn_probability
    assert high.mean_churn_probability == pytest.approx(0.668 / (0.668 + 3.806), abs=1e-4)


def test_multi_cohort_likelihood_is_sum_of_cohorts():
    cohorts = [HIGH_END, HIGH_END[:5], REGULAR[:3]]
    a, b = 0.7, 2.0
    assert r.log_likelihood(a, b, cohorts) == pytest.approx(
        direct_multi_loglik(a, b, cohorts), rel=1e-12
    )
    fit = r.fit_sbg(cohorts)
    assert fit.n_cohorts == 3
    assert fit.n_customers == 3000
    assert fit.log_likelihood == pytest.approx(
        direct_multi_loglik(fit.alpha, fit.beta, cohorts), rel=1e-12
    )
    # Fitting one cohort given as a list of one list is the same as giving the list itself.
    assert r.fit_sbg([HIGH_END]).alpha == pytest.approx(r.fit_sbg(HIGH_END).alpha, rel=1e-9)


# --------------------------------------------------------------------------------------------
# Survival, retention, churn probability
# --------------------------------------------------------------------------------------------
@fast
@given(alpha=params, beta=params)
def test_survival_at_zero_is_one(alpha, beta):
    assert r.survival(alpha, beta, 0) == pytest.approx(1.0, abs=1e-12)


@fast
@given(alpha=params, beta=params, t=periods)
def test_survival_decreasing_and_retention_increasing(alpha, beta, t):
    assert r.survival(alpha, beta, t) < r.survival(alpha, beta, t - 1)
    assert r.retention_rate(alpha, beta, t + 1) > r.retention_rate(alpha, beta, t)
    assert 0.0 < r.retention_rate(alpha, beta, t) < 1.0


@fast
@given(alpha=params, beta=params, horizon=periods)
def test_survival_is_product_of_retention_rates(alpha, beta, horizon):
    t = np.arange(1, horizon + 1)
    expected = np.cumprod(r.retention_rate(alpha, beta, t))
    np.testing.assert_allclose(r.survival(alpha, beta, t), expected, rtol=1e-9)


@fast
@given(alpha=params, beta=params, horizon=periods)
def test_churn_probability_matches_recursion_and_survival(alpha, beta, horizon):
    t = np.arange(1, horizon + 1)
    p = r.churn_probability(alpha, beta, t)
    np.testing.assert_allclose(p, direct_churn_probabilities(alpha, beta, horizon), rtol=1e-9)
    s = r.survival(alpha, beta, np.arange(horizon + 1))
    np.testing.assert_allclose(p, s[:-1] - s[1:], rtol=1e-7, atol=1e-15)


def test_scalar_and_array_inputs():
    assert isinstance(r.survival(1.0, 2.0, 3), float)
    assert isinstance(r.retention_rate(1.0, 2.0, 3), float)
    out = r.survival(np.array([0.5, 1.0]), 2.0, np.array([[1], [2], [3]]))
    assert out.shape == (3, 2)
    assert r.retention_rate(1.0, 2.0, 1) == pytest.approx(2.0 / 3.0)
    assert r.survival(1.0, 1.0, 4) == pytest.approx(1.0 / 5.0)  # uniform theta: S(t) = 1/(t+1)


# --------------------------------------------------------------------------------------------
# DERL (Fader & Hardie 2010)
# --------------------------------------------------------------------------------------------
# DERL at d = 0.10 for renewals = 0..4 (n = 1..5) at the published (rounded) estimates.
DERL_PUBLISHED_PARAMS = {
    "regular": [2.9647, 4.1035, 4.8701, 5.4424, 5.8944],
    "high_end": [5.4149, 5.9018, 6.2943, 6.6203, 6.8971],
}


@pytest.mark.parametrize("segment", ["regular", "high_end"])
def test_derl_published_parameters_closed_form_equals_sum(segment):
    alpha, beta, _ = PUBLISHED[segment]
    closed = r.derl(alpha, beta, 0.10, np.arange(5))
    direct = [truncated_derl(alpha, beta, 0.10, k) for k in range(5)]
    np.testing.assert_allclose(closed, direct, rtol=1e-12)
    np.testing.assert_allclose(closed, DERL_PUBLISHED_PARAMS[segment], atol=5e-5)
    assert np.all(np.diff(closed) > 0)


@settings(max_examples=150, deadline=None)
@given(
    alpha=params,
    beta=params,
    discount=st.floats(min_value=0.005, max_value=1.0),
    renewals=st.integers(min_value=0, max_value=300),
)
def test_derl_equals_truncated_sum(alpha, beta, discount, renewals):
    closed = r.derl(alpha, beta, discount, renewals)
    assert closed == pytest.approx(truncated_derl(alpha, beta, discount, renewals), rel=1e-9)


@fast
@given(
    alpha=params,
    beta=params,
    discount=st.floats(min_value=0.005, max_value=1.0),
    renewals=st.integers(min_value=0, max_value=300),
)
def test_derl_non_decreasing_in_renewals_and_bounded(alpha, beta, discount, renewals):
    # r_t rises with tenure, so every term S(t)/S(n-1) of the DERL sum rises with n.
    now, later = r.derl(alpha, beta, discount, [renewals, renewals + 1])
    assert later >= now * (1 - 1e-12)
    r_n = r.retention_rate(alpha, beta, renewals + 1)
    assert r_n * (1 - 1e-12) <= now <= r_n * (1 + discount) / discount * (1 + 1e-12)


def test_derl_where_scipy_hyp2f1_breaks_down():
    # Small monthly discount and a long tenure: 2F1 argument close to 1 with large b, c.
    alpha, beta, discount, renewals = 0.0998, 2.756, 0.00105, 175
    value = r.derl(alpha, beta, discount, renewals)
    assert math.isfinite(value)
    assert value == pytest.approx(truncated_derl(alpha, beta, discount, renewals), rel=1e-9)
    values = r.derl(alpha, beta, discount, np.arange(150, 200))
    expected = [truncated_derl(alpha, beta, discount, k) for k in range(150, 200)]
    np.testing.assert_allclose(values, expected, rtol=1e-9)


@pytest.mark.parametrize(
    ("alpha", "beta", "discount", "n"), [(0.7, 1.2, 0.1, 1), (3.0, 9.0, 0.01, 40)]
)
def test_derl_series_fallback_matches_sum(alpha, beta, discount, n):
    expected = truncated_derl(alpha, beta, discount, n - 1)
    assert r._derl_series(alpha, beta, discount, n) == pytest.approx(expected, rel=1e-12)


def test_derl_homogeneous_limit():
    # With alpha + beta huge every customer has theta ~= p: DERL -> (1 - p)(1 + d) / (d + p).
    p, d = 0.2, 0.1
    value = r.derl(p * 1e5, (1 - p) * 1e5, d, 3)
    assert value == pytest.approx((1 - p) * (1 + d) / (d + p), rel=1e-3)


# --------------------------------------------------------------------------------------------
# Recovery of known parameters from simulated data
# --------------------------------------------------------------------------------------------
# Tolerance: the MLE is asymptotically normal, so |estimate - truth| is compared with 4 standard
# errors from the observed information (a two-sided 4-sigma band fails with probability ~6e-5
# per parameter).  With 20,000 customers the standard errors are small (checked below), so the
# band is informative, and the fixed seed makes the test deterministic.
TRUE_ALPHA, TRUE_BETA = 0.8, 2.5


def _assert_recovered(fit: r.SBGFit, cohorts: list[list[int]]) -> None:
    assert fit.converged
    se = observed_information_se(cohorts, fit.alpha, fit.beta)
    assert se[0] < 0.1 * TRUE_ALPHA and se[1] < 0.1 * TRUE_BETA
    assert abs(fit.alpha - TRUE_ALPHA) < 4 * se[0]
    assert abs(fit.beta - TRUE_BETA) < 4 * se[1]


def test_recovers_parameters_single_cohort():
    rng = np.random.default_rng(20070101)
    churn_period = simulate_churn_periods(TRUE_ALPHA, TRUE_BETA, 20_000, rng)
    counts = [int((churn_period > t).sum()) for t in range(13)]
    fit = r.fit_sbg(counts)
    _assert_recovered(fit, [counts])


def test_recovers_parameters_multi_cohort_via_tenures():
    rng = np.random.default_rng(20100101)
    lengths = {"2023-01": 12, "2023-04": 9, "2023-07": 6, "2023-10": 3}
    sizes = {"2023-01": 4000, "2023-04": 5000, "2023-07": 5000, "2023-10": 6000}
    expected_counts, tenures, censored, cohort_keys = [], [], [], []
    for key, length in lengths.items():
        churn_period = simulate_churn_periods(TRUE_ALPHA, TRUE_BETA, sizes[key], rng)
        expected_counts.append([int((churn_period > t).sum()) for t in range(length + 1)])
        active = churn_period > length
        tenures.append(np.where(active, length, churn_period - 1))
        censored.append(active)
        cohort_keys += [key] * sizes[key]
    built = r.survivors_from_tenures(np.concatenate(tenures), np.concatenate(censored), cohort_keys)
    assert built == expected_counts  # one survivor curve per cohort, cohorts in sorted order
    fit = r.fit_sbg(built)
    assert fit.n_cohorts == 4 and fit.n_customers == 20_000
    _assert_recovered(fit, built)


# --------------------------------------------------------------------------------------------
# survivors_from_tenures and project
# --------------------------------------------------------------------------------------------
def test_survivors_from_tenures_small_example():
    tenures = [0, 1, 3, 3, 2, 5, 5]
    censored = [False, False, True, True, False, True, False]
    cohorts = ["a", "a", "a", "a", "b", "b", "b"]
    assert r.survivors_from_tenures(tenures, censored, cohorts) == [
        [4, 3, 2, 2],
        [2, 2, 2, 1, 1, 1],  # cohort b: active customer at 5 plus the loss at tenure 2
        [1, 1, 1, 1, 1, 1, 0],  # cohort b: loss in period 6, beyond the active tenure
    ]
    # Active customers with tenure 0 carry no information.
    assert r.survivors_from_tenures([0, 0], [True, True]) == []


@fast
@given(
    customers=st.lists(
        st.tuples(st.integers(0, 8), st.booleans(), st.sampled_from(["x", "y", "z"])),
        min_size=1,
        max_size=40,
    )
)
def test_survivors_from_tenures_preserves_customer_level_likelihood(customers):
    tenures, censored, cohorts = (list(v) for v in zip(*customers, strict=True))
    built = r.survivors_from_tenures(tenures, censored, cohorts)
    assert sum(c[0] for c in built) == sum(
        1 for k, a in zip(tenures, censored, strict=True) if k > 0 or not a
    )
    for counts in built:
        assert counts[0] > 0 and len(counts) >= 2
        assert np.all(np.diff(counts) <= 0)
    if not built:
        return
    alpha, beta = 0.9, 2.2
    customer_level = sum(
        math.log(r.survival(alpha, beta, k))
        if active
        else math.log(r.churn_probability(alpha, beta, k + 1))
        for k, active in zip(tenures, censored, strict=True)
    )
    assert r.log_likelihood(alpha, beta, built) == pytest.approx(customer_level, rel=1e-10)
    # Cohort labels only change how the data are split, never the likelihood.
    pooled = r.survivors_from_tenures(tenures, censored)
    assert r.log_likelihood(alpha, beta, pooled) == pytest.approx(customer_level, rel=1e-10)


def test_project_table():
    fit = r.fit_sbg(HIGH_END)
    table = r.project(fit, 10)
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == ["t", "survival", "retention", "churn_probability"]
    assert table["t"].tolist() == list(range(11))
    assert table["survival"].iloc[0] == pytest.approx(1.0)
    assert math.isnan(table["retention"].iloc[0])
    np.testing.assert_allclose(
        table["survival"].iloc[1:], np.cumprod(table["retention"].iloc[1:]), rtol=1e-10
    )
    # The fitted curve tracks the observed one within 2 percentage points over years 0..7.
    observed = np.array(HIGH_END) / 1000
    np.testing.assert_allclose(table["survival"].iloc[:8], observed, atol=0.02)


# --------------------------------------------------------------------------------------------
# Invalid inputs
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("survivors", "match"),
    [
        ([], "empty"),
        ([1000], "at least 2 periods"),
        ([1000, 1100, 900], "non-increasing"),
        ([1000, 900, -1], "non-negative"),
        ([0, 0, 0], "first count"),
        ([1000, 900.5, 800], "whole numbers"),
        ([1000, float("nan")], "whole numbers"),
        ([100, 100, 100], "no customer was lost"),
        ([[100, 90], [50]], "cohort 1: need at least 2 periods"),
        ([[100, 90], [50, 60]], "cohort 1: survivor counts must be non-increasing"),
        ([[100, 90], 50], "flat list"),
        ("1000, 900", "list of counts"),
        (42, "list of counts"),
    ],
)
def test_fit_rejects_invalid_survivors(survivors, match):
    with pytest.raises(ValueError, match=match):
        r.fit_sbg(survivors)


@pytest.mark.parametrize(
    ("func", "args"),
    [
        (r.survival, (0.0, 1.0, 1)),
        (r.survival, (1.0, -1.0, 1)),
        (r.survival, (1.0, 1.0, -1)),
        (r.survival, (1.0, 1.0, 1.5)),
        (r.survival, (float("nan"), 1.0, 1)),
        (r.retention_rate, (1.0, 1.0, 0)),
        (r.churn_probability, (1.0, 1.0, 0)),
        (r.derl, (1.0, 1.0, 0.0, 0)),
        (r.derl, (1.0, 1.0, -0.1, 0)),
        (r.derl, (1.0, 1.0, 0.1, -1)),
        (r.derl, (1.0, 1.0, 0.1, 0.5)),
        (r.derl, (1.0, 0.0, 0.1, 0)),
    ],
)
def test_model_functions_reject_invalid_arguments(func, args):
    with pytest.raises(ValueError):
        func(*args)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([1, 2], [True]), "differ in length"),
        (([], []), "no customers"),
        (([1, -1], [True, False]), ">= 0"),
        (([1, 1.5], [True, False]), "whole numbers"),
        (([1, 2], [True, 2]), "booleans"),
        (([1, 2], [True, False], ["a"]), "differ in length"),
        (([1, 2], [True, False], ["a", None]), "missing"),
    ],
)
def test_survivors_from_tenures_rejects_invalid_input(args, match):
    with pytest.raises(ValueError, match=match):
        r.survivors_from_tenures(*args)


@pytest.mark.parametrize("horizon", [0, -3, 2.5, True])
def test_project_rejects_invalid_horizon(horizon):
    with pytest.raises(ValueError, match="horizon"):
        r.project(r.fit_sbg(HIGH_END), horizon)


def test_degenerate_data_reported_as_not_converged():
    # Constant retention of exactly 1/2: no heterogeneity, alpha and beta diverge together.
    fit = r.fit_sbg([1024, 512, 256, 128, 64, 32, 16, 8])
    assert not fit.converged
    assert fit.mean_churn_probability == pytest.approx(0.5, abs=1e-3)


# --------------------------------------------------------------------------------------------
# Lifetimes with delayed entry (fit_sbg_with_entry)
# --------------------------------------------------------------------------------------------
def tenures_from_survivors(counts: list[int]) -> tuple[list[int], list[bool]]:
    """Customer-level lifetimes of one cohort: lost in period t -> tenure t - 1, churned;
    the last count -> tenure len - 1, censored."""
    tenures, censored = [], []
    for t in range(1, len(counts)):
        lost = counts[t - 1] - counts[t]
        tenures += [t - 1] * lost
        censored += [False] * lost
    tenures += [len(counts) - 1] * counts[-1]
    censored += [True] * counts[-1]
    return tenures, censored


def direct_loglik_with_entry(alpha, beta, tenures, censored, entries) -> float:
    """Each customer observed from renewal e on: prod of the retention rates
    r_t = (beta + t - 1) / (alpha + beta + t - 1) for t = e+1..k, times the churn probability
    1 - r_{k+1} if it churned."""

    def rate(t: int) -> float:
        return (beta + t - 1) / (alpha + beta + t - 1)

    total = 0.0
    for k, c, e in zip(tenures, censored, entries, strict=True):
        ll = sum(math.log(rate(t)) for t in range(e + 1, k + 1))
        if not c:
            ll += math.log(1 - rate(k + 1))
        total += ll
    return total


def test_without_entry_the_fit_reproduces_fit_sbg_and_the_published_estimates():
    tenures, censored = tenures_from_survivors(REGULAR)
    fit = r.fit_sbg_with_entry(tenures, censored)
    reference = r.fit_sbg(REGULAR)
    alpha, beta, ll = PUBLISHED["regular"]
    assert (round(fit.alpha, 3), round(fit.beta, 3), round(fit.log_likelihood, 1)) == (
        alpha,
        beta,
        ll,
    )
    assert fit.alpha == pytest.approx(reference.alpha, rel=1e-5)
    assert fit.beta == pytest.approx(reference.beta, rel=1e-5)
    assert fit.log_likelihood == pytest.approx(reference.log_likelihood, rel=1e-10)
    assert fit.converged
    assert (fit.n_customers, fit.n_lost, fit.n_cohorts) == (1000, 1000 - REGULAR[-1], 1)


def test_without_entry_the_likelihood_is_fit_sbgs_multi_cohort_likelihood():
    rng = np.random.default_rng(7)
    tenures = rng.integers(0, 30, 400)
    censored = rng.random(400) < 0.4
    cohorts = rng.integers(0, 6, 400)
    survivors = r.survivors_from_tenures(tenures, censored, cohorts)
    for alpha, beta in ((0.5, 3.0), (2.0, 40.0), (12.0, 900.0)):
        assert r.log_likelihood_with_entry(alpha, beta, tenures, censored) == pytest.approx(
            r.log_likelihood(alpha, beta, survivors), rel=1e-10
        )


def test_likelihood_with_entry_matches_the_product_of_retention_rates():
    tenures = [0, 3, 5, 5, 9, 12, 20, 20]
    censored = [False, False, True, False, True, False, True, False]
    entries = [0, 2, 0, 5, 4, 0, 19, 3]
    for alpha, beta in ((0.7, 1.2), (3.0, 50.0)):
        assert r.log_likelihood_with_entry(
            alpha, beta, tenures, censored, entries
        ) == pytest.approx(
            direct_loglik_with_entry(alpha, beta, tenures, censored, entries), rel=1e-10
        )


def test_delayed_entry_removes_the_survivor_bias_of_old_cohorts():
    """Customers acquired up to 60 months before observation starts are seen only if they
    survived to it. Conditioning on that recovers the true parameters; ignoring it (fitting the
    survivors as complete cohorts) overstates retention."""
    alpha, beta = 0.8, 12.0
    rng = np.random.default_rng(2024)
    size = 40_000
    churn_period = rng.geometric(rng.beta(alpha, beta, size))  # T = 1, 2, ...
    acquired = rng.integers(-60, 24, size)  # month of acquisition; observation starts at 0
    horizon = 24  # observed through month 24
    entry = np.maximum(0, -acquired)
    end = horizon - acquired  # renewals possible by the end of observation
    seen = churn_period - 1 >= entry  # still there when observation started
    tenure = np.minimum(churn_period - 1, end)[seen]
    censored = (churn_period - 1 >= end)[seen]
    fit = r.fit_sbg_with_entry(tenure, censored, entry[seen])
    assert fit.converged
    assert fit.n_cohorts == np.unique(entry[seen]).size
    assert fit.alpha == pytest.approx(alpha, rel=0.15)
    assert fit.beta == pytest.approx(beta, rel=0.2)
    assert fit.mean_churn_probability == pytest.approx(alpha / (alpha + beta), rel=0.05)
    naive = r.fit_sbg_with_entry(tenure, censored)
    assert naive.mean_churn_probability < 0.8 * alpha / (alpha + beta)


def test_fit_with_entry_refuses_data_without_churn_and_bad_input():
    with pytest.raises(ValueError, match="no customer churned"):
        r.fit_sbg_with_entry([3, 4], [True, True])
    with pytest.raises(ValueError, match="entry > tenure"):
        r.fit_sbg_with_entry([3, 4], [False, True], [4, 0])
    with pytest.raises(ValueError, match="whole numbers"):
        r.fit_sbg_with_entry([3.5, 4], [False, True])
    with pytest.raises(ValueError, match="one length"):
        r.fit_sbg_with_entry([3, 4], [False])
    with pytest.raises(ValueError, match="alpha and beta"):
        r.log_likelihood_with_entry(0.0, 1.0, [3], [False])
