"""End to end: a generated portfolio, built by the loader and dbt, scored by the pipeline.

The portfolio has 1,000 customers over 36 months to 2026-10 (seed 42). Not 300: the demo's
churn is largely random (a monthly hazard of 0.4-2 % that depends on size, labour intensity and
legacy contracts, non-renewals at contract anniversaries, and for about two thirds of monthly
billed churners a cut in seats or hours one to three months before), so even a perfect model
ranks 3-month churners only modestly, and with 300 customers the 12-month holdout holds about
20 churned customers: the AUC's sampling error (about +-0.06) is close to the model's edge over
the naive baseline. 1,000 customers give about 60-80 churned customers in the holdout.

Every figure asserted is recomputed here from the marts with SQL, not read back from the
scoring code: row counts and grain, each customer's tenure and margin, DERL bounds, the owned
offerings a recommendation must avoid, ARPO; each churn driver's feature value and its
coefficient x standardised value, and that a customer's drivers add up to the logit of its
stored churn probability. The model-quality assertions compare the holdout
AUC with the naive baseline's and the cross-sell hit rate with popularity's, as measured by the
pipeline on held-out months.

The last tests score a copy of the warehouse for more months: 2026-09 next to 2026-10 (one
snapshot per month, the 2026-10 rows untouched), 2026-11 (after the data: no rows, a note) and a
full refresh (only the month written).
"""

from __future__ import annotations

import math
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.demo.generator import generate
from orchestration.scoring import features, pipeline
from orchestration.warehouse.connection import connect_warehouse
from tests.conftest import build_warehouse

pytestmark = pytest.mark.slow

CUSTOMERS = 1000
MONTHS = 36
END_MONTH = "2026-10"
SEED = 42
LATEST = date(2026, 10, 1)
PREVIOUS = date(2026, 9, 1)
AFTER_THE_DATA = date(2026, 11, 1)
MARTS = (
    "portfolio_concentration",
    "mrr_movements",
    "customer_classification",
    "customer_concentration",
    "customer_cross_sell",
    "customer_offering_matrix",
    "offering_penetration",
    "churn_risk_features",
    "customers",
)
TOLERANCE = 0.011  # money columns are rounded to cents when written


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The built and scored warehouse, and the pipeline's metadata by table."""
    root = tmp_path_factory.mktemp("scoring_e2e")
    generate(
        root / "landing",
        customers=CUSTOMERS,
        months=MONTHS,
        end_month=END_MONTH,
        seed=SEED,
        progress=False,
    )
    warehouse = root / "portfolio.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        # Build only the marts the models read, with the tests dbt can run on them.
        patch.setenv("DBT_INDIRECT_SELECTION", "buildable")
        build_warehouse(root / "landing", warehouse, select=" ".join(f"+{mart}" for mart in MARTS))
    with connect_warehouse(warehouse) as con:
        meta = {table: writer(con) for table, writer in pipeline.WRITERS.items()}
    return warehouse, meta


