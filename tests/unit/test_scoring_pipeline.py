"""Tests for the writers of the scoring tables (orchestration.scoring.pipeline).

``write_snapshot`` on frames written by hand: one snapshot per as_of_month, a month replaced as
a whole and in one transaction, a full refresh, an older version's table. Then the five writers
on the hand-written marts of tests/unit/scoring_marts.py: two months kept side by side, and
months without marts rows written empty with a note instead of failing. Expected row counts come
from the hand-written data (who has MRR, who owns what), not from the scoring code.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import duckdb
import pandas as pd
import pytest

from orchestration.months import month_add
from orchestration.scoring import pipeline
from tests.unit.scoring_marts import CLASSES, MRR, OFFERINGS, OWNS, create_marts, mrr_at

SEPTEMBER = date(2025, 9, 1)
DECEMBER = date(2025, 12, 1)  # the marts' last month
AFTER_THE_DATA = date(2026, 10, 1)


def scores(month: date, *rows: tuple[str, float]) -> pd.DataFrame:
    """A churn_risk_scores frame of ``month``: (customer_id, probability) rows."""
    return pd.DataFrame(
        [
            {
                "as_of_month": month,
                "customer_id": customer,
                "customer_name": f"{customer} name",
                "churn_probability_3m": probability,
                "risk_band": "high" if probability >= 0.5 else "low",
                "model_version": "v1",
                "holdout_auc": 0.7,
                "baseline_auc": 0.6,
                "trained_through_month": date(2025, 6, 1),
            }
            for customer, probability in rows
        ],
        columns=list(pipeline.TABLE_TYPES["churn_risk_scores"]),
    )


def table_rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(f"select * from scoring.{table} order by all").fetchall()


def probabilities(con: duckdb.DuckDBPyConnection) -> list[tuple[date, str, float]]:
    """(as_of_month, customer_id, churn_probability_3m) of scoring.churn_risk_scores, sorted."""
    return con.execute(
        "select as_of_month, customer_id, churn_probability_3m "
        "from scoring.churn_risk_scores order by all"
    ).fetchall()


def month_counts(con: duckdb.DuckDBPyConnection, table: str) -> dict[date, int]:
    return dict(
        con.execute(f"select as_of_month, count(*) from scoring.{table} group by 1").fetchall()
    )


@pytest.fixture
def empty() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.fixture
def marts() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    create_marts(connection)
    yield connection
    connection.close()


# --- write_snapshot -----------------------------------------------------------------------------


def test_a_missing_table_is_created_with_the_declared_types(empty):
    written = pipeline.write_snapshot(
        empty, "churn_risk_scores", scores(SEPTEMBER, ("c1", 0.25)), SEPTEMBER
    )
    assert (written.row_count, written.months_kept, written.table_recreated) == (1, 1, "")
    columns = empty.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'scoring' and table_name = 'churn_risk_scores' "
        "order by ordinal_position"
    ).fetchall()
    assert columns == [
        ("as_of_month", "DATE"),
        ("customer_id", "VARCHAR"),
        ("customer_name", "VARCHAR"),
        ("churn_probability_3m", "DOUBLE"),
        ("risk_band", "VARCHAR"),
        ("model_version", "VARCHAR"),
        ("holdout_auc", "DOUBLE"),
        ("baseline_auc", "DOUBLE"),
        ("trained_through_month", "DATE"),
    ]
    assert table_rows(empty, "churn_risk_scores") == [
        (SEPTEMBER, "c1", "c1 name", 0.25, "low", "v1", 0.7, 0.6, date(2025, 6, 1))
    ]


def test_each_month_keeps_its_snapshot_and_a_rewrite_replaces_only_its_month(empty):
    write = pipeline.write_snapshot
    write(empty, "churn_risk_scores", scores(SEPTEMBER, ("c1", 0.25), ("c2", 0.5)), SEPTEMBER)
    written = write(empty, "churn_risk_scores", scores(DECEMBER, ("c1", 0.75)), DECEMBER)
    assert (written.row_count, written.months_kept) == (1, 2)
    assert month_counts(empty, "churn_risk_scores") == {SEPTEMBER: 2, DECEMBER: 1}

    # September again, now with one other customer: December is untouched.
    written = write(empty, "churn_risk_scores", scores(SEPTEMBER, ("c3", 0.125)), SEPTEMBER)
    assert (written.row_count, written.months_kept) == (1, 2)
    assert probabilities(empty) == [
        (SEPTEMBER, "c3", 0.125),
        (DECEMBER, "c1", 0.75),
    ]


def test_without_history_the_table_keeps_only_the_month_written(empty):
    write = pipeline.write_snapshot
    write(empty, "churn_risk_scores", scores(SEPTEMBER, ("c1", 0.25)), SEPTEMBER)
    write(empty, "churn_risk_scores", scores(DECEMBER, ("c1", 0.75)), DECEMBER)
    written = write(
        empty,
        "churn_risk_scores",
        scores(SEPTEMBER, ("c2", 0.5)),
        SEPTEMBER,
        keep_history=False,
    )
    assert (written.row_count, written.months_kept) == (1, 1)
    assert probabilities(empty) == [(SEPTEMBER, "c2", 0.5)]
    # An empty month without history leaves an empty table.
    empty_frame = scores(DECEMBER)
    written = write(empty, "churn_risk_scores", empty_frame, DECEMBER, keep_history=False)
    assert (written.row_count, written.months_kept) == (0, 0)
    assert table_rows(empty, "churn_risk_scores") == []


def test_a_failed_write_leaves_the_month_as_it_was(empty):
    """The insert fails after the delete (a value too large for decimal(18, 2)): the rollback
    brings the month's rows back."""
    frame = pd.DataFrame(
        {
            "as_of_month": [SEPTEMBER],
            "customer_id": ["c1"],
            "customer_name": ["c1 name"],
            "offering_id": ["backup"],
            "rank": [1],
            "propensity": [0.5],
            "expected_revenue": [600.0],
            "model_version": ["v1"],
        }
    )
    pipeline.write_snapshot(empty, "cross_sell_recommendations", frame, SEPTEMBER)
    before = table_rows(empty, "cross_sell_recommendations")
    assert before == [(SEPTEMBER, "c1", "c1 name", "backup", 1, 0.5, Decimal("600.00"), "v1")]
    too_large = frame.assign(customer_id="c2", expected_revenue=1e20)
    with pytest.raises(duckdb.Error):
        pipeline.write_snapshot(empty, "cross_sell_recommendations", too_large, SEPTEMBER)
    assert table_rows(empty, "cross_sell_recommendations") == before
    with pytest.raises(duckdb.Error):
        pipeline.write_snapshot(
            empty, "cross_sell_recommendations", too_large, SEPTEMBER, keep_history=False
        )
    assert table_rows(empty, "cross_sell_recommendations") == before
    # The connection is usable again: no transaction was left open.
    empty.execute("begin transaction")
    empty.execute("rollback")


