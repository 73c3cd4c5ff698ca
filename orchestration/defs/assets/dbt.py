"""Every dbt model and seed as an asset, and every dbt data test as an asset check.

The assets come from the prepared manifest (orchestration/defs/project.py) with the selection
``fqn:*`` minus unit tests, so a model a colleague adds shows up on the next parse without an
edit here. Groups follow the dbt folders: ``staging``, ``intermediate``, ``utilities``,
``audit``, one group per mart domain (``concentration``, ``classification``, ...), and
``reference`` for seeds. The sources ``landing.<table>`` are the landing assets.

A run builds (``dbt build``: models, seeds and data tests) into the run's candidate with the
months of its partition range as dbt vars. dbt data tests of severity error are blocking asset
checks: a failure fails this step, and the publish step does not run. Unit tests are left to CI
(``make dbt-test``): a failing one would only fail the step without a check to show it.

The models that read scores (downstream of a ``scoring`` source, the tables the Python scoring
assets write: the account plan, the renewal calendar) are built by a second step of the same
shape, ``dbt build`` of :data:`AFTER_SCORING` only, which runs after the scoring assets; the
first step builds everything else. A dbt source ``scoring.<table>`` has the scoring asset's key,
so Dagster orders the three steps by itself.

On the ``spark`` dbt target (``PORTFOLIO_DBT_TARGET=spark``, orchestration/defs/spark_steps.py)
both steps run ``dbt build`` on that target, building Spark's tables in place.
"""

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Config,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
)
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from pydantic import Field

from orchestration import settings
from orchestration.defs.assets.landing import landing_asset_key
from orchestration.defs.notices import notice
from orchestration.defs.partitions import MONTHLY_PARTITIONS, dbt_month_vars, partition_months
from orchestration.defs.project import DBT_PROJECT
from orchestration.defs.resources import CANDIDATE_WRITER, WarehouseResource
from orchestration.defs.run_config import DBT_AFTER_SCORING_OP_NAME, DBT_OP_NAME, is_full_refresh
from orchestration.defs.spark_steps import on_spark
from orchestration.landing.contract import LANDING_SCHEMA
from orchestration.warehouse import kept_models
from orchestration.warehouse.reshaped_marts import drop_reshaped_marts

#: Group of the dbt seeds (lookup tables, schema ``reference``).
SEED_GROUP = "reference"
#: dbt selection of the models (and their tests) that read the scoring tables, built after them.
AFTER_SCORING = "source:scoring+"
#: Never run by Dagster: unit tests are CI's (``make dbt-unit-test``).
UNIT_TESTS = "resource_type:unit_test"


