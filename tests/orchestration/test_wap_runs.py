"""Runs of the real job on a temporary warehouse: write-audit-publish end to end.

The session's served demo warehouse (full refresh over the demo months, ``served_demo``) is
copied once for the module and then re-run for one month while a separate process holds it
open read-only; a last run, from a copy of the dbt project with one extra data test that the
landing data violates, must fail without touching the served file. dbt runs as a subprocess
(DbtCliResource), as in production.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.orchestration.conftest import (
    DEMO_FIRST_MONTH,
    DEMO_LAST_MONTH,
    PROJECT_DIR,
    RANGE_END_TAG,
    RANGE_START_TAG,
    ServedDemo,
    instance_with_months,
    parse_manifest,
    publish_log,
    run_portfolio_job,
    table_snapshot,
)

# Holds a read-only connection to a warehouse like a BI tool: prints the publish log's row
# count, waits for a line on stdin, prints it again from the same connection, exits.
READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
count = lambda: con.execute("select count(*) from audit.publish_log").fetchone()[0]
print(count(), flush=True)
sys.stdin.readline()
print(count(), flush=True)
"""


#: The staging models: base models (row checks) and the views over them.
STAGING_MODELS = {path.stem for path in (PROJECT_DIR / "models" / "staging").rglob("*.sql")}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, served_demo: ServedDemo) -> Path:
    """A copy of the session's served demo warehouse (a full-refresh run over the demo
    months), with its exports: the month runs of this module publish into it."""
    return served_demo.copy(tmp_path_factory.mktemp("wap") / "warehouse")


def test_a_run_publishes_its_candidate_and_logs_it(served_demo: ServedDemo) -> None:
    served = served_demo.warehouse
    log = publish_log(served)
    assert len(log) >= 1
    run_id, first, last, full_refresh = log[0]
    assert (first, last, full_refresh) == (DEMO_FIRST_MONTH, DEMO_LAST_MONTH, True)
    marts = table_snapshot(served, "marts")
    assert len(marts["portfolio_concentration"]) == 14  # one row per demo month
    # Nothing of the run is left next to the served file but the lock file.
    wap_dir = served.with_name(served.name + ".wap")
    assert [p.name for p in wap_dir.iterdir()] == ["publish.lock"]
    assert not served.with_name(served.name + ".wal").exists()


# Every view and table of a served file, read through the catalog ``catalog``: the count of
# rows of each, or the error it raised.
def read_every_relation(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, object]:
    relations = con.execute(
        """
        select schema_name, view_name from duckdb_views()
        where database_name = ? and not internal
        union all
        select schema_name, table_name from duckdb_tables() where database_name = ?
        order by all
        """,
        [catalog, catalog],
    ).fetchall()
    outcome: dict[str, object] = {}
    for schema, name in relations:
        try:
            (rows,) = con.execute(
                f'select count(*) from "{catalog}"."{schema}"."{name}"'
            ).fetchall()[0]
            outcome[f"{schema}.{name}"] = rows
        except duckdb.Error as error:
            outcome[f"{schema}.{name}"] = f"{type(error).__name__}: {error}"
    return outcome


def test_a_copied_and_renamed_served_file_reads_every_view(served: Path, tmp_path: Path) -> None:
    # DuckDB names a file's catalog after the file: views whose SQL named the catalog
    # ("portfolio"."staging"...) failed in a copy with `Catalog "portfolio" does not exist`.
    copy = tmp_path / "month_end_copy.duckdb"
    shutil.copyfile(served, copy)
    with duckdb.connect(str(copy), read_only=True) as con:
        opened = read_every_relation(con, "month_end_copy")
        con.execute(f"attach '{copy}' as pack (read_only)")
        attached = read_every_relation(con, "pack")
        views = con.execute(
            "select count(*) from duckdb_views() where database_name = 'pack' and not internal"
        ).fetchall()[0][0]
    assert views >= 10  # the staging and intermediate views
    assert isinstance(opened["staging.stg_landing__customers"], int)
    errors = {name: result for name, result in opened.items() if isinstance(result, str)}
    assert errors == {}
    assert attached == opened
    assert opened["marts.customer_concentration"] > 0


