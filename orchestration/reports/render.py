"""Build the month-end report of one as_of_month and write it as one self-contained HTML file.

:func:`write_report` opens the warehouse read-only, reads every section
(:mod:`orchestration.reports.queries`), draws its figure (:mod:`orchestration.reports.charts`),
and renders ``templates/month_end.html.j2``: plotly.js inlined once at the top of the page, then
each figure as a ``<div>`` and its ``Plotly.newPlot`` call without the library
(``include_plotlyjs=False``), so the file opens offline, from a mail attachment or a file share.
It is written to a temporary file next to its destination and renamed over it: a reader never
sees half a report.

Each section is a ``<section id="...">`` with a heading, one line on how to read it and the
definition used, and its figure (or table); a section without data for the month says so
instead. The headline tiles carry their exact value in ``data-value`` (money as the marts'
decimal, ratios as the float the mart holds), so a test or a script can read them back.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from orchestration.reports import charts, queries
from orchestration.reports.queries import ReportError
from orchestration.warehouse.connection import read_warehouse, table_exists

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "month_end.html.j2"
#: The best-in-class mark of the share of customers in TCP and on the full package.
TCP_FULL_PACKAGE_MARK = 0.70
NO_DATA = "No data for this month."
#: Why a section of a mart the warehouse lacks is empty (built by an earlier version).
NOT_BUILT = "{table} is not built in this warehouse: it was built before the mart existed."
#: plotly's options for every figure: no logo, resize with the page.
FIGURE_CONFIG = {"displaylogo": False, "responsive": True}


def report_file_name(month: date) -> str:
    """``month_end_YYYY-MM.html``."""
    return f"month_end_{month:%Y-%m}.html"


@dataclass(frozen=True)
class Tile:
    """One headline figure: ``value`` exact (written to ``data-value``), ``text`` as shown."""

    key: str
    label: str
    value: object
    text: str
    note: str = ""
    #: ``good``, ``warn`` or empty.
    status: str = ""

    @property
    def data_value(self) -> str:
        """The exact value as text: a decimal as the mart holds it, a float's shortest repr."""
        if self.value is None:
            return ""
        if isinstance(self.value, float):
            return repr(self.value)
        return str(self.value)


@dataclass(frozen=True)
class Table:
    """A small table: column headings and rows of text; ``numeric`` columns align right."""

    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    numeric: frozenset[int] = frozenset()
    #: A heading above the table (when a section has several).
    caption: str = ""
    #: Shown instead of the table when it has no row.
    empty: str = ""
    #: The table's ``data-table`` attribute, for tests and scripts.
    key: str = ""


@dataclass(frozen=True)
class Section:
    """One ``<section>`` of the report."""

    id: str
    title: str
    explanation: str
    figure: Markup | None = None
    table: Table | None = None
    #: Further tables, below ``table``.
    tables: Sequence[Table] = ()
    tiles: Sequence[Tile] = ()
    notes: Sequence[str] = ()
    warnings: Sequence[str] = ()
    #: Shown instead of the figure when the month has no data for the section.
    empty: str | None = None

    @property
    def figure_id(self) -> str:
        return f"chart-{self.id}"

    @property
    def all_tables(self) -> list[Table]:
        return ([self.table] if self.table else []) + list(self.tables)


@dataclass(frozen=True)
class Report:
    """What :func:`write_report` wrote."""

    path: Path
    month: date
    size: int
    seconds: float
    sections: Sequence[str] = field(default_factory=tuple)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def money(value: Decimal | float | None, decimals: int = 0) -> str:
    """``1,234,567`` (the reporting currency, no symbol); ``n/a`` for None or NaN."""
    return "n/a" if _missing(value) else f"{value:,.{decimals}f}"


def percent(value: float | None, decimals: int = 1) -> str:
    """``97.4 %`` from the fraction 0.974; ``n/a`` for None or NaN."""
    return "n/a" if _missing(value) else f"{value * 100:.{decimals}f} %"