@pytest.fixture(scope="module")
def con(scored: tuple[Path, dict]):
    with duckdb.connect(str(scored[0]), read_only=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def meta(scored: tuple[Path, dict]) -> dict:
    return scored[1]


def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def test_scoring_tables_exist_with_their_columns(con):
    for table, types in pipeline.TABLE_TYPES.items():
        columns = [
            name
            for (name,) in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'scoring' and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
        ]
        assert columns == list(types), table
        assert scalar(con, f"select count(*) from scoring.{table}") > 0, table


# --- retention curves --------------------------------------------------------------------------


def test_retention_curves_grain_and_shape(con):
    segments = con.execute(
        "select segment, count(*), count(distinct tenure_month), min(tenure_month), "
        "max(tenure_month) from scoring.retention_curves group by 1 order by 1"
    ).fetchall()
    assert [s[0] for s in segments] == ["A", "B", "C", "D", "all"]
    assert all(s[1:] == (36, 36, 1, 36) for s in segments)
    # Survival falls with tenure; r_t = S(t) / S(t - 1); S(1) = r_1. (With alpha and beta in the
    # millions, as when churn hardly varies between customers, S(t) from log-beta functions
    # carries relative errors of about 1e-8.)
    bad = scalar(
        con,
        """
        select count(*) from (
            select
                *,
                lag(survival) over (partition by segment order by tenure_month) as previous
            from scoring.retention_curves
        )
        where not (
            survival > 0 and survival < 1
            and (previous is null and abs(survival - retention_rate) < 1e-6
                 or survival < previous and abs(survival / previous - retention_rate) < 1e-6)
        )
        """,
    )
    assert bad == 0


def test_the_all_segment_counts_every_lifetime_seen_since_the_invoice_data_began(con, meta):
    """Customers whose first MRR spell reaches the first as_of_month or later, and its churns;
    and the fitted mean monthly churn probability against the churns per customer-month at risk
    observed since then (the two agree closely when churn varies little between customers)."""
    first_month = scalar(con, "select min(as_of_month) from marts.customer_classification")
    n_customers, n_churned, months_at_risk = con.execute(
        """
        with lifetimes as (
            select
                customer_id,
                min(first_mrr_month) as first_mrr_month,
                min(as_of_month) filter (where movement = 'churn') as first_churn_month
            from marts.mrr_movements
            group by 1
        ),

        seen as (
            select
                *,
                greatest(first_mrr_month, $first) as observed_from,
                coalesce(first_churn_month, $latest + interval 1 month) as observed_until
            from lifetimes
            where coalesce(first_churn_month, $latest + interval 1 month) > $first
        )

        select
            count(*),
            count(first_churn_month),
            sum(date_diff('month', observed_from, observed_until))
        from seen
        """,
        {"first": first_month, "latest": LATEST},
    ).fetchone()
    fit = meta["retention_curves"]["segments"]["all"]
    assert (fit["n_customers"], fit["n_churned"]) == (n_customers, n_churned)
    row = con.execute(
        "select alpha, beta, n_customers, n_churned from scoring.retention_curves "
        "where segment = 'all' and tenure_month = 1"
    ).fetchone()
    assert row[2:] == (n_customers, n_churned)
    empirical = n_churned / months_at_risk
    assert row[0] / (row[0] + row[1]) == pytest.approx(empirical, rel=0.2)


# --- lifetime value ----------------------------------------------------------------------------


def test_lifetime_value_rows_are_the_customers_with_mrr_now(con):
    expected = {
        customer
        for (customer,) in con.execute(
            """
            select m.customer_id
            from marts.mrr_movements as m
            inner join marts.customer_classification as c
                on c.customer_id = m.customer_id and c.as_of_month = m.as_of_month
            where m.as_of_month = ? and m.mrr > 0
            """,
            [LATEST],
        ).fetchall()
    }
    got = [
        c
        for (c,) in con.execute(
            "select customer_id from scoring.customer_lifetime_value"
        ).fetchall()
    ]
    assert len(got) == len(set(got)) and set(got) == expected


def test_lifetime_value_is_derl_times_a_twelfth_of_the_ttm_margin(con):
    d = 1.1 ** (1 / 12) - 1
    rows = con.execute(
        """
        with spells as (
            select customer_id, max(as_of_month) as spell_start_month
            from marts.mrr_movements
            where movement in ('new', 'reactivation') and as_of_month <= $latest
            group by 1
        )

        select
            v.customer_id,
            v.tenure_months,
            date_diff('month', s.spell_start_month, $latest),
            v.monthly_gross_margin,
            c.gross_margin_ttm / 12,
            v.derl_months,
            v.residual_lifetime_value,
            v.alpha,
            v.beta,
            v.segment,
            c.classification,
            v.parameters_segment
        from scoring.customer_lifetime_value as v
        inner join spells as s on s.customer_id = v.customer_id
        inner join marts.customer_classification as c
            on c.customer_id = v.customer_id and c.as_of_month = $latest
        """,
        {"latest": LATEST},
    ).fetchall()
    assert rows
    fits = {
        segment: (alpha, beta)
        for segment, alpha, beta in con.execute(
            "select distinct segment, alpha, beta from scoring.retention_curves"
        ).fetchall()
    }
    for (
        customer,
        tenure,
        tenure_sql,
        margin,
        margin_sql,
        derl,
        value,
        alpha,
        beta,
        segment,
        klass,
        used,
    ) in rows:
        assert tenure == tenure_sql, customer
        assert float(margin) == pytest.approx(float(margin_sql), abs=0.0051), customer
        assert float(value) == pytest.approx(derl * float(margin_sql), abs=TOLERANCE), customer
        assert segment == klass
        assert used == (segment if segment in fits else "all")
        assert (alpha, beta) == fits[used]
        r_next = (beta + tenure) / (alpha + beta + tenure)  # retention at the next renewal
        assert r_next * (1 - 1e-9) <= derl <= r_next * (1 + d) / d
    # The bound is informative: DERL is the discounted expected number of further months.
    assert max(r[5] for r in rows) < (1 + d) / d


# --- churn risk --------------------------------------------------------------------------------


def test_churn_scores_cover_the_customers_with_mrr_now(con):
    rows = con.execute(
        """
        select
            count(*),
            count(distinct customer_id),
            min(churn_probability_3m),
            max(churn_probability_3m),
            count(distinct model_version),
            count(distinct holdout_auc),
            min(trained_through_month),
            max(trained_through_month),
            min(as_of_month)
        from scoring.churn_risk_scores
        """
    ).fetchone()
    expected = scalar(
        con,
        f"""
        select count(*)
        from marts.mrr_movements as m
        inner join marts.customer_classification as c
            on c.customer_id = m.customer_id and c.as_of_month = m.as_of_month
        where m.as_of_month = date '{LATEST}' and m.mrr > 0
        """,
    )
    assert rows[0] == rows[1] == expected
    assert 0 < rows[2] <= rows[3] < 1
    assert rows[4:6] == (1, 1)
    assert rows[6] == rows[7] == date(2026, 7, 1)
    assert rows[8] == LATEST
    bands = dict(
        con.execute(
            "select risk_band, count(*) from scoring.churn_risk_scores group by 1"
        ).fetchall()
    )
    assert set(bands) <= {"low", "medium", "high"} and len(bands) >= 2


def test_the_churn_panel_rows_and_labels_come_from_the_marts(con):
    """The panel read through 2026-07 (the last month trained on in the scoring): a row per
    classified customer with MRR per month up to then, labelled with a churn movement in the
    three months after the row and no later than 2026-07."""
    through = date(2026, 7, 1)
    panel = features.churn_panel(con, through)
    got = {
        (row.as_of_month.date(), row.customer_id): (row.churned_within_3m, row.is_label_observed)
        for row in panel.itertuples(index=False)
    }
    rows = con.execute(
        """
        select
            m.as_of_month,
            m.customer_id,
            exists (
                select 1
                from marts.mrr_movements as later
                where
                    later.customer_id = m.customer_id
                    and later.movement = 'churn'
                    and later.as_of_month > m.as_of_month
                    and later.as_of_month <= m.as_of_month + interval 3 month
                    and later.as_of_month <= $through
            ),
            m.as_of_month + interval 3 month <= $through
        from marts.mrr_movements as m
        inner join marts.customer_classification as c
            on c.customer_id = m.customer_id and c.as_of_month = m.as_of_month
        where m.mrr > 0 and m.as_of_month <= $through
        """,
        {"through": through},
    ).fetchall()
    expected = {(month, customer): (churn, observed) for month, customer, churn, observed in rows}
    assert len(got) == len(panel) and got == expected
    # Not a vacuous comparison: many churns, and labels both observed and not.
    assert sum(churn for churn, _ in expected.values()) > 100
    assert {observed for _, observed in expected.values()} == {True, False}


def test_churn_model_beats_the_naive_baseline_on_the_holdout(con, meta):
    churn = meta["churn_risk_scores"]
    assert (churn["test_start"], churn["test_end"]) == ("2025-10-01", "2026-07-01")
    assert churn["train_end"] == "2025-07-01"
    # Enough held-out churners for the comparison to mean something.
    assert churn["n_test_churned_customers"] >= 40
    auc, baseline = churn["holdout_auc"], churn["baseline_auc"]
    assert auc is not None and baseline is not None
    assert auc > baseline, f"holdout AUC {auc:.3f} <= segment baseline {baseline:.3f}"
    assert churn["beats_baseline"] is True
    stored = con.execute(
        "select distinct holdout_auc, baseline_auc from scoring.churn_risk_scores"
    ).fetchall()
    assert stored == [(pytest.approx(auc), pytest.approx(baseline))]


# --- churn-risk drivers -----------------------------------------------------------------------


def logit(probability: float) -> float:
    return math.log(probability) - math.log1p(-probability)


def test_every_scored_customer_has_three_drivers_adding_up_to_its_stored_probability(con):
    """Three rows ranked 1..3 per customer of scoring.churn_risk_scores, and for each: the
    three contributions + other_features_contribution + baseline_log_odds = logit of the
    churn_probability_3m stored by the scores' writer (its own fit of the model)."""
    rows = con.execute(
        """
        select
            s.customer_id,
            s.churn_probability_3m,
            list(d.driver_rank order by d.driver_rank),
            list(d.contribution order by d.driver_rank),
            list(distinct d.other_features_contribution),
            list(distinct d.baseline_log_odds),
            list(d.direction order by d.driver_rank)
        from scoring.churn_risk_scores as s
        left join scoring.churn_risk_drivers as d
            on d.as_of_month = s.as_of_month and d.customer_id = s.customer_id
        group by all
        """
    ).fetchall()
    assert len(rows) == customers_with_mrr(con, LATEST)
    (baselines,) = con.execute(
        "select list(distinct baseline_log_odds) from scoring.churn_risk_drivers"
    ).fetchone()
    assert len(baselines) == 1
    for customer, probability, ranks, contributions, other, baseline, directions in rows:
        assert ranks == [1, 2, 3], customer
        assert len(other) == 1 and baseline == baselines, customer
        total = sum(contributions) + other[0] + baseline[0]
        assert total == pytest.approx(logit(probability), abs=1e-9), customer
        assert contributions == sorted(contributions, reverse=True), customer
        assert directions == [
            "raises risk" if value > 0 else "lowers risk" for value in contributions
        ], customer
    # The riskiest customers sit above the average training customer, so something raises
    # their risk: their first driver does, and their three drivers add to a positive push.
    riskiest = sorted(rows, key=lambda row: row[1], reverse=True)[:10]
    for customer, probability, _, contributions, _, baseline, directions in riskiest:
        assert logit(probability) > baseline[0], customer
        assert directions[0] == "raises risk" and sum(contributions) > 0, customer


def test_numeric_contributions_are_a_coefficient_times_the_standardised_value(con):
    """For each numeric feature, contribution / z is the same number (the coefficient) on every
    driver row, z standardised with the mean and population standard deviation of the training
    rows (marts.churn_risk_features up to trained_through_month), computed here in SQL; and
    feature_value is the customer's value in the mart."""
    (trained_through,) = con.execute(
        "select distinct trained_through_month from scoring.churn_risk_scores"
    ).fetchone()
    features_shown = [
        feature
        for (feature,) in con.execute(
            "select distinct feature from scoring.churn_risk_drivers "
            "where feature <> 'classification' order by 1"
        ).fetchall()
    ]
    assert len(features_shown) >= 5  # many features appear as drivers
    for feature in features_shown:
        mean, sd = con.execute(
            f"select avg({feature}), stddev_pop({feature}) from marts.churn_risk_features "
            "where as_of_month <= ?",
            [trained_through],
        ).fetchone()
        rows = con.execute(
            f"""
            select d.feature_value, d.contribution, f.{feature}
            from scoring.churn_risk_drivers as d
            inner join marts.churn_risk_features as f
                on f.as_of_month = d.as_of_month and f.customer_id = d.customer_id
            where d.feature = ?
            """,
            [feature],
        ).fetchall()
        ratios = []
        for value, contribution, mart_value in rows:
            assert value == pytest.approx(float(mart_value), abs=1e-12), feature
            z = (float(mart_value) - mean) / sd
            if abs(z) > 1e-3:
                ratios.append(contribution / z)
        assert ratios, feature
        assert max(ratios) - min(ratios) <= 1e-6 * max(1.0, abs(ratios[0])), feature


# --- cross-sell --------------------------------------------------------------------------------


def test_recommendations_are_unowned_current_offerings_ranked_top_three(con):
    bad = con.execute(
        """
        select r.customer_id, r.offering_id
        from scoring.cross_sell_recommendations as r
        left join marts.customer_offering_matrix as m
            on
                m.as_of_month = r.as_of_month
                and m.customer_id = r.customer_id
                and m.offering_id = r.offering_id
        where m.owns_offering is distinct from false or m.lifecycle <> 'current'
        """
    ).fetchall()
    assert bad == []
    ranks = con.execute(
        """
        select customer_id, list(rank order by rank), list(propensity order by rank)
        from scoring.cross_sell_recommendations
        group by 1
        """
    ).fetchall()
    for customer, rank, propensity in ranks:
        assert rank == list(range(1, len(rank) + 1)) and len(rank) <= 3, customer
        assert propensity == sorted(propensity, reverse=True), customer
    # Every active customer lacking a current offering that someone owns gets recommendations.
    expected = scalar(
        con,
        f"""
        select count(distinct m.customer_id)
        from marts.customer_offering_matrix as m
        inner join marts.offering_penetration as p
            on p.as_of_month = m.as_of_month and p.offering_id = m.offering_id
        where m.as_of_month = date '{LATEST}' and not m.owns_offering
            and m.lifecycle = 'current' and p.owning_customers > 0
        """,
    )
    assert len(ranks) == expected


def test_expected_revenue_is_propensity_times_arpo(con):
    worst = scalar(
        con,
        """
        select max(abs(r.expected_revenue - r.propensity * p.avg_revenue_per_owner))
        from scoring.cross_sell_recommendations as r
        inner join marts.offering_penetration as p
            on p.as_of_month = r.as_of_month and p.offering_id = r.offering_id
        """,
    )
    assert float(worst) <= 0.005 + 1e-9


def test_cross_sell_hit_rate_matches_or_beats_popularity(meta):
    cross = meta["cross_sell_recommendations"]
    assert cross["evaluation_before_month"] == "2026-04-01"
    model, popularity = cross["evaluation"]["model"], cross["evaluation"]["popularity"]
    assert model["customers"] == popularity["customers"] > 500
    assert cross["hit_rate"] == pytest.approx(model["customers_with_hit"] / model["customers"])
    assert cross["hit_rate"] >= cross["popularity_hit_rate"]


# --- history: one snapshot per month ---------------------------------------------------------


def customers_with_mrr(con: duckdb.DuckDBPyConnection, month: date) -> int:
    """Customers with MRR at ``month`` that are classified then (active)."""
    return scalar(
        con,
        f"""
        select count(*)
        from marts.mrr_movements as m
        inner join marts.customer_classification as c
            on c.customer_id = m.customer_id and c.as_of_month = m.as_of_month
        where m.as_of_month = date '{month}' and m.mrr > 0
        """,
    )


def customers_lacking_an_owned_current_offering(con: duckdb.DuckDBPyConnection, month: date):
    return scalar(
        con,
        f"""
        select count(distinct m.customer_id)
        from marts.customer_offering_matrix as m
        inner join marts.offering_penetration as p
            on p.as_of_month = m.as_of_month and p.offering_id = m.offering_id
        where m.as_of_month = date '{month}' and not m.owns_offering
            and m.lifecycle = 'current' and p.owning_customers > 0
        """,
    )


def snapshot(con: duckdb.DuckDBPyConnection, table: str, month: date) -> list[tuple]:
    return con.execute(
        f"select * from scoring.{table} where as_of_month = ? order by all", [month]
    ).fetchall()


@pytest.fixture(scope="module")
def history(scored: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory):
    """A copy of the scored warehouse, scored again for 2026-09 and then 2026-11."""
    copy = tmp_path_factory.mktemp("scoring_history") / "portfolio.duckdb"
    shutil.copyfile(scored[0], copy)
    with connect_warehouse(copy) as con:
        previous = {table: writer(con, PREVIOUS) for table, writer in pipeline.WRITERS.items()}
        after = {table: writer(con, AFTER_THE_DATA) for table, writer in pipeline.WRITERS.items()}
    return copy, previous, after


def test_the_latest_month_is_capped_at_the_end_of_the_data(con):
    assert features.latest_as_of_month(con) == LATEST
    assert features.latest_as_of_month(con, up_to=date(2027, 1, 1)) == LATEST
    assert features.latest_as_of_month(con, up_to=PREVIOUS) == PREVIOUS


def test_a_second_month_is_kept_next_to_the_first(con, history):
    copy, previous, _ = history
    expected = {
        "customer_lifetime_value": customers_with_mrr,
        "churn_risk_scores": customers_with_mrr,
        "churn_risk_drivers": lambda con, month: 3 * customers_with_mrr(con, month),
    }
    with duckdb.connect(str(copy), read_only=True) as scored_twice:
        for table in pipeline.WRITERS:
            counts = dict(
                scored_twice.execute(
                    f"select as_of_month, count(*) from scoring.{table} group by 1"
                ).fetchall()
            )
            assert set(counts) == {PREVIOUS, LATEST}, table
            assert previous[table]["row_count"] == counts[PREVIOUS] > 0, table
            assert previous[table]["months_kept"] == 2, table
            # The 2026-10 snapshot is the one first written, row for row.
            assert snapshot(scored_twice, table, LATEST) == snapshot(con, table, LATEST), table
            if table in expected:
                for month in (PREVIOUS, LATEST):
                    assert counts[month] == expected[table](con, month), (table, month)
        assert dict(
            scored_twice.execute(
                "select as_of_month, count(distinct segment) * 36 = count(*) "
                "from scoring.retention_curves group by 1"
            ).fetchall()
        ) == {PREVIOUS: True, LATEST: True}
        recommended = dict(
            scored_twice.execute(
                "select as_of_month, count(distinct customer_id) "
                "from scoring.cross_sell_recommendations group by 1"
            ).fetchall()
        )
        assert recommended == {
            month: customers_lacking_an_owned_current_offering(con, month)
            for month in (PREVIOUS, LATEST)
        }
        # Customers can be followed from month to month: one row per customer and month.
        assert scalar(
            scored_twice,
            "select count(*) = count(distinct (as_of_month, customer_id)) "
            "from scoring.churn_risk_scores",
        )


def test_a_month_after_the_data_is_written_empty_with_a_note(history):
    copy, _, after = history
    for table, meta in after.items():
        assert meta["as_of_month"] == "2026-11-01", table
        assert meta["row_count"] == 0, table
        assert meta["note"] == (
            "no active customer at 2026-11: the marts' last month with active customers is 2026-10"
        ), table
        assert meta["months_kept"] == 2, table
    with duckdb.connect(str(copy), read_only=True) as scored:
        for table in pipeline.WRITERS:
            months = scalar(
                scored,
                f"select list(distinct as_of_month order by as_of_month) from scoring.{table}",
            )
            assert months == [PREVIOUS, LATEST], table


def test_a_full_refresh_keeps_only_the_month_written(con, history, tmp_path):
    copy = tmp_path / "portfolio.duckdb"
    shutil.copyfile(history[0], copy)
    with connect_warehouse(copy) as refreshed:
        meta = pipeline.write_churn_risk_scores(refreshed, LATEST, keep_history=False)
        assert meta["months_kept"] == 1
        assert meta["row_count"] == customers_with_mrr(con, LATEST)
        assert scalar(
            refreshed, "select list(distinct as_of_month) from scoring.churn_risk_scores"
        ) == [LATEST]
        assert snapshot(refreshed, "churn_risk_scores", LATEST) == snapshot(
            con, "churn_risk_scores", LATEST
        )
