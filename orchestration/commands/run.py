"""Run the main job from the command line, as finance's schedule does, with short progress.

``make build``, ``make month``, ``make run`` and ``make load`` call this. It reads the months of
the landing data (orchestration/months.py), registers them as the month partitions, creates a
``portfolio_job`` run in the Dagster instance of ``$DAGSTER_HOME`` (so it shows in the UI) and
executes it: write-audit-publish, the same code a scheduled run executes. Only the launch
differs: the run starts here instead of through the daemon's queue.

Command line::

    python -m orchestration.commands.run                # the latest closed month in the exports
    python -m orchestration.commands.run --month 2026-10  # one month (make month MONTH=2026-10)
    python -m orchestration.commands.run --from 2026-01 --to 2026-03
    python -m orchestration.commands.run --all-months --full-refresh     # make build
    python -m orchestration.commands.run --select group:landing   # landing tables only (make load)
    python -m orchestration.commands.run --clean-only   # dead runs' leftovers (make clean-runs)

Before a run starts it clears what earlier runs left behind and prints one line per run
cleaned: the candidate of a run whose process died (killed, or the machine restarted) is
removed and its Dagster run, which never reported an end, is marked failed; candidates of runs
that failed are removed too. Candidates of live runs are never touched. ``--clean-only`` does
only that.

Months must be months of the exports (first to last invoice month, or the cut-off month
``PORTFOLIO_CUT_OFF_MONTH``); anything else is refused in one line before a run starts.

The same from Dagster's own CLI (more log output; the months must be registered partitions)::

    dagster asset materialize -m orchestration.defs.definitions --select '*' \\
        --partition-range 2026-01-01...2026-03-01
"""

import argparse
import os
import sys
import textwrap
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
from orchestration.defs.assets.report import MONTH_END_REPORT_KEY
from orchestration.defs.month_end import NOTE_TAG, plan_month_end
from orchestration.defs.notices import notice_text
from orchestration.landing.contract import OPTIONAL_TABLES
from orchestration.landing.loader import LandingError, check_landing, landing_data_months
from orchestration.months import (
    DataMonths,
    month_count,
    month_just_closed,
    month_key,
)

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


def _month(text: str, option: str) -> date:
    try:
        return settings.parse_month(text, option)
    except settings.SettingError as error:
        raise SystemExit(f"error: {error}") from None


def plan_months(
    args: argparse.Namespace, data: DataMonths | None, expected: date
) -> tuple[date, date, str | None]:
    """First and last month the arguments ask for, checked against the data; and a note.

    ``expected`` is the month just closed (the injected clock). Raises SystemExit with one
    line when the months are not months of the exports.
    """
    if data is None:
        raise SystemExit("error: no invoice line in the exports has a usable invoice_date")
    if data.is_empty:
        raise SystemExit(
            f"error: the cut-off month {data.cut_off:%Y-%m} (PORTFOLIO_CUT_OFF_MONTH) is before "
            f"the first invoice month {data.first:%Y-%m}"
        )
    note = None
    if args.all_months:
        first, last = data.first, data.last
        if last > expected:
            note = (
                f"{last:%Y-%m} has not ended yet: its figures are partial (set "
                f"PORTFOLIO_CUT_OFF_MONTH={expected:%Y-%m} to leave it out)"
            )
    elif args.month:
        first = last = _month(args.month, "--month")
    elif args.start or args.end:
        if not (args.start and args.end):
            raise SystemExit("error: give --from and --to together")
        first, last = _month(args.start, "--from"), _month(args.end, "--to")
    else:
        plan = plan_month_end(data, expected, strict=False)
        if plan.month is None:
            raise SystemExit(f"error: {plan.message}")
        first = last = plan.month
        note = plan.message
    if first > last:
        raise SystemExit(f"error: {first:%Y-%m} is after {last:%Y-%m}")
    for month in (first, last):
        if not data.covers(month):
            raise SystemExit(
                f"error: {month:%Y-%m} is not a month of the exports: {data.describe()}"
                + (", so nothing after it is built" if data.cut_off else "")
            )
    return first, last, note


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
    """The lines of a step failure worth showing: its root cause.

    ``error`` is the failure event's error info (``message``, ``cause``, ``context``). dbt's
    own errors are shown when the step ran dbt; otherwise the innermost cause, which names
    the exception (``ExportsDoNotReachError: ...``) rather than Dagster's wrapper around it.
    """
    while error.cause is not None and "Errors parsed from dbt logs:" not in error.message:
        error = error.cause
    lines = [line.rstrip() for line in error.message.splitlines() if line.strip()]
    marker = "Errors parsed from dbt logs:"
    if marker in lines:
        lines = lines[lines.index(marker) + 1 :]
    wrapped = [
        part
        for line in lines
        for part in textwrap.wrap(line, 150, subsequent_indent="  ", drop_whitespace=False)
    ]
    return wrapped[:limit]


