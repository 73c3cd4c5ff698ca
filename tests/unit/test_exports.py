"""Parquet exports of the published marts and scores (orchestration/warehouse/exports.py)."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.warehouse import exports
from orchestration.warehouse.publish import PublishRecord


def record(run_id: str) -> PublishRecord:
    return PublishRecord(
        run_id=run_id,
        job_name="portfolio_job",
        first_month=date(2026, 1, 1),
        last_month=date(2026, 2, 1),
        full_refresh=False,
        row_counts={},
        published_at=datetime(2026, 3, 3, 6, 0, tzinfo=UTC),
    )


def candidate(path: Path, revenue: str) -> Path:
    with duckdb.connect(str(path)) as con:
        for schema in ("marts", "scoring", "staging"):
            con.execute(f"create schema {schema}")
        con.execute(
            "create table marts.customers as select * from (values "
            f"('c1', cast({revenue} as decimal(38, 4))), ('c2', 2.5)) as t(customer_id, revenue)"
        )
        con.execute("create table scoring.scores as select 'c1' as customer_id, 0.25 as p")
        con.execute("create table staging.hidden as select 1 as x")
        con.execute("create view marts.a_view as select * from marts.customers")
    return path


def read(path: Path) -> list[tuple]:
    return duckdb.sql(f"select * from read_parquet('{path}') order by all").fetchall()


def test_each_table_of_marts_and_scoring_becomes_one_file_published_as_current(
    tmp_path: Path,
) -> None:
    out = tmp_path / "exports"
    staged = exports.stage_exports(candidate(tmp_path / "c1.duckdb", "10.1234"), out, record("r1"))
    assert not (out / "current").exists()  # nothing published before the swap
    current = exports.publish_exports(staged, out)
    assert current == out / "current"
    assert sorted(p.relative_to(current).as_posix() for p in current.rglob("*.parquet")) == [
        "marts/customers.parquet",
        "scoring/scores.parquet",
    ]
    assert read(current / "marts" / "customers.parquet") == [
        ("c1", Decimal("10.1234")),
        ("c2", Decimal("2.5000")),
    ]
    run = json.loads((current / "run.json").read_text())
    assert run["run_id"] == "r1"
    assert run["last_month"] == "2026-02-01"
    assert run["row_counts"] == {"marts/customers": 2, "scoring/scores": 1}
    assert sorted(p.name for p in out.iterdir()) == ["current"]


def test_a_second_publish_replaces_every_file(tmp_path: Path) -> None:
    out = tmp_path / "exports"
    first = exports.stage_exports(candidate(tmp_path / "c1.duckdb", "1"), out, record("r1"))
    exports.publish_exports(first, out)
    second = exports.stage_exports(candidate(tmp_path / "c2.duckdb", "7"), out, record("r2"))
    current = exports.publish_exports(second, out)
    assert read(current / "marts" / "customers.parquet")[0] == ("c1", Decimal("7.0000"))
    assert json.loads((current / "run.json").read_text())["run_id"] == "r2"
    assert sorted(p.name for p in out.iterdir()) == ["current"]


def test_a_failed_export_leaves_the_published_files_and_no_staging(tmp_path: Path) -> None:
    out = tmp_path / "exports"
    exports.publish_exports(
        exports.stage_exports(candidate(tmp_path / "c1.duckdb", "1"), out, record("r1")), out
    )
    with pytest.raises(duckdb.Error):
        exports.stage_exports(tmp_path / "missing.duckdb", out, record("r2"))
    assert sorted(p.name for p in out.iterdir()) == ["current"]
    assert json.loads((out / "current" / "run.json").read_text())["run_id"] == "r1"


def test_a_candidate_without_marts_publishes_an_empty_set_with_its_run(tmp_path: Path) -> None:
    # `make load`: a run of the landing tables alone.
    path = tmp_path / "landing_only.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema landing")
        con.execute("create table landing.customers as select 'c1' as customer_id")
    out = tmp_path / "exports"
    current = exports.publish_exports(exports.stage_exports(path, out, record("r1")), out)
    assert [p.name for p in current.iterdir()] == ["run.json"]
    assert json.loads((current / "run.json").read_text())["row_counts"] == {}
