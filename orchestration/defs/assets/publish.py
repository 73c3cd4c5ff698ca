"""The publish step: log the run in the candidate and swap it in as the served warehouse.

``audit/publish_log`` is the last asset of every run. It depends directly on every asset of
the code location, so it runs last in any selection (``make load`` selects the landing assets
only, and publishes them) and only when every upstream step of the run succeeded. A failed
blocking check fails the step of its asset (Dagster does so for blocking checks; dbt exits with
an error on a failed test of severity error), so it stops the publish too.

Publishing (orchestration/warehouse/publish.py) appends a row to ``audit.publish_log`` inside the
candidate — run id, job, first and last as_of_month of the partition range, full refresh or
not, row counts of every table in ``marts`` and ``scoring``, published_at (UTC) — checkpoints
and closes it, and renames it over ``$PORTFOLIO_WAREHOUSE`` under a lock. Before the swap it
writes the Parquet exports of the marts and scores (orchestration/warehouse/exports.py), which
replace ``<export dir>/current`` after it.

On the ``spark`` dbt target there is no candidate: the dbt steps wrote Spark's tables in place
(a failed data test fails the run, but the failed build stays in the tables), and this step
appends the run's row, with the same columns, to Spark's ``audit.publish_log`` only when every
upstream step succeeded. No Parquet exports are written (orchestration/defs/spark_steps.py).
"""

from collections.abc import Sequence
from datetime import datetime

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from orchestration import settings
from orchestration.defs.partitions import month_count, partition_months
from orchestration.defs.resources import CANDIDATE_WRITER, PUBLISH_LOG_KEY, WarehouseResource
from orchestration.defs.run_config import is_full_refresh
from orchestration.defs.spark_steps import on_spark, run_spark_step
from orchestration.warehouse import exports
from orchestration.warehouse import publish as wap

PUBLISH_GROUP = "publish"


def upstream_keys(assets: Sequence[AssetsDefinition]) -> list[AssetKey]:
    """Keys of every asset in ``assets``, sorted.

    Every key, not only those nothing depends on: in a run of a subset (the landing group,
    say) the publish step must still come after each selected asset.
    """
    return sorted(
        {key for definition in assets for key in definition.keys},
        key=lambda key: key.to_user_string(),
    )


def build_publish_asset(upstream: Sequence[AssetsDefinition]) -> AssetsDefinition:
    """The publish asset, downstream of every asset in ``upstream``."""

    @asset(
        key=PUBLISH_LOG_KEY,
        deps=upstream_keys(upstream),
        group_name=PUBLISH_GROUP,
        kinds={"duckdb"},
        description="audit.publish_log: one row per published run. Materialising it swaps the "
        "run's candidate in as the served warehouse (write-audit-publish).",
        **CANDIDATE_WRITER,
    )
    def publish_log(
        context: AssetExecutionContext, warehouse: WarehouseResource
    ) -> MaterializeResult:
        if on_spark():
            return _log_on_spark(context)
        candidate = wap.candidate_path(warehouse.served, context.run.run_id)
        if not wap.is_prepared(candidate):
            raise wap.CandidateError(
                "not publishing: nothing was built in this run (select the assets upstream of "
                "audit/publish_log too)"
            )
        first, last = partition_months(context.partition_key_range)
        record = wap.record_publish(
            candidate,
            run_id=context.run.run_id,
            job_name=context.run.job_name,
            first_month=first,
            last_month=last,
            full_refresh=is_full_refresh(context.run.run_config),
        )
        # The Parquet files are written before the swap: a failure publishes nothing.
        export_dir = settings.export_dir()
        staged = None
        try:
            if export_dir is not None:
                staged = exports.stage_exports(candidate, export_dir, record)
            wap.publish_candidate(candidate, warehouse.served)
        except Exception:
            # Not published: the previous run's exports stay, this run's staged files go.
            if export_dir is not None:
                exports.discard_exports(export_dir, context.run.run_id)
            raise
        context.log.info(
            f"published {warehouse.served}: {month_count(first, last)} month(s) "
            f"{first:%Y-%m}..{last:%Y-%m}"
        )
        if staged is not None:
            current = exports.publish_exports(staged, export_dir)
            context.log.info(f"Parquet exports of {len(staged.row_counts)} tables in {current}")
        return MaterializeResult(
            metadata={
                "served_path": MetadataValue.path(str(warehouse.served)),
                "first_month": MetadataValue.text(f"{first:%Y-%m}"),
                "last_month": MetadataValue.text(f"{last:%Y-%m}"),
                "row_counts": MetadataValue.json(dict(record.row_counts)),
                "published_at": MetadataValue.timestamp(record.published_at),
                "exports": MetadataValue.text(
                    str(export_dir / exports.CURRENT) if staged is not None else "off"
                ),
            }
        )

    return publish_log


def _log_on_spark(context: AssetExecutionContext) -> MaterializeResult:
    """The step on the ``spark`` target (orchestration/defs/spark_steps.py): no candidate to
    swap (dbt wrote Spark's tables in place), so it appends the run's row to Spark's
    ``audit.publish_log``; no Parquet exports (Spark's tables are Parquet already)."""
    first, last = partition_months(context.partition_key_range)
    args = ["--run-id", context.run.run_id, "--job-name", context.run.job_name]
    args += ["--first", f"{first:%Y-%m}", "--last", f"{last:%Y-%m}"]
    if is_full_refresh(context.run.run_config):
        args.append("--full-refresh")
    result = run_spark_step(context, "publish-log", *args)
    tables = settings.spark_dir() / "tables"
    context.log.info(
        f"built on Spark in place ({tables}): {month_count(first, last)} month(s) "
        f"{first:%Y-%m}..{last:%Y-%m}, logged in Spark's {result['table']}"
    )
    context.log.info(
        "Parquet exports not written on the spark target: Spark's tables are Parquet files "
        f"already, under {tables}"
    )
    return MaterializeResult(
        metadata={
            "engine": MetadataValue.text("spark"),
            "spark_tables": MetadataValue.path(str(tables)),
            "first_month": MetadataValue.text(f"{first:%Y-%m}"),
            "last_month": MetadataValue.text(f"{last:%Y-%m}"),
            "row_counts": MetadataValue.json(result["row_counts"]),
            "published_at": MetadataValue.timestamp(datetime.fromisoformat(result["published_at"])),
            "exports": MetadataValue.text("not written on the spark target"),
        }
    )
