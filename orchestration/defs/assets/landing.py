"""The landing tables: the export files loaded into the run's candidate.

One asset per table of the ``landing`` schema that dbt reads as a source (``landing/<table>``):
the seven export tables of the contract, plus whatever else the loader writes and dbt declares
as a source (the CSV lines set aside, the load log). One step materialises them all: it checks
the landing contract and loads the folder (orchestration/landing/loader.py). The dbt sources
``landing.<table>`` map to the same keys (assets/dbt.py), so lineage runs from the files to the
marts. The files are not monthly: every partition run reloads the whole folder, and the
partition range only says which months dbt rebuilds afterwards.

After loading, the step reads the invoice months of what it loaded (orchestration/months.py),
registers them as the month partitions, and stops the run — before dbt, so nothing is
published — when the run asks for a month after the last month of the exports (or the
cut-off): building it would publish a month without its data. An absent optional table is
logged with the marts it leaves empty.

On the ``spark`` dbt target (orchestration/defs/spark_steps.py) the step checks the months
against the export files first, then loads the folder into Spark's ``landing`` database with
the same loader (every file read again) in a child process.
"""

import json
from collections.abc import Iterator
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from orchestration import settings
from orchestration.defs.month_end import NOTE_TAG
from orchestration.defs.partitions import partition_months, sync_month_partitions
from orchestration.defs.project import DBT_PROJECT
from orchestration.defs.resources import CANDIDATE_WRITER, WarehouseResource
from orchestration.defs.run_config import is_full_refresh
from orchestration.defs.spark_steps import on_spark, run_spark_step
from orchestration.landing.contract import LANDING_SCHEMA, LANDING_TABLES
from orchestration.landing.loader import landing_data_months, load_landing
from orchestration.months import DataMonths, data_months


class ExportsDoNotReachError(RuntimeError):
    """The run asks for a month the landing data does not cover."""


LANDING_GROUP = "landing"


def landing_asset_key(table: str) -> AssetKey:
    """Asset key of a landing table, also the key of the dbt source ``landing.<table>``."""
    return AssetKey([LANDING_SCHEMA, table])


def landing_source_tables(manifest_path: Path) -> list[str]:
    """The contract's tables, then the other ``landing`` sources of the dbt manifest."""
    manifest = json.loads(manifest_path.read_text())
    declared = sorted(
        source["name"]
        for source in manifest["sources"].values()
        if source["source_name"] == LANDING_SCHEMA
    )
    return list(dict.fromkeys([*LANDING_TABLES, *declared]))


LANDING_SOURCE_TABLES = landing_source_tables(DBT_PROJECT.manifest_path)


def _description(table: str) -> str:
    if table in LANDING_TABLES:
        return f"landing.{table}: the `{table}` export file, contract columns as text."
    return f"landing.{table}: written by the landing loader (orchestration/landing/loader.py)."


@multi_asset(
    name="landing_tables",
    specs=[
        AssetSpec(
            landing_asset_key(table),
            group_name=LANDING_GROUP,
            description=_description(table),
            kinds={"duckdb"},
        )
        for table in LANDING_SOURCE_TABLES
    ],
    **CANDIDATE_WRITER,
)
def landing_tables(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[MaterializeResult]:
    """Check the landing contract and load every table into the run's candidate."""
    landing_dir = warehouse.landing
    note = context.run.tags.get(NOTE_TAG)
    if note:
        context.log.warning(note)
    if on_spark():
        yield from _landing_on_spark(context, landing_dir)
        return
    with warehouse.connect(context) as con:
        # A month-end run keeps the tables whose file is unchanged since the served build;
        # a full refresh (make build) reads every file again.
        reuse = not is_full_refresh(context.run.run_config)
        loads = {load.table: load for load in load_landing(con, landing_dir, reuse_unchanged=reuse)}
        written = {
            row[0]
            for row in con.execute(
                "select table_name from duckdb_tables() where schema_name = ?", [LANDING_SCHEMA]
            ).fetchall()
        }
        missing = [table for table in LANDING_SOURCE_TABLES if table not in written]
        if missing:
            raise RuntimeError(
                f"dbt declares landing sources the loader did not write: {', '.join(missing)}"
            )
        counts = {
            table: con.execute(f'select count(*) from {LANDING_SCHEMA}."{table}"').fetchone()[0]
            for table in LANDING_SOURCE_TABLES
        }
        data = data_months(con, f"{LANDING_SCHEMA}.invoice_lines", settings.cut_off_month())
    for load in loads.values():
        if not load.is_present:
            context.log.warning(f"landing.{load.table}: {load.note}")
    _check_months(context, landing_dir, data)
    for table, rows in counts.items():
        metadata = {"dagster/row_count": MetadataValue.int(rows)}
        load = loads.get(table)
        if load is not None:
            metadata["file"] = MetadataValue.text(str(load.path) if load.path else "absent")
            if load.note:
                metadata["note"] = MetadataValue.text(load.note)
            metadata["kept_unchanged"] = MetadataValue.bool(load.reused)
        yield MaterializeResult(asset_key=landing_asset_key(table), metadata=metadata)


def _check_months(
    context: AssetExecutionContext, landing_dir: Path, data: DataMonths | None
) -> None:
    """Stop the run when the exports do not cover its months; else register their months."""
    first, last = partition_months(context.partition_key_range)
    if data is None or data.is_empty or not (data.covers(first) and data.covers(last)):
        found = "no usable invoice_date" if data is None else data.describe()
        span = f"{first:%Y-%m}" if first == last else f"{first:%Y-%m}..{last:%Y-%m}"
        raise ExportsDoNotReachError(
            f"the run asks for {span} but the exports in {landing_dir} do not cover it "
            f"({found}); nothing is published"
        )
    sync_month_partitions(context.instance, data.keys())
    context.log.info(f"{landing_dir}: {data.describe()}")


def _landing_on_spark(
    context: AssetExecutionContext, landing_dir: Path
) -> Iterator[MaterializeResult]:
    """The step on the ``spark`` target: months checked on the files, then loaded into Spark."""
    # Before loading: on Spark the load replaces the tables in place.
    _check_months(context, landing_dir, landing_data_months(landing_dir, settings.cut_off_month()))
    args = ["--landing-dir", str(landing_dir)]
    for table in LANDING_SOURCE_TABLES:
        args += ["--table", table]
    result = run_spark_step(context, "land", *args)
    missing = [table for table in LANDING_SOURCE_TABLES if table not in result["tables"]]
    if missing:
        raise RuntimeError(
            f"dbt declares landing sources the loader did not write: {', '.join(missing)}"
        )
    loads = {load["table"]: load for load in result["loads"]}
    for load in loads.values():
        if not load["is_present"]:
            context.log.warning(f"landing.{load['table']}: {load['note']}")
    context.log.info(
        f"loaded {landing_dir} into Spark's {LANDING_SCHEMA} database ({settings.spark_dir()})"
    )
    for table in LANDING_SOURCE_TABLES:
        metadata = {
            "dagster/row_count": MetadataValue.int(int(result["counts"][table])),
            "engine": MetadataValue.text("spark"),
        }
        load = loads.get(table)
        if load is not None:
            metadata["file"] = MetadataValue.text(load["path"] or "absent")
            if load["note"]:
                metadata["note"] = MetadataValue.text(load["note"])
            metadata["kept_unchanged"] = MetadataValue.bool(bool(load["reused"]))
        yield MaterializeResult(asset_key=landing_asset_key(table), metadata=metadata)
