"""The SQL of the month-end report: one function per section, each reading the marts (and the
scoring tables) of one ``as_of_month`` from a read-only connection.

Every function returns what its section shows and nothing else; a function whose tables are
absent (a warehouse built without the scoring assets) or that finds no rows for the month
returns an empty frame, which the report shows as "no data for this month". Only
:func:`report_months` refuses a file that is not a built warehouse: the month list comes from
``marts.portfolio_concentration``, the mart the scoring assets read to choose their month too.

Money comes back as :class:`decimal.Decimal` where the report prints it (the tiles, exactly as
the marts hold it) and as float where it is only drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import duckdb
import pandas as pd

from orchestration.months import month_add
from orchestration.warehouse.connection import relation_columns, table_exists

#: Customers the penetration heatmap shows: the top ones by TTM revenue.
HEATMAP_CUSTOMERS = 40
#: Rows of the top-customer tables (concentration, churn risk, cross-sell).
TOP_CUSTOMERS = 20
TOP_RECOMMENDATIONS = 15
#: Churn is shown over this many months ending with the report's month: single months have
#: too few churn events to compare quadrants or reasons.
CHURN_WINDOW_MONTHS = 12
#: Rows of the table of agreements furthest over their target labour hours.
TOP_OVER_TARGET = 10
#: The cohort triangle shows the cohorts of this many months ending with the report's month
#: (an export whose MRR starts years before its invoices would otherwise draw hundreds of rows).
COHORT_MONTHS = 24
#: Customers per account manager in the account-plan table.
ACCOUNT_PLAN_PER_MANAGER = 10


class ReportError(Exception):
    """The report cannot be written: no warehouse, not a built one, or a month it lacks."""


@dataclass(frozen=True)
class Tiles:
    """The headline figures of one month, exactly as the marts hold them (None: not known)."""

    as_of_month: date
    active_customers: int | None
    revenue_ttm: Decimal | None
    mrr: Decimal | None
    nrr: float | None
    grr: float | None
    nrr_12m: float | None
    grr_12m: float | None
    hhi: float | None
    pct_in_tcp_and_full_package: float | None
    #: None also on a warehouse built before retention_summary had the column.
    quick_ratio: float | None = None


def _frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: list, columns: list[str]
) -> pd.DataFrame:
    """Rows of ``sql`` as a frame with ``columns`` (empty, with those columns, when none)."""
    rows = con.execute(sql, params).fetchall()
    return pd.DataFrame.from_records(rows, columns=columns)


def _floats(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """``columns`` of ``frame`` as float (decimals and None to float and NaN)."""
    for column in columns:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


def has_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str, *columns: str) -> bool:
    """Whether ``schema.table`` exists with every one of ``columns`` (a warehouse built by an
    earlier version of the project may lack a mart or a column added since)."""
    present = {name for name, _ in relation_columns(con, schema, table)}
    return bool(present) and set(columns) <= present


def report_months(con: duckdb.DuckDBPyConnection) -> list[date]:
    """Every as_of_month of the warehouse, oldest first.

    Raises:
        ReportError: the file holds no ``marts.portfolio_concentration`` (not a built warehouse).
    """
    if not table_exists(con, "marts", "portfolio_concentration"):
        raise ReportError(
            "the file holds no marts.portfolio_concentration: not a built warehouse "
            "(run make build first)"
        )
    rows = con.execute(
        "select distinct as_of_month from marts.portfolio_concentration order by 1"
    ).fetchall()
    return [row[0] for row in rows]


def scored_months(con: duckdb.DuckDBPyConnection) -> set[date]:
    """The months the scoring assets scored: the last month of each published run (the month
    a run scores, even when it found nothing to write) and every month a scoring table holds."""
    months: set[date] = set()
    if table_exists(con, "audit", "publish_log"):
        published = con.execute("select distinct last_month from audit.publish_log").fetchall()
        months |= {month for (month,) in published if month is not None}
    for table in ("churn_risk_scores", "cross_sell_recommendations", "retention_curves"):
        if table_exists(con, "scoring", table):
            months |= {
                month
                for (month,) in con.execute(
                    f"select distinct as_of_month from scoring.{table}"
                ).fetchall()
            }
    return months


def published_at(con: duckdb.DuckDBPyConnection) -> str | None:
    """When the warehouse was last published (``audit.publish_log``), or None."""
    if not table_exists(con, "audit", "publish_log"):
        return None
    rows = con.execute("select max(published_at) from audit.publish_log").fetchall()
    return None if rows[0][0] is None else f"{rows[0][0]:%Y-%m-%d %H:%M} UTC"


def tiles(con: duckdb.DuckDBPyConnection, month: date) -> Tiles:
    """The headline figures of ``month``."""
    sql = """
        select
            concentration.active_customers,
            concentration.revenue_ttm,
            retention.ending_mrr,
            retention.nrr,
            retention.grr,
            retention.nrr_12m,
            retention.grr_12m,
            concentration.hhi,
            cross_sell.pct_in_tcp_and_full_package
        from marts.portfolio_concentration as concentration
        left join marts.retention_summary as retention
            on concentration.as_of_month = retention.as_of_month
        left join marts.portfolio_cross_sell as cross_sell
            on concentration.as_of_month = cross_sell.as_of_month
        where concentration.as_of_month = ?
    """
    rows = con.execute(sql, [month]).fetchall()
    if not rows:
        return Tiles(month, *([None] * 9))
    quick_ratio = None
    if has_columns(con, "marts", "retention_summary", "quick_ratio"):
        found = con.execute(
            "select quick_ratio from marts.retention_summary where as_of_month = ?", [month]
        ).fetchall()
        quick_ratio = found[0][0] if found else None
    return Tiles(month, *rows[0], quick_ratio=quick_ratio)


def concentration_warnings(con: duckdb.DuckDBPyConnection, month: date) -> dict[str, object]:
    """The portfolio's concentration figures and warning flags of ``month``."""
    columns = [
        "top1_share",
        "top5_share",
        "top10_share",
        "gini",
        "pareto_80_customer_count",
        "pareto_80_customer_share",
        "has_top1_share_warning",
        "has_top5_share_warning",
        "has_top10_share_warning",
        "has_hhi_warning",
        "has_concentration_warning",
    ]
    rows = con.execute(
        f"select {', '.join(columns)} from marts.portfolio_concentration where as_of_month = ?",
        [month],
    ).fetchall()
    return dict(zip(columns, rows[0], strict=True)) if rows else {}


