"""Fit the scoring models on the marts and write the ``scoring`` tables (no Dagster).

Each ``write_*`` function reads the marts through the DuckDB connection it is given, fits its
model as of one month, writes that month's snapshot into its table in the ``scoring`` schema
and returns a metadata dict saying what was fitted and how well. The Dagster assets
(orchestration/defs/assets/scoring.py) call them on the run's candidate warehouse; analysts can call
them on a copy::

    python -m orchestration.scoring.pipeline --warehouse warehouse/portfolio.duckdb

=====================================  ======================================================
table                                  grain
=====================================  ======================================================
``scoring.retention_curves``           as_of_month x segment (A/B/C/D, all) x tenure_month
                                       1..36
``scoring.customer_lifetime_value``    as_of_month x customer with MRR then
``scoring.churn_risk_scores``          as_of_month x customer with MRR then
``scoring.churn_risk_drivers``         as_of_month x customer scored x driver_rank 1..3
``scoring.cross_sell_recommendations``  as_of_month x customer x offering, top 3 per active
                                       customer
=====================================  ======================================================

History
-------
Every table keeps one snapshot per ``as_of_month``, so BI can trend a customer's churn risk or
lifetime value over month-end runs. A writer replaces the rows of its month only (delete, then
insert, in one transaction: a failure leaves the month as it was). With ``keep_history=False``
it empties the table first and keeps only the month written: a full-refresh run does that,
because rebuilt marts may change the history the older snapshots were fitted on. A table is
created when missing, with the column types of ``TABLE_TYPES``. A table written by an older
version that lacked only columns of ``CARRIED_OVER_COLUMNS`` (``customer_name``) is carried over:
its snapshots are kept and the new columns filled in (the name from ``marts.customers``). A
table whose columns or types differ otherwise is dropped and created anew in the same
transaction, with its old snapshots. The metadata's ``table_recreated`` says which happened.

Customer-grain tables carry ``customer_name`` from ``marts.customers`` (the customers export of
the run), so that no BI question needs a join to read a name.

``as_of_month`` defaults to the latest month of the marts; the models only read data up to it.
When the marts hold nothing for the month (no active customer then, a month outside the marts'
range, empty marts) a writer writes no rows for it (removing those of an earlier run) and its
metadata has ``row_count`` 0 and a ``note`` saying why; it does not raise. When the history is
too short to fit a model (no churn yet, say) the month is written empty too, with the reason in
``note``, so that a young warehouse still publishes its marts.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from orchestration.months import month_add
from orchestration.scoring import churn_drivers, churn_risk, cross_sell, features, lifetime_value
from orchestration.scoring.descriptions import scoring_descriptions
from orchestration.warehouse.comments import comment_on
from orchestration.warehouse.connection import connect_warehouse, relation_columns, table_exists

__all__ = [
    "SCHEMA",
    "TABLE_TYPES",
    "WRITERS",
    "Snapshot",
    "run_all",
    "write_churn_risk_drivers",
    "write_churn_risk_scores",
    "write_cross_sell_recommendations",
    "write_customer_lifetime_value",
    "write_retention_curves",
    "write_snapshot",
]

SCHEMA = "scoring"

#: Column types of each table (DuckDB), in order.
TABLE_TYPES: dict[str, dict[str, str]] = {
    "retention_curves": {
        "as_of_month": "date",
        "segment": "varchar",
        "tenure_month": "integer",
        "survival": "double",
        "retention_rate": "double",
        "alpha": "double",
        "beta": "double",
        "log_likelihood": "double",
        "n_customers": "integer",
        "n_churned": "integer",
        "converged": "boolean",
        "fitted_at": "timestamp",
        "model_version": "varchar",
    },
    "customer_lifetime_value": {
        "as_of_month": "date",
        "customer_id": "varchar",
        "customer_name": "varchar",
        "segment": "varchar",
        "tenure_months": "integer",
        "derl_months": "double",
        "monthly_gross_margin": "decimal(18, 2)",
        "residual_lifetime_value": "decimal(18, 2)",
        "alpha": "double",
        "beta": "double",
        "parameters_segment": "varchar",
        "model_version": "varchar",
    },
    "churn_risk_scores": {
        "as_of_month": "date",
        "customer_id": "varchar",
        "customer_name": "varchar",
        "churn_probability_3m": "double",
        "risk_band": "varchar",
        "model_version": "varchar",
        "holdout_auc": "double",
        "baseline_auc": "double",
        "trained_through_month": "date",
    },
    "churn_risk_drivers": {
        "as_of_month": "date",
        "customer_id": "varchar",
        "customer_name": "varchar",
        "driver_rank": "integer",
        "feature": "varchar",
        "feature_label": "varchar",
        "feature_value": "double",
        "contribution": "double",
        "direction": "varchar",
        "other_features_contribution": "double",
        "baseline_log_odds": "double",
        "model_version": "varchar",
    },
    "cross_sell_recommendations": {
        "as_of_month": "date",
        "customer_id": "varchar",
        "customer_name": "varchar",
        "offering_id": "varchar",
        "rank": "integer",
        "propensity": "double",
        "expected_revenue": "decimal(18, 2)",
        "model_version": "varchar",
    },
}


#: Columns this version added to tables an older version wrote, each with the SQL filling it in
#: the older rows (``older`` is the old table, ``customers`` is ``marts.customers``, joined on
#: ``customer_id`` when the warehouse holds it): such a table is carried over with its snapshots.
CARRIED_OVER_COLUMNS: dict[str, str] = {"customer_name": "customers.customer_name"}
#: The mart the names come from.
CUSTOMERS_MART = "marts.customers"


@dataclass(frozen=True)
class Snapshot:
    """What :func:`write_snapshot` did."""

    #: Rows of the month now in the table.
    row_count: int
    #: Distinct as_of_months the table holds after the write.
    months_kept: int
    #: Why the table was dropped and created anew ("" when it was not).
    table_recreated: str

    def as_metadata(self) -> dict[str, Any]:
        return {
            "row_count": self.row_count,
            "months_kept": self.months_kept,
            "table_recreated": self.table_recreated,
        }


def _normalised_type(sql_type: str) -> str:
    """A column type as DuckDB's information_schema spells it: ``decimal(18, 2)`` is
    ``DECIMAL(18,2)``."""
    return sql_type.replace(" ", "").upper()


def _existing_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """(name, type) of the columns of ``scoring.<table>`` in order; empty when it is missing."""
    return [
        (name, _normalised_type(sql_type))
        for name, sql_type in relation_columns(con, SCHEMA, table)
    ]


def _typed(frame: pd.DataFrame, types: Mapping[str, str]) -> pd.DataFrame:
    """``frame``'s columns of ``types``, as numbers, timestamps, booleans or text."""
    data = frame[list(types)].copy()
    for column, sql_type in types.items():
        # Let DuckDB see numbers and text rather than pandas objects of mixed or null values.
        if sql_type in ("double", "integer") or sql_type.startswith("decimal"):
            data[column] = pd.to_numeric(data[column], errors="raise").astype("float64")
        elif sql_type in ("date", "timestamp"):
            data[column] = pd.to_datetime(data[column])
        elif sql_type == "boolean":
            data[column] = data[column].astype("bool")
        else:
            data[column] = data[column].astype("object")
    return data


