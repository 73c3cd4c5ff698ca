"""The landing tables: the export files loaded into the run's candidate.

One asset per table of the ``landing`` schema that dbt reads as a source (``landing/<table>``):
the seven export tables of the contract, plus whatever else the loader writes and dbt declares
as a source (the CSV lines set aside, the load log). One step materialises them all: it checks
the landing contract and loads the folder (orchestration/landing.py). The dbt sources
``landing.<table>`` map to the same keys (assets/dbt.py), so lineage runs from the files to the
marts. The files are not monthly: every partition run reloads the whole folder, and the
partition range only says which months dbt rebuilds afterwards.
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

from orchestration.landing import LANDING_SCHEMA, LANDING_TABLES, find_landing_file, load_landing
from orchestration.project import DBT_PROJECT
from orchestration.resources import CANDIDATE_WRITER, WarehouseResource

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
        return f"landing.{table}: the `{table}` export file, required columns as text."
    return f"landing.{table}: written by the landing loader (orchestration/landing.py)."


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
    with warehouse.connect(context) as con:
        load_landing(con, landing_dir)
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
    for table, rows in counts.items():
        metadata = {"dagster/row_count": MetadataValue.int(rows)}
        if table in LANDING_TABLES:
            path = find_landing_file(landing_dir, table).path
            metadata["file"] = MetadataValue.path(str(path))
        yield MaterializeResult(asset_key=landing_asset_key(table), metadata=metadata)
    context.log.info(f"loaded {len(LANDING_TABLES)} landing files from {landing_dir}")
