"""Read what the scoring models need from the marts, as pandas DataFrames.

Every function takes an open DuckDB connection to a built warehouse and reads the ``marts``
schema only (never landing or staging), so a notebook can run the models against the served
file (read-only) and the scoring assets against a run's candidate::

    import duckdb
    from orchestration.scoring import features

    con = duckdb.connect("warehouse/portfolio.duckdb", read_only=True)
    month = features.latest_as_of_month(con)
    lifetimes = features.customer_lifetimes(con, month)

No function reads a month after the ``as_of_month`` (or ``through_month``) it is given, so a model
fitted on what they return as of a past month sees exactly what was known then.

The churn model's features are computed in dbt, in the mart ``churn_risk_features`` (documented,
contracted and unit-tested there); :func:`churn_panel` reads its rows up to the month asked for
and censors the label at that month.

Month conventions are the marts': a month is the DATE of its first day; MRR is measured on the
month's last day (``marts.mrr_movements``); TTM figures cover ``as_of_month - 11 .. as_of_month``.

A month can have nothing to score: no active customer then, a month outside the range the marts
were built for, or empty marts (an export without invoices or agreements). The readers of one
month refuse such a month (``ValueError``); :func:`missing_month_reason` says beforehand why a
month has nothing, so the writers of ``pipeline.py`` can write no rows for it instead of failing.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

__all__ = [
    "churn_panel",
    "customer_lifetimes",
    "customer_profiles",
    "first_as_of_month",
    "latest_as_of_month",
    "missing_month_reason",
    "months_between",
    "offering_catalogue",
    "offering_ownership",
]

#: Horizon of the churn label, in months: churn within as_of_month + 1 .. as_of_month + 3
#: (written out as 3 in the dbt model ``churn_risk_features``).
CHURN_HORIZON_MONTHS = 3

#: The feature columns of :func:`churn_panel`, in order, as ``marts.churn_risk_features`` has them.
PANEL_FEATURES: tuple[str, ...] = (
    "mrr",
    "log_mrr",
    "mrr_log_change_3m",
    "mrr_log_change_6m",
    "had_mrr_3m_ago",
    "had_mrr_6m_ago",
    "contractions_12m",
    "expansions_12m",
    "gross_margin_pct",
    "labor_cost_share",
    "log_revenue_ttm",
    "revenue_share",
    "offerings_owned",
    "full_package_components_owned",
    "owns_legacy_offering",
    "is_on_full_package",
    "in_tcp",
    "tenure_months",
    "log_tenure_months",
    "contract_year_ends_within_3m",
    "classification",
    "agreement_profile",
)


def months_between(start: date, end: date) -> int:
    """Whole calendar months from ``start`` to ``end`` (``end`` later gives a positive number)."""
    return (end.year - start.year) * 12 + end.month - start.month


def _as_date(value: object) -> date:
    return pd.Timestamp(value).date()


def latest_as_of_month(con: duckdb.DuckDBPyConnection, up_to: date | None = None) -> date | None:
    """The latest month the marts were built for, no later than ``up_to``.

    The latest ``as_of_month`` of ``marts.portfolio_concentration``, which has a row for every
    month of the month spine (with or without active customers), capped at ``up_to`` when that
    is earlier: ``min(up_to, latest)``. The month asked for is returned even when the marts hold
    no row for it (a gap): :func:`missing_month_reason` says so. None when the mart has no row
    at all (nothing built, or an export without invoices).

    With marts built for 2024-01 .. 2026-08, ``up_to`` 2026-10-01 gives 2026-08-01 (the data
    ends before the month asked for), ``up_to`` 2026-05-01 gives 2026-05-01 and no ``up_to``
    gives 2026-08-01.
    """
    (month,) = con.execute("select max(as_of_month) from marts.portfolio_concentration").fetchone()
    if month is None:
        return None
    latest = _as_date(month)
    return latest if up_to is None else min(latest, _as_date(up_to))


def first_as_of_month(con: duckdb.DuckDBPyConnection) -> date:
    """The first ``as_of_month`` of the marts: the first month of invoice data.

    Before it the warehouse only knows the agreements of the export, typically those of customers
    still there then, so lifetimes are observed from this month on (see
    :func:`customer_lifetimes`).
    """
    (month,) = con.execute("select min(as_of_month) from marts.customer_classification").fetchone()
    if month is None:
        raise ValueError("marts.customer_classification is empty: build the marts first")
    return _as_date(month)


def _first_day(month: date) -> date:
    month = _as_date(month)
    if month.day != 1:
        raise ValueError(f"a month is the first day of the month, got {month}")
    return month


def missing_month_reason(con: duckdb.DuckDBPyConnection, as_of_month: date) -> str | None:
    """Why the marts hold nothing to score at ``as_of_month``; None when they do.

    A month has something to score when ``marts.customer_classification`` has rows for it (its
    active customers, those with TTM revenue). Otherwise the reason names the case: the mart is
    empty, the month is before or after the months with active customers, or none was active
    then.

    Raises:
        ValueError: ``as_of_month`` is not the first day of a month.
    """
    month = _first_day(as_of_month)
    first, last, found = con.execute(
        """
        select min(as_of_month), max(as_of_month), count(*) filter (where as_of_month = $month)
        from marts.customer_classification
        """,
        {"month": month},
    ).fetchone()
    if found:
        return None
    if first is None:
        return (
            "marts.customer_classification is empty: no customer has TTM revenue in any month "
            "(no invoice data)"
        )
    if month > _as_date(last):
        return (
            f"no active customer at {month:%Y-%m}: the marts' last month with active customers "
            f"is {_as_date(last):%Y-%m}"
        )
    if month < _as_date(first):
        return (
            f"no active customer at {month:%Y-%m}: the marts' first month with active customers "
            f"is {_as_date(first):%Y-%m}"
        )
    return f"no active customer at {month:%Y-%m} (no customer has TTM revenue then)"


def _check_month(con: duckdb.DuckDBPyConnection, month: date) -> date:
    month = _first_day(month)
    (found,) = con.execute(
        "select count(*) from marts.customer_classification where as_of_month = ?", [month]
    ).fetchone()
    if not found:
        raise ValueError(f"marts.customer_classification has no as_of_month {month:%Y-%m}")
    return month


def customer_lifetimes(con: duckdb.DuckDBPyConnection, as_of_month: date) -> pd.DataFrame:
    """One row per customer that had MRR in some month up to ``as_of_month``.

    Columns:

    ``customer_id``
    ``first_mrr_month``
        First month with MRR (the month of its ``new`` movement).
    ``first_churn_month``
        Month of its first ``churn`` movement up to ``as_of_month``, else null. Churns after
        ``as_of_month`` are not seen.
    ``last_mrr_month``
        Last month with MRR before its first churn (``first_churn_month - 1``), or
        ``as_of_month`` when it never churned.
    ``spell_start_month``
        Start of its current MRR spell: the latest ``new`` or ``reactivation`` month up to
        ``as_of_month`` (equals ``first_mrr_month`` unless it came back after a churn).
    ``mrr``
        MRR at ``as_of_month`` (0 when it has none then).
    ``is_active``
        It has MRR at ``as_of_month``.
    ``segment``
        Its classification (A/B/C/D) at the latest ``as_of_month`` up to ``last_mrr_month``:
        for a customer that never churned the class at ``as_of_month`` (when classified), for a
        churned one the class before it left (as ``marts.churn_events.classification_at_churn``).
        ``current_segment`` is the class at ``as_of_month`` itself (null when not active then).
        Null when never classified (MRR only before the first month of invoice data).
    ``monthly_gross_margin``, ``gross_margin_ttm``
        ``gross_margin_ttm`` of ``marts.customer_classification`` at ``as_of_month`` and that
        divided by 12 (null when not active at ``as_of_month``).
    """
    month = _check_month(con, as_of_month)
    return con.execute(
        """
        with
        movements as (
            select * from marts.mrr_movements where as_of_month <= $month
        ),

        classes as (
            select as_of_month, customer_id, classification, gross_margin_ttm
            from marts.customer_classification
            where as_of_month <= $month
        ),

        spells as (
            select
                customer_id,
                min(first_mrr_month) as first_mrr_month,
                min(as_of_month) filter (where movement = 'churn') as first_churn_month,
                max(as_of_month) filter (where movement in ('new', 'reactivation'))
                    as spell_start_month,
                coalesce(max(mrr) filter (where as_of_month = $month), 0) as mrr
            from movements
            group by customer_id
        ),

        spells_ended as (
            select
                *,
                coalesce(
                    cast(first_churn_month - interval 1 month as date), $month
                ) as last_mrr_month
            from spells
        ),

        segments as (
            select
                spells_ended.customer_id,
                arg_max(classes.classification, classes.as_of_month) as segment
            from spells_ended
            inner join classes
                on
                    classes.customer_id = spells_ended.customer_id
                    and classes.as_of_month <= spells_ended.last_mrr_month
            group by spells_ended.customer_id
        )

        select
            spells_ended.customer_id,
            spells_ended.first_mrr_month,
            spells_ended.first_churn_month,
            spells_ended.last_mrr_month,
            spells_ended.spell_start_month,
            cast(spells_ended.mrr as double) as mrr,
            spells_ended.mrr > 0 as is_active,
            segments.segment,
            current_class.classification as current_segment,
            cast(current_class.gross_margin_ttm as double) as gross_margin_ttm,
            cast(current_class.gross_margin_ttm as double) / 12 as monthly_gross_margin
        from spells_ended
        left join segments on segments.customer_id = spells_ended.customer_id
        left join classes as current_class
            on
                current_class.customer_id = spells_ended.customer_id
                and current_class.as_of_month = $month
        order by spells_ended.customer_id
        """,
        {"month": month},
    ).df()


def churn_panel(con: duckdb.DuckDBPyConnection, through_month: date) -> pd.DataFrame:
    """Customer-months with MRR, their features and whether they churned in the next 3 months,
    as known at ``through_month``.

    The rows of ``marts.churn_risk_features`` (a dbt model; its YAML documents every feature)
    with ``as_of_month <= through_month``: one row per ``(as_of_month, customer_id)`` for every
    customer that is active (in ``marts.customer_classification``) and has MRR at that month,
    ordered by month and customer. Every feature of a row uses only months up to the row's
    ``as_of_month``, so a panel read through an earlier month has the same features.

    The label is censored at ``through_month``, so nothing after it is read:
    ``churned_within_3m`` is true when the customer has a ``churn`` movement in one of the months
    ``as_of_month + 1 .. min(as_of_month + 3, through_month)`` (its first churn of the three
    months, ``churn_month_within_3m``, is no later than ``through_month``);
    ``is_label_observed`` is true when ``as_of_month + 3 <= through_month``, i.e. all three
    months are known. Rows whose label is not observed are kept (they are the ones to score)
    with a possibly incomplete label.

    Columns: ``as_of_month``, ``customer_id``, ``churned_within_3m``, ``is_label_observed`` and
    :data:`PANEL_FEATURES` (``churn_risk.NUMERIC_FEATURES`` and ``CATEGORICAL_FEATURES`` name
    the ones the model uses; the others are kept for analysis).
    """
    month = _as_date(through_month)
    return con.execute(
        f"""
        select
            as_of_month,
            customer_id,
            coalesce(churn_month_within_3m <= $month, false) as churned_within_3m,
            label_window_end_month <= $month as is_label_observed,
            {", ".join(PANEL_FEATURES)}
        from marts.churn_risk_features
        where as_of_month <= $month
        order by as_of_month, customer_id
        """,
        {"month": month},
    ).df()


def offering_ownership(con: duckdb.DuckDBPyConnection, as_of_month: date) -> pd.DataFrame:
    """The customer x offering matrix at ``as_of_month``: one row per active customer
    and offering with ``owns_offering`` (TTM revenue of the pair > 0) and the offering's
    ``lifecycle`` (``current`` or ``legacy``)."""
    month = _check_month(con, as_of_month)
    return con.execute(
        """
        select customer_id, offering_id, lifecycle, owns_offering
        from marts.customer_offering_matrix
        where as_of_month = ?
        order by customer_id, offering_id
        """,
        [month],
    ).df()


def offering_catalogue(con: duckdb.DuckDBPyConnection, as_of_month: date) -> pd.DataFrame:
    """Offerings at ``as_of_month`` from ``marts.offering_penetration``: ``offering_id``,
    ``lifecycle``, ``owning_customers`` and ``avg_revenue_per_owner`` (ARPO, TTM revenue per
    owning customer; null when nobody owns it)."""
    month = _check_month(con, as_of_month)
    return con.execute(
        """
        select
            offering_id,
            lifecycle,
            owning_customers,
            cast(avg_revenue_per_owner as double) as avg_revenue_per_owner
        from marts.offering_penetration
        where as_of_month = ?
        order by offering_id
        """,
        [month],
    ).df()


def customer_profiles(con: duckdb.DuckDBPyConnection, as_of_month: date) -> pd.DataFrame:
    """Active customers at ``as_of_month`` with what describes them beyond what they own:
    ``revenue_ttm``, ``industry``, ``employee_count`` (null when unknown), ``in_tcp`` and
    ``classification`` (customer_classification)."""
    month = _check_month(con, as_of_month)
    return con.execute(
        """
        select
            customer_id,
            cast(revenue_ttm as double) as revenue_ttm,
            coalesce(industry, 'unknown') as industry,
            employee_count,
            coalesce(in_tcp, false) as in_tcp,
            classification
        from marts.customer_classification
        where as_of_month = ?
        order by customer_id
        """,
        [month],
    ).df()
