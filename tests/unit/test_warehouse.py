"""Write-audit-publish helpers (orchestration/warehouse/publish.py) on small DuckDB files."""

import os
import threading
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.warehouse import publish as wap
from orchestration.warehouse.connection import connect_warehouse


def make_served(path: Path, rows: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with connect_warehouse(path) as con:
        con.execute("create schema marts")
        con.execute(f"create table marts.facts as select range as id from range({rows})")
        con.execute("create view marts.facts_view as select * from marts.facts")
    return path


def rows(path: Path, table: str = "marts.facts") -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"select count(*) from {table}").fetchone()[0]


def test_candidate_keeps_the_served_name_in_its_own_folder(tmp_path: Path) -> None:
    served = tmp_path / "warehouse" / "portfolio.duckdb"
    candidate = wap.candidate_path(served, "run-1")
    assert (
        candidate == tmp_path / "warehouse" / "portfolio.duckdb.wap" / "run-1" / "portfolio.duckdb"
    )
    for bad in ("", "../x", "a/b", ".hidden"):
        with pytest.raises(ValueError):
            wap.candidate_path(served, bad)


def test_candidate_starts_as_a_byte_copy_and_is_prepared_once(tmp_path: Path) -> None:
    served = make_served(tmp_path / "portfolio.duckdb", 3)
    candidate = wap.create_candidate(served, "r1")
    assert candidate.read_bytes() == served.read_bytes()
    assert wap.is_prepared(candidate)
    assert wap.candidate_base(candidate) == wap.FileIdentity.of_path(served)
    with connect_warehouse(candidate) as con:
        con.execute("insert into marts.facts values (99)")
    assert wap.create_candidate(served, "r1") == candidate  # a later step: no new copy
    assert rows(candidate) == 4 and rows(served) == 3


def test_copy_works_while_a_reader_holds_the_served_file(tmp_path: Path) -> None:
    served = make_served(tmp_path / "portfolio.duckdb", 3)
    with duckdb.connect(str(served), read_only=True) as reader:
        candidate = wap.create_candidate(served, "r1")
        assert reader.execute("select count(*) from marts.facts").fetchone()[0] == 3
    assert rows(candidate) == 3


def test_publish_swaps_the_candidate_in_and_removes_its_folder(tmp_path: Path) -> None:
    served = make_served(tmp_path / "portfolio.duckdb", 3)
    candidate = wap.create_candidate(served, "r1")
    with connect_warehouse(candidate) as con:
        con.execute("insert into marts.facts values (3), (4)")
    wap.publish_candidate(candidate, served)
    assert rows(served) == 5
    assert rows(served, "marts.facts_view") == 5  # views still resolve: same catalog name
    assert not candidate.parent.exists()
    assert wap.candidate_run_ids(served) == []


def test_a_first_publish_creates_the_served_file(tmp_path: Path) -> None:
    served = tmp_path / "new" / "portfolio.duckdb"
    candidate = wap.create_candidate(served, "r1")
    assert not candidate.exists() and wap.candidate_base(candidate) is None
    make_served(candidate, 2)
    wap.publish_candidate(candidate, served)
    assert rows(served) == 2


def test_a_candidate_copied_before_another_publish_is_refused(tmp_path: Path) -> None:
    served = make_served(tmp_path / "portfolio.duckdb", 3)
    first = wap.create_candidate(served, "first")
    second = wap.create_candidate(served, "second")
    with connect_warehouse(first) as con:
        con.execute("insert into marts.facts values (3)")
    wap.publish_candidate(first, served)
    published = served.read_bytes()
    with pytest.raises(wap.PublishConflictError):
        wap.publish_candidate(second, served)
    assert served.read_bytes() == published  # the first run's months are kept
    assert second.exists()  # left for inspection


def test_a_candidate_with_an_open_writer_is_refused(tmp_path: Path) -> None:
    served = make_served(tmp_path / "portfolio.duckdb", 3)
    candidate = wap.create_candidate(served, "r1")
    candidate.with_name(candidate.name + ".wal").write_bytes(b"x")
    before = served.read_bytes()
    with pytest.raises(wap.CandidateError, match="write-ahead log"):
        wap.publish_candidate(candidate, served)
    assert served.read_bytes() == before


def test_record_publish_logs_row_counts_and_leaves_one_clean_file(tmp_path: Path) -> None:
    served = make_served(tmp_path / "portfolio.duckdb", 3)
    candidate = wap.create_candidate(served, "r1")
    with connect_warehouse(candidate) as con:
        con.execute("create schema scoring")
        con.execute("create table scoring.scores as select 1 as x")
    record = wap.record_publish(
        candidate,
        run_id="r1",
        job_name="portfolio_job",
        first_month=date(2026, 1, 1),
        last_month=date(2026, 3, 1),
        full_refresh=False,
    )
    assert dict(record.row_counts) == {"marts.facts": 3, "scoring.scores": 1}  # views not counted
    assert not candidate.with_name(candidate.name + ".wal").exists()
    with duckdb.connect(str(candidate), read_only=True) as con:
        logged = con.execute(
            "select run_id, job_name, first_month, last_month, full_refresh, "
            "row_counts['marts.facts'] from audit.publish_log"
        ).fetchall()
    assert logged == [("r1", "portfolio_job", date(2026, 1, 1), date(2026, 3, 1), False, 3)]


def test_record_publish_needs_a_built_candidate(tmp_path: Path) -> None:
    served = tmp_path / "portfolio.duckdb"
    candidate = wap.create_candidate(served, "r1")
    with pytest.raises(wap.CandidateError, match="nothing was built"):
        wap.record_publish(
            candidate,
            run_id="r1",
            job_name="j",
            first_month=None,
            last_month=None,
            full_refresh=True,
        )


def test_sweep_removes_only_the_candidates_of_finished_runs(tmp_path: Path) -> None:
    served = make_served(tmp_path / "portfolio.duckdb", 1)
    for run_id in ("done", "running", "unknown"):
        wap.create_candidate(served, run_id)
    removed = wap.sweep_candidates(served, lambda run_id: run_id == "done")
    assert removed == ["done"]
    assert wap.candidate_run_ids(served) == ["running", "unknown"]
    # A killed run never ends: its candidate goes once it has been idle long enough.
    old = time.time() - 7200
    for path in [*wap.wap_dir(served).joinpath("unknown").rglob("*")]:
        os.utime(path, (old, old))
    os.utime(wap.wap_dir(served) / "unknown", (old, old))
    assert wap.sweep_candidates(served, lambda _: False, abandoned_after=3600) == ["unknown"]
    assert wap.candidate_run_ids(served) == ["running"]
    assert rows(served) == 1


def test_file_lock_excludes_a_second_holder(tmp_path: Path) -> None:
    lock = tmp_path / "publish.lock"
    with wap.file_lock(lock):
        result: list[str] = []

        def contender() -> None:
            try:
                with wap.file_lock(lock, timeout=0.3):
                    result.append("got it")
            except TimeoutError:
                result.append("timed out")

        # flock is per open file description: another open() contends even in-process.
        thread = threading.Thread(target=contender)
        thread.start()
        thread.join()
    assert result == ["timed out"]
    with wap.file_lock(lock, timeout=0.3):
        pass


def test_file_identity_changes_when_the_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("a")
    before = wap.FileIdentity.of_path(path)
    replacement = tmp_path / "g"
    replacement.write_text("a")
    os.replace(replacement, path)
    assert wap.FileIdentity.of_path(path) != before
    assert wap.FileIdentity.of_path(tmp_path / "missing") is None