def ratio(value: float | None, decimals: int = 2) -> str:
    """``1.84`` for a ratio that is not a share; ``n/a`` for None or NaN."""
    return "n/a" if _missing(value) else f"{value:,.{decimals}f}"


def text(value: object) -> str:
    """``value`` as shown in a table: empty for None or NaN, yes/no for booleans."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    return str(value)


def figure_html(figure: go.Figure, div_id: str) -> Markup:
    """The figure's ``<div>`` and ``Plotly.newPlot`` call, without plotly.js."""
    return Markup(
        pio.to_html(
            figure,
            include_plotlyjs=False,
            full_html=False,
            div_id=div_id,
            config=FIGURE_CONFIG,
        )
    )


def _figure_section(
    id: str,
    title: str,
    explanation: str,
    has_data: bool,
    draw: Callable[[], go.Figure],
    *,
    empty: str = NO_DATA,
    **extra: object,
) -> Section:
    if not has_data:
        return Section(id, title, explanation, empty=empty, **extra)
    return Section(id, title, explanation, figure=figure_html(draw(), f"chart-{id}"), **extra)


def headline(tiles: queries.Tiles, warnings: dict[str, object]) -> Section:
    """The headline tiles of the month."""
    share = tiles.pct_in_tcp_and_full_package
    items = [
        Tile("active_customers", "Active customers", tiles.active_customers,
             "n/a" if tiles.active_customers is None else f"{tiles.active_customers:,}",
             "TTM revenue > 0"),
        Tile("revenue_ttm", "TTM revenue", tiles.revenue_ttm, money(tiles.revenue_ttm),
             "12 months to the month's end"),
        Tile("mrr", "MRR", tiles.mrr, money(tiles.mrr), "in force on the month's last day"),
        Tile("nrr_12m", "NRR, 12 months", tiles.nrr_12m, percent(tiles.nrr_12m),
             "cohort with MRR 12 months ago"),
        Tile("grr_12m", "GRR, 12 months", tiles.grr_12m, percent(tiles.grr_12m),
             "same cohort, capped at its MRR then"),
        Tile("nrr", "NRR, month", tiles.nrr, percent(tiles.nrr), "(start + expansion − "
             "contraction − churned) / start"),
        Tile("grr", "GRR, month", tiles.grr, percent(tiles.grr),
             "(start − contraction − churned) / start"),
        Tile("hhi", "HHI", tiles.hhi, "n/a" if tiles.hhi is None else f"{tiles.hhi:,.0f}",
             "Σ (100 · revenue share)², 0–10,000",
             "warn" if warnings.get("has_hhi_warning") else ""),
        Tile("pct_in_tcp_and_full_package", "In TCP and on full package", share,
             percent(share), f"best in class: above {TCP_FULL_PACKAGE_MARK:.0%}",
             "" if share is None else "good" if share > TCP_FULL_PACKAGE_MARK else "warn"),
        Tile("quick_ratio", "Quick ratio, month", tiles.quick_ratio, ratio(tiles.quick_ratio),
             "(new + expansion + reactivation) / (contraction + churned) MRR",
             "" if tiles.quick_ratio is None else "good" if tiles.quick_ratio > 1 else "warn"),
    ]  # fmt: skip
    return Section(
        "headline",
        "Headline figures",
        "The month's key figures as the marts define them: revenue over the trailing twelve "
        "months (TTM), MRR at the month's end, retention as a fraction of starting MRR.",
        tiles=items,
    )


