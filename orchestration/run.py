"""Run the main job from the command line, as finance's schedule does, with short progress.

``make build``, ``make run`` and ``make load`` call this. It creates a ``portfolio_job`` run in
the Dagster instance of ``$DAGSTER_HOME`` (so it shows in the UI) and executes it with the
job's own executor: each step in its own process, write-audit-publish, the same code a
scheduled run executes. Only the launch differs: the run starts here instead of through the
daemon's queue.

Command line::

    python -m orchestration.run                      # the latest closed month
    python -m orchestration.run --month 2026-10
    python -m orchestration.run --from 2026-01 --to 2026-03
    python -m orchestration.run --all-months --full-refresh     # make build
    python -m orchestration.run --select group:landing   # landing tables only (make load)

The same from Dagster's own CLI (more log output)::

    dagster asset materialize -m orchestration.definitions --select '*' \\
        --partition-range 2026-01-01...2026-03-01
"""

import argparse
import os
import sys
import threading
import time
import uuid
import warnings
from datetime import date
from pathlib import Path
from typing import Any

from dagster import (
    AssetKey,
    AssetSelection,
    BetaWarning,
    DagsterEventType,
    DagsterInstance,
    RunsFilter,
    execute_job,
    reconstructable,
)

from orchestration import settings
from orchestration.partitions import MONTHLY_PARTITIONS, month_count

INVOCATION_TAG = "portfolio/invocation"
# The run tags of a partition range, as Dagster's CLI and backfills set them.
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
_PROGRESS_EVENTS = {
    DagsterEventType.STEP_START,
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.ASSET_CHECK_EVALUATION,
}


def _month_key(text: str, option: str) -> str:
    try:
        return settings.parse_month(text, option).isoformat()
    except settings.SettingError as error:
        raise SystemExit(f"error: {error}") from None


def partition_range(args: argparse.Namespace) -> tuple[str, str]:
    """The first and last partition key the arguments ask for, checked against the partitions."""
    keys = MONTHLY_PARTITIONS.get_partition_keys()
    if not keys:
        raise SystemExit("error: no closed month is a partition yet (PORTFOLIO_FIRST_MONTH)")
    if args.all_months:
        first, last = keys[0], keys[-1]
    elif args.month:
        first = last = _month_key(args.month, "--month")
    elif args.start or args.end:
        if not (args.start and args.end):
            raise SystemExit("error: give --from and --to together")
        first, last = _month_key(args.start, "--from"), _month_key(args.end, "--to")
    else:
        first = last = keys[-1]
    for key in (first, last):
        if key not in keys:
            raise SystemExit(
                f"error: {key[:7]} is not a partition: months run from {keys[0][:7]} "
                f"to {keys[-1][:7]} (the latest closed month)"
            )
    if first > last:
        raise SystemExit(f"error: {first[:7]} is after {last[:7]}")
    return first, last


class Progress:
    """Short progress lines on the terminal while the run's full log goes to a file.

    Inside the block, file descriptors 1 and 2 (this process's and the dbt subprocess's
    output, Dagster's console log) point at ``log_path``; :meth:`line` writes to the terminal.
    """

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self._terminal = None
        self._saved: list[int] = []

    def __enter__(self) -> "Progress":
        sys.stdout.flush()
        sys.stderr.flush()
        self._saved = [os.dup(1), os.dup(2)]
        self._terminal = os.fdopen(os.dup(self._saved[0]), "w", buffering=1)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "w") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
        return self

    def __exit__(self, *exc_info: object) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, saved in zip((1, 2), self._saved, strict=True):
            os.dup2(saved, fd)
            os.close(saved)
        self._terminal.close()

    def line(self, message: str) -> None:
        self._terminal.write(message + "\n")


def failure_summary(error: Any, limit: int = 12) -> list[str]:
    """The lines of a step failure worth showing: dbt's own errors when there are some.

    ``error`` is the failure event's error info (``message`` and ``cause``).
    """
    while error.cause is not None and "dbt" not in error.message:
        error = error.cause
    lines = [line.rstrip() for line in error.message.splitlines() if line.strip()]
    marker = "Errors parsed from dbt logs:"
    if marker in lines:
        lines = lines[lines.index(marker) + 1 :]
    return [line[:160] for line in lines[:limit]]