def pareto(con: duckdb.DuckDBPyConnection, month: date) -> pd.DataFrame:
    """Every active customer of ``month`` by rank: cumulative customer and revenue shares."""
    columns = ["revenue_rank", "cumulative_customer_share", "cumulative_revenue_share"]
    sql = f"""
        select {", ".join(columns)} from marts.customer_concentration
        where as_of_month = ? order by revenue_rank
    """
    return _frame(con, sql, [month], columns)


def top_customers(
    con: duckdb.DuckDBPyConnection, month: date, limit: int = TOP_CUSTOMERS
) -> pd.DataFrame:
    """The ``limit`` largest customers of ``month`` with their class and concentration flags."""
    columns = [
        "revenue_rank",
        "customer_name",
        "revenue_ttm",
        "revenue_share",
        "cumulative_revenue_share",
        "classification",
        "is_concentration_risk",
        "is_in_pareto_80_head",
    ]
    sql = """
        select
            concentration.revenue_rank,
            coalesce(concentration.customer_name, concentration.customer_id),
            concentration.revenue_ttm,
            concentration.revenue_share,
            concentration.cumulative_revenue_share,
            classification.classification,
            concentration.is_concentration_risk,
            concentration.is_in_pareto_80_head
        from marts.customer_concentration as concentration
        left join marts.customer_classification as classification
            on concentration.as_of_month = classification.as_of_month
            and concentration.customer_id = classification.customer_id
        where concentration.as_of_month = ? and concentration.revenue_rank <= ?
        order by concentration.revenue_rank
    """
    return _frame(con, sql, [month, limit], columns)


def classification(con: duckdb.DuckDBPyConnection, month: date) -> pd.DataFrame:
    """Every active customer of ``month``: TTM revenue, margin %, class, the cut-offs."""
    columns = [
        "revenue_rank",
        "customer_name",
        "revenue_ttm",
        "gross_margin_pct",
        "classification",
        "is_large",
        "margin_cut_off_pct",
    ]
    sql = """
        select
            revenue_rank, coalesce(customer_name, customer_id), revenue_ttm, gross_margin_pct,
            classification, is_large, margin_cut_off_pct
        from marts.customer_classification
        where as_of_month = ?
        order by revenue_rank
    """
    return _floats(_frame(con, sql, [month], columns), "revenue_ttm", "gross_margin_pct")