def concentration(con: duckdb.DuckDBPyConnection, month: date) -> Section:
    """Pareto curve, the portfolio's concentration warnings and the top customers."""
    points = queries.pareto(con, month)
    figures = queries.concentration_warnings(con, month)
    top = queries.top_customers(con, month)
    notes, warnings = [], []
    if figures:
        notes.append(
            f"Top customer {percent(figures['top1_share'])}, top 5 "
            f"{percent(figures['top5_share'])}, top 10 {percent(figures['top10_share'])} of TTM "
            f"revenue; {figures['pareto_80_customer_count']} customers "
            f"({percent(figures['pareto_80_customer_share'])}) earn 80 %; Gini "
            f"{figures['gini']:.2f}."
        )
        labels = {
            "has_top1_share_warning": "the top customer's share is above its threshold",
            "has_top5_share_warning": "the top 5 customers' share is above its threshold",
            "has_top10_share_warning": "the top 10 customers' share is above its threshold",
            "has_hhi_warning": "the HHI is above its threshold",
        }
        warnings = [text for flag, text in labels.items() if figures.get(flag)]
    if len(points) > charts.PARETO_MAX_POINTS:
        notes.append(
            f"The curve is drawn through {charts.PARETO_MAX_POINTS:,} evenly spaced ranks of "
            f"{len(points):,}."
        )
    rows = []
    for record in top.itertuples(index=False):
        flags = []
        if record.is_concentration_risk:
            flags.append("concentration risk (share above the top-1 threshold)")
        if record.is_in_pareto_80_head:
            flags.append("in the 80 % head")
        rows.append(
            [
                str(record.revenue_rank),
                str(record.customer_name),
                money(record.revenue_ttm),
                percent(record.revenue_share),
                percent(record.cumulative_revenue_share),
                record.classification or "",
                "; ".join(flags),
            ]
        )
    table = Table(
        ["Rank", "Customer", "TTM revenue", "Share", "Cumulative", "Class", "Flags"],
        rows,
        frozenset({0, 2, 3, 4}),
    ) if rows else None  # fmt: skip
    return _figure_section(
        "concentration",
        "Customer concentration (Pareto)",
        "Customers ranked by TTM revenue: the curve is the cumulative share of revenue of the "
        "top x % of active customers; where it crosses the dashed 80 % line is the Pareto head. "
        f"The table lists the top {queries.TOP_CUSTOMERS} customers and the concentration "
        "mart's flags.",
        not points.empty,
        lambda: charts.pareto_figure(points),
        table=table,
        notes=notes,
        warnings=warnings,
    )


def not_built(table: str) -> str:
    """The empty-state text of a section whose mart the warehouse lacks."""
    return f"{NO_DATA} ({NOT_BUILT.format(table=table)})"


def service_economics(con: duckdb.DuckDBPyConnection, month: date) -> Section:
    """EHR and service vs product-resale margin by class, the agreement types' profitability
    and the agreements furthest over their target labour hours."""
    classes = queries.class_economics(con, month)
    types = queries.agreement_types(con, month)
    over = queries.agreements_over_target(con, month)
    built = table_exists(con, "marts", "customer_profitability")
    notes = []
    if not classes.empty and classes["effective_hourly_rate"].isna().all():
        notes.append(
            "No labour hours in the trailing twelve months (no time entries): the effective "
            "hourly rate is not known."
        )
    type_table = Table(
        ["Agreement type", "Agreements", "TTM revenue", "Gross margin", "Gross margin %",
         "Labour hours", "EHR"],
        [
            [str(r.agreement_type), f"{int(r.agreements):,}", money(r.revenue_ttm),
             money(r.gross_margin_ttm), percent(r.gross_margin_pct), ratio(r.labor_hours_ttm, 1),
             money(r.effective_hourly_rate, 2)]
            for r in types.itertuples(index=False)
        ],
        frozenset({1, 2, 3, 4, 5, 6}),
        caption="Profitability by agreement type (TTM)",
        key="agreement-types",
        empty="No agreement in force in the trailing twelve months.",
    )  # fmt: skip
    over_table = Table(
        ["Customer", "Agreement", "Type", "Hours per month", "Target", "Over by", "EHR",
         "Gross margin %"],
        [
            [str(r.customer_name), str(r.agreement_id), str(r.agreement_type),
             ratio(r.labor_hours_per_month, 1), ratio(r.target_labor_hours_per_month, 1),
             ratio(r.hours_over_target, 1), money(r.effective_hourly_rate, 2),
             percent(r.gross_margin_pct)]
            for r in over.itertuples(index=False)
        ],
        frozenset({3, 4, 5, 6, 7}),
        caption=f"The {queries.TOP_OVER_TARGET} agreements furthest over their target hours",
        key="over-target",
        empty="No agreement over its target labour hours per month.",
    )  # fmt: skip
    return _figure_section(
        "service-economics",
        "Service economics",
        "Effective hourly rate (EHR) = (TTM revenue − product cost) / labour hours of the "
        "class's customers together (left), and service margin % (service revenue − its "
        "costs − labour) beside product-resale margin % (right); below, each agreement type's "
        "profitability and the agreements using more labour hours per month than their type's "
        "target.",
        not classes.empty,
        lambda: charts.class_economics_figure(classes),
        empty=NO_DATA if built else not_built("marts.customer_profitability"),
        notes=notes,
        tables=[type_table, over_table] if built else [],
    )