def _follow(
    instance: DagsterInstance, invocation: str, progress: Progress, done: threading.Event
) -> None:
    """Report the run's step starts and ends and its failed checks until ``done`` is set."""
    started = time.monotonic()
    run_id = None
    cursor = None
    while True:
        finished = done.wait(0.5)
        if run_id is None:
            runs = instance.get_runs(RunsFilter(tags={INVOCATION_TAG: invocation}), limit=1)
            if not runs:
                if finished:
                    return
                continue
            run_id = runs[0].run_id
            progress.line(f"    run {run_id}")
        connection = instance.get_records_for_run(run_id, cursor=cursor, of_type=_PROGRESS_EVENTS)
        cursor = connection.cursor
        for record in connection.records:
            event = record.event_log_entry.dagster_event
            elapsed = f"[{time.monotonic() - started:6.1f}s]"
            if event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
                evaluation = event.event_specific_data
                if not evaluation.passed:
                    progress.line(
                        f"    {elapsed} check failed ({evaluation.severity.value.lower()}): "
                        f"{evaluation.asset_key.to_user_string()} {evaluation.check_name}"
                    )
            elif event.event_type == DagsterEventType.STEP_START:
                progress.line(f"    {elapsed} {event.step_key} ...")
            elif event.event_type == DagsterEventType.STEP_SUCCESS:
                progress.line(f"    {elapsed} {event.step_key} done")
            else:
                progress.line(f"    {elapsed} {event.step_key} FAILED")
                for line in failure_summary(event.event_specific_data.error):
                    progress.line(f"      {line}")
        if finished and not connection.has_more:
            return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    months = parser.add_mutually_exclusive_group()
    months.add_argument("--month", help="one month, YYYY-MM")
    months.add_argument("--all-months", action="store_true", help="every partition")
    months.add_argument("--from", dest="start", help="first month of a range, YYYY-MM")
    parser.add_argument("--to", dest="end", help="last month of a range, YYYY-MM")
    parser.add_argument(
        "--full-refresh", action="store_true", help="rebuild every mart from scratch"
    )
    parser.add_argument(
        "--select",
        default="*",
        help="assets to run, in the UI's selection syntax, e.g. 'group:landing' or "
        "'key:\"marts/*\"+'; the publish step is always added (default: '*', every asset)",
    )
    args = parser.parse_args(argv)
    if not os.environ.get("DAGSTER_HOME"):
        print("error: set DAGSTER_HOME (the Makefile sets .dagster_home)", file=sys.stderr)
        return 2
    first, last = partition_range(args)
    served = settings.served_warehouse()
    n = month_count(date.fromisoformat(first), date.fromisoformat(last))
    span = first[:7] if n == 1 else f"{first[:7]}..{last[:7]}"
    refresh = ", full refresh" if args.full_refresh else ""
    print(f"==> portfolio_job: {n} month(s) {span}, assets '{args.select}'{refresh}")
    print(f"    landing:   {settings.landing_dir()}")
    print(f"    warehouse: {served}", flush=True)

    # Dagster's notes on beta parameters are for developers, not for this command's output.
    warnings.filterwarnings("ignore", category=BetaWarning)
    # Imported here: loading the definitions takes seconds, argument errors should not.
    from orchestration.assets.dbt import full_refresh_run_config
    from orchestration.definitions import defs
    from orchestration.jobs import resolved_portfolio_job
    from orchestration.resources import PUBLISH_LOG_KEY

    selection: list[AssetKey] | None = None
    if args.select != "*":
        chosen = AssetSelection.from_string(args.select)
        keys = chosen.resolve(defs.get_repository_def().asset_graph) | {PUBLISH_LOG_KEY}
        selection = sorted(keys, key=lambda key: key.to_user_string())

    invocation = uuid.uuid4().hex
    instance = DagsterInstance.get()
    log_path = Path(os.environ["DAGSTER_HOME"]) / "last-run.log"
    started = time.monotonic()
    with Progress(log_path) as progress:
        done = threading.Event()
        follower = threading.Thread(
            target=_follow, args=(instance, invocation, progress, done), daemon=True
        )
        follower.start()
        try:
            result = execute_job(
                reconstructable(resolved_portfolio_job),
                instance=instance,
                tags={
                    INVOCATION_TAG: invocation,
                    RANGE_START_TAG: first,
                    RANGE_END_TAG: last,
                },
                run_config=full_refresh_run_config() if args.full_refresh else None,
                asset_selection=selection,
            )
        finally:
            done.set()
            follower.join()
    elapsed = time.monotonic() - started
    if not result.success:
        print(f"==> run {result.run_id} FAILED after {elapsed:.0f} s; {served} is unchanged")
        print(f"    full log: {log_path}; or `make dev`, then Runs > {result.run_id[:8]}")
        return 1
    print(f"==> published {served} in {elapsed:.0f} s (run {result.run_id[:8]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