def transitions(con: duckdb.DuckDBPyConnection, month: date) -> tuple[date | None, pd.DataFrame]:
    """Class movements of the latest quarter end on or before ``month``: its month, and the
    count of customers per (previous class, class); None stands for no class (new, lost)."""
    rows = con.execute(
        "select max(quarter_end_month) from marts.classification_transitions "
        "where quarter_end_month <= ?",
        [month],
    ).fetchall()
    quarter_end = rows[0][0]
    columns = ["previous_classification", "classification", "transition", "customers"]
    if quarter_end is None:
        return None, pd.DataFrame(columns=columns)
    sql = """
        select previous_classification, classification, transition, count(*)
        from marts.classification_transitions
        where quarter_end_month = ?
        group by all
        order by all
    """
    return quarter_end, _frame(con, sql, [quarter_end], columns)


def penetration_matrix(
    con: duckdb.DuckDBPyConnection, month: date, customers: int = HEATMAP_CUSTOMERS
) -> pd.DataFrame:
    """Customer × offering TTM revenue of the ``customers`` largest customers of ``month``,
    offerings ordered by penetration (most owned first), customers by rank."""
    columns = [
        "revenue_rank",
        "customer_name",
        "offering_name",
        "owning_customers",
        "revenue_ttm",
        "owns_offering",
    ]
    sql = """
        select
            concentration.revenue_rank,
            coalesce(matrix.customer_name, matrix.customer_id),
            matrix.offering_name,
            penetration.owning_customers,
            matrix.revenue_ttm,
            matrix.owns_offering
        from marts.customer_offering_matrix as matrix
        inner join marts.customer_concentration as concentration
            on matrix.as_of_month = concentration.as_of_month
            and matrix.customer_id = concentration.customer_id
        inner join marts.offering_penetration as penetration
            on matrix.as_of_month = penetration.as_of_month
            and matrix.offering_id = penetration.offering_id
        where matrix.as_of_month = ? and concentration.revenue_rank <= ?
        order by concentration.revenue_rank, 4 desc, matrix.offering_name
    """
    return _floats(_frame(con, sql, [month, customers], columns), "revenue_ttm")


def whitespace(con: duckdb.DuckDBPyConnection, month: date) -> pd.DataFrame:
    """Per current offering with at least one owner: penetration and whitespace revenue, the
    offering's ARPO times the active customers who do not own it (summed over offerings, it is
    ``portfolio_cross_sell.whitespace_revenue``)."""
    columns = [
        "offering_name",
        "penetration_rate",
        "owning_customers",
        "non_owning_customers",
        "avg_revenue_per_owner",
        "whitespace_revenue",
    ]
    sql = """
        select
            offering_name,
            penetration_rate,
            owning_customers,
            active_customers - owning_customers,
            avg_revenue_per_owner,
            (active_customers - owning_customers) * avg_revenue_per_owner
        from marts.offering_penetration
        where as_of_month = ? and lifecycle = 'current' and owning_customers > 0
        order by 6 desc, offering_name
    """
    return _floats(
        _frame(con, sql, [month], columns), "avg_revenue_per_owner", "whitespace_revenue"
    )


def mrr_bridge(con: duckdb.DuckDBPyConnection, month: date) -> dict[str, Decimal] | None:
    """The MRR bridge of ``month`` (``marts.retention_summary``), or None without a row."""
    columns = [
        "starting_mrr",
        "new_mrr",
        "expansion_mrr",
        "reactivation_mrr",
        "contraction_mrr",
        "churned_mrr",
        "ending_mrr",
    ]
    rows = con.execute(
        f"select {', '.join(columns)} from marts.retention_summary where as_of_month = ?",
        [month],
    ).fetchall()
    return dict(zip(columns, rows[0], strict=True)) if rows else None