def gross_profit_bridge(con: duckdb.DuckDBPyConnection, month: date) -> Section:
    """The month's gross-profit waterfall and gross-profit NRR and GRR beside revenue's."""
    bridge = queries.gross_profit_bridge(con, month)
    table = None
    if bridge is not None:
        table = Table(
            ["Retention of the month", "Revenue (MRR)", "Gross profit"],
            [
                ["NRR", percent(bridge["nrr"]), percent(bridge["gross_profit_nrr"])],
                ["GRR", percent(bridge["grr"]), percent(bridge["gross_profit_grr"])],
            ],
            frozenset({1, 2}),
            key="retention",
        )
    built = table_exists(con, "marts", "gross_profit_bridge")
    return _figure_section(
        "gross-profit-bridge",
        "Gross-profit bridge",
        "The MRR bridge in monthly gross profit (each customer's MRR × its TTM margin rate): "
        "new, expansion and reactivation add, contraction and churned subtract, margin change "
        "is the change for customers whose MRR did not move; the table sets gross-profit NRR "
        "and GRR beside the revenue ones (n/a when the month starts without gross profit).",
        bridge is not None,
        lambda: charts.gross_profit_waterfall_figure(bridge),
        empty=NO_DATA if built else not_built("marts.gross_profit_bridge"),
        table=table,
    )


def cohort_retention(con: duckdb.DuckDBPyConnection, month: date) -> Section:
    """The cohort triangle of net revenue retention (segment all) up to the month."""
    cohorts = queries.cohort_retention(con, month)
    built = table_exists(con, "marts", "customer_cohort_retention")
    return _figure_section(
        "cohort-retention",
        "Cohort retention",
        f"One row per cohort of the last {queries.COHORT_MONTHS} months (customers whose first "
        "MRR fell in that month, their number in brackets), one column per month since then: "
        "the cohort's MRR that month / its MRR in its first month (net revenue retention; "
        "green above 100 %, red below), up to this month.",
        not cohorts.empty,
        lambda: charts.cohort_figure(cohorts),
        empty=(
            f"{NO_DATA} (No customer started MRR in the {queries.COHORT_MONTHS} months to "
            f"{month:%Y-%m}.)"
            if built
            else not_built("marts.customer_cohort_retention")
        ),
    )


