"""The Dagster code location: ``dagster dev -m orchestration.defs.definitions``.

Assembles the definitions only; orchestration/README.md explains how they work together.
"""

from __future__ import annotations

from dagster import (
    AssetsDefinition,
    Definitions,
    JobDefinition,
    in_process_executor,
    load_assets_from_package_module,
)

from orchestration.defs import assets
from orchestration.defs.assets.publish import build_publish_asset
from orchestration.defs.assets.report import build_report_asset
from orchestration.defs.jobs import PORTFOLIO_JOB_NAME, portfolio_job
from orchestration.defs.resources import build_resources
from orchestration.defs.schedules import month_end_schedule
from orchestration.defs.sensors import landing_files_sensor

upstream_assets = [
    definition
    for definition in load_assets_from_package_module(assets)
    if isinstance(definition, AssetsDefinition)
]

defs = Definitions(
    # The report comes after publish: it is not one of publish's upstream assets.
    assets=[*upstream_assets, build_publish_asset(upstream_assets), build_report_asset()],
    jobs=[portfolio_job],
    schedules=[month_end_schedule],
    sensors=[landing_files_sensor],
    resources=build_resources(),
    # The steps form one chain of writers of one DuckDB file (DuckDB admits one writing
    # process at a time), so a run gains nothing from a process per step and would pay
    # seconds of imports for each; dbt still runs as a subprocess of its step.
    executor=in_process_executor,
)


def resolved_portfolio_job() -> JobDefinition:
    """The resolved main job, for ``dagster.reconstructable`` (orchestration/commands/run.py)."""
    return defs.resolve_job_def(PORTFOLIO_JOB_NAME)