def retention_trend(con: duckdb.DuckDBPyConnection, month: date) -> pd.DataFrame:
    """Monthly and trailing-12 GRR and NRR of every month up to ``month`` in the invoice
    history (earlier months rest on agreements alone: retention_summary.is_in_invoice_history)."""
    columns = ["as_of_month", "grr", "nrr", "grr_12m", "nrr_12m"]
    sql = f"""
        select {", ".join(columns)} from marts.retention_summary
        where as_of_month <= ? and is_in_invoice_history
        order by as_of_month
    """
    return _frame(con, sql, [month], columns)


def churn_window(month: date) -> tuple[date, date]:
    """The first and last month of the churn section's window ending with ``month``."""
    return month_add(month, 1 - CHURN_WINDOW_MONTHS), month


def churn(con: duckdb.DuckDBPyConnection, month: date) -> pd.DataFrame:
    """Churn events effective in the window ending with ``month``: MRR lost and events per
    (quadrant, reason)."""
    columns = ["churn_quadrant", "reason", "events", "mrr_lost"]
    first, last = churn_window(month)
    sql = """
        select
            churn_quadrant,
            coalesce(reason_label, reason_code),
            count(*),
            sum(mrr_lost)
        from marts.churn_events
        where effective_month between ? and ?
        group by all
        order by all
    """
    return _floats(_frame(con, sql, [first, last], columns), "mrr_lost")


def retention_curves(con: duckdb.DuckDBPyConnection, month: date) -> pd.DataFrame:
    """The sBG survival curves scored as of ``month``, per segment (empty when not scored)."""
    columns = ["segment", "tenure_month", "survival", "n_customers", "alpha", "beta"]
    if not table_exists(con, "scoring", "retention_curves"):
        return pd.DataFrame(columns=columns)
    sql = f"""
        select {", ".join(columns)} from scoring.retention_curves
        where as_of_month = ? order by segment, tenure_month
    """
    return _frame(con, sql, [month], columns)


def churn_risk(
    con: duckdb.DuckDBPyConnection, month: date, limit: int = TOP_RECOMMENDATIONS
) -> pd.DataFrame:
    """The ``limit`` customers most likely to churn within 3 months, scored as of ``month``."""
    columns = ["customer_name", "churn_probability_3m", "risk_band", "mrr", "classification"]
    if not table_exists(con, "scoring", "churn_risk_scores"):
        return pd.DataFrame(columns=columns)
    sql = """
        select
            coalesce(customers.customer_name, scores.customer_id),
            scores.churn_probability_3m,
            scores.risk_band,
            movements.mrr,
            classification.classification
        from scoring.churn_risk_scores as scores
        left join marts.customers as customers
            on scores.customer_id = customers.customer_id
        left join marts.mrr_movements as movements
            on scores.as_of_month = movements.as_of_month
            and scores.customer_id = movements.customer_id
        left join marts.customer_classification as classification
            on scores.as_of_month = classification.as_of_month
            and scores.customer_id = classification.customer_id
        where scores.as_of_month = ?
        order by scores.churn_probability_3m desc, scores.customer_id
        limit ?
    """
    return _floats(_frame(con, sql, [month, limit], columns), "mrr")


def cross_sell(
    con: duckdb.DuckDBPyConnection, month: date, limit: int = TOP_RECOMMENDATIONS
) -> pd.DataFrame:
    """The ``limit`` recommendations of ``month`` with the largest expected revenue."""
    columns = ["customer_name", "offering_name", "propensity", "expected_revenue", "rank"]
    if not table_exists(con, "scoring", "cross_sell_recommendations"):
        return pd.DataFrame(columns=columns)
    sql = """
        select
            coalesce(customers.customer_name, recommendations.customer_id),
            coalesce(penetration.offering_name, recommendations.offering_id),
            recommendations.propensity,
            recommendations.expected_revenue,
            recommendations.rank
        from scoring.cross_sell_recommendations as recommendations
        left join marts.customers as customers
            on recommendations.customer_id = customers.customer_id
        left join marts.offering_penetration as penetration
            on recommendations.as_of_month = penetration.as_of_month
            and recommendations.offering_id = penetration.offering_id
        where recommendations.as_of_month = ?
        order by recommendations.expected_revenue desc, recommendations.customer_id,
            recommendations.offering_id
        limit ?
    """
    return _floats(_frame(con, sql, [month, limit], columns), "expected_revenue")


