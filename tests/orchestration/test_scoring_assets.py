"""The scoring assets: their lineage from the marts, and a materialisation into a candidate.

The whole job (landing, dbt, scoring, publish) runs in test_wap_runs.py; here only the four
scoring assets run, in process, on a copy of a warehouse built once by the loader and dbt.
"""

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance, materialize

from tests.conftest import build_warehouse
from tests.orchestration.conftest import generate_landing

LINEAGE = {
    "scoring/retention_curves": {"marts/mrr_movements", "marts/customer_classification"},
    "scoring/customer_lifetime_value": {"marts/mrr_movements", "marts/customer_classification"},
    "scoring/churn_risk_scores": {
        "marts/mrr_movements",
        "marts/customer_classification",
        "marts/customer_concentration",
        "marts/customer_cross_sell",
    },
    "scoring/cross_sell_recommendations": {
        "marts/customer_offering_matrix",
        "marts/offering_penetration",
        "marts/customer_classification",
    },
}
MARTS = sorted({parent.split("/")[1] for parents in LINEAGE.values() for parent in parents})


def test_scoring_assets_depend_on_the_marts_they_read_and_precede_publishing() -> None:
    from orchestration.definitions import defs
    from orchestration.resources import PUBLISH_LOG_KEY

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


def test_materialising_scores_the_partition_month_into_the_candidate_only(
    built: Path, tmp_path: Path
) -> None:
    from orchestration import warehouse as wap
    from orchestration.assets import scoring
    from orchestration.resources import WarehouseResource

    served = tmp_path / "portfolio.duckdb"
    shutil.copyfile(built, served)
    digest = hashlib.sha256(served.read_bytes()).hexdigest()
    result = materialize(
        [
            scoring.retention_curves,
            scoring.customer_lifetime_value,
            scoring.churn_risk_scores,
            scoring.cross_sell_recommendations,
        ],
        resources={"warehouse": WarehouseResource(served_path=str(served))},
        partition_key="2026-08-01",
        instance=DagsterInstance.ephemeral(),
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

    # The tables are in the run's candidate, as of the partition's month; the served file is
    # untouched until the publish step (not part of this run) swaps the candidate in.
    candidate = wap.candidate_path(served, result.run_id)
    with duckdb.connect(str(candidate), read_only=True) as con:
        for key, meta in metadata.items():
            table = key.replace("/", ".")
            count, months = con.execute(
                f"select count(*), list(distinct as_of_month) from {table}"
            ).fetchone()
            assert count == meta["dagster/row_count"].value > 0, key
            assert [str(month) for month in months] == ["2026-08-01"], key
    assert hashlib.sha256(served.read_bytes()).hexdigest() == digest
