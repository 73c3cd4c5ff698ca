"""The landing sensor: rebuild the latest closed month when the landing files change.

Every ``PORTFOLIO_SENSOR_INTERVAL`` seconds (default 60) the sensor lists the landing table
files (``<table>.csv`` / ``<table>.parquet`` in ``$PORTFOLIO_LANDING_DIR``) with their sizes
and modification times. When that list differs from the one in its cursor, and no file changed
for ``PORTFOLIO_SENSOR_SETTLE`` seconds (default 60, so a half-copied export is not loaded), it
requests a ``portfolio_job`` run of the latest closed month. The run key is the partition plus
a hash of the list, so one set of files is built once. The first evaluation, with no cursor,
requests a run too: nothing says the files were built. ``PORTFOLIO_SENSOR_STATUS=stopped``
makes the sensor start switched off.
"""

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from orchestration import settings
from orchestration.jobs import portfolio_job
from orchestration.landing import FILE_FORMATS, LANDING_TABLES
from orchestration.partitions import MONTHLY_PARTITIONS


@dataclass(frozen=True)
class LandingFileState:
    """Name, size and modification time of one landing file."""

    name: str
    size: int
    mtime_ns: int


def landing_file_states(folder: Path) -> list[LandingFileState]:
    """The landing table files present in ``folder``, sorted by name (others are ignored)."""
    states = []
    for table in LANDING_TABLES:
        for file_format in FILE_FORMATS:
            path = folder / f"{table}.{file_format}"
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            states.append(LandingFileState(path.name, stat.st_size, stat.st_mtime_ns))
    return sorted(states, key=lambda state: state.name)


def fingerprint(states: list[LandingFileState]) -> str:
    """A hash of the file names, sizes and modification times."""
    text = "\n".join(f"{s.name}\t{s.size}\t{s.mtime_ns}" for s in states)
    return hashlib.sha256(text.encode()).hexdigest()


@sensor(
    name="landing_files_sensor",
    job=portfolio_job,
    minimum_interval_seconds=settings.int_setting("PORTFOLIO_SENSOR_INTERVAL", 60, 5, 86_400),
    default_status=(
        DefaultSensorStatus.RUNNING
        if settings.is_running("PORTFOLIO_SENSOR_STATUS")
        else DefaultSensorStatus.STOPPED
    ),
    description="Builds the latest closed month when the landing files change.",
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
    if current == context.cursor:
        return SkipReason("landing files unchanged")
    partition_key = MONTHLY_PARTITIONS.get_last_partition_key()
    if partition_key is None:
        return SkipReason("no closed month yet")
    return SensorResult(
        run_requests=[
            RunRequest(
                run_key=f"{partition_key}:{current[:16]}",
                partition_key=partition_key,
                tags={"portfolio/landing_fingerprint": current[:16]},
            )
        ],
        cursor=current,
    )
