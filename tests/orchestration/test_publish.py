"""The publish step with a small Python asset upstream (no dbt): fast checks of its rules."""

import hashlib
from pathlib import Path

import duckdb
import pytest
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    asset,
    materialize,
)

from orchestration.defs.assets.publish import build_publish_asset
from orchestration.defs.resources import CANDIDATE_WRITER, WarehouseResource
from tests.orchestration.conftest import instance_with_months, publish_log


def build_scores(check_passes: bool):
    @asset(
        key=["scoring", "scores"],
        check_specs=[
            AssetCheckSpec("scores_are_positive", asset=["scoring", "scores"], blocking=True)
        ],
        **CANDIDATE_WRITER,
    )
    def scores(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        with warehouse.connect(context) as con:
            con.execute("create schema if not exists scoring")
            con.execute("create or replace table scoring.scores as select 1 as score")
        return MaterializeResult(
            check_results=[AssetCheckResult(check_name="scores_are_positive", passed=check_passes)]
        )

    return scores


@pytest.fixture
def served(tmp_path: Path) -> Path:
    path = tmp_path / "portfolio.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.facts as select 1 as id")
    return path


def run(served: Path, check_passes: bool):
    scores = build_scores(check_passes)
    return materialize(
        [scores, build_publish_asset([scores])],
        resources={"warehouse": WarehouseResource(served_path=str(served))},
        partition_key="2026-10-01",
        instance=instance_with_months("2026-10-01", "2026-10-01"),
        raise_on_error=False,
    )


def test_publish_serves_what_the_run_wrote_and_logs_it(served: Path) -> None:
    result = run(served, check_passes=True)
    assert result.success
    [(run_id, first, last, full_refresh)] = publish_log(served)
    assert (run_id, first, last, full_refresh) == (result.run_id, "2026-10-01", "2026-10-01", False)
    with duckdb.connect(str(served), read_only=True) as con:
        counts = con.execute("select row_counts from audit.publish_log").fetchone()[0]
        assert con.execute("select score from scoring.scores").fetchall() == [(1,)]
    assert counts == {"marts.facts": 1, "scoring.scores": 1}


def test_a_failed_blocking_check_publishes_nothing(served: Path) -> None:
    before = hashlib.sha256(served.read_bytes()).hexdigest()
    result = run(served, check_passes=False)
    assert "audit__publish_log" not in {e.step_key for e in result.get_step_success_events()}
    assert hashlib.sha256(served.read_bytes()).hexdigest() == before