def test_every_mart_audit_and_scoring_table_and_column_carries_its_description(
    served: Path,
) -> None:
    with duckdb.connect(str(served), read_only=True) as con:
        bare_tables = con.execute(
            """
            select schema_name || '.' || table_name from duckdb_tables()
            where schema_name in ('marts', 'audit', 'scoring') and coalesce(comment, '') = ''
            """
        ).fetchall()
        bare_columns = con.execute(
            """
            select schema_name || '.' || table_name || '.' || column_name
            from duckdb_columns()
            where schema_name in ('marts', 'audit', 'scoring') and coalesce(comment, '') = ''
            """
        ).fetchall()
        (columns,) = con.execute(
            "select count(*) from duckdb_columns() "
            "where schema_name in ('marts', 'audit', 'scoring')"
        ).fetchall()[0]
        (owns,) = con.execute(
            """
            select comment from duckdb_columns()
            where schema_name = 'marts' and table_name = 'customer_offering_matrix'
                and column_name = 'owns_offering'
            """
        ).fetchall()[0]
        (scoring_tables,) = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'scoring'"
        ).fetchall()[0]
    assert bare_tables == []
    assert bare_columns == []
    assert columns > 200
    assert owns == "revenue_ttm > 0."  # its description in customer_offering_matrix.yml
    assert scoring_tables == 5


def test_the_parquet_exports_hold_every_mart_and_score_of_the_served_file(served: Path) -> None:
    current = served.parent / "exports" / "current"
    run = json.loads((current / "run.json").read_text())
    assert run["run_id"] == publish_log(served)[-1][0]
    with duckdb.connect(str(served), read_only=True) as con:
        tables = con.execute(
            """
            select schema_name, table_name from duckdb_tables()
            where schema_name in ('marts', 'scoring') order by all
            """
        ).fetchall()
        files = sorted(p.relative_to(current).as_posix() for p in current.rglob("*.parquet"))
        assert files == [f"{schema}/{table}.parquet" for schema, table in tables]
        assert "marts/customer_concentration.parquet" in files
        for schema, table in tables:
            path = current / schema / f"{table}.parquet"
            for left, right in (
                (f"{schema}.{table}", f"read_parquet('{path}')"),
                (f"read_parquet('{path}')", f"{schema}.{table}"),
            ):
                (differing,) = con.execute(
                    f"select count(*) from (from {left} except all from {right})"
                ).fetchall()[0]
                assert differing == 0, f"{schema}.{table}"


