"""The code location loads, validates, and wires partitions, checks, schedule and sensor."""

import importlib
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from dagster import (
    AssetKey,
    BackfillPolicy,
    DagsterInstance,
    DynamicPartitionsDefinition,
    RunRequest,
    build_schedule_context,
    build_sensor_context,
    instance_for_test,
)

from orchestration.defs.assets.landing import landing_asset_key
from orchestration.defs.assets.report import MONTH_END_REPORT_KEY
from orchestration.defs.definitions import defs
from orchestration.defs.jobs import PORTFOLIO_JOB_NAME
from orchestration.defs.partitions import MONTHLY_PARTITIONS, PARTITIONS_NAME
from orchestration.defs.project import manifest_is_stale
from orchestration.defs.resources import PUBLISH_LOG_KEY
from orchestration.landing.contract import LANDING_TABLES
from tests.orchestration.conftest import BIN_DIR, PROJECT_DIR

ASSET_GRAPH = defs.get_repository_def().asset_graph
#: The models that read scores, built by the second dbt step.
AFTER_SCORING_MODELS = ("account_plan", "renewal_calendar")


def dbt_key(model: str) -> AssetKey:
    from dagster_dbt import get_asset_key_for_model

    from orchestration.defs.assets.dbt import dbt_models, dbt_models_after_scoring

    step = dbt_models_after_scoring if model in AFTER_SCORING_MODELS else dbt_models
    return get_asset_key_for_model([step], model)


def test_dagster_definitions_validate_passes(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            str(BIN_DIR / "dagster"),
            "definitions",
            "validate",
            "-m",
            "orchestration.defs.definitions",
        ],
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
    # Monthly: the monthly snapshot marts (incremental by month) and every Python asset;
    # the dbt nodes rebuilt whole by every run are one unpartitioned asset each.
    snapshot_marts = {
        dbt_key(name)
        for name in (
            "customer_concentration",
            "portfolio_concentration",
            "customer_classification",
            "classification_transitions",
            "customer_offering_matrix",
            "offering_penetration",
            "customer_cross_sell",
            "portfolio_cross_sell",
            "mrr_movements",
            "retention_summary",
            "churn_risk_features",
            "committed_mrr",
            "renewal_calendar",
            "customer_profitability",
            "agreement_profitability",
            "agreement_type_profitability",
            "account_plan",
            "gross_profit_bridge",
        )
    }
    # The Python assets: landing (schema landing), scoring and the publish log.
    python_assets = {k for k in selected if k.path[0] in ("landing", "scoring")}
    for key in selected:
        node = ASSET_GRAPH.get(key)
        monthly = key in snapshot_marts | python_assets | {PUBLISH_LOG_KEY, MONTH_END_REPORT_KEY}
        assert node.partitions_def == (MONTHLY_PARTITIONS if monthly else None), key
        assert node.backfill_policy == BackfillPolicy.single_run(), key
    assert ASSET_GRAPH.get(dbt_key("churn_events")).partitions_def is None
    assert ASSET_GRAPH.get(dbt_key("stg_landing__customers")).partitions_def is None
    # The months are the data's: no partition exists before something registers them.
    assert isinstance(MONTHLY_PARTITIONS, DynamicPartitionsDefinition)
    assert MONTHLY_PARTITIONS.name == PARTITIONS_NAME


def test_publish_runs_after_every_other_asset_but_the_report() -> None:
    ancestors = ASSET_GRAPH.upstream_key_iterator(PUBLISH_LOG_KEY)
    assert set(ancestors) == ASSET_GRAPH.materializable_asset_keys - {
        PUBLISH_LOG_KEY,
        MONTH_END_REPORT_KEY,
    }
    # The month-end report reads the served warehouse: it comes after publish, and only then.
    assert ASSET_GRAPH.get(MONTH_END_REPORT_KEY).parent_keys == {PUBLISH_LOG_KEY}


def test_models_reading_scores_are_built_by_a_second_dbt_step_after_scoring() -> None:
    from orchestration.defs.assets.dbt import dbt_models, dbt_models_after_scoring
    from orchestration.defs.assets.scoring import scoring_key

    plan = dbt_key("account_plan")
    assert {dbt_key(model) for model in AFTER_SCORING_MODELS} == set(dbt_models_after_scoring.keys)
    assert plan not in dbt_models.keys
    scores = {scoring_key(t) for t in ("churn_risk_scores", "churn_risk_drivers")}
    assert scores | {scoring_key("cross_sell_recommendations")} <= ASSET_GRAPH.get(plan).parent_keys
    # Nothing the first step builds reads a score: no cycle between the steps.
    scoring_keys = {k for k in ASSET_GRAPH.materializable_asset_keys if k.path[0] == "scoring"}
    for key in dbt_models.keys:
        assert not scoring_keys & set(ASSET_GRAPH.upstream_key_iterator(key)), key
    # The three steps run in this order within the one job.
    from dagster._core.execution.api import create_execution_plan

    plan_steps = create_execution_plan(defs.resolve_job_def(PORTFOLIO_JOB_NAME))
    steps = [step.key for step in plan_steps.get_steps_to_execute_in_topo_order()]
    first, scoring, second = (
        steps.index("dbt_models"),
        steps.index("scoring__churn_risk_scores"),
        steps.index("dbt_models_after_scoring"),
    )
    assert first < scoring < second