def class_economics(con: duckdb.DuckDBPyConnection, month: date) -> pd.DataFrame:
    """Per class and for all active customers (``segment`` ``all``) of ``month``: the effective
    hourly rate, (Σ revenue − Σ product cost) / Σ labour hours, and the service and
    product-resale margin %, each a ratio of the class's sums (never an average of the
    customers' rates); null where the denominator is 0. Empty without
    ``marts.customer_profitability``."""
    columns = [
        "segment",
        "customers",
        "labor_hours_ttm",
        "effective_hourly_rate",
        "service_margin_pct",
        "product_resale_margin_pct",
    ]
    if not table_exists(con, "marts", "customer_profitability"):
        return pd.DataFrame(columns=columns)
    sql = """
        with customers as (
            select
                coalesce(classification.classification, 'unclassified') as segment,
                profitability.*
            from marts.customer_profitability as profitability
            left join marts.customer_classification as classification
                on profitability.as_of_month = classification.as_of_month
                and profitability.customer_id = classification.customer_id
            where profitability.as_of_month = ?
        ),

        segments as (
            select segment, * exclude (segment) from customers
            union all
            select 'all', * exclude (segment) from customers
        )

        select
            segment,
            count(*),
            sum(labor_hours_ttm),
            cast(sum(revenue_ttm - product_cost_ttm) as double)
                / nullif(cast(sum(labor_hours_ttm) as double), 0),
            cast(sum(service_margin_ttm) as double)
                / nullif(cast(sum(revenue_service_ttm) as double), 0),
            cast(sum(product_resale_margin_ttm) as double)
                / nullif(cast(sum(revenue_product_resale_ttm) as double), 0)
        from segments
        group by segment
        order by segment = 'all', segment
    """
    return _floats(_frame(con, sql, [month], columns), "labor_hours_ttm")


def agreement_types(con: duckdb.DuckDBPyConnection, month: date) -> pd.DataFrame:
    """``marts.agreement_type_profitability`` of ``month`` (empty without the mart)."""
    columns = [
        "agreement_type",
        "agreements",
        "revenue_ttm",
        "gross_margin_ttm",
        "gross_margin_pct",
        "labor_hours_ttm",
        "effective_hourly_rate",
    ]
    if not table_exists(con, "marts", "agreement_type_profitability"):
        return pd.DataFrame(columns=columns)
    sql = f"""
        select {", ".join(columns)} from marts.agreement_type_profitability
        where as_of_month = ? order by revenue_ttm desc, agreement_type
    """
    return _frame(con, sql, [month], columns)


def agreements_over_target(
    con: duckdb.DuckDBPyConnection, month: date, limit: int = TOP_OVER_TARGET
) -> pd.DataFrame:
    """The ``limit`` agreements of ``month`` furthest over their target labour hours per month
    (by hours over target; ``marts.agreement_profitability`` with is_over_target_hours)."""
    columns = [
        "customer_name",
        "agreement_id",
        "agreement_type",
        "labor_hours_per_month",
        "target_labor_hours_per_month",
        "hours_over_target",
        "effective_hourly_rate",
        "gross_margin_pct",
    ]
    if not table_exists(con, "marts", "agreement_profitability"):
        return pd.DataFrame(columns=columns)
    sql = """
        select
            coalesce(customer_name, customer_id),
            agreement_id,
            agreement_type,
            labor_hours_per_month,
            target_labor_hours_per_month,
            labor_hours_per_month - target_labor_hours_per_month,
            effective_hourly_rate,
            gross_margin_pct
        from marts.agreement_profitability
        where as_of_month = ? and is_over_target_hours
        order by 6 desc, agreement_id
        limit ?
    """
    return _frame(con, sql, [month, limit], columns)


#: The gross-profit bridge's columns, in the waterfall's order.
GROSS_PROFIT_BRIDGE_COLUMNS = (
    "starting_gross_profit",
    "new_gross_profit",
    "expansion_gross_profit",
    "reactivation_gross_profit",
    "contraction_gross_profit",
    "churned_gross_profit",
    "margin_change",
    "ending_gross_profit",
    "gross_profit_nrr",
    "gross_profit_grr",
    "nrr",
    "grr",
)