def write_snapshot(
    con: duckdb.DuckDBPyConnection,
    table: str,
    frame: pd.DataFrame,
    as_of_month: date | None,
    *,
    keep_history: bool = True,
) -> Snapshot:
    """Replace the ``as_of_month`` rows of ``scoring.<table>`` with ``frame``, in one transaction.

    The table is created when missing with the types of ``TABLE_TYPES``, and created anew when
    its columns or types differ from them (an older version's table; its rows go with it).
    Then the rows of ``as_of_month`` are deleted, or every row when ``keep_history`` is False,
    and ``frame`` is inserted. Either everything happens or, on an error, nothing: the
    transaction is rolled back and the error raised. ``as_of_month`` None (marts without any
    month) deletes nothing unless ``keep_history`` is False; ``frame`` must then be empty.

    Raises:
        ValueError: ``frame`` lacks a column of the table or holds rows of another month.
    """
    types = TABLE_TYPES[table]
    missing = [column for column in types if column not in frame.columns]
    if missing:
        raise ValueError(f"scoring.{table}: frame lacks columns {missing}")
    month = None if as_of_month is None else pd.Timestamp(as_of_month).date()
    if len(frame):
        months = {pd.Timestamp(value).date() for value in frame["as_of_month"]}
        if months != {month}:
            raise ValueError(
                f"scoring.{table}: frame holds as_of_months {sorted(map(str, months))}, "
                f"not only {month}"
            )
    expected = [(column, _normalised_type(sql_type)) for column, sql_type in types.items()]
    relation = f"{SCHEMA}.{table}"
    view = f"_scoring_{table}"
    con.register(view, _typed(frame, types))
    try:
        con.execute("begin transaction")
        try:
            con.execute(f"create schema if not exists {SCHEMA}")
            existing = _existing_columns(con, table)
            recreated = ""
            older = f"{SCHEMA}._older_{table}"
            carried = existing and existing == [
                (name, sql_type) for name, sql_type in expected if name not in CARRIED_OVER_COLUMNS
            ]
            if existing and existing != expected:
                old_columns = ", ".join(f"{name} {sql_type.lower()}" for name, sql_type in existing)
                if carried:
                    added = [name for name, _ in expected if name in CARRIED_OVER_COLUMNS]
                    recreated = (
                        f"{relation} had the columns {old_columns}: carried over with its "
                        f"snapshots, {', '.join(added)} added"
                    )
                    con.execute(f"alter table {relation} rename to _older_{table}")
                else:
                    recreated = (
                        f"{relation} had the columns {old_columns}, not this version's: "
                        "dropped with its snapshots and created anew"
                    )
                    con.execute(f"drop table {relation}")
            columns = ", ".join(f'"{column}" {sql_type}' for column, sql_type in types.items())
            con.execute(f"create table if not exists {relation} ({columns})")
            if carried and recreated:
                con.execute(_carry_over_sql(con, relation, older, types))
                con.execute(f"drop table {older}")
            comment_on(con, relation, scoring_descriptions()[table])
            if not keep_history:
                con.execute(f"delete from {relation}")
            elif month is not None:
                con.execute(f"delete from {relation} where as_of_month = ?", [month])
            if len(frame):
                select = ", ".join(
                    f'cast("{column}" as {sql_type})' for column, sql_type in types.items()
                )
                con.execute(f"insert into {relation} select {select} from {view}")
            rows, months_kept = con.execute(
                f"select count(*) filter (where as_of_month = ?), count(distinct as_of_month) "
                f"from {relation}",
                [month],
            ).fetchone()
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    finally:
        con.unregister(view)
    return Snapshot(row_count=int(rows), months_kept=int(months_kept), table_recreated=recreated)


