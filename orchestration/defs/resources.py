"""Resources: the dbt CLI, and the warehouse with this run's write-audit-publish candidate.

Hook for Python assets that write tables (the ``scoring`` schema): take the ``warehouse``
resource and write into the run's candidate, never into the served file::

    @asset(deps=[...marts...], **CANDIDATE_WRITER)
    def churn_risk(context: AssetExecutionContext, warehouse: WarehouseResource) -> None:
        with warehouse.connect(context) as con:
            con.execute("create schema if not exists scoring")
            con.execute("create or replace table scoring.churn_risk as ...")

``CANDIDATE_WRITER`` gives such an asset the monthly partitions, the single-run backfill
policy and the ``duckdb_writer`` pool. The steps of a run execute one after the other in one
process (definitions.py), so two writers never open the candidate at once. The publish step
(assets/publish.py) runs after every asset of the code location, so whatever an asset wrote
into the candidate is published with the marts, and nothing is published when any of them
fails.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetKey,
    BetaWarning,
    ConfigurableResource,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    OpExecutionContext,
)
from pydantic import Field

from orchestration import settings
from orchestration.defs.partitions import MONTHLY_PARTITIONS, SINGLE_RUN
from orchestration.warehouse import publish as warehouse
from orchestration.warehouse.connection import connect_warehouse

#: Concurrency pool of every step that writes a warehouse file. dagster.yaml limits it to 1
#: at run granularity: the run queue starts one writing run at a time.
WRITER_POOL = "duckdb_writer"

#: A dbt target folder, or a candidate without an owner lock (made by an older version),
#: untouched this long belongs to a run that was killed with its process; the next run removes
#: it. A candidate with an owner lock goes as soon as its owner process is dead.
ABANDONED_AFTER_SECONDS = 24 * 3600

#: Keyword arguments for an asset that writes into the candidate (see the module docstring).
CANDIDATE_WRITER: dict[str, Any] = {
    "partitions_def": MONTHLY_PARTITIONS,
    "backfill_policy": SINGLE_RUN,
    "pool": WRITER_POOL,
}

# `backfill_policy` on @asset is marked beta in Dagster 1.13; single-run backfills need it.
warnings.filterwarnings("ignore", message=r"Parameter `backfill_policy`", category=BetaWarning)

#: The publish step's asset (assets/publish.py).
PUBLISH_LOG_KEY = AssetKey([warehouse.PUBLISH_LOG_SCHEMA, warehouse.PUBLISH_LOG_TABLE])

Context = AssetExecutionContext | OpExecutionContext


class WarehouseResource(ConfigurableResource):
    """The served warehouse file, the landing folder, and each run's candidate.

    Unset fields fall back to the environment at run time (``PORTFOLIO_WAREHOUSE``,
    ``PORTFOLIO_LANDING_DIR``, ``PORTFOLIO_DAGSTER_TARGET_DIR``); relative paths are taken from
    the project root.
    """

    served_path: str | None = Field(
        default=None,
        description="Served DuckDB file; default $PORTFOLIO_WAREHOUSE or "
        "warehouse/portfolio.duckdb.",
    )
    landing_dir: str | None = Field(
        default=None,
        description="Landing folder; default $PORTFOLIO_LANDING_DIR or data/landing.",
    )
    dbt_target_dir: str | None = Field(
        default=None,
        description="Folder of each dbt invocation's target/ (removed after it); default "
        "$PORTFOLIO_DAGSTER_TARGET_DIR/runs.",
    )

    @property
    def served(self) -> Path:
        """Absolute path of the served file."""
        if self.served_path:
            return settings.project_path(self.served_path)
        return settings.served_warehouse()

    @property
    def landing(self) -> Path:
        """Absolute path of the landing folder."""
        if self.landing_dir:
            return settings.project_path(self.landing_dir)
        return settings.landing_dir()

    @property
    def dbt_targets(self) -> Path:
        if self.dbt_target_dir:
            return settings.project_path(self.dbt_target_dir)
        return settings.dagster_target_dir() / "runs"

    def candidate(self, context: Context) -> Path:
        """This run's candidate file, prepared on first use in the run.

        On the ``spark`` dbt target there is none: asking for it raises
        :class:`~orchestration.warehouse.publish.CandidateError`.

        The first step of a run to ask also clears what ended runs left behind
        (:func:`clean_up_runs`): the candidates and dbt targets of failed runs, and those of
        runs whose process died (killed, or the machine restarted), which are marked failed.
        """
        if settings.dbt_target() == "spark":
            # A step written for DuckDB only: what it wrote would never be published.
            raise warehouse.CandidateError(
                f"{context.op_def.name} writes the run's DuckDB candidate, but this run builds "
                "on Spark (PORTFOLIO_DBT_TARGET=spark), where nothing publishes a candidate: "
                "the step needs a Spark version (orchestration/defs/spark_steps.py)"
            )
        run_id = context.run.run_id
        path = warehouse.candidate_path(self.served, run_id)
        if not warehouse.is_prepared(path):
            self._sweep(context)
            selection = context.run.asset_selection
            if selection is not None and PUBLISH_LOG_KEY not in selection:
                context.log.warning(
                    "this run does not include audit/publish_log: what it builds stays in its "
                    f"candidate {path} and is not served"
                )
            warehouse.create_candidate(self.served, run_id)
            source = "a copy of " + str(self.served) if self.served.exists() else "empty"
            context.log.info(f"candidate {path} ({source})")
        return path

    @contextmanager
    def connect(self, context: Context) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection to this run's candidate, closed on exit."""
        with connect_warehouse(self.candidate(context)) as con:
            yield con

    @contextmanager
    def dbt_environment(self, context: Context) -> Iterator[Path]:
        """Point dbt at the candidate inside the block; yields a fresh dbt target folder.

        On the ``spark`` dbt target (``PORTFOLIO_DBT_TARGET=spark``, which the profile reads)
        there is no candidate: dbt builds Spark's tables in place, ``PORTFOLIO_SPARK_DIR`` is
        made absolute for it and ``PORTFOLIO_WAREHOUSE`` is left as it is.

        ``DbtCliResource`` hands ``os.environ`` to the dbt subprocess it starts, so
        ``PORTFOLIO_WAREHOUSE`` (read by profiles/profiles.yml) is set to the candidate inside
        the block and restored after it. The target folder (``<dbt_targets>/<run_id>/<id>``,
        dbt's artefacts and log) is removed after the block: Dagster's event log keeps dbt's
        output, and the folders would otherwise pile up (one per invocation, never removed).
        """
        target = self.dbt_targets / context.run.run_id / f"{uuid.uuid4().hex[:8]}"
        if settings.dbt_target() == "spark":
            # No candidate: dbt builds Spark's tables in place; the profile reads the Spark
            # folder from the environment, relative to the project root unless absolute.
            overrides = {
                "PORTFOLIO_SPARK_DIR": str(settings.spark_dir()),
                "SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP") or "127.0.0.1",
            }
        else:
            overrides = {"PORTFOLIO_WAREHOUSE": str(self.candidate(context))}
        previous = {name: os.environ.get(name) for name in overrides}
        os.environ.update(overrides)
        try:
            yield target
        finally:
            for name, value in previous.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            shutil.rmtree(target, ignore_errors=True)
            with suppress(OSError):
                target.parent.rmdir()

    def _sweep(self, context: Context) -> None:
        for cleaned in clean_up_runs(
            context.instance,
            self.served,
            self.dbt_targets,
            current_run_id=context.run.run_id,
            by=f"run {context.run.run_id[:8]}",
        ):
            if cleaned.owner_died:
                context.log.warning(cleaned.line)
            else:
                context.log.info(cleaned.line)


