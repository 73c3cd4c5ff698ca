"""The landing sensor: build the latest month the exports cover when the landing files change.

Every ``PORTFOLIO_SENSOR_INTERVAL`` seconds (default 60) the sensor lists the landing table
files (``<table>.csv`` / ``<table>.parquet`` in ``$PORTFOLIO_LANDING_DIR``) with their sizes
and modification times. It launches a run only when that list differs from the one the
served warehouse was last published from (``audit.publish_log.landing_fingerprint``; then
from its cursor), and no file changed for ``PORTFOLIO_SENSOR_SETTLE`` seconds (default 60, so
a half-copied export is not loaded). Starting ``make dev`` on a warehouse built from the files
in place therefore launches nothing. On the ``spark`` dbt target only the cursor counts (the
DuckDB file's log does not describe Spark's build, and a sensor must not start Spark): the
first look launches one run.

The run builds the latest month the exports cover (up to the cut-off month), but never a month
that has not ended yet on the clock: exports taken on 2 December may hold invoices of
1 December, and half a month is not a month-end. When the exports end before the month just
closed, the run request carries one line saying so (tag ``portfolio/note``), which the run's
landing step logs as a warning. The sensor registers the data's months as partitions first.
The run key is the month plus a hash of the file list, so one set of files is built once.
``PORTFOLIO_SENSOR_STATUS=stopped`` makes the sensor start switched off.
"""

import time
from pathlib import Path

import duckdb
from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from orchestration import settings
from orchestration.defs.jobs import portfolio_job
from orchestration.defs.month_end import NOTE_TAG, plan_month_end
from orchestration.defs.partitions import sync_month_partitions
from orchestration.landing.loader import (
    LandingError,
    fingerprint,
    landing_data_months,
    landing_file_states,
)
from orchestration.months import month_just_closed

#: Tag of a run with the hash of the landing files it was requested for.
FINGERPRINT_TAG = "portfolio/landing_fingerprint"


def published_fingerprint(served: Path) -> str | None:
    """The landing fingerprint of the served warehouse's last publish, if it records one.

    None when nothing is served, the log predates fingerprints, or the file cannot be opened
    right now (a writer holds it).
    """
    if not served.exists():
        return None
    try:
        with duckdb.connect(str(served), read_only=True) as con:
            rows = con.execute(
                "select landing_fingerprint from audit.publish_log "
                "order by published_at desc limit 1"
            ).fetchall()
    except duckdb.Error:
        return None
    return rows[0][0] if rows else None


@sensor(
    name="landing_files_sensor",
    job=portfolio_job,
    minimum_interval_seconds=settings.int_setting("PORTFOLIO_SENSOR_INTERVAL", 60, 5, 86_400),
    default_status=(
        DefaultSensorStatus.RUNNING
        if settings.is_running("PORTFOLIO_SENSOR_STATUS")
        else DefaultSensorStatus.STOPPED
    ),
    description="Builds the latest closed month the exports cover when the landing files change.",
)
def landing_files_sensor(context: SensorEvaluationContext) -> SensorResult | SkipReason:
    folder = settings.landing_dir()
    states = landing_file_states(folder)
    if not states:
        return SkipReason(f"no landing files in {folder}")
    settle = settings.int_setting("PORTFOLIO_SENSOR_SETTLE", 60, 0, 86_400)
    quiet_for = time.time() - max(s.mtime_ns for s in states) / 1e9
    if quiet_for < settle:
        return SkipReason(f"landing files changed {quiet_for:.0f} s ago; waiting for {settle} s")
    current = fingerprint(states)
    # On Spark the DuckDB file's publish log says nothing about Spark's build (and a sensor
    # must not start Spark: it would hold the metastore against the runs): the cursor only.
    served = None if settings.dbt_target() == "spark" else settings.served_warehouse()
    built = context.cursor or (published_fingerprint(served) if served else None)
    if current == built:
        return SensorResult(
            skip_reason="landing files unchanged since the last build", cursor=current
        )
    try:
        data = landing_data_months(folder, settings.cut_off_month())
    except LandingError as error:
        # The run's landing step would fail the same way: say it once, then wait for a change.
        return SensorResult(skip_reason=f"cannot read the exports: {error}", cursor=current)
    expected = month_just_closed(settings.now(), settings.timezone())
    plan = plan_month_end(data, expected, strict=False)
    if plan.month is None:
        return SensorResult(skip_reason=plan.message, cursor=current)
    sync_month_partitions(context.instance, data.keys())
    tags = {FINGERPRINT_TAG: current[:16]}
    if plan.message:
        tags[NOTE_TAG] = plan.message
        context.log.warning(plan.message)
    return SensorResult(
        run_requests=[
            RunRequest(
                run_key=f"{plan.key}:{current[:16]}",
                partition_key=plan.key,
                tags=tags,
            )
        ],
        cursor=current,
    )