def _carry_over_sql(
    con: duckdb.DuckDBPyConnection, relation: str, older: str, types: Mapping[str, str]
) -> str:
    """``insert`` of the rows of ``older`` into ``relation``, the added columns filled by
    :data:`CARRIED_OVER_COLUMNS` (null when the warehouse has no :data:`CUSTOMERS_MART`)."""
    has_customers = table_exists(con, *CUSTOMERS_MART.split("."))
    select = ", ".join(
        (
            f"cast({CARRIED_OVER_COLUMNS[column] if has_customers else 'null'} as {sql_type})"
            if column in CARRIED_OVER_COLUMNS
            else f'older."{column}"'
        )
        for column, sql_type in types.items()
    )
    join = (
        f" left join {CUSTOMERS_MART} as customers on older.customer_id = customers.customer_id"
        if has_customers
        else ""
    )
    return f"insert into {relation} select {select} from {older} as older{join}"


def with_customer_names(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the column ``customer_name`` of :data:`CUSTOMERS_MART`, by ``customer_id``
    (null for a customer the mart lacks); rows and their order are kept."""
    names = con.execute(f"select customer_id, customer_name from {CUSTOMERS_MART}").df()
    named = frame.drop(columns=["customer_name"], errors="ignore").merge(
        names, on="customer_id", how="left", validate="many_to_one"
    )
    named.index = frame.index
    return named


def _month(con: duckdb.DuckDBPyConnection, as_of_month: date | None) -> date | None:
    """``as_of_month``, or the marts' latest month (None when they were built for none)."""
    if as_of_month is None:
        return features.latest_as_of_month(con)
    return pd.Timestamp(as_of_month).date()


def _without_data(
    con: duckdb.DuckDBPyConnection, table: str, month: date | None, keep_history: bool
) -> dict[str, Any] | None:
    """When the marts hold nothing to score at ``month``: write no rows for it and return the
    metadata saying why. None when there is something to score."""
    if month is None:
        note = "marts.portfolio_concentration is empty: the marts were built for no month"
    else:
        note = features.missing_month_reason(con, month)
        if note is None:
            return None
    empty = pd.DataFrame(columns=list(TABLE_TYPES[table]))
    written = write_snapshot(con, table, empty, month, keep_history=keep_history)
    return {
        "as_of_month": None if month is None else month.isoformat(),
        **written.as_metadata(),
        "note": note,
    }


def _fits(con: duckdb.DuckDBPyConnection, month: date) -> tuple[pd.DataFrame, dict, str]:
    start = features.first_as_of_month(con)
    lifetimes = features.customer_lifetimes(con, month)
    fits = lifetime_value.fit_segments(lifetime_value.lifetimes_for_fit(lifetimes, start))
    return lifetimes, fits, lifetime_value.model_version(month, start)


def _fit_metadata(fits: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        segment: {
            "alpha": round(fit.alpha, 6),
            "beta": round(fit.beta, 6),
            "log_likelihood": round(fit.log_likelihood, 4),
            "n_customers": fit.n_customers,
            "n_churned": fit.n_lost,
            "converged": fit.converged,
            "mean_monthly_churn": round(fit.mean_churn_probability, 6),
        }
        for segment, fit in fits.items()
    }


#: The note of the sBG tables when no customer has churned yet.
NO_FIT_NOTE = "no churn observed yet: no fit"


def _no_mrr_note(month: date) -> str:
    return f"no classified customer has MRR at {month:%Y-%m}"


def write_retention_curves(
    con: duckdb.DuckDBPyConnection,
    as_of_month: date | None = None,
    *,
    keep_history: bool = True,
) -> dict[str, Any]:
    """Fit the sBG model per segment and write the month's scoring.retention_curves."""
    month = _month(con, as_of_month)
    skipped = _without_data(con, "retention_curves", month, keep_history)
    if skipped is not None:
        return skipped
    _, fits, version = _fits(con, month)
    curves = lifetime_value.retention_curves(
        fits, as_of_month=month, fitted_at=datetime.now(UTC).replace(tzinfo=None), version=version
    )
    written = write_snapshot(con, "retention_curves", curves, month, keep_history=keep_history)
    missing = [s for s in (*lifetime_value.SEGMENTS, lifetime_value.ALL_SEGMENT) if s not in fits]
    return {
        "as_of_month": month.isoformat(),
        "model_version": version,
        **written.as_metadata(),
        "segments": _fit_metadata(fits),
        "segments_without_fit": missing,
        "note": "" if fits else NO_FIT_NOTE,
    }


def write_customer_lifetime_value(
    con: duckdb.DuckDBPyConnection,
    as_of_month: date | None = None,
    annual_discount_rate: float | None = None,
    *,
    keep_history: bool = True,
) -> dict[str, Any]:
    """DERL x monthly gross margin per active MRR customer: the month's
    scoring.customer_lifetime_value.

    ``annual_discount_rate`` defaults to ``PORTFOLIO_CLV_ANNUAL_DISCOUNT_RATE`` (0.10).
    """
    month = _month(con, as_of_month)
    annual = (
        lifetime_value.annual_discount_rate()
        if annual_discount_rate is None
        else annual_discount_rate
    )
    monthly = lifetime_value.monthly_discount_rate(annual)
    skipped = _without_data(con, "customer_lifetime_value", month, keep_history)
    if skipped is not None:
        return {**skipped, "annual_discount_rate": annual}
    lifetimes, fits, version = _fits(con, month)
    version = f"{version}-d{annual:g}"
    values = lifetime_value.customer_lifetime_value(
        lifetimes, fits, as_of_month=month, monthly_discount=monthly, version=version
    )
    written = write_snapshot(
        con,
        "customer_lifetime_value",
        with_customer_names(con, values),
        month,
        keep_history=keep_history,
    )
    rows = written.row_count
    total = float(values["residual_lifetime_value"].sum()) if rows else 0.0
    if lifetime_value.ALL_SEGMENT not in fits:
        note = NO_FIT_NOTE
    else:
        note = "" if rows else _no_mrr_note(month)
    return {
        "as_of_month": month.isoformat(),
        "model_version": version,
        **written.as_metadata(),
        "annual_discount_rate": annual,
        "monthly_discount_rate": round(monthly, 8),
        "total_residual_lifetime_value": round(total, 2),
        "by_segment": (
            {
                segment: round(float(total), 2)
                for segment, total in values.groupby("segment")["residual_lifetime_value"]
                .sum()
                .items()
            }
            if rows
            else {}
        ),
        "segments": _fit_metadata(fits),
        "note": note,
    }


def write_churn_risk_scores(
    con: duckdb.DuckDBPyConnection,
    as_of_month: date | None = None,
    holdout_months: int = churn_risk.DEFAULT_HOLDOUT_MONTHS,
    *,
    keep_history: bool = True,
) -> dict[str, Any]:
    """Evaluate the churn model on a time-based holdout, refit, score: the month's
    scoring.churn_risk_scores."""
    month = _month(con, as_of_month)
    skipped = _without_data(con, "churn_risk_scores", month, keep_history)
    if skipped is not None:
        return skipped
    panel = features.churn_panel(con, month)
    evaluation = churn_risk.evaluate(panel, month, holdout_months)
    meta: dict[str, Any] = {"as_of_month": month.isoformat(), **evaluation.as_dict()}
    try:
        scores, facts = churn_risk.score_customers(panel, month, evaluation, holdout_months)
    except ValueError as error:
        scores, facts = pd.DataFrame(columns=churn_risk.SCORE_COLUMNS), {"note": str(error)}
    meta.update(facts)
    written = write_snapshot(
        con, "churn_risk_scores", with_customer_names(con, scores), month, keep_history=keep_history
    )
    meta.update(written.as_metadata())
    if meta["row_count"]:
        counts = scores["risk_band"].value_counts().sort_index()
        meta["risk_bands"] = {band: int(n) for band, n in counts.items()}
    elif not meta["note"]:
        meta["note"] = _no_mrr_note(month)
    return meta


#: Largest difference allowed between a customer's log-odds rebuilt from its drivers and the
#: logit of its stored churn probability before the drivers' metadata says they disagree.
LOG_ODDS_TOLERANCE = 1e-6


def _stored_scores(con: duckdb.DuckDBPyConnection, month: date) -> pd.DataFrame:
    """customer_id, churn_probability_3m and model_version of scoring.churn_risk_scores at
    ``month`` (no rows when the table is missing)."""
    if not table_exists(con, SCHEMA, "churn_risk_scores"):
        return pd.DataFrame(columns=["customer_id", "churn_probability_3m", "model_version"])
    return con.execute(
        "select customer_id, churn_probability_3m, model_version "
        f"from {SCHEMA}.churn_risk_scores where as_of_month = ? order by customer_id",
        [month],
    ).df()


def write_churn_risk_drivers(
    con: duckdb.DuckDBPyConnection,
    as_of_month: date | None = None,
    *,
    keep_history: bool = True,
) -> dict[str, Any]:
    """The three largest contributions to the log-odds of churn of every customer in the
    month's scoring.churn_risk_scores: the month's scoring.churn_risk_drivers.

    Refits the churn model exactly as :func:`write_churn_risk_scores` does (deterministic: the
    same marts give the same coefficients) and explains it (``churn_drivers``). Run it after
    that writer: customers without a stored score get no drivers, and a month without scores
    is written empty with a note. The metadata's ``max_log_odds_gap`` is the largest difference
    between a customer's baseline + contributions and the logit of its stored probability
    (about 1e-12 when both come from the same fit); above ``LOG_ODDS_TOLERANCE`` the note says
    the scores came from another fit.
    """
    month = _month(con, as_of_month)
    skipped = _without_data(con, "churn_risk_drivers", month, keep_history)
    if skipped is not None:
        return skipped
    stored = _stored_scores(con, month)
    meta: dict[str, Any] = {"as_of_month": month.isoformat(), "note": ""}
    table = pd.DataFrame(columns=churn_drivers.DRIVER_COLUMNS)
    if stored.empty:
        meta["note"] = f"scoring.churn_risk_scores has no scores at {month:%Y-%m} to explain"
    else:
        panel = features.churn_panel(con, month)
        try:
            fit = churn_risk.fit_for_scoring(panel, month)
        except ValueError as error:
            meta["note"] = str(error)
        else:
            # The scores' version (it also hashes the holdout length, which the refit does
            # not depend on); the log-odds check below says whether the fits agree.
            version = str(stored["model_version"].iloc[0])
            table, facts = churn_drivers.drivers(fit, month, version)
            table = table[table["customer_id"].isin(stored["customer_id"])]
            facts["customers"] = int(table["customer_id"].nunique())
            meta.update({"model_version": version, **facts})
            meta.update(_log_odds_check(table, stored))
    written = write_snapshot(
        con, "churn_risk_drivers", with_customer_names(con, table), month, keep_history=keep_history
    )
    meta.update(written.as_metadata())
    return meta


def _log_odds_check(table: pd.DataFrame, stored: pd.DataFrame) -> dict[str, Any]:
    """Compare each customer's baseline + contributions with the logit of its stored
    probability; the customers scored without drivers."""
    by_customer = table.groupby("customer_id").agg(
        shown=("contribution", "sum"),
        other=("other_features_contribution", "first"),
        baseline=("baseline_log_odds", "first"),
    )
    scores = stored.set_index("customer_id")
    joined = by_customer.join(scores, how="inner")
    probability = joined["churn_probability_3m"].astype(float)
    logit = np.log(probability) - np.log1p(-probability)
    gap = (joined["shown"] + joined["other"] + joined["baseline"] - logit).abs()
    worst = float(gap.max()) if len(gap) else 0.0
    out: dict[str, Any] = {
        "max_log_odds_gap": worst,
        "scored_customers_without_drivers": int((~scores.index.isin(by_customer.index)).sum()),
    }
    if worst > LOG_ODDS_TOLERANCE:
        out["note"] = (
            f"the stored scores do not match the refitted model (log-odds differ by up to "
            f"{worst:.3g}): the marts changed since the month was scored; rescore it"
        )
    return out


def write_cross_sell_recommendations(
    con: duckdb.DuckDBPyConnection,
    as_of_month: date | None = None,
    evaluation_months: int = cross_sell.DEFAULT_EVALUATION_MONTHS,
    *,
    keep_history: bool = True,
) -> dict[str, Any]:
    """Top-3 unowned current offerings per active customer: the month's
    scoring.cross_sell_recommendations.

    Also measures the hit rate of recommendations made ``evaluation_months`` earlier against the
    popularity baseline (skipped when the marts have no active customer then).
    """
    month = _month(con, as_of_month)
    skipped = _without_data(con, "cross_sell_recommendations", month, keep_history)
    if skipped is not None:
        return skipped
    ownership = features.offering_ownership(con, month)
    recommendations = cross_sell.recommend(
        ownership,
        features.customer_profiles(con, month),
        features.offering_catalogue(con, month),
        as_of_month=month,
    )
    written = write_snapshot(
        con,
        "cross_sell_recommendations",
        with_customer_names(con, recommendations),
        month,
        keep_history=keep_history,
    )
    meta: dict[str, Any] = {
        "as_of_month": month.isoformat(),
        "model_version": cross_sell.model_version(month),
        **written.as_metadata(),
        "customers": int(recommendations["customer_id"].nunique()),
        "expected_revenue_total": round(float(recommendations["expected_revenue"].sum()), 2),
        "note": (
            ""
            if written.row_count
            else f"no active customer at {month:%Y-%m} lacks a current offering that someone owns"
        ),
    }
    before = month_add(month, -evaluation_months)
    if before < features.first_as_of_month(con):
        meta["evaluation"] = f"skipped: no marts {evaluation_months} months before {month}"
        return meta
    reason = features.missing_month_reason(con, before)
    if reason is not None:
        meta["evaluation"] = f"skipped: {reason}"
        return meta
    result = cross_sell.evaluate(
        features.offering_ownership(con, before),
        features.customer_profiles(con, before),
        features.offering_catalogue(con, before),
        ownership,
        before_month=before,
    )
    model_rate, popularity_rate = result["model_hit_rate"], result["popularity_hit_rate"]
    meta.update(
        {
            "evaluation_before_month": before.isoformat(),
            "hit_rate": model_rate,
            "popularity_hit_rate": popularity_rate,
            "evaluation": {"model": result["model"], "popularity": result["popularity"]},
            "beats_baseline": (
                model_rate is not None
                and popularity_rate is not None
                and model_rate > popularity_rate
            ),
        }
    )
    return meta


#: The five writers, in the order the command line runs them (the drivers explain the scores
#: written just before).
WRITERS: dict[str, Callable[..., dict[str, Any]]] = {
    "retention_curves": write_retention_curves,
    "customer_lifetime_value": write_customer_lifetime_value,
    "churn_risk_scores": write_churn_risk_scores,
    "churn_risk_drivers": write_churn_risk_drivers,
    "cross_sell_recommendations": write_cross_sell_recommendations,
}


def _summary(table: str, meta: Mapping[str, Any]) -> str:
    def fmt(value: Any) -> str:
        return (
            "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)
        )

    if table in ("retention_curves", "customer_lifetime_value"):
        fits = ", ".join(
            f"{s}: a={f['alpha']:.4g} b={f['beta']:.4g} LL={f['log_likelihood']:.1f} "
            f"n={f['n_customers']} churned={f['n_churned']}"
            + ("" if f["converged"] else " (not converged)")
            for s, f in meta["segments"].items()
        )
        if table == "retention_curves":
            return f"sBG fits: {fits or 'none'}"
        return (
            f"annual discount {meta['annual_discount_rate']:g}, total residual value "
            f"{meta['total_residual_lifetime_value']:,.2f}"
        )
    if table == "churn_risk_scores":
        return (
            f"holdout AUC {fmt(meta.get('holdout_auc'))} vs segment baseline "
            f"{fmt(meta.get('baseline_auc'))} (MRR-fell rule {fmt(meta.get('rule_auc'))}); "
            f"test {meta['test_start']}..{meta['test_end']}, "
            f"{meta['n_test_churned']} churn rows of {meta['n_test_rows']}"
            + (f"; {meta['note']}" if meta.get("note") else "")
        )
    if table == "churn_risk_drivers":
        first = meta.get("first_driver_counts") or {}
        top = max(first, key=first.get) if first else "n/a"
        return (
            f"{meta.get('customers', 0)} customers x {churn_drivers.DRIVERS_PER_CUSTOMER} drivers; "
            f"most frequent first driver {top} ({first.get(top, 0)}); baseline log-odds "
            f"{fmt(meta.get('baseline_log_odds'))}, log-odds gap to the stored scores "
            f"{meta.get('max_log_odds_gap', 0):.1e}"
            + (f"; {meta['note']}" if meta.get("note") else "")
        )
    return (
        f"hit rate {fmt(meta.get('hit_rate'))} vs popularity "
        f"{fmt(meta.get('popularity_hit_rate'))} "
        f"(recommended at {meta.get('evaluation_before_month', 'n/a')})"
    )


def run_all(
    con: duckdb.DuckDBPyConnection,
    as_of_month: date | None = None,
    *,
    keep_history: bool = True,
) -> dict[str, Any]:
    """Run the five writers, printing a line per step; returns their metadata by table."""
    month = _month(con, as_of_month)
    results = {}
    for table, writer in WRITERS.items():
        started = time.perf_counter()
        label = "no month (the marts are empty)" if month is None else f"{month:%Y-%m}"
        print(f"scoring.{table}: fitting as of {label} ...", flush=True)
        meta = writer(con, month, keep_history=keep_history)
        summary = f"; {meta['note']}" if meta.get("note") else ""
        if meta["row_count"]:
            summary = f"; {_summary(table, meta)}"
        print(
            f"scoring.{table}: {meta['row_count']} rows in "
            f"{time.perf_counter() - started:.1f} s{summary}",
            flush=True,
        )
        results[table] = meta
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.scoring.pipeline",
        description="Fit the scoring models on a built warehouse and write the scoring tables.",
    )
    parser.add_argument("--warehouse", required=True, type=Path, help="DuckDB file with marts")
    parser.add_argument(
        "--as-of-month",
        type=lambda text: date.fromisoformat(f"{text}-01"),
        default=None,
        help="YYYY-MM to score (default: the latest as_of_month of the marts)",
    )
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="empty each scoring table first, keeping only this month's snapshot "
        "(default: keep the other months' snapshots)",
    )
    args = parser.parse_args(argv)
    if not args.warehouse.exists():
        parser.error(f"{args.warehouse} does not exist")
    with connect_warehouse(args.warehouse) as con:
        run_all(con, args.as_of_month, keep_history=not args.full_refresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
