"""The month-end report asset: the HTML report of the run's last month, after the publish step.

``reports/month_end_report`` depends on ``audit/publish_log`` and reads the **served**
warehouse, read-only, once the run's candidate has been swapped in: the report shows exactly
what BI tools and the Parquet exports see, and a run that publishes nothing writes no report.
It writes ``month_end_YYYY-MM.html`` into ``$PORTFOLIO_REPORT_DIR`` (reports/; ``off``: none)
with :func:`orchestration.reports.render.write_report`.

Which month: the **last month of the run's partition range** (the month-end run's month, the
last month of a backfill), or the latest ``as_of_month`` of the served warehouse before it when
the data ends earlier: the same month the scoring assets score, so the report's scoring
sections are filled. One report per run, not one per month of a backfill: earlier months of a
range are history, and ``python -m orchestration.reports --month YYYY-MM`` writes any of them.

On the ``spark`` dbt target (``PORTFOLIO_DBT_TARGET=spark``) no report is written: the report
reads the DuckDB warehouse, which such a run does not build. The step says so in a warning and
in its ``note`` metadata.

Unlike the other modules of this package, this one defines no asset at import: publish depends
on every asset that ``load_assets_from_package_module`` finds here (assets/publish.py), and the
report must come after publish, so definitions.py adds :func:`build_report_asset` itself.
"""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from orchestration import settings
from orchestration.defs.partitions import MONTHLY_PARTITIONS, SINGLE_RUN, partition_months
from orchestration.defs.resources import PUBLISH_LOG_KEY, WarehouseResource
from orchestration.defs.spark_steps import on_spark
from orchestration.reports import queries
from orchestration.reports.render import write_report
from orchestration.warehouse.connection import read_warehouse

REPORT_GROUP = "reports"
MONTH_END_REPORT_KEY = AssetKey(["reports", "month_end_report"])


def build_report_asset() -> AssetsDefinition:
    """The report asset, downstream of the publish step."""

    @asset(
        key=MONTH_END_REPORT_KEY,
        deps=[PUBLISH_LOG_KEY],
        group_name=REPORT_GROUP,
        kinds={"python", "html"},
        partitions_def=MONTHLY_PARTITIONS,
        backfill_policy=SINGLE_RUN,
        description="The month-end HTML report of the run's last month, read from the served "
        "warehouse after publish (reports/month_end_YYYY-MM.html, PORTFOLIO_REPORT_DIR).",
    )
    def month_end_report(
        context: AssetExecutionContext, warehouse: WarehouseResource
    ) -> MaterializeResult:
        _, last = partition_months(context.partition_key_range)
        output_dir = settings.report_dir()
        if on_spark():
            note = (
                "the month-end report reads the DuckDB warehouse; this run built on Spark "
                "(PORTFOLIO_DBT_TARGET=spark): no report written"
            )
            context.log.warning(note)
            return MaterializeResult(metadata={"note": MetadataValue.text(note)})
        if output_dir is None:
            context.log.info("PORTFOLIO_REPORT_DIR is off: no report written")
            return MaterializeResult(metadata={"note": MetadataValue.text("report dir off")})
        with read_warehouse(warehouse.served) as con:
            months = [month for month in queries.report_months(con) if month <= last]
        if not months:
            note = f"the served warehouse has no as_of_month up to {last:%Y-%m}"
            context.log.warning(f"no report written: {note}")
            return MaterializeResult(metadata={"note": MetadataValue.text(note)})
        report = write_report(warehouse.served, output_dir, months[-1])
        context.log.info(
            f"month-end report {report.path} ({report.size / 1e6:.1f} MB) in {report.seconds:.1f} s"
        )
        return MaterializeResult(
            metadata={
                "path": MetadataValue.path(str(report.path)),
                "as_of_month": MetadataValue.text(f"{report.month:%Y-%m}"),
                "partition_month": MetadataValue.text(f"{last:%Y-%m}"),
                "size_bytes": MetadataValue.int(report.size),
                "seconds": MetadataValue.float(round(report.seconds, 2)),
            }
        )

    return month_end_report