def test_an_older_versions_table_is_recreated_and_a_current_one_kept(empty):
    """A table of one snapshot without the model columns of today (an older version) is
    replaced; one with today's columns keeps its months."""
    empty.execute("create schema scoring")
    empty.execute(
        "create table scoring.churn_risk_scores as "
        "select date '2025-06-01' as as_of_month, 'c9' as customer_id, 0.5 as churn_probability_3m"
    )
    written = pipeline.write_snapshot(
        empty, "churn_risk_scores", scores(SEPTEMBER, ("c1", 0.25)), SEPTEMBER
    )
    assert written.table_recreated.startswith("scoring.churn_risk_scores had the columns ")
    assert "churn_probability_3m decimal(2,1)" in written.table_recreated
    assert (written.row_count, written.months_kept) == (1, 1)
    assert probabilities(empty) == [(SEPTEMBER, "c1", 0.25)]
    written = pipeline.write_snapshot(
        empty, "churn_risk_scores", scores(DECEMBER, ("c1", 0.75)), DECEMBER
    )
    assert (written.table_recreated, written.months_kept) == ("", 2)


def previous_versions_table(con: duckdb.DuckDBPyConnection) -> None:
    """scoring.churn_risk_scores as the version before customer names wrote it: today's
    columns but ``customer_name``, with a snapshot of June (c1, c2) and one of September (c1)."""
    types = {k: v for k, v in pipeline.TABLE_TYPES["churn_risk_scores"].items()}
    del types["customer_name"]
    con.execute("create schema scoring")
    columns = ", ".join(f"{name} {sql_type}" for name, sql_type in types.items())
    con.execute(f"create table scoring.churn_risk_scores ({columns})")
    con.execute(
        "insert into scoring.churn_risk_scores values "
        "('2025-06-01', 'c1', 0.5, 'high', 'v0', 0.7, 0.6, '2025-03-01'), "
        "('2025-06-01', 'c2', 0.125, 'low', 'v0', 0.7, 0.6, '2025-03-01'), "
        "('2025-09-01', 'c1', 0.25, 'low', 'v0', 0.7, 0.6, '2025-06-01')"
    )


