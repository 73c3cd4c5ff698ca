"""Monthly partitions keyed by ``as_of_month``, taken from the data, and the dbt vars of a range.

A partition is one month, keyed by its first day (``2026-10-01``), exactly the marts'
``as_of_month``. The partitions are *dynamic*: they are the months of the landing data
(orchestration/months.py), from the first to the last invoice month (or the cut-off month),
whatever year the exports are in and whatever day it is. Whatever learns the months first
registers them with :func:`sync_month_partitions`: the command line (``make build`` / ``make
month``) before it launches a run, the month-end schedule and the landing sensor when they
evaluate, and the landing step of every run after it loaded the files. The registered keys
are always exactly the data's months, oldest first, so a range of keys is a range of months.

The partitioned assets of the main job (the monthly snapshot marts, landing, scoring and
publish; the dbt nodes rebuilt whole by every run are unpartitioned) share these partitions,
and every asset has ``BackfillPolicy.single_run()``: a
backfill of a range of months is one run and one ``dbt build`` with ``start_month`` and
``end_month`` (one dbt process per month would cost ~27 s each).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from dagster import BackfillPolicy, DagsterInstance, DynamicPartitionsDefinition, PartitionKeyRange

from orchestration import settings
from orchestration.months import month_count

__all__ = [
    "MONTHLY_PARTITIONS",
    "PARTITIONS_NAME",
    "SINGLE_RUN",
    "dbt_month_vars",
    "month_count",
    "partition_month",
    "partition_months",
    "sync_month_partitions",
]

#: Name of the dynamic partitions in the Dagster instance.
PARTITIONS_NAME = "as_of_month"

MONTHLY_PARTITIONS = DynamicPartitionsDefinition(name=PARTITIONS_NAME)
"""One partition per month of the landing data, registered by :func:`sync_month_partitions`."""

SINGLE_RUN = BackfillPolicy.single_run()
"""A backfill of N months is one run (and one dbt invocation), not N."""


def sync_month_partitions(instance: DagsterInstance, keys: Sequence[str]) -> bool:
    """Make the registered month partitions exactly ``keys`` (sorted), oldest first.

    New later months are appended; when a month must go or an earlier one arrives (another
    export, a cut-off), the set is registered anew in order, because Dagster orders dynamic
    partitions by registration and a range of keys must be a range of months. Runs and
    materialisations of a removed month stay in the instance's history. Returns whether
    anything changed.
    """
    wanted = sorted(dict.fromkeys(keys))
    for key in wanted:
        partition_month(key)
    current = list(instance.get_dynamic_partitions(PARTITIONS_NAME))
    if current == wanted:
        return False
    if current == wanted[: len(current)]:
        instance.add_dynamic_partitions(PARTITIONS_NAME, wanted[len(current) :])
        return True
    for key in current:
        instance.delete_dynamic_partition(PARTITIONS_NAME, key)
    instance.add_dynamic_partitions(PARTITIONS_NAME, wanted)
    return True


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


def dbt_month_vars(
    first: date, last: date, cut_off: date | None = None, earliest_year: int | None = None
) -> dict[str, str]:
    """The dbt vars that rebuild the months ``first``..``last`` (macros/partition_months.sql).

    One month is ``as_of_month``; a longer range is ``start_month`` and ``end_month``. A
    cut-off month (``PORTFOLIO_CUT_OFF_MONTH``) is passed as ``cut_off_month``; the earliest
    plausible year of a landing date as ``earliest_plausible_year``: ``earliest_year`` or, when
    None, ``PORTFOLIO_EARLIEST_YEAR`` if set (unset: dbt_project.yml's default, the same).
    """
    if first > last:
        raise ValueError(f"first month {first} is after last month {last}")
    months = (
        {"as_of_month": f"{first:%Y-%m}"}
        if first == last
        else {"start_month": f"{first:%Y-%m}", "end_month": f"{last:%Y-%m}"}
    )
    if cut_off is not None:
        months["cut_off_month"] = f"{cut_off:%Y-%m}"
    if earliest_year is None and settings.earliest_plausible_year_is_set():
        earliest_year = settings.earliest_plausible_year()
    if earliest_year is not None:
        months["earliest_plausible_year"] = str(earliest_year)
    return months
