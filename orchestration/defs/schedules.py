"""The month-end schedule: build the month just closed, once the exports reach it.

Fires at ``PORTFOLIO_SCHEDULE_HOUR``:``PORTFOLIO_SCHEDULE_MINUTE`` on day
``PORTFOLIO_SCHEDULE_DAY`` of every month (default 06:00 on the 3rd, in ``PORTFOLIO_TIMEZONE``,
default UTC). On 2026-12-03 the month just closed is 2026-11: the tick reads the landing
folder's invoice months, registers them as partitions and requests the 2026-11 partition.
When the exports do not reach 2026-11 (or the cut-off month is earlier) the tick is skipped
with one line naming the month expected and the last month found (orchestration/defs/month_end.py
says why skip rather than fail); the landing sensor builds the month when the exports land.
``PORTFOLIO_SCHEDULE_STATUS=stopped`` makes it start switched off.
"""

from __future__ import annotations

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from orchestration import settings
from orchestration.defs.jobs import portfolio_job
from orchestration.defs.month_end import plan_month_end
from orchestration.defs.partitions import sync_month_partitions
from orchestration.landing.loader import LandingError, landing_data_months
from orchestration.months import month_just_closed

_DAY = settings.int_setting("PORTFOLIO_SCHEDULE_DAY", 3, 1, 28)
_HOUR = settings.int_setting("PORTFOLIO_SCHEDULE_HOUR", 6, 0, 23)
_MINUTE = settings.int_setting("PORTFOLIO_SCHEDULE_MINUTE", 0, 0, 59)


@schedule(
    name="month_end_schedule",
    job=portfolio_job,
    cron_schedule=f"{_MINUTE} {_HOUR} {_DAY} * *",
    execution_timezone=settings.timezone(),
    default_status=(
        DefaultScheduleStatus.RUNNING
        if settings.is_running("PORTFOLIO_SCHEDULE_STATUS")
        else DefaultScheduleStatus.STOPPED
    ),
    description="Month-end build of the month just closed, for finance (skipped, saying why, "
    "while the exports do not reach it).",
)
def month_end_schedule(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
    when = context.scheduled_execution_time or settings.now()
    expected = month_just_closed(when, settings.timezone())
    folder = settings.landing_dir()
    try:
        data = landing_data_months(folder, settings.cut_off_month())
    except LandingError as error:
        return SkipReason(f"month-end {expected:%Y-%m} not built: {error}")
    plan = plan_month_end(data, expected, strict=True)
    if plan.month is None:
        context.log.warning(plan.message)
        return SkipReason(plan.message)
    sync_month_partitions(context.instance, data.keys())
    return RunRequest(run_key=f"month_end:{plan.key}", partition_key=plan.key)