def test_the_previous_versions_table_is_carried_over_with_names_added(empty):
    previous_versions_table(empty)
    empty.execute("create schema marts")
    empty.execute(
        "create table marts.customers as select * from (values ('c1', 'Acme'), ('c3', 'Other')) "
        "as customers (customer_id, customer_name)"
    )
    written = pipeline.write_snapshot(
        empty, "churn_risk_scores", scores(DECEMBER, ("c3", 0.75)), DECEMBER
    )
    assert "carried over with its snapshots, customer_name added" in written.table_recreated
    assert (written.row_count, written.months_kept) == (1, 3)
    assert empty.execute(
        "select as_of_month, customer_id, customer_name, churn_probability_3m, model_version "
        "from scoring.churn_risk_scores order by all"
    ).fetchall() == [
        (date(2025, 6, 1), "c1", "Acme", 0.5, "v0"),
        # c2 is not in marts.customers: kept, unnamed.
        (date(2025, 6, 1), "c2", None, 0.125, "v0"),
        (SEPTEMBER, "c1", "Acme", 0.25, "v0"),
        (DECEMBER, "c3", "c3 name", 0.75, "v1"),
    ]
    assert [
        name
        for (name,) in empty.execute(
            "select table_name from information_schema.tables where table_schema = 'scoring'"
        ).fetchall()
    ] == ["churn_risk_scores"]
    # Written again: the table is this version's now.
    written = pipeline.write_snapshot(
        empty, "churn_risk_scores", scores(DECEMBER, ("c3", 0.5)), DECEMBER
    )
    assert (written.table_recreated, written.months_kept) == ("", 3)


def test_without_the_customers_mart_the_carried_rows_have_no_name(empty):
    previous_versions_table(empty)
    written = pipeline.write_snapshot(
        empty, "churn_risk_scores", scores(DECEMBER, ("c3", 0.75)), DECEMBER
    )
    assert written.months_kept == 3
    assert empty.execute(
        "select count(*), count(customer_name) from scoring.churn_risk_scores"
    ).fetchone() == (4, 1)


def test_a_column_of_another_type_counts_as_another_shape(empty):
    types = pipeline.TABLE_TYPES["churn_risk_scores"]
    columns = ", ".join(
        f"{name} {'float' if name == 'churn_probability_3m' else sql_type}"
        for name, sql_type in types.items()
    )
    empty.execute("create schema scoring")
    empty.execute(f"create table scoring.churn_risk_scores ({columns})")
    written = pipeline.write_snapshot(
        empty, "churn_risk_scores", scores(SEPTEMBER, ("c1", 0.25)), SEPTEMBER
    )
    assert "churn_probability_3m float" in written.table_recreated
    (sql_type,) = empty.execute(
        "select data_type from information_schema.columns "
        "where table_name = 'churn_risk_scores' and column_name = 'churn_probability_3m'"
    ).fetchone()
    assert sql_type == "DOUBLE"


def test_a_frame_of_another_month_is_refused(empty):
    with pytest.raises(ValueError, match="not only 2025-12-01"):
        pipeline.write_snapshot(
            empty, "churn_risk_scores", scores(SEPTEMBER, ("c1", 0.25)), DECEMBER
        )


# --- the writers on hand-written marts -----------------------------------------------------------


def with_mrr(month: date) -> set[str]:
    """Customers with MRR at ``month`` in the hand-written series."""
    return {customer for customer in MRR if mrr_at(customer, month) > 0}


def first_churn(customer: str) -> date | None:
    """The first month without MRR after the customer's first month with MRR."""
    by_month = MRR[customer]
    month = min(by_month)
    while month <= DECEMBER:
        if month not in by_month:
            return month
        month = month_add(month, 1)
    return None


def churned_segments(month: date) -> set[str]:
    """Segments (classes) of the customers churned by ``month``, plus ``all``: those fitted."""
    churned = {c for c in MRR if first_churn(c) is not None and first_churn(c) <= month}
    return {CLASSES[customer] for customer in churned} | {"all"}