@dataclass(frozen=True)
class CleanedRun:
    """A run whose leftovers :func:`clean_up_runs` removed."""

    run_id: str
    #: Bytes of the candidate removed.
    size: int
    #: Its process died before the run ended (else the run had ended unpublished).
    owner_died: bool
    #: Its Dagster run was marked failed by this clean-up.
    marked_failed: bool
    #: The run's status before the clean-up (None: not a run of this Dagster instance).
    status: DagsterRunStatus | None

    @property
    def line(self) -> str:
        """One line for a terminal or a run log."""
        size = human_size(self.size)
        if not self.owner_died:
            ended = f"it had ended ({self.status.value})" if self.status else "it had ended"
            return (
                f"cleaned up run {self.run_id[:8]}: {ended} unpublished; candidate removed ({size})"
            )
        line = f"cleaned up run {self.run_id[:8]}: its process died; candidate removed ({size})"
        if self.marked_failed:
            return line + ", run marked failed"
        return line + ("" if self.status else " (not a run of this Dagster instance)")


def human_size(size: int) -> str:
    """``19 MB``, ``3.2 GB``, ``12 kB``: decimal units, as ``ls -lh --si``."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if value < 10 and unit == "GB" else f"{value:.0f} {unit}"
    return f"{size} B"


def clean_up_runs(
    instance: DagsterInstance,
    served: Path,
    dbt_targets: Path | None = None,
    *,
    current_run_id: str | None = None,
    by: str = "python -m orchestration.commands.run",
) -> list[CleanedRun]:
    """Remove what ended or dead runs left next to ``served``; mark the dead runs failed.

    A candidate whose owner process is dead (nobody holds its ``owner.lock``:
    orchestration/warehouse/publish.py) is removed at once; when its Dagster run had not ended
    (STARTED, STARTING, ...: the process was killed or the machine restarted, so the run never
    reported an end) the run is reported failed, with a message saying why, before the
    candidate goes. Candidates of live processes are never touched, nor the served file.
    Candidates of runs that ended unpublished go too, and their dbt target folders under
    ``dbt_targets``. ``current_run_id`` is the calling run (kept); ``by`` names the caller in
    the failure message.
    """

    def run_of(run_id: str) -> DagsterRun | None:
        return None if run_id == current_run_id else instance.get_run_by_id(run_id)

    def is_finished(run_id: str) -> bool:
        run = run_of(run_id)
        return run is not None and run.is_finished

    statuses: dict[str, DagsterRunStatus] = {}
    marked: set[str] = set()

    def owner_died(run_id: str, size: int) -> None:
        run = run_of(run_id)
        if run is None:
            return
        statuses[run_id] = run.status
        candidate = warehouse.candidate_path(served, run_id).parent
        instance.report_run_failed(
            run,
            message=f"The process of this run died (killed, or the machine restarted) before "
            f"the run ended, so it never reported an end. Marked failed by {by}, which removed "
            f"its candidate {candidate} ({human_size(size)}); the served warehouse {served} "
            "was not changed by this run.",
        )
        marked.add(run_id)

    removed = warehouse.sweep_candidates(
        served, is_finished, abandoned_after=ABANDONED_AFTER_SECONDS, on_owner_died=owner_died
    )
    cleaned = []
    for candidate in removed:
        status = statuses.get(candidate.run_id)
        if status is None:
            run = run_of(candidate.run_id)
            status = run.status if run is not None else None
        cleaned.append(
            CleanedRun(
                candidate.run_id,
                candidate.size,
                candidate.owner_died,
                candidate.run_id in marked,
                status,
            )
        )
    if dbt_targets is not None and dbt_targets.is_dir():
        for folder in dbt_targets.iterdir():
            if folder.is_dir() and (
                is_finished(folder.name) or warehouse.idle_seconds(folder) > ABANDONED_AFTER_SECONDS
            ):
                shutil.rmtree(folder, ignore_errors=True)
    return cleaned


def dbt_executable() -> str:
    """The dbt next to this Python (the project's .venv), else whatever is on PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def build_resources() -> dict[str, Any]:
    """The resources of the code location."""
    # Imported here: loading the project prepares the dbt manifest (a parse when it is stale)
    # and dagster_dbt takes seconds to import; `make clean-runs` needs neither.
    from dagster_dbt import DbtCliResource

    from orchestration.defs.project import DBT_PROJECT

    return {
        "dbt": DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=dbt_executable()),
        "warehouse": WarehouseResource(),
    }