def test_docs_are_generated_from_the_served_file_without_touching_it(
    served: Path, tmp_path: Path
) -> None:
    # `make docs`: dbt's `served` target attaches the served file read-only; the catalog
    # carries the comments persisted by the build, and the file is left as it was.
    before = sha256(served)
    env = {
        **os.environ,
        "PORTFOLIO_WAREHOUSE": str(served),
        "DBT_PROFILES_DIR": str(PROJECT_DIR / "profiles"),
        "DBT_PROJECT_DIR": str(PROJECT_DIR),
    }
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "docs",
            "generate",
            "--target",
            "served",
            "--target-path",
            str(tmp_path / "docs"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    catalog = json.loads((tmp_path / "docs" / "catalog.json").read_text())
    customers = catalog["nodes"]["model.customer_portfolio.customers"]
    assert customers["metadata"]["schema"] == "marts"
    assert customers["metadata"]["comment"].startswith("One row per customer")
    assert customers["columns"]["in_tcp"]["comment"].startswith("In the target client profile")
    assert (tmp_path / "docs" / "index.html").exists()
    assert sha256(served) == before


#: Tables the version before customer names built without ``customer_name``.
OLDER_VERSION_TABLES = ("marts.mrr_movements", "scoring.churn_risk_scores")


@pytest.fixture(scope="module")
def month_rerun(served: Path, demo_landing: Path) -> dict[str, object]:
    """Re-run the last month while another process holds the served file open read-only.

    Before it, the served file is made to look as the version before customer names built it:
    the monthly mart ``mrr_movements`` and the table ``scoring.churn_risk_scores`` lose their
    ``customer_name`` column. The run must rebuild the mart whole and carry the scores over.
    """
    marts_before = table_snapshot(served, "marts")
    with duckdb.connect(str(served)) as con:
        for table in OLDER_VERSION_TABLES:
            con.execute(f"alter table {table} drop column customer_name")
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(served)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        seen_before = int(reader.stdout.readline())
        with pytest.MonkeyPatch.context() as env:
            env.setenv("PORTFOLIO_WAREHOUSE", str(served))
            env.setenv("PORTFOLIO_LANDING_DIR", str(demo_landing))
            result = run_portfolio_job(DEMO_LAST_MONTH, DEMO_LAST_MONTH)
        out, _ = reader.communicate("\n", timeout=60)
    finally:
        reader.kill()
    return {
        "result": result,
        "marts_before": marts_before,
        "reader_before": seen_before,
        "reader_after": int(out),
    }


def test_rerunning_a_month_leaves_every_mart_identical(
    served: Path, month_rerun: dict[str, object]
) -> None:
    assert month_rerun["result"].success
    assert publish_log(served)[-1][1:] == (DEMO_LAST_MONTH, DEMO_LAST_MONTH, False)
    before = month_rerun["marts_before"]
    assert len(before) >= 2 and all(before.values())
    assert table_snapshot(served, "marts") == before


def test_a_month_run_upgrades_tables_an_older_version_built(
    served: Path, month_rerun: dict[str, object]
) -> None:
    # The mart was rebuilt whole (the test above: every month equals the original build), and
    # the scores carry names again.
    assert month_rerun["result"].success
    with duckdb.connect(str(served), read_only=True) as con:
        for table in OLDER_VERSION_TABLES:
            rows, named = con.execute(
                f"select count(*), count(customer_name) from {table}"
            ).fetchone()
            assert rows > 0 and named == rows, table


def materialized_models(result, *, kept: bool = False) -> set[str]:
    """Names of the assets after landing a run rebuilt, or (``kept``) recorded as kept."""
    names = set()
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        is_kept = "kept_unchanged" in materialization.metadata
        if is_kept == kept and materialization.asset_key.path[0] != "landing":
            names.add(materialization.asset_key.path[-1])
    return names


def test_a_rerun_on_unchanged_landing_files_keeps_what_reads_only_landing_data(
    month_rerun: dict[str, object],
) -> None:
    # Same files, code and vars as the served build: every staging model is kept, and so are
    # the whole-history tables that read only staging; the monthly marts, and what reads them,
    # are rebuilt.
    kept = materialized_models(month_rerun["result"], kept=True)
    rebuilt = materialized_models(month_rerun["result"])
    assert kept >= STAGING_MODELS
    assert {
        "int_customer_months_aggregated",
        "int_customer_offering_months_aggregated",
        "month_spine",
        "data_quality_summary",
    } <= kept
    assert not kept & rebuilt
    assert {"customer_concentration", "churn_risk_features", "publish_log"} <= rebuilt


def test_a_changed_landing_file_rebuilds_its_staging_models_and_their_dependents(
    tmp_path: Path, served: Path, demo_landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A copy of the served file, and a landing folder whose files are the served build's
    # (symbolic links: the same files to the loader) but for the invoice lines: one more line
    # in the run's month, a resale of 1,234.56 for the first customer with revenue that month.
    warehouse = tmp_path / "warehouse" / "portfolio.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(served, warehouse)
    landing = tmp_path / "landing"
    landing.mkdir()
    for path in demo_landing.iterdir():
        if path.name == "invoice_lines.csv":
            shutil.copy(path, landing / path.name)
        else:
            (landing / path.name).symlink_to(path)
    with duckdb.connect(str(served), read_only=True) as con:
        customer_id, offering_id, ttm_before = con.execute(
            """
            select customer_id, min(offering_id), min(revenue_ttm)
            from marts.customer_concentration
            join staging.stg_landing__invoice_lines using (customer_id)
            where as_of_month = ? and revenue_ttm > 0
            group by customer_id order by customer_id limit 1
            """,
            [f"{DEMO_LAST_MONTH}-01"],
        ).fetchall()[0]
    with (landing / "invoice_lines.csv").open("a") as lines:
        lines.write(
            f"INV-LATE-001,INV-LATE,{DEMO_LAST_MONTH}-28,{customer_id},{offering_id},"
            "product_resale,1,1234.56,1000.00\n"
        )
    monkeypatch.setenv("PORTFOLIO_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("PORTFOLIO_LANDING_DIR", str(landing))

    result = run_portfolio_job(DEMO_LAST_MONTH, DEMO_LAST_MONTH)

    # Only the invoice lines' staging models are checked again (no other landing table
    # references them), with what reads them; the other staging models are kept.
    rebuilt, kept = materialized_models(result), materialized_models(result, kept=True)
    assert rebuilt & STAGING_MODELS == {"base_landing__invoice_lines", "stg_landing__invoice_lines"}
    assert kept >= STAGING_MODELS - rebuilt
    assert "int_customer_months_aggregated" in rebuilt
    with duckdb.connect(str(warehouse), read_only=True) as con:
        ttm_after = con.execute(
            "select revenue_ttm from marts.customer_concentration "
            "where as_of_month = ? and customer_id = ?",
            [f"{DEMO_LAST_MONTH}-01", customer_id],
        ).fetchall()[0][0]
    assert ttm_after - ttm_before == Decimal("1234.56")


def test_a_reader_keeps_its_snapshot_and_never_blocks_the_build(
    served: Path, month_rerun: dict[str, object]
) -> None:
    assert month_rerun["result"].success  # the open reader did not block the build
    published = len(publish_log(served))  # a new connection sees the new file
    assert month_rerun["reader_before"] == published - 1
    assert month_rerun["reader_after"] == published - 1  # the old connection: old snapshot


def test_a_failing_data_test_publishes_nothing(
    tmp_path: Path, served: Path, demo_landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster import AssetCheckSeverity, materialize
    from dagster_dbt import DbtCliResource, DbtProject

    from orchestration.defs.assets.dbt import build_dbt_assets
    from orchestration.defs.assets.landing import landing_tables
    from orchestration.defs.assets.publish import build_publish_asset
    from orchestration.defs.resources import WarehouseResource, dbt_executable

    # A copy of the dbt project with one more data test, and landing data that violates it.
    project_dir = tmp_path / "project"
    shutil.copytree(PROJECT_DIR, project_dir, ignore=_not_dbt_sources)
    (project_dir / "tests" / "dbt" / "assert_no_customer_fails_the_audit.sql").write_text(
        "select * from {{ ref('stg_landing__customers') }}\n"
        "where customer_name = 'Fails the audit'\n"
    )
    manifest_dir = tmp_path / "manifest"
    parse_manifest(project_dir, manifest_dir)
    project = DbtProject(
        project_dir, target_path=manifest_dir, profiles_dir=project_dir / "profiles"
    )

    landing = tmp_path / "landing"
    shutil.copytree(demo_landing, landing)
    customers = (landing / "customers.csv").read_text().splitlines()
    header = customers[0].split(",")
    first = customers[1].split(",")
    first[header.index("customer_name")] = "Fails the audit"
    customers[1] = ",".join(first)
    (landing / "customers.csv").write_text("\n".join(customers) + "\n")

    monkeypatch.setenv("PORTFOLIO_WAREHOUSE", str(served))
    monkeypatch.setenv("PORTFOLIO_LANDING_DIR", str(landing))
    served_before = sha256(served)
    exported_run = (served.parent / "exports" / "current" / "run.json").read_text()
    dbt_assets = build_dbt_assets(project)
    upstream = [landing_tables, dbt_assets]
    instance = instance_with_months(DEMO_FIRST_MONTH, DEMO_LAST_MONTH)
    result = materialize(
        [*upstream, build_publish_asset(upstream)],
        resources={
            "dbt": DbtCliResource(project_dir=project, dbt_executable=dbt_executable()),
            "warehouse": WarehouseResource(),
        },
        tags={RANGE_START_TAG: DEMO_LAST_MONTH, RANGE_END_TAG: DEMO_LAST_MONTH},
        instance=instance,
        raise_on_error=False,
    )

    assert not result.success
    failed = [
        e.check_name
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity == AssetCheckSeverity.ERROR
    ]
    assert failed == ["assert_no_customer_fails_the_audit"]
    assert "audit__publish_log" not in {e.step_key for e in result.get_step_success_events()}
    assert sha256(served) == served_before  # byte for byte as it was
    # The Parquet exports are still the last published run's, with no staging folder left.
    exports = served.parent / "exports"
    assert (exports / "current" / "run.json").read_text() == exported_run
    assert sorted(p.name for p in exports.iterdir()) == ["current"]
    # Only this run's candidate is left next to it, for inspection.
    wap_dir = served.with_name(served.name + ".wap")
    assert sorted(p.name for p in wap_dir.iterdir()) == sorted([result.run_id, "publish.lock"])


def _not_dbt_sources(folder: str, names: list[str]) -> list[str]:
    """shutil.copytree filter: copy only what dbt parses and runs."""
    if Path(folder) == PROJECT_DIR:
        keep = {"dbt_project.yml", "packages.yml", "profiles", "models", "macros", "seeds", "tests"}
        return [name for name in names if name not in keep]
    if Path(folder) == PROJECT_DIR / "tests":
        return [name for name in names if name != "dbt"]
    return []


def test_a_landing_folder_with_damaged_headers_stops_the_run_and_serves_the_old_file(
    tmp_path: Path, served: Path, demo_landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A column named twice and a semicolon-delimited file: the landing step stops the run,
    # naming both files and the column, before any model runs.
    landing = tmp_path / "landing o'brien"
    shutil.copytree(demo_landing, landing)
    head, rest = (landing / "invoice_lines.csv").read_text().split("\n", 1)
    (landing / "invoice_lines.csv").write_text(f"{head},extended_price\n{rest}")
    (landing / "offerings.csv").write_text(
        (landing / "offerings.csv").read_text().replace(",", ";")
    )
    monkeypatch.setenv("PORTFOLIO_WAREHOUSE", str(served))
    monkeypatch.setenv("PORTFOLIO_LANDING_DIR", str(landing))
    served_before = sha256(served)
    exported_run = (served.parent / "exports" / "current" / "run.json").read_text()
    log_before = publish_log(served)

    result = run_portfolio_job(DEMO_LAST_MONTH, DEMO_LAST_MONTH, raise_on_error=False)

    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert len(failures) == 1
    error, message = failures[0].event_specific_data.error, ""
    while error is not None:  # Dagster's wrapper, then the landing error it caught
        message, error = message + error.message, error.cause
    assert "invoice_lines.csv: column 'extended_price' appears 2 times" in message
    assert "offerings.csv: the header has no comma but" in message
    started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert len(started) == 1  # the landing step only: no model ran
    assert sha256(served) == served_before  # byte for byte as it was
    # The Parquet exports are still the last published run's, with no staging folder left.
    exports = served.parent / "exports"
    assert (exports / "current" / "run.json").read_text() == exported_run
    assert sorted(p.name for p in exports.iterdir()) == ["current"]
    assert publish_log(served) == log_before
