"""The scoring assets: their lineage from the marts, and a materialisation into a candidate.

The whole job (landing, dbt, scoring, publish) runs in test_wap_runs.py; here only the five
scoring assets run, in process, on a copy of a warehouse built once by the loader and dbt. The
served copy already holds a snapshot of an earlier month, which the run keeps.
"""

import hashlib
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance, materialize

from tests.conftest import build_warehouse
from tests.orchestration.conftest import DEMO_FIRST_MONTH, DEMO_LAST_MONTH, generate_landing

#: Every asset also reads marts.portfolio_concentration to find the latest month built; the
#: customer-grain tables read marts.customers for the names.
LINEAGE = {
    "scoring/retention_curves": {
        "marts/mrr_movements",
        "marts/customer_classification",
        "marts/portfolio_concentration",
    },
    "scoring/customer_lifetime_value": {
        "marts/mrr_movements",
        "marts/customer_classification",
        "marts/customers",
        "marts/portfolio_concentration",
    },
    "scoring/churn_risk_scores": {
        "marts/churn_risk_features",
        "marts/customer_classification",
        "marts/customers",
        "marts/portfolio_concentration",
    },
    # The drivers explain the scores: they come after them.
    "scoring/churn_risk_drivers": {
        "marts/churn_risk_features",
        "marts/customer_classification",
        "marts/customers",
        "marts/portfolio_concentration",
        "scoring/churn_risk_scores",
    },
    "scoring/cross_sell_recommendations": {
        "marts/customer_offering_matrix",
        "marts/offering_penetration",
        "marts/customer_classification",
        "marts/customers",
        "marts/portfolio_concentration",
    },
}
#: A month scored into the served file before the run, which the run must keep.
EARLIER_MONTH = date(2026, 7, 1)
MARTS = sorted(
    {
        parent.split("/")[1]
        for parents in LINEAGE.values()
        for parent in parents
        if parent.startswith("marts/")
    }
)


def test_scoring_assets_depend_on_the_marts_they_read_and_precede_publishing() -> None:
    from orchestration.defs.definitions import defs
    from orchestration.defs.resources import PUBLISH_LOG_KEY

    graph = defs.resolve_asset_graph()
    for key, parents in LINEAGE.items():
        node = graph.get(AssetKey.from_user_string(key))
        assert {parent.to_user_string() for parent in node.parent_keys} == parents
        assert node.group_name == "scoring"
    publish_parents = graph.get(PUBLISH_LOG_KEY).parent_keys
    assert {AssetKey.from_user_string(key) for key in LINEAGE} <= publish_parents


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with the marts the scoring assets read (60 customers, 14 months)."""
    root = tmp_path_factory.mktemp("scoring_assets")
    landing = generate_landing(root / "landing", customers=60, seed=5)
    warehouse = root / "portfolio.duckdb"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DBT_INDIRECT_SELECTION", "buildable")
        build_warehouse(landing, warehouse, select=" ".join(f"+{mart}" for mart in MARTS))
    return warehouse


def instance_with_demo_months() -> DagsterInstance:
    """An ephemeral instance with the demo data's month partitions registered, in order."""
    from orchestration.defs.partitions import partition_month, sync_month_partitions
    from orchestration.months import month_key, month_range

    instance = DagsterInstance.ephemeral()
    months = month_range(partition_month(DEMO_FIRST_MONTH), partition_month(DEMO_LAST_MONTH))
    sync_month_partitions(instance, [month_key(month) for month in months])
    return instance


def test_materialising_scores_the_partition_month_into_the_candidate_only(
    built: Path, tmp_path: Path
) -> None:
    from orchestration.defs.assets import scoring
    from orchestration.defs.resources import WarehouseResource
    from orchestration.scoring import pipeline
    from orchestration.warehouse import publish as wap
    from orchestration.warehouse.connection import connect_warehouse

    served = tmp_path / "portfolio.duckdb"
    shutil.copyfile(built, served)
    with connect_warehouse(served) as con:
        earlier = {table: writer(con, EARLIER_MONTH) for table, writer in pipeline.WRITERS.items()}
    assert all(meta["row_count"] > 0 for meta in earlier.values())
    digest = hashlib.sha256(served.read_bytes()).hexdigest()
    result = materialize(
        [
            scoring.retention_curves,
            scoring.customer_lifetime_value,
            scoring.churn_risk_scores,
            scoring.churn_risk_drivers,
            scoring.cross_sell_recommendations,
        ],
        resources={"warehouse": WarehouseResource(served_path=str(served))},
        partition_key="2026-08-01",
        instance=instance_with_demo_months(),
    )
    assert result.success
    metadata = {
        event.asset_key.to_user_string(): event.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    assert set(metadata) == set(LINEAGE)
    for key in ("scoring/churn_risk_scores", "scoring/cross_sell_recommendations"):
        assert isinstance(metadata[key]["beats_baseline"].value, bool)
    assert "segments" in metadata["scoring/retention_curves"]
    for key, meta in metadata.items():
        assert meta["as_of_month"].value == "2026-08-01", key
        assert meta["partition_month"].value == "2026-08-01", key
        assert meta["keep_history"].value is True, key
        assert meta["months_kept"].value == 2, key
        assert "note" in meta, key

    # The tables are in the run's candidate, as of the partition's month, next to the earlier
    # month's snapshot; the served file is untouched until the publish step (not part of this
    # run) swaps the candidate in.
    candidate = wap.candidate_path(served, result.run_id)
    with duckdb.connect(str(candidate), read_only=True) as con:
        for key, meta in metadata.items():
            table = key.replace("/", ".")
            counts = dict(
                con.execute(f"select as_of_month, count(*) from {table} group by 1").fetchall()
            )
            assert set(counts) == {EARLIER_MONTH, date(2026, 8, 1)}, key
            assert counts[date(2026, 8, 1)] == meta["dagster/row_count"].value > 0, key
            assert counts[EARLIER_MONTH] == earlier[key.split("/")[1]]["row_count"], key
        # Exactly three drivers, ranked 1..3, for every customer scored in each month.
        drivers = con.execute(
            """
            select s.as_of_month, s.customer_id, list(d.driver_rank order by d.driver_rank)
            from scoring.churn_risk_scores as s
            left join scoring.churn_risk_drivers as d
                on d.as_of_month = s.as_of_month and d.customer_id = s.customer_id
            group by all
            """
        ).fetchall()
        assert {month for month, _, _ in drivers} == {EARLIER_MONTH, date(2026, 8, 1)}
        assert all(ranks == [1, 2, 3] for _, _, ranks in drivers), drivers
        (orphans,) = con.execute(
            "select count(*) from scoring.churn_risk_drivers as d anti join "
            "scoring.churn_risk_scores as s using (as_of_month, customer_id)"
        ).fetchone()
        assert orphans == 0
    drivers_meta = metadata["scoring/churn_risk_drivers"]
    assert drivers_meta["max_log_odds_gap"].value < 1e-9
    assert drivers_meta["dagster/row_count"].value == 3 * (
        metadata["scoring/churn_risk_scores"]["dagster/row_count"].value
    )
    assert hashlib.sha256(served.read_bytes()).hexdigest() == digest