def unowned_current(customers: set[str]) -> set[tuple[str, str]]:
    """(customer, offering) pairs of current offerings that the customer lacks."""
    current = {o for o, (lifecycle, _) in OFFERINGS.items() if lifecycle == "current"}
    return {(c, o) for c in customers for o in current - OWNS[c]}


def active_at(month: date) -> set[str]:
    """Customers classified at ``month``: MRR in its trailing twelve months, or no_mrr."""
    window = pd.date_range(pd.Timestamp(month) - pd.DateOffset(months=11), month, freq="MS").date
    return {c for c in CLASSES if c == "no_mrr" or any(mrr_at(c, m) for m in window)}


def run_writers(con: duckdb.DuckDBPyConnection, month: date | None, **kwargs) -> dict:
    return {table: writer(con, month, **kwargs) for table, writer in pipeline.WRITERS.items()}


def expected_counts(month: date) -> dict[str, int]:
    return {
        "retention_curves": 36 * len(churned_segments(month)),
        "customer_lifetime_value": len(with_mrr(month)),
        "churn_risk_scores": len(with_mrr(month)),
        "churn_risk_drivers": 3 * len(with_mrr(month)),  # three drivers per scored customer
        "cross_sell_recommendations": len(unowned_current(active_at(month))),
    }


def test_the_hand_data_gives_the_expected_figures():
    """The helpers above, on the series of scoring_marts.py, read by eye."""
    assert with_mrr(SEPTEMBER) == {"steady", "back", "late"}
    assert with_mrr(DECEMBER) == {"steady", "back"}
    assert churned_segments(SEPTEMBER) == {"C", "D", "all"}  # back 2024-08, shrinks 2025-02
    assert churned_segments(DECEMBER) == {"B", "C", "D", "all"}  # late 2025-11
    assert first_churn("back") == date(2024, 8, 1) and first_churn("steady") is None
    assert active_at(DECEMBER) == {"steady", "shrinks", "back", "late", "no_mrr"}
    assert len(unowned_current(active_at(DECEMBER))) == 5


def test_writers_keep_one_snapshot_per_month(marts):
    first = run_writers(marts, SEPTEMBER)
    second = run_writers(marts, DECEMBER)
    for table in pipeline.WRITERS:
        assert first[table]["row_count"] == expected_counts(SEPTEMBER)[table], table
        assert second[table]["row_count"] == expected_counts(DECEMBER)[table], table
        assert second[table]["months_kept"] == 2, table
        assert month_counts(marts, table) == {
            SEPTEMBER: expected_counts(SEPTEMBER)[table],
            DECEMBER: expected_counts(DECEMBER)[table],
        }, table
        assert second[table]["note"] == "", table
    customers = {
        month: {
            c
            for (c,) in marts.execute(
                "select customer_id from scoring.churn_risk_scores where as_of_month = ?", [month]
            ).fetchall()
        }
        for month in (SEPTEMBER, DECEMBER)
    }
    assert customers == {SEPTEMBER: with_mrr(SEPTEMBER), DECEMBER: with_mrr(DECEMBER)}
    pairs = set(
        marts.execute(
            "select customer_id, offering_id from scoring.cross_sell_recommendations "
            "where as_of_month = ?",
            [DECEMBER],
        ).fetchall()
    )
    assert pairs == unowned_current(active_at(DECEMBER))
    for table in (
        "customer_lifetime_value",
        "churn_risk_scores",
        "churn_risk_drivers",
        "cross_sell_recommendations",
    ):
        named = marts.execute(
            f"select distinct customer_id, customer_name from scoring.{table}"
        ).fetchall()
        assert named and all(name == f"{c.title()} Ltd" for c, name in named), table