def committed_and_renewals(con: duckdb.DuckDBPyConnection, month: date) -> Section:
    """Committed MRR for each of the next 12 months and the renewals of the next 90 days."""
    committed = queries.committed_mrr(con, month)
    due = queries.renewals(con, month)
    built = table_exists(con, "marts", "committed_mrr")
    table = Table(
        ["Customer", "Agreement", "Type", "Ends", "Days", "Window", "MRR", "Class",
         "Cancelled"],
        [
            [str(r.customer_name), str(r.agreement_id), str(r.agreement_type), text(r.end_date),
             str(r.days_to_end), str(r.renewal_window).replace("_", " "),
             money(r.agreement_mrr), text(r.classification), text(r.is_cancelled)]
            for r in due.itertuples(index=False)
        ],
        frozenset({4, 6}),
        caption="Agreements ending within 90 days of the month's end",
        key="renewals",
        empty="No agreement ends within 90 days of the month's end.",
    ) if table_exists(con, "marts", "renewal_calendar") else None  # fmt: skip
    notes = []
    if not committed.empty:
        last = committed.iloc[-1]
        notes.append(
            f"Of the MRR at the month's end, {money(committed.iloc[0]['committed_mrr'])} is "
            f"under contract next month and {money(last['committed_mrr'])} at "
            f"{last['forecast_month']:%Y-%m}; no new business is counted."
        )
    return _figure_section(
        "committed-mrr",
        "Committed MRR and renewals",
        "Bars: the MRR in force at the month's end that is still under contract at the end of "
        "each of the next 12 months (agreements and lines past their end or cancellation date "
        "drop out; the dashed line is the MRR at the month's end). Table: agreements ending "
        "within 90 days, soonest first.",
        not committed.empty,
        lambda: charts.committed_mrr_figure(committed),
        empty=(
            f"{NO_DATA} (No MRR in force at the end of {month:%Y-%m}.)"
            if built
            else not_built("marts.committed_mrr")
        ),
        table=table,
        notes=notes,
    )


def account_plan(con: duckdb.DuckDBPyConnection, month: date) -> Section:
    """The top of each account manager's book (a table, no figure)."""
    plan = queries.account_plan(con, month)
    title = "Account plan"
    explanation = (
        f"The {queries.ACCOUNT_PLAN_PER_MANAGER} customers each account manager works on first "
        "(marts.account_plan): priority tier (1 protect an A at risk, 2 upgrade or reprice a B, "
        "3 cross-sell a C, 4 upgrade or let go a D, 5 confirm an A's package), then the money "
        "at stake; with class and movement, EHR, churn risk and its drivers, next renewal and "
        "the top cross-sell."
    )
    if plan is None:
        return Section("account-plan", title, explanation, empty=not_built("marts.account_plan"))
    if plan.empty:
        return Section("account-plan", title, explanation, empty=NO_DATA)
    rows = []
    for r in plan.itertuples(index=False):
        drivers = [text(d) for d in (r.churn_driver_1, r.churn_driver_2, r.churn_driver_3)]
        risk = (
            ""
            if _missing(r.churn_probability_3m)
            else f"{percent(r.churn_probability_3m)} ({text(r.risk_band)})"
        )
        offer = text(r.top_cross_sell_offering_name)
        if offer:
            offer += f" ({money(r.top_cross_sell_expected_revenue)})"
        rows.append(
            [text(r.account_manager), str(r.priority_rank), text(r.customer_name),
             f"{r.priority_tier} {text(r.next_action).replace('_', ' ')}", money(r.priority_value),
             " ".join(v for v in (text(r.classification), text(r.class_movement)) if v),
             text(r.in_tcp), text(r.is_on_full_package),
             money(r.effective_hourly_rate, 2), risk, "; ".join(d for d in drivers if d),
             text(r.next_renewal_date), offer]
        )  # fmt: skip
    table = Table(
        ["Account manager", "Rank", "Customer", "Tier and action", "Priority value",
         "Class", "TCP", "Full package", "EHR", "Churn risk (3 months)", "Risk drivers",
         "Next renewal", "Top cross-sell (expected revenue)"],
        rows,
        frozenset({1, 4, 8}),
        key="account-plan",
    )  # fmt: skip
    return Section("account-plan", title, explanation, table=table)


def quadrant_notes(classes: pd.DataFrame) -> list[str]:
    """Says how many bubbles the quadrant draws when it draws a sample."""
    if len(classes) <= charts.QUADRANT_MAX_CUSTOMERS:
        return []
    shown = len(charts.quadrant_sample(classes))
    return [
        f"{shown:,} of {len(classes):,} customers drawn: the {charts.QUADRANT_TOP} largest and "
        "evenly spaced ranks of the others; the legend counts them all."
    ]


