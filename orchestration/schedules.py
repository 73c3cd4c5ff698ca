"""The month-end schedule: build the month just closed.

Fires at ``PORTFOLIO_SCHEDULE_HOUR``:``PORTFOLIO_SCHEDULE_MINUTE`` on day
``PORTFOLIO_SCHEDULE_DAY`` of every month (default 06:00 on the 3rd, in ``PORTFOLIO_TIMEZONE``,
default UTC) and requests the latest closed month's partition: on 2026-12-03 it builds
2026-11. ``PORTFOLIO_SCHEDULE_STATUS=stopped`` makes it start switched off.
"""

from __future__ import annotations

from dagster import DefaultScheduleStatus, build_schedule_from_partitioned_job

from orchestration import settings
from orchestration.jobs import portfolio_job

month_end_schedule = build_schedule_from_partitioned_job(
    portfolio_job,
    name="month_end_schedule",
    description="Month-end build of the month just closed, for finance.",
    day_of_month=settings.int_setting("PORTFOLIO_SCHEDULE_DAY", 3, 1, 28),
    hour_of_day=settings.int_setting("PORTFOLIO_SCHEDULE_HOUR", 6, 0, 23),
    minute_of_hour=settings.int_setting("PORTFOLIO_SCHEDULE_MINUTE", 0, 0, 59),
    default_status=(
        DefaultScheduleStatus.RUNNING
        if settings.is_running("PORTFOLIO_SCHEDULE_STATUS")
        else DefaultScheduleStatus.STOPPED
    ),
)