def test_the_drivers_add_up_to_the_stored_scores_and_read_the_features(marts):
    """Each scored customer's three contributions + other_features_contribution +
    baseline_log_odds = ln(p / (1 - p)) of its stored probability (a separate fit), and every
    numeric feature_value is the customer's value in marts.churn_risk_features."""
    meta = run_writers(marts, DECEMBER)["churn_risk_drivers"]
    assert meta["max_log_odds_gap"] < 1e-9 and meta["scored_customers_without_drivers"] == 0
    rows = marts.execute(
        """
        select
            d.customer_id,
            list(d.driver_rank order by d.driver_rank),
            sum(d.contribution) + any_value(d.other_features_contribution)
                + any_value(d.baseline_log_odds),
            any_value(s.churn_probability_3m),
            list(d.contribution order by d.driver_rank),
            bool_and(d.model_version = s.model_version),
            bool_and((d.contribution > 0) = (d.direction = 'raises risk'))
        from scoring.churn_risk_drivers as d
        inner join scoring.churn_risk_scores as s
            on s.as_of_month = d.as_of_month and s.customer_id = d.customer_id
        group by d.customer_id
        """
    ).fetchall()
    assert {row[0] for row in rows} == with_mrr(DECEMBER)
    for customer, ranks, log_odds, probability, contributions, same_version, direction in rows:
        assert ranks == [1, 2, 3], customer
        assert log_odds == pytest.approx(math.log(probability / (1 - probability)), abs=1e-9)
        assert contributions == sorted(contributions, reverse=True), customer
        assert same_version and direction, customer
    drivers = marts.execute(
        "select customer_id, feature, feature_value from scoring.churn_risk_drivers "
        "where feature <> 'classification'"
    ).fetchall()
    for customer, feature, value in drivers:
        (expected,) = marts.execute(
            f"select {feature} from marts.churn_risk_features "
            "where as_of_month = ? and customer_id = ?",
            [DECEMBER, customer],
        ).fetchone()
        assert value == pytest.approx(float(expected)), (customer, feature)


def test_drivers_of_scores_from_another_fit_say_so(marts):
    """A stored probability that the refitted model does not give (the marts changed since the
    month was scored): the drivers are written, and the note says the fits disagree."""
    run_writers(marts, DECEMBER)
    marts.execute(
        "update scoring.churn_risk_scores set churn_probability_3m = 0.5 "
        "where customer_id = 'steady'"
    )
    meta = pipeline.write_churn_risk_drivers(marts, DECEMBER)
    assert meta["row_count"] == 3 * len(with_mrr(DECEMBER))
    assert meta["max_log_odds_gap"] > 1e-3
    assert meta["note"].startswith("the stored scores do not match the refitted model")


def test_drivers_of_a_month_without_scores_are_empty_with_a_note(marts):
    meta = pipeline.write_churn_risk_drivers(marts, DECEMBER)
    assert meta["row_count"] == 0
    assert meta["note"] == "scoring.churn_risk_scores has no scores at 2025-12 to explain"
    pipeline.write_churn_risk_scores(marts, DECEMBER)
    marts.execute("delete from scoring.churn_risk_scores where customer_id = 'back'")
    meta = pipeline.write_churn_risk_drivers(marts, DECEMBER)
    assert meta["customers"] == len(with_mrr(DECEMBER)) - 1
    assert meta["row_count"] == 3 * meta["customers"]


def test_rewriting_a_month_leaves_the_other_months_rows_as_they_were(marts):
    run_writers(marts, SEPTEMBER)
    run_writers(marts, DECEMBER)
    december = {
        table: marts.execute(
            f"select * from scoring.{table} where as_of_month = ? order by all", [DECEMBER]
        ).fetchall()
        for table in pipeline.WRITERS
    }
    again = run_writers(marts, SEPTEMBER)
    for table in pipeline.WRITERS:
        assert again[table]["row_count"] == expected_counts(SEPTEMBER)[table], table
        assert month_counts(marts, table)[SEPTEMBER] == expected_counts(SEPTEMBER)[table], table
        after = marts.execute(
            f"select * from scoring.{table} where as_of_month = ? order by all", [DECEMBER]
        ).fetchall()
        assert after == december[table], table


def test_writers_without_history_keep_only_their_month(marts):
    run_writers(marts, SEPTEMBER)
    meta = run_writers(marts, DECEMBER, keep_history=False)
    for table in pipeline.WRITERS:
        assert meta[table]["months_kept"] == 1, table
        assert month_counts(marts, table) == {DECEMBER: expected_counts(DECEMBER)[table]}, table


def test_a_month_after_the_data_writes_nothing_and_says_why(marts):
    run_writers(marts, DECEMBER)
    meta = run_writers(marts, AFTER_THE_DATA)
    note = "no active customer at 2026-10: the marts' last month with active customers is 2025-12"
    for table in pipeline.WRITERS:
        assert meta[table]["as_of_month"] == "2026-10-01", table
        assert (meta[table]["row_count"], meta[table]["note"]) == (0, note), table
        assert set(month_counts(marts, table)) == {DECEMBER}, table


