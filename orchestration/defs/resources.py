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
from pathlib import Path
from typing import Any

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetKey,
    BetaWarning,
    ConfigurableResource,
    OpExecutionContext,
)
from dagster_dbt import DbtCliResource
from pydantic import Field

from orchestration import settings
from orchestration.defs.partitions import MONTHLY_PARTITIONS, SINGLE_RUN
from orchestration.defs.project import DBT_PROJECT
from orchestration.warehouse import publish as warehouse
from orchestration.warehouse.connection import connect_warehouse

#: Concurrency pool of every step that writes a warehouse file. dagster.yaml limits it to 1
#: at run granularity: the run queue starts one writing run at a time.
WRITER_POOL = "duckdb_writer"

#: A candidate (or dbt target folder) untouched this long belongs to a run that was killed
#: with its process and never reported an end; the next run removes it.
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

        The first step of a run to ask also removes what ended runs left behind: the
        candidates and dbt targets of failed runs, and of killed runs after a day without a
        change (a killed process never reports its run's end).
        """
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

        ``DbtCliResource`` hands ``os.environ`` to the dbt subprocess it starts, so
        ``PORTFOLIO_WAREHOUSE`` (read by profiles/profiles.yml) is set to the candidate inside
        the block and restored after it. The target folder (``<dbt_targets>/<run_id>/<id>``,
        dbt's artefacts and log) is removed after the block: Dagster's event log keeps dbt's
        output, and the folders would otherwise pile up (one per invocation, never removed).
        """
        candidate = self.candidate(context)
        target = self.dbt_targets / context.run.run_id / f"{uuid.uuid4().hex[:8]}"
        previous = os.environ.get("PORTFOLIO_WAREHOUSE")
        os.environ["PORTFOLIO_WAREHOUSE"] = str(candidate)
        try:
            yield target
        finally:
            if previous is None:
                os.environ.pop("PORTFOLIO_WAREHOUSE", None)
            else:
                os.environ["PORTFOLIO_WAREHOUSE"] = previous
            shutil.rmtree(target, ignore_errors=True)
            with suppress(OSError):
                target.parent.rmdir()

    def _sweep(self, context: Context) -> None:
        def is_finished(run_id: str) -> bool:
            if run_id == context.run.run_id:
                return False
            run = context.instance.get_run_by_id(run_id)
            return run is not None and run.is_finished

        removed = warehouse.sweep_candidates(
            self.served, is_finished, abandoned_after=ABANDONED_AFTER_SECONDS
        )
        for run_id in removed:
            context.log.info(f"removed the candidate of run {run_id}, which ended unpublished")
        if self.dbt_targets.is_dir():
            for folder in self.dbt_targets.iterdir():
                if folder.is_dir() and (
                    is_finished(folder.name)
                    or warehouse.idle_seconds(folder) > ABANDONED_AFTER_SECONDS
                ):
                    shutil.rmtree(folder, ignore_errors=True)


def dbt_executable() -> str:
    """The dbt next to this Python (the project's .venv), else whatever is on PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def build_resources() -> dict[str, Any]:
    """The resources of the code location."""
    return {
        "dbt": DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=dbt_executable()),
        "warehouse": WarehouseResource(),
    }