@pytest.fixture
def stack() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def write_invoice_months(folder: Path, *dates: str) -> None:
    """An invoice_lines file with one line per date (all the schedule and sensor read)."""
    lines = ["invoice_line_id,invoice_date"] + [f"L{i},{d}" for i, d in enumerate(dates)]
    (folder / "invoice_lines.csv").write_text("\n".join(lines) + "\n")


def evaluate_schedule(when: datetime, instance: DagsterInstance):
    schedule = defs.resolve_schedule_def("month_end_schedule")
    with build_schedule_context(
        instance=instance, scheduled_execution_time=when, repository_def=defs.get_repository_def()
    ) as context:
        return schedule.evaluate_tick(context)


def registered_months(instance: DagsterInstance) -> list[str]:
    return list(instance.get_dynamic_partitions(PARTITIONS_NAME))


def test_month_end_schedule_builds_the_month_just_closed_once_the_exports_reach_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack: ExitStack
) -> None:
    schedule = defs.resolve_schedule_def("month_end_schedule")
    assert schedule.cron_schedule == "0 6 3 * *"
    assert schedule.execution_timezone == "UTC"
    monkeypatch.setenv("PORTFOLIO_LANDING_DIR", str(tmp_path))
    monkeypatch.delenv("PORTFOLIO_CUT_OFF_MONTH", raising=False)
    instance = stack.enter_context(instance_for_test())
    tick = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)

    # Exports ending in October: the November month-end is skipped, saying why in one line.
    write_invoice_months(tmp_path, "2026-08-31", "2026-09-15", "2026-10-01")
    result = evaluate_schedule(tick, instance)
    assert not result.run_requests
    assert result.skip_message == (
        "month-end 2026-11 not built: the exports end at 2026-10 (last invoice month); "
        "nothing was published"
    )
    assert registered_months(instance) == []

    # November's invoices land: the tick builds 2026-11 and registers the data's months.
    write_invoice_months(tmp_path, "2026-08-31", "2026-10-01", "2026-11-30", "2026-12-01")
    [request] = evaluate_schedule(tick, instance).run_requests
    assert request.partition_key == "2026-11-01"
    assert registered_months(instance) == [
        "2026-08-01",
        "2026-09-01",
        "2026-10-01",
        "2026-11-01",
        "2026-12-01",
    ]

    # A cut-off before the month just closed is named as the reason.
    monkeypatch.setenv("PORTFOLIO_CUT_OFF_MONTH", "2026-10")
    result = evaluate_schedule(tick, instance)
    assert not result.run_requests
    assert "the cut-off month is 2026-10" in result.skip_message


def test_month_end_schedule_on_1_january_builds_december(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack: ExitStack
) -> None:
    monkeypatch.setenv("PORTFOLIO_LANDING_DIR", str(tmp_path))
    write_invoice_months(tmp_path, "2025-06-30", "2026-12-31")
    [request] = evaluate_schedule(
        datetime(2027, 1, 1, 0, 0, tzinfo=UTC), stack.enter_context(instance_for_test())
    ).run_requests
    assert request.partition_key == "2026-12-01"


def test_a_history_that_ended_years_ago_is_never_a_month_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack: ExitStack
) -> None:
    monkeypatch.setenv("PORTFOLIO_LANDING_DIR", str(tmp_path))
    write_invoice_months(tmp_path, "2010-12-01", "2011-12-09")
    instance = stack.enter_context(instance_for_test())
    result = evaluate_schedule(datetime(2026, 12, 3, 6, 0, tzinfo=UTC), instance)
    assert "month-end 2026-11 not built: the exports end at 2011-12" in result.skip_message


def test_schedule_time_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import orchestration.defs.schedules as schedules

    monkeypatch.setenv("PORTFOLIO_SCHEDULE_DAY", "5")
    monkeypatch.setenv("PORTFOLIO_SCHEDULE_HOUR", "7")
    monkeypatch.setenv("PORTFOLIO_SCHEDULE_MINUTE", "30")
    monkeypatch.setenv("PORTFOLIO_TIMEZONE", "Europe/Berlin")
    try:
        schedule = importlib.reload(schedules).month_end_schedule
        assert schedule.cron_schedule == "30 7 5 * *"
        assert schedule.execution_timezone == "Europe/Berlin"
        monkeypatch.setenv("PORTFOLIO_SCHEDULE_DAY", "31")
        with pytest.raises(ValueError, match="PORTFOLIO_SCHEDULE_DAY must be between 1 and 28"):
            importlib.reload(schedules)
    finally:
        monkeypatch.undo()
        importlib.reload(schedules)