def gross_profit_bridge(con: duckdb.DuckDBPyConnection, month: date) -> dict[str, object] | None:
    """The gross-profit bridge of ``month`` with gross-profit and revenue NRR and GRR
    (``marts.gross_profit_bridge``), or None without the mart or a row."""
    if not table_exists(con, "marts", "gross_profit_bridge"):
        return None
    columns = GROSS_PROFIT_BRIDGE_COLUMNS
    rows = con.execute(
        f"select {', '.join(columns)} from marts.gross_profit_bridge where as_of_month = ?",
        [month],
    ).fetchall()
    return dict(zip(columns, rows[0], strict=True)) if rows else None


def cohort_retention(
    con: duckdb.DuckDBPyConnection, month: date, months: int = COHORT_MONTHS
) -> pd.DataFrame:
    """Net revenue and logo retention of the cohorts (segment ``all``) of the ``months``
    months ending with ``month``, for each month since their start up to ``month``
    (``marts.customer_cohort_retention``; empty without it)."""
    columns = [
        "cohort_month",
        "months_since_start",
        "cohort_customers",
        "retained_customers",
        "logo_retention",
        "net_revenue_retention",
    ]
    if not table_exists(con, "marts", "customer_cohort_retention"):
        return pd.DataFrame(columns=columns)
    sql = f"""
        select {", ".join(columns)} from marts.customer_cohort_retention
        where segment_type = 'all'
            and cohort_month >= ?
            and retention_month <= ?
        order by cohort_month, months_since_start
    """
    return _frame(con, sql, [month_add(month, 1 - months), month], columns)


def committed_mrr(con: duckdb.DuckDBPyConnection, month: date) -> pd.DataFrame:
    """MRR in force at the end of ``month`` still under contract at the end of each of the next
    12 months (``marts.committed_mrr``; empty without it)."""
    columns = ["forecast_month", "months_ahead", "committed_mrr", "current_mrr"]
    if not table_exists(con, "marts", "committed_mrr"):
        return pd.DataFrame(columns=columns)
    sql = f"""
        select {", ".join(columns)} from marts.committed_mrr
        where as_of_month = ? order by forecast_month
    """
    return _frame(con, sql, [month], columns)


def renewals(con: duckdb.DuckDBPyConnection, month: date) -> pd.DataFrame:
    """Agreements of ``month``'s renewal calendar, ending within 90 days of the month's end,
    soonest first (``marts.renewal_calendar``; empty without it)."""
    columns = [
        "customer_name",
        "agreement_id",
        "agreement_type",
        "end_date",
        "days_to_end",
        "renewal_window",
        "agreement_mrr",
        "classification",
        "is_cancelled",
    ]
    if not table_exists(con, "marts", "renewal_calendar"):
        return pd.DataFrame(columns=columns)
    sql = """
        select
            coalesce(customer_name, customer_id),
            agreement_id,
            agreement_type,
            end_date,
            days_to_end,
            renewal_window,
            agreement_mrr,
            classification,
            is_cancelled
        from marts.renewal_calendar
        where as_of_month = ? and days_to_end <= 90
        order by end_date, agreement_mrr desc, agreement_id
    """
    return _frame(con, sql, [month], columns)


def account_plan(
    con: duckdb.DuckDBPyConnection, month: date, per_manager: int = ACCOUNT_PLAN_PER_MANAGER
) -> pd.DataFrame | None:
    """The ``per_manager`` customers of each account manager's book of ``month`` with the
    highest priority (``marts.account_plan``); None when the warehouse has no such mart (or
    one without these columns)."""
    columns = [
        "account_manager",
        "priority_rank",
        "customer_name",
        "priority_tier",
        "next_action",
        "priority_value",
        "classification",
        "class_movement",
        "in_tcp",
        "is_on_full_package",
        "effective_hourly_rate",
        "churn_probability_3m",
        "risk_band",
        "churn_driver_1",
        "churn_driver_2",
        "churn_driver_3",
        "next_renewal_date",
        "top_cross_sell_offering_name",
        "top_cross_sell_expected_revenue",
    ]
    if not has_columns(con, "marts", "account_plan", *columns):
        return None
    named = ["coalesce(customer_name, customer_id)" if c == "customer_name" else c for c in columns]
    sql = f"""
        select {", ".join(named)} from marts.account_plan
        where as_of_month = ? and priority_rank <= ?
        order by account_manager, priority_rank
    """
    return _frame(con, sql, [month, per_manager], columns)
