"""Fit the scoring models on the marts and write the ``scoring`` tables (no Dagster).

Each ``write_*`` function reads the marts through the DuckDB connection it is given, fits its
model, replaces its table in the ``scoring`` schema (created if missing) and returns a metadata
dict saying what was fitted and how well. The Dagster assets (orchestration/assets/scoring.py)
call them on the run's candidate warehouse; analysts can call them on a copy::

    python -m orchestration.scoring.pipeline --warehouse warehouse/portfolio.duckdb

=====================================  ======================================================
table                                  grain
=====================================  ======================================================
``scoring.retention_curves``           segment (A/B/C/D, all) x tenure_month 1..36
``scoring.customer_lifetime_value``    customer with MRR at as_of_month
``scoring.churn_risk_scores``          customer with MRR at as_of_month
``scoring.cross_sell_recommendations``  customer x offering, top 3 per active customer
=====================================  ======================================================

``as_of_month`` defaults to the latest month of the marts; the models only read data up to it.
Each table holds one snapshot (the last one written). When the history is too short to fit a
model (no churn yet, say) the table is written empty and the metadata says why, so that a young
warehouse still publishes its marts.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from orchestration.landing import connect_warehouse
from orchestration.scoring import churn_risk, cross_sell, features, lifetime_value

__all__ = [
    "SCHEMA",
    "write_churn_risk_scores",
    "write_cross_sell_recommendations",
    "write_customer_lifetime_value",
    "write_retention_curves",
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
        "churn_probability_3m": "double",
        "risk_band": "varchar",
        "model_version": "varchar",
        "holdout_auc": "double",
        "baseline_auc": "double",
        "trained_through_month": "date",
    },
    "cross_sell_recommendations": {
        "as_of_month": "date",
        "customer_id": "varchar",
        "offering_id": "varchar",
        "rank": "integer",
        "propensity": "double",
        "expected_revenue": "decimal(18, 2)",
        "model_version": "varchar",
    },
}


def replace_table(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    """Create or replace ``scoring.<table>`` from ``frame`` with the types of ``TABLE_TYPES``.

    Returns the number of rows written.
    """
    types = TABLE_TYPES[table]
    missing = [column for column in types if column not in frame.columns]
    if missing:
        raise ValueError(f"scoring.{table}: frame lacks columns {missing}")
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
    select = ",\n    ".join(
        f'cast("{column}" as {sql_type}) as "{column}"' for column, sql_type in types.items()
    )
    con.execute(f"create schema if not exists {SCHEMA}")
    name = f"_scoring_{table}"
    con.register(name, data)
    try:
        con.execute(
            f"create or replace table {SCHEMA}.{table} as select\n    {select}\nfrom {name}"
        )
    finally:
        con.unregister(name)
    (count,) = con.execute(f"select count(*) from {SCHEMA}.{table}").fetchone()
    return int(count)


def _month(con: duckdb.DuckDBPyConnection, as_of_month: date | None) -> date:
    return features.latest_as_of_month(con) if as_of_month is None else as_of_month


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


def write_retention_curves(
    con: duckdb.DuckDBPyConnection, as_of_month: date | None = None
) -> dict[str, Any]:
    """Fit the sBG model per segment and write scoring.retention_curves."""
    month = _month(con, as_of_month)
    _, fits, version = _fits(con, month)
    curves = lifetime_value.retention_curves(
        fits, as_of_month=month, fitted_at=datetime.now(UTC).replace(tzinfo=None), version=version
    )
    rows = replace_table(con, "retention_curves", curves)
    missing = [s for s in (*lifetime_value.SEGMENTS, lifetime_value.ALL_SEGMENT) if s not in fits]
    return {
        "as_of_month": month.isoformat(),
        "model_version": version,
        "row_count": rows,
        "segments": _fit_metadata(fits),
        "segments_without_fit": missing,
    }


def write_customer_lifetime_value(
    con: duckdb.DuckDBPyConnection,
    as_of_month: date | None = None,
    annual_discount_rate: float | None = None,
) -> dict[str, Any]:
    """DERL x monthly gross margin per active MRR customer: scoring.customer_lifetime_value.

    ``annual_discount_rate`` defaults to ``PORTFOLIO_CLV_ANNUAL_DISCOUNT_RATE`` (0.10).
    """
    month = _month(con, as_of_month)
    annual = (
        lifetime_value.annual_discount_rate()
        if annual_discount_rate is None
        else annual_discount_rate
    )
    monthly = lifetime_value.monthly_discount_rate(annual)
    lifetimes, fits, version = _fits(con, month)
    version = f"{version}-d{annual:g}"
    values = lifetime_value.customer_lifetime_value(
        lifetimes, fits, as_of_month=month, monthly_discount=monthly, version=version
    )
    rows = replace_table(con, "customer_lifetime_value", values)
    total = float(values["residual_lifetime_value"].sum()) if rows else 0.0
    return {
        "as_of_month": month.isoformat(),
        "model_version": version,
        "row_count": rows,
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
        "note": "" if lifetime_value.ALL_SEGMENT in fits else "no churn observed yet: no fit",
    }


def write_churn_risk_scores(
    con: duckdb.DuckDBPyConnection,
    as_of_month: date | None = None,
    holdout_months: int = churn_risk.DEFAULT_HOLDOUT_MONTHS,
) -> dict[str, Any]:
    """Evaluate the churn model on a time-based holdout, refit, score: scoring.churn_risk_scores."""
    month = _month(con, as_of_month)
    panel = features.churn_panel(con, month)
    evaluation = churn_risk.evaluate(panel, month, holdout_months)
    meta: dict[str, Any] = {"as_of_month": month.isoformat(), **evaluation.as_dict()}
    try:
        scores, facts = churn_risk.score_customers(panel, month, evaluation, holdout_months)
    except ValueError as error:
        scores, facts = pd.DataFrame(columns=churn_risk.SCORE_COLUMNS), {"note": str(error)}
    meta.update(facts)
    meta["row_count"] = replace_table(con, "churn_risk_scores", scores)
    if meta["row_count"]:
        counts = scores["risk_band"].value_counts().sort_index()
        meta["risk_bands"] = {band: int(n) for band, n in counts.items()}
    return meta


def write_cross_sell_recommendations(
    con: duckdb.DuckDBPyConnection,
    as_of_month: date | None = None,
    evaluation_months: int = cross_sell.DEFAULT_EVALUATION_MONTHS,
) -> dict[str, Any]:
    """Top-3 unowned current offerings per active customer: scoring.cross_sell_recommendations.

    Also measures the hit rate of recommendations made ``evaluation_months`` earlier against the
    popularity baseline (skipped when the marts do not reach back that far).
    """
    month = _month(con, as_of_month)
    ownership = features.offering_ownership(con, month)
    recommendations = cross_sell.recommend(
        ownership,
        features.customer_profiles(con, month),
        features.offering_catalogue(con, month),
        as_of_month=month,
    )
    meta: dict[str, Any] = {
        "as_of_month": month.isoformat(),
        "model_version": cross_sell.model_version(month),
        "row_count": replace_table(con, "cross_sell_recommendations", recommendations),
        "customers": int(recommendations["customer_id"].nunique()),
        "expected_revenue_total": round(float(recommendations["expected_revenue"].sum()), 2),
    }
    before = features.month_add(month, -evaluation_months)
    if before < features.first_as_of_month(con):
        meta["evaluation"] = f"skipped: no marts {evaluation_months} months before {month}"
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


#: The four writers, in the order the command line runs them.
WRITERS: dict[str, Callable[..., dict[str, Any]]] = {
    "retention_curves": write_retention_curves,
    "customer_lifetime_value": write_customer_lifetime_value,
    "churn_risk_scores": write_churn_risk_scores,
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
    return (
        f"hit rate {fmt(meta.get('hit_rate'))} vs popularity "
        f"{fmt(meta.get('popularity_hit_rate'))} "
        f"(recommended at {meta.get('evaluation_before_month', 'n/a')})"
    )


def run_all(con: duckdb.DuckDBPyConnection, as_of_month: date | None = None) -> dict[str, Any]:
    """Run the four writers, printing a line per step; returns their metadata by table."""
    month = _month(con, as_of_month)
    results = {}
    for table, writer in WRITERS.items():
        started = time.perf_counter()
        print(f"scoring.{table}: fitting as of {month:%Y-%m} ...", flush=True)
        meta = writer(con, month)
        print(
            f"scoring.{table}: {meta['row_count']} rows in "
            f"{time.perf_counter() - started:.1f} s; {_summary(table, meta)}",
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
    args = parser.parse_args(argv)
    if not args.warehouse.exists():
        parser.error(f"{args.warehouse} does not exist")
    with connect_warehouse(args.warehouse) as con:
        run_all(con, args.as_of_month)
    return 0


if __name__ == "__main__":
    sys.exit(main())