def run_failure_lines(result: Any) -> list[str]:
    """The root cause of a failed run when no step failed (a failure outside any step)."""
    if any(event.is_step_failure for event in result.all_events):
        return []  # already shown as the step failed
    for event in result.all_events:
        if event.event_type == DagsterEventType.RUN_FAILURE:
            error = getattr(event.event_specific_data, "error", None)
            return failure_summary(error) if error else [event.message or "run failed"]
    return []


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
        connection = instance.get_records_for_run(run_id, cursor=cursor)
        cursor = connection.cursor
        for record in connection.records:
            entry = record.event_log_entry
            event = entry.dagster_event
            elapsed = f"[{time.monotonic() - started:6.1f}s]"
            if event is None:
                # A step's log line: only its notices are for the terminal.
                text = notice_text(entry.user_message)
                if text is not None:
                    for line in textwrap.wrap(f"notice: {text}", 150, subsequent_indent="  "):
                        progress.line(f"    {elapsed} {line}")
                continue
            if event.event_type not in _PROGRESS_EVENTS:
                continue
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


def clean_up(instance: DagsterInstance) -> list[str]:
    """Clear what dead or failed runs left next to the served warehouse; one line per run."""
    from orchestration.defs.resources import WarehouseResource, clean_up_runs

    resource = WarehouseResource()
    cleaned = clean_up_runs(instance, resource.served, resource.dbt_targets)
    return [cleaned_run.line for cleaned_run in cleaned]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.commands.run",
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
    parser.add_argument(
        "--clean-only",
        action="store_true",
        help="only clear what dead or failed runs left (candidates; dead runs marked failed)",
    )
    args = parser.parse_args(argv)
    if not os.environ.get("DAGSTER_HOME"):
        print("error: set DAGSTER_HOME (the Makefile sets .dagster_home)", file=sys.stderr)
        return 2
    if args.clean_only:
        served = settings.served_warehouse()
        lines = clean_up(DagsterInstance.get())
        for line in lines:
            print(f"==> {line}")
        if not lines:
            print(f"==> nothing to clean up next to {served}")
        return 0
    try:
        landing = settings.landing_dir()
        present = check_landing(landing)
        data = landing_data_months(landing, settings.cut_off_month())
        expected = month_just_closed(settings.now(), settings.timezone())
    except (settings.SettingError, LandingError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        first, last, note = plan_months(args, data, expected)
    except SystemExit as error:
        print(error, file=sys.stderr)
        return 2
    served = settings.served_warehouse()
    on_spark = settings.dbt_target() == "spark"
    n = month_count(first, last)
    span = f"{first:%Y-%m}" if n == 1 else f"{first:%Y-%m}..{last:%Y-%m}"
    refresh = ", full refresh" if args.full_refresh else ""
    print(f"==> portfolio_job: {n} month(s) {span}, assets '{args.select}'{refresh}")
    last_line = f", last invoice {data.last_invoice_date}" if data.last_invoice_date else ""
    print(f"    landing:   {landing} ({data.describe()}{last_line})")
    if on_spark:
        print(
            f"    spark:     {settings.spark_dir()} (PORTFOLIO_DBT_TARGET=spark: tables built "
            "in place, no DuckDB warehouse, no report, no Parquet exports)"
        )
    else:
        print(f"    warehouse: {served}")
    for table, meaning in OPTIONAL_TABLES.items():
        if table not in present:
            print(f"    absent:    {table}: read as empty; {meaning}")
    if note:
        print(f"    note:      {note}")
    sys.stdout.flush()

    # Dagster's notes on beta parameters are for developers, not for this command's output.
    warnings.filterwarnings("ignore", category=BetaWarning)
    # Imported here: loading the definitions takes seconds, argument errors should not.
    from orchestration.defs.definitions import defs, resolved_portfolio_job
    from orchestration.defs.partitions import sync_month_partitions
    from orchestration.defs.resources import PUBLISH_LOG_KEY
    from orchestration.defs.run_config import full_refresh_run_config

    selection: list[AssetKey] | None = None
    if args.select != "*":
        chosen = AssetSelection.from_string(args.select)
        keys = chosen.resolve(defs.get_repository_def().asset_graph) | {PUBLISH_LOG_KEY}
        selection = sorted(keys, key=lambda key: key.to_user_string())

    invocation = uuid.uuid4().hex
    instance = DagsterInstance.get()
    try:
        for line in clean_up(instance):
            print(f"    {line}")
    except OSError as error:  # clearing old runs must not stop this one
        print(f"    warning: could not clean up earlier runs: {error}")
    sys.stdout.flush()
    sync_month_partitions(instance, data.keys())
    tags = {
        INVOCATION_TAG: invocation,
        RANGE_START_TAG: month_key(first),
        RANGE_END_TAG: month_key(last),
    }
    if note:
        tags[NOTE_TAG] = note
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
                tags=tags,
                run_config=full_refresh_run_config() if args.full_refresh else None,
                asset_selection=selection,
            )
        except Exception as error:  # noqa: BLE001 - any launch error ends in one line
            result = None
            launch_error = f"{type(error).__name__}: {error}".splitlines()[0][:300]
        finally:
            done.set()
            follower.join()
    elapsed = time.monotonic() - started
    if on_spark:
        return _spark_outcome(result, elapsed, log_path, launch_error if result is None else "")
    if result is None:
        print(f"==> the run could not start: {launch_error}; {served} is unchanged")
        print(f"    full log: {log_path}")
        return 1
    if not result.success:
        print(f"==> run {result.run_id} FAILED after {elapsed:.0f} s; {served} is unchanged")
        for line in run_failure_lines(result):
            print(f"    {line}")
        print(f"    full log: {log_path}; or `make dev`, then Runs > {result.run_id[:8]}")
        return 1
    print(f"==> published {served} in {elapsed:.0f} s (run {result.run_id[:8]})")
    for path in written_report_paths(result):
        print(f"    month-end report: {path}")
    return 0


