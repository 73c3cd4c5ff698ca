"""The months of a build, taken from the landing data: never a constant, never today's date.

A build covers every month from the first to the last month with an invoice line in the
exports (``invoice_lines.invoice_date``), whatever year they are in and whatever day it is,
ending earlier only at the optional cut-off month (``PORTFOLIO_CUT_OFF_MONTH``, the dbt var
``cut_off_month``), which lets finance leave out a partial current month. The dbt model
``month_spine`` applies the same rule to the typed data; this module reads the raw export the
same way (``try_cast`` of the trimmed text, finite dates only) so that the command line, the
schedule and the sensor know the months *before* a run starts.

The clock is only used to name the month just closed for the month-end schedule, the landing
sensor and ``make month`` (:func:`month_just_closed`), and it is injected: a datetime argument,
from ``PORTFOLIO_CLOCK`` or the real clock (orchestration/settings.py).

No Dagster import here: the module is used by the loader's command line and by tests too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import duckdb

#: The invoice month of a landing row, as the staging models type it.
INVOICE_MONTH_SQL = (
    "cast(date_trunc('month', try_cast(nullif(trim(invoice_date), '') as date)) as date)"
)


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
        if self.cut_off is not None:
            text += f", cut-off {self.cut_off:%Y-%m}"
            if self.lines_after_cut_off:
                text += f" ({self.lines_after_cut_off:,} invoice lines after it left out)"
        return text


def data_months(
    con: duckdb.DuckDBPyConnection, relation: str, cut_off: date | None = None
) -> DataMonths | None:
    """The invoice months of ``relation`` (a table or table expression with ``invoice_date``).

    Returns None when no line has a usable date.
    """
    after = "null" if cut_off is None else f"date '{cut_off.isoformat()}'"
    row = con.execute(
        f"""
        with months as (
            select
                {INVOICE_MONTH_SQL} as invoice_month,
                try_cast(nullif(trim(invoice_date), '') as date) as invoice_date
            from {relation}
        )
        select
            min(invoice_month),
            max(invoice_month),
            count(*),
            count(*) filter (where invoice_month > {after}),
            max(invoice_date)
        from months
        where isfinite(invoice_month)
        """
    ).fetchall()[0]
    first, last, lines, after_cut_off, last_date = row
    if first is None:
        return None
    return DataMonths(first, last, cut_off, int(lines), int(after_cut_off or 0), last_date)
