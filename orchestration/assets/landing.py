"""The landing tables: the seven export files loaded into the run's candidate.

One asset per landing table (``landing/<table>``), materialised together by one step that
checks the landing contract and loads the folder (orchestration/landing.py). The dbt sources
``landing.<table>`` map to these keys (assets/dbt.py), so lineage runs from the files to the
marts. The files are not monthly: every partition run reloads the whole folder, and the
partition range only says which months dbt rebuilds afterwards.
"""

from collections.abc import Iterator

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from orchestration.landing import LANDING_SCHEMA, LANDING_TABLES, find_landing_file, load_landing
from orchestration.resources import CANDIDATE_WRITER, WarehouseResource

LANDING_GROUP = "landing"


def landing_asset_key(table: str) -> AssetKey:
    """Asset key of a landing table, also the key of the dbt source ``landing.<table>``."""
    return AssetKey([LANDING_SCHEMA, table])


@multi_asset(
    name="landing_tables",
    specs=[
        AssetSpec(
            landing_asset_key(table),
            group_name=LANDING_GROUP,
            description=f"landing.{table}: the `{table}` export file, columns as text.",
            kinds={"duckdb"},
        )
        for table in LANDING_TABLES
    ],
    **CANDIDATE_WRITER,
)
def landing_tables(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[MaterializeResult]:
    """Check the landing contract and load every table into the run's candidate."""
    landing_dir = warehouse.landing
    with warehouse.connect(context) as con:
        counts = load_landing(con, landing_dir)
    for table, rows in counts.items():
        yield MaterializeResult(
            asset_key=landing_asset_key(table),
            metadata={
                "dagster/row_count": MetadataValue.int(rows),
                "file": MetadataValue.path(str(find_landing_file(landing_dir, table).path)),
            },
        )
    context.log.info(f"loaded {sum(counts.values()):,} rows of {len(counts)} tables")
