"""Which month a month-end run builds, and the one line that says why when it cannot.

Shared by the month-end schedule, the landing sensor and ``make month``
(orchestration/commands/run.py).
The month just closed is the *expected* month (from the injected clock, orchestration/months.py).

- **Strict** (the schedule, which fires once a month to build the month just closed): the run
  builds the expected month when the exports cover it, and is *skipped* with one line — the
  month expected, the last month found — when they do not. Skip rather than fail: late exports
  are an expected state of a month-end, not a broken system; the skip shows in the schedule's
  tick history in the UI and in the daemon's terminal, nothing is published, and the landing
  sensor builds the month as soon as exports reaching it land.
- **Latest** (the sensor, ``make month`` without a month): the run builds the latest month the
  exports cover, but never one after the month just closed (a month that has not ended yet is
  half a month). When that is before the month just closed, the line says so and the run goes
  on with the month the data has.

No Dagster import here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from orchestration.months import DataMonths, month_key

#: Run tag carrying the one-line note of a run that builds an earlier month than expected.
NOTE_TAG = "portfolio/note"


@dataclass(frozen=True)
class MonthEndPlan:
    """The month to build (None: nothing to build) and a one-line note or reason."""

    month: date | None
    message: str | None = None

    @property
    def key(self) -> str:
        if self.month is None:
            raise ValueError("this plan builds nothing")
        return month_key(self.month)


def _end_of_exports(data: DataMonths) -> str:
    if data.cut_off is not None and data.cut_off < data.last_in_data:
        return (
            f"the cut-off month is {data.cut_off:%Y-%m} (PORTFOLIO_CUT_OFF_MONTH; the exports "
            f"reach {data.last_in_data:%Y-%m})"
        )
    return f"the exports end at {data.last_in_data:%Y-%m} (last invoice month)"


def plan_month_end(data: DataMonths | None, expected: date, *, strict: bool) -> MonthEndPlan:
    """The month a month-end run builds when the month just closed is ``expected``.

    ``strict`` selects the strict rule (the schedule); otherwise the latest rule.
    """
    if data is None:
        return MonthEndPlan(None, "no invoice line in the exports has a usable invoice_date")
    if data.is_empty:
        return MonthEndPlan(
            None,
            f"the cut-off month {data.cut_off:%Y-%m} is before the first invoice month "
            f"{data.first:%Y-%m}: no month to build",
        )
    if strict:
        if data.covers(expected):
            return MonthEndPlan(expected)
        if expected < data.first:
            reason = f"the exports start at {data.first:%Y-%m}"
        else:
            reason = _end_of_exports(data)
        return MonthEndPlan(
            None,
            f"month-end {expected:%Y-%m} not built: {reason}; nothing was published",
        )
    month = min(data.last, expected)
    if month < data.first:
        return MonthEndPlan(
            None,
            f"no closed month to build: the exports start at {data.first:%Y-%m}, after the "
            f"month just closed {expected:%Y-%m}",
        )
    if month < expected:
        return MonthEndPlan(
            month,
            f"exports do not reach the month just closed {expected:%Y-%m}: "
            f"{_end_of_exports(data)}; building {month:%Y-%m}",
        )
    return MonthEndPlan(month)