def test_landing_sensor_builds_the_latest_closed_month_once_per_file_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack: ExitStack
) -> None:
    sensor = defs.resolve_sensor_def("landing_files_sensor")
    landing = tmp_path / "landing"
    landing.mkdir()
    monkeypatch.setenv("PORTFOLIO_LANDING_DIR", str(landing))
    monkeypatch.setenv("PORTFOLIO_WAREHOUSE", str(tmp_path / "none.duckdb"))
    monkeypatch.setenv("PORTFOLIO_SENSOR_SETTLE", "60")
    monkeypatch.setenv("PORTFOLIO_CLOCK", "2026-12-01T00:30:00")
    instance = stack.enter_context(instance_for_test())

    def evaluate(cursor: str | None):
        with build_sensor_context(
            instance=instance,
            instance_ref=instance.get_ref(),
            cursor=cursor,
            repository_def=defs.get_repository_def(),
        ) as context:
            return sensor.evaluate_tick(context)

    def settle() -> None:
        old = time.time() - 3600
        for path in landing.iterdir():
            os.utime(path, (old, old))

    assert evaluate(None).skip_message.startswith("no landing files")
    # Exports taken on 1 December hold a line of that day: December is not built.
    write_invoice_months(landing, "2026-01-05", "2026-11-30", "2026-12-01")
    assert "waiting" in evaluate(None).skip_message  # written just now: not settled
    settle()
    first = evaluate(None)
    [request] = first.run_requests
    assert isinstance(request, RunRequest)
    assert request.partition_key == "2026-11-01"
    assert "portfolio/note" not in request.tags
    assert registered_months(instance)[0] == "2026-01-01"
    assert registered_months(instance)[-1] == "2026-12-01"
    assert evaluate(first.cursor).skip_message == "landing files unchanged since the last build"

    # New files that end in October: the run builds October and says why in one line.
    write_invoice_months(landing, "2026-01-05", "2026-10-31")
    settle()
    second = evaluate(first.cursor)
    [request_2] = second.run_requests
    assert request_2.partition_key == "2026-10-01"
    assert request_2.run_key != request.run_key
    assert request_2.tags["portfolio/note"] == (
        "exports do not reach the month just closed 2026-11: the exports end at 2026-10 "
        "(last invoice month); building 2026-10"
    )
    assert registered_months(instance)[-1] == "2026-10-01"


def test_landing_sensor_launches_nothing_for_the_files_the_served_warehouse_was_built_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack: ExitStack
) -> None:
    """`make dev` on a built warehouse: the sensor's first tick finds nothing new to build."""
    from orchestration.landing.loader import fingerprint, landing_file_states
    from orchestration.warehouse.publish import PublishRecord, write_publish_log

    landing = tmp_path / "landing"
    landing.mkdir()
    write_invoice_months(landing, "2026-01-05", "2026-10-31")
    old = time.time() - 3600
    os.utime(landing / "invoice_lines.csv", (old, old))
    served = tmp_path / "portfolio.duckdb"
    with duckdb.connect(str(served)) as con:
        write_publish_log(
            con,
            PublishRecord(
                run_id="r1",
                job_name=PORTFOLIO_JOB_NAME,
                first_month=None,
                last_month=None,
                full_refresh=True,
                row_counts={},
                published_at=datetime(2026, 11, 2, tzinfo=UTC),
                landing_fingerprint=fingerprint(landing_file_states(landing)),
            ),
        )
    monkeypatch.setenv("PORTFOLIO_LANDING_DIR", str(landing))
    monkeypatch.setenv("PORTFOLIO_WAREHOUSE", str(served))
    sensor = defs.resolve_sensor_def("landing_files_sensor")
    instance = stack.enter_context(instance_for_test())
    with build_sensor_context(
        instance=instance, instance_ref=instance.get_ref(), repository_def=defs.get_repository_def()
    ) as context:
        result = sensor.evaluate_tick(context)
    assert not result.run_requests
    assert result.skip_message == "landing files unchanged since the last build"
    # A changed file is built.
    os.utime(landing / "invoice_lines.csv", (old + 1, old + 1))
    with build_sensor_context(
        instance=instance, instance_ref=instance.get_ref(), repository_def=defs.get_repository_def()
    ) as context:
        assert len(sensor.evaluate_tick(context).run_requests) == 1


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