class PortfolioTranslator(DagsterDbtTranslator):
    """Landing sources as the landing assets; groups named after the dbt folders."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if (
            dbt_resource_props["resource_type"] == "source"
            and dbt_resource_props["source_name"] == LANDING_SCHEMA
        ):
            return landing_asset_key(dbt_resource_props["name"])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return folder_group(dbt_resource_props)

    def get_partitions_def(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> PartitionsDefinition | None:
        """Monthly partitions for the monthly snapshot marts only (:func:`is_monthly_snapshot`).

        Every other dbt node (seeds, staging, intermediate views, audit and utility tables,
        whole-history marts) is rebuilt whole by each run, so it is one unpartitioned asset:
        Dagster records one materialization per run instead of one per month of the range,
        which on a 36-month build was thousands of event-log writes.
        """
        return MONTHLY_PARTITIONS if is_monthly_snapshot(dbt_resource_props) else None


def is_monthly_snapshot(dbt_resource_props: Mapping[str, Any]) -> bool:
    """Whether a dbt node is a mart that keeps one snapshot per month (incremental by month)."""
    config = dbt_resource_props.get("config") or {}
    return (
        dbt_resource_props["resource_type"] == "model"
        and config.get("materialized") == "incremental"
    )


def folder_group(dbt_resource_props: Mapping[str, Any]) -> str:
    """The group of a dbt node from its folder: ``models/<layer>/`` and, for marts, the domain.

    ``models/marts/classification/x.sql`` is ``classification``, ``models/staging/landing/x.sql``
    is ``staging``, a seed is ``reference``, a model directly under ``models/`` is ``models``.
    """
    if dbt_resource_props["resource_type"] == "seed":
        return SEED_GROUP
    # fqn: [project, <folders>..., name]
    folders = list(dbt_resource_props["fqn"][1:-1])
    if not folders:
        return "models"
    group = folders[1] if folders[0] == "marts" and len(folders) > 1 else folders[0]
    return re.sub(r"\W", "_", group)


class DbtBuildConfig(Config):
    """Run configuration of the dbt step."""

    full_refresh: bool = Field(
        default=False,
        description="Rebuild every incremental mart from scratch (dbt --full-refresh), every "
        "month of the data, not only the run's months. `make build` sets it.",
    )


def build_dbt_assets(project: DbtProject) -> AssetsDefinition:
    """The dbt assets of ``project`` (its prepared manifest), built by one ``dbt build``.

    The code location uses :data:`DBT_PROJECT`; tests build the assets of a modified copy.
    """

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        exclude=f"{UNIT_TESTS} {AFTER_SCORING}",
        dagster_dbt_translator=PortfolioTranslator(
            settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
        ),
        name=DBT_OP_NAME,
        # Partitions per asset (PortfolioTranslator.get_partitions_def), not for the whole op.
        **{k: v for k, v in CANDIDATE_WRITER.items() if k != "partitions_def"},
    )
    def dbt_models(
        context: AssetExecutionContext,
        dbt: DbtCliResource,
        warehouse: WarehouseResource,
        config: DbtBuildConfig,
    ) -> Iterator[Any]:
        """``dbt build`` of the run's months into the run's candidate."""
        first, last = partition_months(context.partition_key_range)
        dbt_vars = dbt_month_vars(first, last, settings.cut_off_month())
        if on_spark():
            yield from _build_on_spark(context, dbt, warehouse, dbt_vars, config.full_refresh)
            return
        manifest = json.loads(project.manifest_path.read_text())
        with warehouse.connect(context) as con:
            # A mart built by a version with other columns is rebuilt whole (every month).
            reshaped = [] if config.full_refresh else drop_reshaped_marts(con, manifest)
            if reshaped:
                notice(
                    context,
                    f"rebuilding {len(reshaped)} monthly marts whole, every month: their columns "
                    "differ from this version's contract: "
                    + ", ".join(mart.describe() for mart in reshaped),
                )
            # The monthly marts' other months were tested by the runs that built them.
            if not config.full_refresh and kept_models.monthly_marts_present(con, manifest):
                dbt_vars["test_run_months_only"] = "true"
            states, export_date = kept_models.landing_states(con)
            fingerprints = kept_models.model_fingerprints(
                manifest,
                states,
                export_date,
                dbt_vars,
                (project.project_dir / "dbt_project.yml").read_text(),
            )
            # Only a run of every dbt asset and check keeps models: a subset relies on dbt's
            # indirect selection of tests, which leaving models out would change.
            kept = (
                kept_models.reusable_models(con, manifest, fingerprints)
                if not config.full_refresh and builds_everything(context)
                else []
            )
        args = ["build", "--vars", json.dumps(dbt_vars)]
        if config.full_refresh:
            args.append("--full-refresh")
        if kept:
            # The kept models and the tests that only they feed are left out; tests that
            # also read a rebuilt model stay selected (no indirect exclusion).
            left_out = kept_models.kept_nodes(manifest, kept)
            args += ["--exclude", " ".join(left_out), "--indirect-selection", "empty"]
            context.log.info(
                f"kept {len(kept)} models (and {len(left_out) - len(kept)} tests that read "
                "only them), whose landing files, code and vars are unchanged since the "
                f"served build: {', '.join(kept)}"
            )
        # A kept model is as current as if the run had rebuilt it: say so, so that the assets
        # downstream of it (publish) run. Yielded first: a multi-asset yields in topological order.
        translator = PortfolioTranslator()
        for name in kept:
            node = next(
                node
                for node in manifest["nodes"].values()
                if node["resource_type"] == "model" and node["name"] == name
            )
            yield MaterializeResult(
                asset_key=translator.get_asset_key(node),
                metadata={"kept_unchanged": MetadataValue.bool(True)},
            )
        with warehouse.dbt_environment(context) as target_path:
            invocation = dbt.cli(args, context=context, target_path=target_path)
            yield from invocation.stream()
            results = invocation.get_artifact("run_results.json")["results"]
        built = {r["unique_id"] for r in results if r["status"] == "success"}
        with warehouse.connect(context) as con:
            kept_models.record_build(
                con, fingerprints, built, complete=builds_everything(context), now=settings.now()
            )

    return dbt_models


def build_after_scoring_assets(project: DbtProject) -> AssetsDefinition:
    """The dbt models that read scores (:data:`AFTER_SCORING`), built after the scoring assets.

    One ``dbt build`` of the run's months into the candidate, as the first dbt step does, with
    its data tests as blocking checks; a full refresh is the run's (the first step's config).
    """

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        select=AFTER_SCORING,
        exclude=UNIT_TESTS,
        dagster_dbt_translator=PortfolioTranslator(
            settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
        ),
        name=DBT_AFTER_SCORING_OP_NAME,
        **{k: v for k, v in CANDIDATE_WRITER.items() if k != "partitions_def"},
    )
    def dbt_models_after_scoring(
        context: AssetExecutionContext,
        dbt: DbtCliResource,
        warehouse: WarehouseResource,
    ) -> Iterator[Any]:
        """``dbt build`` of the models reading scores, for the run's months."""
        first, last = partition_months(context.partition_key_range)
        dbt_vars = dbt_month_vars(first, last, settings.cut_off_month())
        full_refresh = is_full_refresh(context.run.run_config)
        if on_spark():
            yield from _build_on_spark(context, dbt, warehouse, dbt_vars, full_refresh)
            return
        manifest = json.loads(project.manifest_path.read_text())
        with warehouse.connect(context) as con:
            if not full_refresh and kept_models.monthly_marts_present(con, manifest):
                dbt_vars["test_run_months_only"] = "true"
        args = ["build", "--vars", json.dumps(dbt_vars)]
        if full_refresh:
            args.append("--full-refresh")
        with warehouse.dbt_environment(context) as target_path:
            yield from dbt.cli(args, context=context, target_path=target_path).stream()

    return dbt_models_after_scoring


def _build_on_spark(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    dbt_vars: dict[str, Any],
    full_refresh: bool,
) -> Iterator[Any]:
    """``dbt build`` on the ``spark`` target (orchestration/defs/spark_steps.py): Spark's
    tables in place, every selected model rebuilt (no kept models: their record lives in the
    DuckDB warehouse) and every month's data tests run."""
    args = ["build", "--vars", json.dumps(dbt_vars)]
    if full_refresh:
        args.append("--full-refresh")
    context.log.info(
        f"dbt build on the spark target: Spark's tables in {settings.spark_dir()}, in place"
    )
    with warehouse.dbt_environment(context) as target_path:
        yield from dbt.cli(args, context=context, target_path=target_path).stream()


def builds_everything(context: AssetExecutionContext) -> bool:
    """Whether the step builds every dbt asset and runs every dbt asset check."""
    assets_def = context.assets_def
    return set(context.selected_asset_keys) == set(assets_def.keys) and set(
        context.selected_asset_check_keys
    ) == set(assets_def.check_keys)


dbt_models = build_dbt_assets(DBT_PROJECT)
dbt_models_after_scoring = build_after_scoring_assets(DBT_PROJECT)
