"""Tests for the cross-sell recommendations (orchestration.scoring.cross_sell)."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from orchestration.scoring import cross_sell as xs

MONTH = date(2026, 10, 1)
# offering: (lifecycle, ARPO)
CATALOGUE = {
    "BACKUP": ("current", 1200.0),
    "EDR": ("current", 900.0),
    "ENDPOINT": ("current", 5000.0),
    "HELPDESK": ("current", 3000.0),
    "LEGACY": ("legacy", 8000.0),
    "NOBODY": ("current", None),
    "SAT": ("current", 300.0),
}


def portfolio(seed: int = 0, customers: int = 120) -> tuple[pd.DataFrame, ...]:
    """Ownership where EDR goes with ENDPOINT (90 % of endpoint owners have it, 5 % of the
    others), the other offerings are independent, LEGACY is common and NOBODY unowned."""
    rng = np.random.default_rng(seed)
    owns = {
        "ENDPOINT": rng.random(customers) < 0.6,
        "HELPDESK": rng.random(customers) < 0.5,
        "BACKUP": rng.random(customers) < 0.3,
        "SAT": rng.random(customers) < 0.15,
        "LEGACY": rng.random(customers) < 0.7,
        "NOBODY": np.zeros(customers, dtype=bool),
    }
    owns["EDR"] = np.where(
        owns["ENDPOINT"], rng.random(customers) < 0.9, rng.random(customers) < 0.05
    )
    ids = [f"C{i:03d}" for i in range(customers)]
    ownership = pd.DataFrame(
        [
            {
                "customer_id": c,
                "offering_id": o,
                "lifecycle": CATALOGUE[o][0],
                "owns_offering": bool(owns[o][i]),
            }
            for i, c in enumerate(ids)
            for o in CATALOGUE
        ]
    )
    catalogue = pd.DataFrame(
        [
            {
                "offering_id": o,
                "lifecycle": lifecycle,
                "owning_customers": int(owns[o].sum()),
                "avg_revenue_per_owner": arpo,
            }
            for o, (lifecycle, arpo) in CATALOGUE.items()
        ]
    )
    profiles = pd.DataFrame(
        {
            "customer_id": ids,
            "revenue_ttm": rng.lognormal(10, 1, customers),
            "industry": rng.choice(["legal", "retail"], customers),
            "employee_count": rng.integers(5, 200, customers),
            "in_tcp": rng.random(customers) < 0.5,
            "classification": rng.choice(list("ABCD"), customers),
        }
    )
    return ownership, profiles, catalogue


def owned_pairs(ownership: pd.DataFrame) -> set[tuple[str, str]]:
    rows = ownership[ownership["owns_offering"]]
    return set(zip(rows["customer_id"], rows["offering_id"], strict=True))


def test_candidates_are_current_offerings_with_an_owner():
    _, _, catalogue = portfolio()
    assert xs.candidate_offerings(catalogue) == ["BACKUP", "EDR", "ENDPOINT", "HELPDESK", "SAT"]


def test_recommendations_exclude_owned_legacy_and_unowned_offerings():
    ownership, profiles, catalogue = portfolio()
    recs = xs.recommend(ownership, profiles, catalogue, as_of_month=MONTH)
    assert list(recs.columns) == xs.RECOMMENDATION_COLUMNS
    pairs = set(zip(recs["customer_id"], recs["offering_id"], strict=True))
    assert not pairs & owned_pairs(ownership)
    assert not set(recs["offering_id"]) & {"LEGACY", "NOBODY"}


def test_top_three_ranked_by_propensity():
    ownership, profiles, catalogue = portfolio()
    recs = xs.recommend(ownership, profiles, catalogue, as_of_month=MONTH)
    owned = owned_pairs(ownership)
    for customer, rows in recs.groupby("customer_id"):
        unowned = [
            o
            for o in ("BACKUP", "EDR", "ENDPOINT", "HELPDESK", "SAT")
            if (customer, o) not in owned
        ]
        assert len(rows) == min(3, len(unowned))
        assert rows["rank"].tolist() == list(range(1, len(rows) + 1))
        assert rows["propensity"].is_monotonic_decreasing
        assert rows["propensity"].between(0, 1).all()
    assert recs["as_of_month"].eq(MONTH).all()


def test_expected_revenue_is_propensity_times_arpo():
    ownership, profiles, catalogue = portfolio()
    recs = xs.recommend(ownership, profiles, catalogue, as_of_month=MONTH)
    arpo = {o: a for o, (_, a) in CATALOGUE.items()}
    expected = [p * arpo[o] for p, o in zip(recs["propensity"], recs["offering_id"], strict=True)]
    np.testing.assert_allclose(recs["expected_revenue"], expected, rtol=1e-12)


def test_propensity_learns_which_offerings_go_together():
    ownership, profiles, catalogue = portfolio()
    scores = xs.propensities(ownership, profiles, catalogue)
    matrix = xs.ownership_matrix(ownership)
    lacking_edr = ~matrix["EDR"]
    with_endpoint = scores.loc[lacking_edr & matrix["ENDPOINT"], "EDR"]
    without_endpoint = scores.loc[lacking_edr & ~matrix["ENDPOINT"], "EDR"]
    assert with_endpoint.min() > without_endpoint.max()


def test_offering_with_a_single_owner_gets_its_penetration_rate():
    ownership, profiles, catalogue = portfolio()
    sat = ownership["offering_id"] == "SAT"
    ownership.loc[sat, "owns_offering"] = ownership.loc[sat, "customer_id"] == "C000"
    catalogue.loc[catalogue["offering_id"] == "SAT", "owning_customers"] = 1
    scores = xs.propensities(ownership, profiles, catalogue)
    assert (scores["SAT"] == 1 / 120).all()


def test_popularity_baseline_recommends_the_most_owned_unowned_offerings():
    ownership, _, catalogue = portfolio()
    recs = xs.popularity_recommendations(ownership, catalogue)
    owners = catalogue.set_index("offering_id")["owning_customers"]
    order = sorted(
        xs.candidate_offerings(catalogue), key=lambda o: (-owners[o], o)
    )  # most owned first
    owned = owned_pairs(ownership)
    for customer, rows in recs.groupby("customer_id"):
        expected = [o for o in order if (customer, o) not in owned][:3]
        assert rows.sort_values("rank")["offering_id"].tolist() == expected


def test_hit_rate_hand_case():
    recs = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b", "c", "gone"],
            "offering_id": ["X", "Y", "X", "Z", "Y", "X"],
        }
    )
    after = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b", "b", "c", "c", "c"],
            "offering_id": ["X", "Y", "Z"] * 3,
            "lifecycle": "current",
            "owns_offering": [True, True, False, False, False, False, False, False, True],
        }
    )
    result = xs.hit_rate(recs, after)
    # "gone" is not active later: not evaluated. a bought X and Y, b nothing, c nothing of Y.
    assert result.customers == 3
    assert result.customers_with_hit == 1
    assert result.recommendations == 5
    assert result.recommendations_bought == 2
    assert result.hit_rate == pytest.approx(1 / 3)
    assert result.precision == pytest.approx(2 / 5)


def test_evaluation_counts_purchases_of_recommended_offerings():
    ownership, profiles, catalogue = portfolio()
    after = ownership.copy()
    # Every customer lacking EDR but owning ENDPOINT buys EDR: the model recommends EDR first to
    # them, the popularity baseline does not necessarily.
    matrix = xs.ownership_matrix(ownership)
    buyers = set(matrix.index[~matrix["EDR"] & matrix["ENDPOINT"]])
    assert buyers
    after.loc[
        (after["offering_id"] == "EDR") & after["customer_id"].isin(buyers), "owns_offering"
    ] = True
    result = xs.evaluate(ownership, profiles, catalogue, after, before_month=MONTH)
    assert result["model"]["customers_with_hit"] == len(buyers)
    assert result["model_hit_rate"] >= result["popularity_hit_rate"]


def test_model_version_hashes_the_parameters_and_the_month():
    """The method, then the first 12 hexadecimal digits of the SHA-256 of the spec as JSON with
    sorted keys: the scheme of the versions already written."""
    a = xs.model_version(date(2026, 10, 1))
    assert a == xs.model_version(date(2026, 10, 1)) != xs.model_version(date(2026, 9, 1))
    spec = {"method": xs.METHOD, "params": xs.MODEL_PARAMS, "top_n": 3, "as_of_month": "2026-10-01"}
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
    assert a == f"{xs.METHOD}-{digest[:12]}"