def build_sections(con: duckdb.DuckDBPyConnection, month: date) -> list[Section]:
    """Every section of the report of ``month``, in page order."""
    tiles = queries.tiles(con, month)
    warnings = queries.concentration_warnings(con, month)
    classes = queries.classification(con, month)
    quarter_end, moves = queries.transitions(con, month)
    matrix = queries.penetration_matrix(con, month)
    customers_shown = matrix["revenue_rank"].nunique() if not matrix.empty else 0
    space = queries.whitespace(con, month)
    bridge = queries.mrr_bridge(con, month)
    trend = queries.retention_trend(con, month)
    churned = queries.churn(con, month)
    first, last = queries.churn_window(month)
    window = f"{first:%Y-%m} to {last:%Y-%m}"
    curves = queries.retention_curves(con, month)
    risk = queries.churn_risk(con, month)
    offers = queries.cross_sell(con, month)
    has_scoring = table_exists(con, "scoring", "churn_risk_scores")
    if not has_scoring:
        not_scored = f"{NO_DATA} (This warehouse has no scoring tables.)"
    elif month in queries.scored_months(con):
        not_scored = (
            f"{NO_DATA} (Scored as of {month:%Y-%m}, with nothing to show: no active customer "
            "with MRR, or no offering left to recommend.)"
        )
    else:
        not_scored = (
            f"{NO_DATA} (Not scored as of {month:%Y-%m}: the scoring assets score the last "
            "month of each run.)"
        )
    return [
        headline(tiles, warnings),
        concentration(con, month),
        _figure_section(
            "quadrant",
            "A/B/C/D classification",
            "One bubble per active customer, sized by TTM revenue: large = in the 80 % revenue "
            "head (right of the dashed line), high margin = gross margin % at or above the "
            "portfolio's (above the dashed line); A large & high, B large & low, C small & "
            "high, D small & low.",
            not classes.empty,
            lambda: charts.quadrant_figure(classes),
            notes=quadrant_notes(classes),
        ),
        service_economics(con, month),
        _figure_section(
            "transitions",
            "Class movements over the quarter"
            + (f" to {quarter_end:%Y-%m}" if quarter_end else ""),
            "Customers by class at the previous quarter end (rows) and at the latest quarter "
            "end on or before this month (columns); new = no class before, lost = no longer "
            "active.",
            not moves.empty,
            lambda: charts.transition_figure(moves),
            empty=f"{NO_DATA} (No quarter end on or before {month:%Y-%m}.)",
        ),
        _figure_section(
            "penetration",
            f"Offering penetration: top {customers_shown or queries.HEATMAP_CUSTOMERS} customers",
            f"The {queries.HEATMAP_CUSTOMERS} largest active customers by TTM revenue (rows, "
            "largest first; the others are left out) × every offering (columns, most owned "
            "first); dark = the customer has TTM revenue > 0 from the offering.",
            not matrix.empty,
            lambda: charts.penetration_figure(matrix),
        ),
        _figure_section(
            "whitespace",
            "Whitespace by offering",
            "Revenue not yet earned per current offering: its average TTM revenue per owner "
            "(ARPO) × active customers who do not own it; the label is the share who own it.",
            not space.empty,
            lambda: charts.whitespace_figure(space),
        ),
        _figure_section(
            "mrr-bridge",
            "MRR bridge",
            "From the MRR at the start of the month to the MRR at its end: new, expansion and "
            "reactivation add, contraction and churned subtract (marts.retention_summary); the "
            "axis starts near the starting MRR, not at zero, so that the movements show.",
            bridge is not None,
            lambda: charts.waterfall_figure(bridge),
        ),
        gross_profit_bridge(con, month),
        _figure_section(
            "retention-trend",
            "GRR and NRR over the months",
            "Monthly (dotted) and trailing-12 (solid) gross and net revenue retention; the "
            "trailing-12 figures follow the customers with MRR twelve months earlier. Months "
            "before the invoice history are left out.",
            not trend.empty,
            lambda: charts.retention_trend_figure(trend),
        ),
        cohort_retention(con, month),
        committed_and_renewals(con, month),
        _figure_section(
            "churn-quadrants",
            f"Churned MRR by churn quadrant, {window}",
            f"MRR lost by churn events effective in the {queries.CHURN_WINDOW_MONTHS} months to "
            "this month, by expected (flagged at risk) or unexpected × avoidable or unavoidable "
            "(from the reason); unclassified = reason unknown or unrecorded.",
            not churned.empty,
            lambda: charts.churn_quadrant_figure(churned),
            empty=f"{NO_DATA} (No churn effective {window}.)",
        ),
        _figure_section(
            "churn-reasons",
            f"Churned MRR by reason, {window}",
            "The same churn events by reason code (unrecorded = an MRR churn without a "
            "churn event).",
            not churned.empty,
            lambda: charts.churn_reason_figure(churned),
            empty=f"{NO_DATA} (No churn effective {window}.)",
        ),
        _figure_section(
            "retention-curves",
            "Retention curves by segment",
            "Share of new customers still paying MRR after t months, from the shifted-beta-"
            "geometric model fitted per class segment (scoring.retention_curves).",
            not curves.empty,
            lambda: charts.retention_curves_figure(curves),
            empty=not_scored,
        ),
        _figure_section(
            "churn-risk",
            "Top churn-risk customers",
            f"The {queries.TOP_RECOMMENDATIONS} customers most likely to end all MRR within 3 "
            "months (scoring.churn_risk_scores); red = high band (at least twice the training "
            "churn rate), orange = medium, grey = low.",
            not risk.empty,
            lambda: charts.churn_risk_figure(risk),
            empty=not_scored,
        ),
        _figure_section(
            "cross-sell",
            "Top cross-sell recommendations",
            f"The {queries.TOP_RECOMMENDATIONS} recommendations with the largest expected "
            "revenue: propensity that the customer buys the offering × the offering's ARPO "
            "(scoring.cross_sell_recommendations).",
            not offers.empty,
            lambda: charts.cross_sell_figure(offers),
            empty=not_scored,
        ),
        account_plan(con, month),
    ]


