"""Tests for retention curves and residual lifetime value (orchestration.scoring.lifetime_value).

Reference values are computed independently here: the sBG retention rates written out as
``(beta + t - 1) / (alpha + beta + t - 1)``, DERL as a truncated discounted sum of survival
ratios. The delayed-entry fit itself is tested with the sBG model (test_retention.py).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from orchestration.scoring import lifetime_value as lv
from orchestration.scoring import retention as r
from orchestration.scoring.versioning import hashed_version


def rate(alpha: float, beta: float, t: int) -> float:
    return (beta + t - 1) / (alpha + beta + t - 1)


def derl_by_sum(alpha: float, beta: float, d: float, renewals: int) -> float:
    """sum_{t >= n} S(t) / S(n - 1) / (1 + d)**(t - n) with n = renewals + 1, by products of
    retention rates, until the terms are negligible."""
    n = renewals + 1
    total, ratio, t = 0.0, 1.0, n
    while True:
        ratio *= rate(alpha, beta, t)  # S(t) / S(n - 1)
        term = ratio / (1 + d) ** (t - n)
        total += term
        if term < 1e-13 * total:
            return total
        t += 1


# --------------------------------------------------------------------------------------------
# Lifetimes from the marts' columns
# --------------------------------------------------------------------------------------------
def lifetimes_frame() -> pd.DataFrame:
    """As features.customer_lifetimes returns them, as of 2026-10 with data from 2024-01."""
    rows = [
        # customer, first MRR, first churn, last MRR, spell start, mrr, active, segment,
        # current segment, gross_margin_ttm
        ("new", "2025-01", None, "2026-10", "2025-01", 100.0, True, "A", "A", 2400.0),
        ("old", "2020-06", None, "2026-10", "2020-06", 50.0, True, "B", "B", -1200.0),
        ("gone", "2024-03", "2025-03", "2025-02", "2024-03", 0.0, False, "C", None, None),
        ("early", "2021-01", "2023-06", "2023-05", "2021-01", 0.0, False, None, None, None),
        ("back", "2022-01", "2024-05", "2024-04", "2025-02", 80.0, True, "D", "C", 1200.0),
        ("noclass", "2026-09", None, "2026-10", "2026-09", 30.0, True, None, None, None),
    ]  # fmt: skip
    frame = pd.DataFrame(
        rows,
        columns=[
            "customer_id",
            "first_mrr_month",
            "first_churn_month",
            "last_mrr_month",
            "spell_start_month",
            "mrr",
            "is_active",
            "segment",
            "current_segment",
            "gross_margin_ttm",
        ],
    )
    for column in ("first_mrr_month", "first_churn_month", "last_mrr_month", "spell_start_month"):
        frame[column] = pd.to_datetime(frame[column], format="%Y-%m").dt.date
    frame["monthly_gross_margin"] = frame["gross_margin_ttm"] / 12
    return frame


def test_lifetimes_for_fit_tenure_censoring_entry_and_left_truncation():
    out = lv.lifetimes_for_fit(lifetimes_frame(), observation_start=date(2024, 1, 1))
    got = out.set_index("customer_id")[["tenure", "censored", "entry", "segment"]]
    # "early" churned before observation started: left out.
    assert list(got.index) == ["new", "old", "gone", "back", "noclass"]
    assert got.loc["new"].tolist() == [21, True, 0, "A"]  # 2025-01 .. 2026-10
    assert got.loc["old"].tolist() == [76, True, 43, "B"]  # 2020-06 .. 2026-10, seen from 2024-01
    assert got.loc["gone"].tolist() == [11, False, 0, "C"]  # paid 2024-03 .. 2025-02
    assert got.loc["back"].tolist() == [27, False, 24, "D"]  # first lifetime only
    assert got.loc["noclass"].tolist() == [1, True, 0, "unclassified"]


# --------------------------------------------------------------------------------------------
# The two tables
# --------------------------------------------------------------------------------------------
def fits() -> dict[str, r.SBGFit]:
    def fit(alpha: float, beta: float) -> r.SBGFit:
        return r.SBGFit(alpha, beta, -10.0, 10, 2, 1, True)

    return {"A": fit(0.5, 8.0), "B": fit(2.0, 30.0), "all": fit(1.0, 20.0)}


def test_retention_curves_rows_match_the_sbg_formulas():
    curves = lv.retention_curves(
        fits(), as_of_month=date(2026, 10, 1), fitted_at=datetime(2026, 11, 1), version="v"
    )
    assert len(curves) == 3 * 36
    assert not curves.duplicated(["segment", "tenure_month"]).any()
    for segment, fit in fits().items():
        rows = curves[curves["segment"] == segment].sort_values("tenure_month")
        assert rows["tenure_month"].tolist() == list(range(1, 37))
        survival = np.cumprod([rate(fit.alpha, fit.beta, t) for t in range(1, 37)])
        np.testing.assert_allclose(rows["survival"], survival, rtol=1e-10)
        np.testing.assert_allclose(
            rows["retention_rate"], [rate(fit.alpha, fit.beta, t) for t in range(1, 37)]
        )
        assert (rows["alpha"] == fit.alpha).all() and (rows["beta"] == fit.beta).all()


def test_customer_lifetime_value_is_derl_times_monthly_margin():
    d = lv.monthly_discount_rate(0.10)
    table = lv.customer_lifetime_value(
        lifetimes_frame(), fits(), as_of_month=date(2026, 10, 1), monthly_discount=d, version="v"
    ).set_index("customer_id")
    # Only customers with MRR now and a classification (so a margin) are valued.
    assert sorted(table.index) == ["back", "new", "old"]
    expected = {
        # customer: (parameters used, tenure = renewals in the current spell, monthly margin)
        "new": ("A", 21, 200.0),
        "old": ("B", 76, -100.0),
        "back": ("all", 20, 100.0),  # class C has no fit of its own; spell since 2025-02
    }
    for customer, (used, tenure, margin) in expected.items():
        row = table.loc[customer]
        fit = fits()[used]
        derl = derl_by_sum(fit.alpha, fit.beta, d, tenure)
        assert row["parameters_segment"] == used
        assert row["tenure_months"] == tenure
        assert row["monthly_gross_margin"] == pytest.approx(margin)
        assert row["derl_months"] == pytest.approx(derl, rel=1e-9)
        assert row["residual_lifetime_value"] == pytest.approx(derl * margin, rel=1e-9)
    assert table.loc["back", "segment"] == "C"
    # A loss-making customer has a negative residual value.
    assert table.loc["old", "residual_lifetime_value"] < 0


def test_monthly_discount_rate_and_the_setting():
    assert lv.monthly_discount_rate(0.10) == pytest.approx(1.1 ** (1 / 12) - 1, rel=1e-12)
    assert (1 + lv.monthly_discount_rate(0.10)) ** 12 == pytest.approx(1.10, rel=1e-12)
    assert lv.annual_discount_rate({}) == 0.10
    assert lv.annual_discount_rate({lv.ANNUAL_DISCOUNT_RATE_ENV: " 0.12 "}) == 0.12
    for bad in ("ten", "0", "-0.1", "1.5", "nan"):
        with pytest.raises(ValueError, match=lv.ANNUAL_DISCOUNT_RATE_ENV):
            lv.annual_discount_rate({lv.ANNUAL_DISCOUNT_RATE_ENV: bad})


def test_model_version_is_deterministic_and_tracks_its_inputs():
    a = lv.model_version(date(2026, 10, 1), date(2023, 11, 1))
    assert a == lv.model_version(date(2026, 10, 1), date(2023, 11, 1))
    assert a != lv.model_version(date(2026, 9, 1), date(2023, 11, 1))
    assert a.startswith(lv.METHOD)


def test_model_version_hashes_the_method_window_and_settings():
    """The method, then the first 12 hexadecimal digits of the SHA-256 of the spec as JSON with
    sorted keys: the scheme of the versions already written."""
    spec = {"method": lv.METHOD, "as_of_month": "2026-10-01", "observation_start": "2023-11-01"}
    digest = hashlib.sha256(json.dumps({**spec, "rate": 0.1}, sort_keys=True).encode()).hexdigest()
    version = lv.model_version(date(2026, 10, 1), date(2023, 11, 1), rate=0.1)
    assert version == f"{lv.METHOD}-{digest[:12]}"
    assert version != lv.model_version(date(2026, 10, 1), date(2023, 11, 1), rate=0.2)


def test_hashed_version_ignores_key_order_and_tracks_every_value():
    spec = {"a": 1, "b": [1, 2], "c": {"x": "y"}}
    version = hashed_version("m-v1", spec)
    assert version == hashed_version("m-v1", dict(reversed(spec.items())))
    assert version.startswith("m-v1-") and len(version) == len("m-v1-") + 12
    assert version != hashed_version("m-v2", spec)
    for changed in ({**spec, "a": 2}, {**spec, "b": [2, 1]}, {**spec, "d": None}):
        assert hashed_version("m-v1", changed) != version
