"""The code location loads, validates, and wires partitions, checks, schedule and sensor."""

import importlib
import os
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dagster import (
    AssetKey,
    BackfillPolicy,
    DagsterInstance,
    RunRequest,
    build_schedule_context,
    build_sensor_context,
)

from orchestration.assets.landing import landing_asset_key
from orchestration.definitions import defs
from orchestration.jobs import PORTFOLIO_JOB_NAME
from orchestration.landing import LANDING_TABLES
from orchestration.partitions import MONTHLY_PARTITIONS
from orchestration.project import manifest_is_stale
from orchestration.resources import PUBLISH_LOG_KEY
from tests.orchestration.conftest import BIN_DIR, PROJECT_DIR

ASSET_GRAPH = defs.get_repository_def().asset_graph


def dbt_key(model: str) -> AssetKey:
    from dagster_dbt import get_asset_key_for_model

    from orchestration.assets.dbt import dbt_models

    return get_asset_key_for_model([dbt_models], model)


def test_dagster_definitions_validate_passes(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(BIN_DIR / "dagster"), "definitions", "validate", "-m", "orchestration.definitions"],
        cwd=PROJECT_DIR,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All code locations passed validation" in result.stdout + result.stderr


def test_groups_follow_the_dbt_folders() -> None:
    groups = {key: ASSET_GRAPH.get(key).group_name for key in ASSET_GRAPH.materializable_asset_keys}
    assert groups[dbt_key("stg_landing__customers")] == "staging"
    assert groups[dbt_key("int_customer_ttm_rolled_up")] == "intermediate"
    assert groups[dbt_key("month_spine")] == "utilities"
    assert groups[dbt_key("customer_concentration")] == "concentration"
    assert groups[dbt_key("churn_reason_codes")] == "reference"
    assert groups[landing_asset_key("customers")] == "landing"
    assert groups[PUBLISH_LOG_KEY] == "publish"


def test_dbt_sources_are_the_landing_assets() -> None:
    landing_keys = {landing_asset_key(table) for table in LANDING_TABLES}
    assert landing_keys <= ASSET_GRAPH.materializable_asset_keys
    # Every landing table feeds some dbt model: the lineage is connected.
    children = set().union(*(ASSET_GRAPH.get(key).child_keys for key in landing_keys))
    assert children and not children & landing_keys


def test_dbt_data_tests_are_asset_checks_and_error_ones_block() -> None:
    checks = [ASSET_GRAPH.get_check_spec(key) for key in ASSET_GRAPH.asset_check_keys]
    unique_customer = [c for c in checks if c.name == "unique_stg_landing__customers_customer_id"]
    assert len(unique_customer) == 1
    assert unique_customer[0].asset_key == dbt_key("stg_landing__customers")
    assert unique_customer[0].blocking
    assert len(checks) > 50


def test_the_job_covers_every_asset_on_monthly_single_run_partitions() -> None:
    job = defs.resolve_job_def(PORTFOLIO_JOB_NAME)
    assert job.partitions_def == MONTHLY_PARTITIONS
    selected = job.asset_layer.selected_asset_keys
    assert selected == ASSET_GRAPH.materializable_asset_keys
    for key in selected:
        node = ASSET_GRAPH.get(key)
        assert node.partitions_def == MONTHLY_PARTITIONS, key
        assert node.backfill_policy == BackfillPolicy.single_run(), key
    assert MONTHLY_PARTITIONS.get_first_partition_key() == "2023-11-01"


def test_publish_runs_after_every_other_asset() -> None:
    ancestors = ASSET_GRAPH.upstream_key_iterator(PUBLISH_LOG_KEY)
    assert set(ancestors) == ASSET_GRAPH.materializable_asset_keys - {PUBLISH_LOG_KEY}


def test_month_end_schedule_builds_the_month_just_closed() -> None:
    schedule = defs.resolve_schedule_def("month_end_schedule")
    assert schedule.cron_schedule == "0 6 3 * *"
    assert schedule.execution_timezone == "UTC"
    tick = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
    with build_schedule_context(
        scheduled_execution_time=tick, repository_def=defs.get_repository_def()
    ) as context:
        requests = schedule.evaluate_tick(context).run_requests
    assert [r.partition_key for r in requests] == ["2026-11-01"]


def test_schedule_time_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import orchestration.schedules as schedules

    monkeypatch.setenv("PORTFOLIO_SCHEDULE_DAY", "5")
    monkeypatch.setenv("PORTFOLIO_SCHEDULE_HOUR", "7")
    monkeypatch.setenv("PORTFOLIO_SCHEDULE_MINUTE", "30")
    try:
        schedule = importlib.reload(schedules).month_end_schedule
        assert (schedule.day_of_month, schedule.hour_of_day, schedule.minute_of_hour) == (5, 7, 30)
        monkeypatch.setenv("PORTFOLIO_SCHEDULE_DAY", "31")
        with pytest.raises(ValueError, match="PORTFOLIO_SCHEDULE_DAY must be between 1 and 28"):
            importlib.reload(schedules)
    finally:
        monkeypatch.undo()
        importlib.reload(schedules)


def test_landing_sensor_requests_the_latest_closed_month_once_per_file_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sensor = defs.resolve_sensor_def("landing_files_sensor")
    monkeypatch.setenv("PORTFOLIO_LANDING_DIR", str(tmp_path))
    monkeypatch.setenv("PORTFOLIO_SENSOR_SETTLE", "60")
    instance = DagsterInstance.ephemeral()

    def evaluate(cursor: str | None):
        with build_sensor_context(
            instance=instance, cursor=cursor, repository_def=defs.get_repository_def()
        ) as context:
            return sensor.evaluate_tick(context)

    assert evaluate(None).skip_message.startswith("no landing files")
    for table in LANDING_TABLES:
        (tmp_path / f"{table}.csv").write_text("x\n")
    assert "waiting" in evaluate(None).skip_message  # written just now: not settled
    old = time.time() - 3600
    for path in tmp_path.iterdir():
        os.utime(path, (old, old))

    first = evaluate(None)
    [request] = first.run_requests
    assert isinstance(request, RunRequest)
    assert request.partition_key == MONTHLY_PARTITIONS.get_last_partition_key()
    assert evaluate(first.cursor).skip_message == "landing files unchanged"

    (tmp_path / "invoice_lines.csv").write_text("x\ny\n")
    os.utime(tmp_path / "invoice_lines.csv", (old + 10, old + 10))
    second = evaluate(first.cursor)
    [request_2] = second.run_requests
    assert request_2.run_key != request.run_key
    assert second.cursor != first.cursor


def test_manifest_staleness(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    model = tmp_path / "models" / "a.sql"
    model.write_text("select 1")
    manifest = tmp_path / "manifest.json"
    assert manifest_is_stale(tmp_path, manifest)  # missing
    manifest.write_text("{}")
    os.utime(model, (time.time() - 60, time.time() - 60))
    os.utime(tmp_path / "models", (time.time() - 60, time.time() - 60))
    assert not manifest_is_stale(tmp_path, manifest)
    os.utime(model, (time.time() + 60, time.time() + 60))
    assert manifest_is_stale(tmp_path, manifest)
