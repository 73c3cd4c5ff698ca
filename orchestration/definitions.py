"""The Dagster code location: ``dagster dev -m orchestration.definitions``.

Assembles the definitions only; orchestration/README.md explains how they work together.
"""

from __future__ import annotations

from dagster import (
    AssetsDefinition,
    Definitions,
    in_process_executor,
    load_assets_from_package_module,
)

from orchestration import assets
from orchestration.assets.publish import build_publish_asset
from orchestration.jobs import portfolio_job
from orchestration.resources import build_resources
from orchestration.schedules import month_end_schedule
from orchestration.sensors import landing_files_sensor

upstream_assets = [
    definition
    for definition in load_assets_from_package_module(assets)
    if isinstance(definition, AssetsDefinition)
]

defs = Definitions(
    assets=[*upstream_assets, build_publish_asset(upstream_assets)],
    jobs=[portfolio_job],
    schedules=[month_end_schedule],
    sensors=[landing_files_sensor],
    resources=build_resources(),
    # The steps form one chain of writers of one DuckDB file (DuckDB admits one writing
    # process at a time), so a run gains nothing from a process per step and would pay
    # seconds of imports for each; dbt still runs as a subprocess of its step.
    executor=in_process_executor,
)