def render_html(month: date, sections: Sequence[Section], published: str | None) -> str:
    """The report page of ``month``."""
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template(TEMPLATE).render(
        month=month,
        sections=sections,
        published=published,
        plotly_js=Markup(get_plotlyjs()),
    )


def choose_month(months: Sequence[date], month: date | None) -> date:
    """``month``, or the latest of ``months`` when None.

    Raises:
        ReportError: the warehouse has no month, or not ``month``.
    """
    if not months:
        raise ReportError("the warehouse has no as_of_month: nothing to report")
    if month is None:
        return months[-1]
    if month not in months:
        raise ReportError(
            f"{month:%Y-%m} is not an as_of_month of the warehouse "
            f"({months[0]:%Y-%m} to {months[-1]:%Y-%m})"
        )
    return month


def write_atomically(path: Path, text: str) -> int:
    """Write ``text`` to ``path`` through a temporary file renamed over it; returns bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return len(data)


def write_report(
    warehouse: Path,
    output_dir: Path,
    month: date | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> Report:
    """Write the report of ``month`` (default: the warehouse's latest as_of_month) into
    ``output_dir`` as ``month_end_YYYY-MM.html``.

    Raises:
        ReportError: no file at ``warehouse``, not a built warehouse, or ``month`` not in it.
    """
    started = time.perf_counter()
    if not warehouse.is_file():
        raise ReportError(f"no warehouse at {warehouse} (run make build first)")
    with read_warehouse(warehouse) as con:
        month = choose_month(queries.report_months(con), month)
        progress(f"reading {warehouse} as of {month:%Y-%m}")
        sections = build_sections(con, month)
        published = queries.published_at(con)
    progress(f"rendering {len(sections)} sections")
    html = render_html(month, sections, published)
    path = output_dir / report_file_name(month)
    size = write_atomically(path, html)
    return Report(path, month, size, time.perf_counter() - started, [s.id for s in sections])