def test_a_month_whose_marts_rows_are_gone_loses_its_old_scores(marts):
    """Scores of 2025-12 from an earlier run go when a rebuilt warehouse has no active
    customer that month; the other months stay."""
    run_writers(marts, SEPTEMBER)
    run_writers(marts, DECEMBER)
    marts.execute("delete from marts.customer_classification where as_of_month = ?", [DECEMBER])
    meta = run_writers(marts, DECEMBER)
    for table in pipeline.WRITERS:
        assert meta[table]["row_count"] == 0, table
        assert meta[table]["note"] == (
            "no active customer at 2025-12: the marts' last month with active customers is 2025-11"
        ), table
        assert set(month_counts(marts, table)) == {SEPTEMBER}, table


def test_a_month_before_the_data_and_a_gap_write_nothing(marts):
    before = run_writers(marts, date(2023, 6, 1))
    marts.execute(
        "delete from marts.customer_classification where as_of_month = ?", [date(2025, 3, 1)]
    )
    gap = run_writers(marts, date(2025, 3, 1))
    for table in pipeline.WRITERS:
        assert before[table]["row_count"] == gap[table]["row_count"] == 0, table
        assert before[table]["note"].startswith("no active customer at 2023-06: the marts' first")
        assert gap[table]["note"] == (
            "no active customer at 2025-03 (no customer has TTM revenue then)"
        ), table
        assert table_rows(marts, table) == [], table


def test_empty_marts_write_empty_tables(marts):
    for table in ("portfolio_concentration", "customer_classification", "mrr_movements"):
        marts.execute(f"delete from marts.{table}")
    latest = run_writers(marts, None)
    asked = run_writers(marts, AFTER_THE_DATA)
    for table in pipeline.WRITERS:
        assert latest[table]["as_of_month"] is None
        assert latest[table]["row_count"] == 0
        assert latest[table]["note"] == (
            "marts.portfolio_concentration is empty: the marts were built for no month"
        )
        assert asked[table]["row_count"] == 0
        assert asked[table]["note"].startswith("marts.customer_classification is empty")
        assert table_rows(marts, table) == [], table


def test_customers_without_mrr_leave_the_mrr_models_empty(marts):
    """Classified customers but no MRR at all (no agreements in the export): the MRR models
    have nothing to fit or score and say so; cross-sell still recommends. The churn features,
    built from the MRR movements, have no row either."""
    marts.execute("delete from marts.mrr_movements")
    marts.execute("delete from marts.churn_risk_features")
    meta = run_writers(marts, DECEMBER)
    assert meta["retention_curves"]["row_count"] == 0
    assert meta["retention_curves"]["note"] == pipeline.NO_FIT_NOTE
    assert meta["customer_lifetime_value"]["row_count"] == 0
    assert meta["customer_lifetime_value"]["note"] == pipeline.NO_FIT_NOTE
    assert meta["churn_risk_scores"]["row_count"] == 0
    assert "cannot fit the churn model" in meta["churn_risk_scores"]["note"]
    assert meta["churn_risk_drivers"]["row_count"] == 0
    assert meta["churn_risk_drivers"]["note"] == (
        "scoring.churn_risk_scores has no scores at 2025-12 to explain"
    )
    assert meta["cross_sell_recommendations"]["row_count"] == 5


def test_the_default_month_is_the_latest_the_marts_were_built_for(marts):
    meta = run_writers(marts, None)
    for table in pipeline.WRITERS:
        assert meta[table]["as_of_month"] == DECEMBER.isoformat(), table
        assert set(month_counts(marts, table)) == {DECEMBER}, table


def test_the_command_line_keeps_or_refreshes_history(tmp_path, capsys):
    warehouse = tmp_path / "portfolio.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        create_marts(con)
    assert pipeline.main(["--warehouse", str(warehouse), "--as-of-month", "2025-09"]) == 0
    assert pipeline.main(["--warehouse", str(warehouse)]) == 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert set(month_counts(con, "churn_risk_scores")) == {SEPTEMBER, DECEMBER}
    assert pipeline.main(["--warehouse", str(warehouse), "--as-of-month", "2026-10"]) == 0
    assert "0 rows" in capsys.readouterr().out
    assert pipeline.main(["--warehouse", str(warehouse), "--full-refresh"]) == 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert set(month_counts(con, "churn_risk_scores")) == {DECEMBER}