def _spark_outcome(result: Any, elapsed: float, log_path: Path, launch_error: str) -> int:
    """The last lines of a run on the spark target, whose steps write Spark's tables in place:
    a failed run may have changed them (it is not logged in ``audit.publish_log``)."""
    tables = settings.spark_dir() / "tables"
    if result is None:
        print(f"==> the run could not start: {launch_error}; Spark's tables are unchanged")
        print(f"    full log: {log_path}")
        return 1
    if not result.success:
        print(
            f"==> run {result.run_id} FAILED after {elapsed:.0f} s; the steps that ran before "
            f"the failure have rewritten their Spark tables in {tables} (not logged in "
            "audit.publish_log)"
        )
        for line in run_failure_lines(result):
            print(f"    {line}")
        print(f"    full log: {log_path}; or `make dev`, then Runs > {result.run_id[:8]}")
        return 1
    print(f"==> built on Spark in {elapsed:.0f} s (run {result.run_id[:8]}): {tables}")
    return 0


def written_report_paths(result: Any) -> list[str]:
    """The report files a successful run wrote (the report asset's ``path`` metadata), each
    once: a run of several months materialises the asset once per month partition, with the
    one report of its last month."""
    paths: dict[str, None] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key == MONTH_END_REPORT_KEY and "path" in materialization.metadata:
            paths[str(materialization.metadata["path"].value)] = None
    return list(paths)


if __name__ == "__main__":
    sys.exit(main())
