"""The months of a build, taken from the landing data: never a constant, never today's date.

A build covers every month from the first to the last month with an invoice line in the
exports (``invoice_lines.invoice_date``), whatever year they are in and whatever day it is,
ending earlier only at the optional cut-off month (``PORTFOLIO_CUT_OFF_MONTH``, the dbt var
``cut_off_month``), which lets finance leave out a partial current month. The dbt model
``month_spine`` applies the same rule to the typed data; this module reads the raw export the
same way (``try_cast`` of the trimmed text) so that the command line, the schedule and the
sensor know the months *before* a run starts.

Only plausible invoice dates make months: an invoice date outside the event window
(:func:`plausible_event_window`: 1 January of the earliest plausible year to the last day of the
month after the export date), or a non-finite one (``infinity``), is rejected by the base model
``base_landing__invoice_lines`` (``date_out_of_range``) and ignored here. The window is defined
once on each side (here, and the dbt macro ``plausible_date_window``); the tests prove they
agree. dbt takes the export date from ``landing.load_log``; here it is an argument, by default
the date of :func:`orchestration.settings.now`, the load that has just run or is about to.

The clock is only used to name the month just closed for the month-end schedule, the landing
sensor and ``make month`` (:func:`month_just_closed`), and it is injected: a datetime argument,
from ``PORTFOLIO_CLOCK`` or the real clock (orchestration/settings.py).

No Dagster import here: the module is used by the loader's command line and by tests too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb

from orchestration import settings

#: The invoice month of a landing row, as the staging models type it.
INVOICE_MONTH_SQL = (
    "cast(date_trunc('month', try_cast(nullif(trim(invoice_date), '') as date)) as date)"
)


def plausible_event_window(export_date: date, earliest_year: int) -> tuple[date, date]:
    """The first and last plausible date of an event date (an invoice, work done, a notice).

    From 1 January of ``earliest_year`` to the last day of the month after ``export_date``'s
    month: advance billing dated the 1st of next month is still plausible. The same rule as the
    dbt macro ``plausible_date_window('event')``.
    """
    month = date(export_date.year, export_date.month, 1)
    return date(earliest_year, 1, 1), month_add(month, 2) - timedelta(days=1)


def month_add(month: date, months: int) -> date:
    """The first day of the month ``months`` after (or before) ``month``'s month."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_count(first: date, last: date) -> int:
    """Months from ``first`` to ``last`` inclusive."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def month_range(first: date, last: date) -> list[date]:
    """Every month from ``first`` to ``last`` inclusive (empty when ``first`` > ``last``)."""
    return [month_add(first, i) for i in range(max(month_count(first, last), 0))]


def month_key(month: date) -> str:
    """The partition key of a month: its first day, ``YYYY-MM-01``."""
    return f"{month:%Y-%m}-01"


def month_just_closed(now: datetime, timezone: str = "UTC") -> date:
    """The latest month that has ended at ``now`` in ``timezone``.

    A naive ``now`` is taken as UTC. On 2026-12-01 00:30 in Europe/Berlin the month just
    closed is 2026-11, though in UTC it is still 30 November.
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=ZoneInfo("UTC"))
    local = now.astimezone(ZoneInfo(timezone))
    return month_add(date(local.year, local.month, 1), -1)


@dataclass(frozen=True)
class DataMonths:
    """The invoice months of an export, and the cut-off that may end the build earlier."""

    first: date
    last_in_data: date
    cut_off: date | None = None
    invoice_lines: int = 0
    lines_after_cut_off: int = 0
    last_invoice_date: date | None = None
    #: Lines whose date parses but lies outside the plausible window (or is not finite).
    lines_out_of_range: int = 0

    @property
    def last(self) -> date:
        """The last month a build covers: the last invoice month, or the cut-off if earlier."""
        if self.cut_off is not None and self.cut_off < self.last_in_data:
            return self.cut_off
        return self.last_in_data

    @property
    def is_empty(self) -> bool:
        """True when the cut-off lies before the first invoice month: nothing to build."""
        return self.last < self.first

    def months(self) -> list[date]:
        """Every month a build covers, oldest first."""
        return month_range(self.first, self.last)

    def keys(self) -> list[str]:
        """The partition keys of :meth:`months`."""
        return [month_key(month) for month in self.months()]

    def covers(self, month: date) -> bool:
        return self.first <= month <= self.last

    def describe(self) -> str:
        """One line: the months and, when set, the cut-off and what it leaves out."""
        text = f"invoice months {self.first:%Y-%m}..{self.last_in_data:%Y-%m}"
        if self.lines_out_of_range:
            text += f" ({self.lines_out_of_range:,} invoice lines out of range ignored)"
        if self.cut_off is not None:
            text += f", cut-off {self.cut_off:%Y-%m}"
            if self.lines_after_cut_off:
                text += f" ({self.lines_after_cut_off:,} invoice lines after it left out)"
        return text


def data_months(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    cut_off: date | None = None,
    *,
    export_date: date | None = None,
    earliest_year: int | None = None,
) -> DataMonths | None:
    """The invoice months of ``relation`` (a table or table expression with ``invoice_date``).

    Only dates in :func:`plausible_event_window` count: ``export_date`` defaults to the date of
    :func:`orchestration.settings.now`, ``earliest_year`` to ``PORTFOLIO_EARLIEST_YEAR``.
    Returns None when no line has a usable date.
    """
    if export_date is None:
        export_date = settings.now().date()
    if earliest_year is None:
        earliest_year = settings.earliest_plausible_year()
    lower, upper = plausible_event_window(export_date, earliest_year)
    after = "null" if cut_off is None else f"date '{cut_off.isoformat()}'"
    row = con.execute(
        f"""
        with months as (
            select
                {INVOICE_MONTH_SQL} as invoice_month,
                try_cast(nullif(trim(invoice_date), '') as date) as invoice_date
            from {relation}
        )
        ,
        plausible as (
            select
                *,
                isfinite(invoice_date)
                and invoice_date between date '{lower.isoformat()}'
                and date '{upper.isoformat()}' as is_plausible
            from months
            where invoice_date is not null
        )
        select
            min(invoice_month) filter (where is_plausible),
            max(invoice_month) filter (where is_plausible),
            count(*) filter (where is_plausible),
            count(*) filter (where is_plausible and invoice_month > {after}),
            max(invoice_date) filter (where is_plausible),
            count(*) filter (where not is_plausible)
        from plausible
        """
    ).fetchall()[0]
    first, last, lines, after_cut_off, last_date, out_of_range = row
    if first is None:
        return None
    return DataMonths(
        first,
        last,
        cut_off,
        int(lines),
        int(after_cut_off or 0),
        last_date,
        int(out_of_range or 0),
    )
