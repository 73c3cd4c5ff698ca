"""Monthly partitions keyed by ``as_of_month``, and the dbt vars of a partition range.

A partition is one month, keyed by its first day (``2026-10-01``), exactly the marts'
``as_of_month``. The first partition is ``PORTFOLIO_FIRST_MONTH`` (default 2023-11, the demo
data's first month); the last is the latest *closed* month, so a month becomes runnable on the
first day of the next one (in ``PORTFOLIO_TIMEZONE``, default UTC).

Every asset of the main job shares these partitions and ``BackfillPolicy.single_run()``: a
backfill of a range of months is one run and one ``dbt build`` with ``start_month`` and
``end_month`` (PITFALLS: one dbt process per month costs ~27 s each).
"""

from __future__ import annotations

import re
from datetime import date

from dagster import BackfillPolicy, MonthlyPartitionsDefinition, PartitionKeyRange

from orchestration import settings

MONTHLY_PARTITIONS = MonthlyPartitionsDefinition(
    start_date=settings.first_month().isoformat(),
    timezone=settings.timezone(),
    end_offset=0,
)
"""One partition per closed month, from ``PORTFOLIO_FIRST_MONTH``."""

SINGLE_RUN = BackfillPolicy.single_run()
"""A backfill of N months is one run (and one dbt invocation), not N."""

_PARTITION_KEY = re.compile(r"(\d{4})-(0[1-9]|1[0-2])-01")


def partition_month(key: str) -> date:
    """The month of a partition key ``YYYY-MM-01``.

    The key becomes a dbt var and so part of SQL; anything but a first-of-month date is
    refused here, before dbt's own check (macros/month_var.sql).

    Raises:
        ValueError: ``key`` is not a ``YYYY-MM-01`` month key.
    """
    match = _PARTITION_KEY.fullmatch(key) if isinstance(key, str) else None
    if not match:
        raise ValueError(f"partition key must be a month as YYYY-MM-01, got {key!r}")
    return date(int(match.group(1)), int(match.group(2)), 1)


def partition_months(key_range: PartitionKeyRange) -> tuple[date, date]:
    """First and last month of a partition key range, validated.

    Raises:
        ValueError: a malformed key, or a range that ends before it starts.
    """
    first, last = partition_month(key_range.start), partition_month(key_range.end)
    if first > last:
        raise ValueError(
            f"partition range starts after it ends: {key_range.start}...{key_range.end}"
        )
    return first, last


def month_count(first: date, last: date) -> int:
    """Months from ``first`` to ``last`` inclusive."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def dbt_month_vars(first: date, last: date) -> dict[str, str]:
    """The dbt vars that rebuild the months ``first``..``last`` (macros/partition_months.sql).

    One month is ``as_of_month``; a longer range is ``start_month`` and ``end_month``.
    """
    if first > last:
        raise ValueError(f"first month {first} is after last month {last}")
    if first == last:
        return {"as_of_month": f"{first:%Y-%m}"}
    return {"start_month": f"{first:%Y-%m}", "end_month": f"{last:%Y-%m}"}
