"""Write-audit-publish helpers (orchestration/warehouse/publish.py) on small DuckDB files."""

import errno
import os
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.warehouse import publish as wap
from orchestration.warehouse.connection import connect_warehouse

PROJECT_DIR = Path(__file__).resolve().parents[2]


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


@pytest.mark.parametrize("kernel_copy", ["copy_file_range", "refused", "absent"])
def test_file_contents_are_copied_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kernel_copy: str
) -> None:
    # Larger than one copy_file_range call, not a multiple of it.
    data = os.urandom(1024) * 300 + b"tail"
    monkeypatch.setattr(wap, "_COPY_CHUNK", 100_000)
    if kernel_copy == "refused":

        def refuse(*args: object) -> int:
            raise OSError(errno.EXDEV, "cross-device")

        monkeypatch.setattr(os, "copy_file_range", refuse)
    elif kernel_copy == "absent":
        monkeypatch.delattr(os, "copy_file_range", raising=False)
    (tmp_path / "source").write_bytes(data)
    with open(tmp_path / "source", "rb") as source, open(tmp_path / "target", "wb") as target:
        wap.copy_file_contents(source, target)
    assert (tmp_path / "target").read_bytes() == data


def test_a_copy_failing_after_its_first_bytes_is_not_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def fail_second(source: int, target: int, count: int) -> int:
        calls.append(count)
        if len(calls) == 1:
            return os.write(target, os.read(source, count))
        raise OSError(errno.EINVAL, "stopped")

    monkeypatch.setattr(os, "copy_file_range", fail_second)
    (tmp_path / "source").write_bytes(b"x" * 300_000)
    monkeypatch.setattr(wap, "_COPY_CHUNK", 100_000)
    with (
        open(tmp_path / "source", "rb") as source,
        open(tmp_path / "target", "wb") as target,
        pytest.raises(OSError, match="stopped"),
    ):
        wap.copy_file_contents(source, target)
    assert len(calls) == 2


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
    for run_id in ("done", "running"):
        wap.create_candidate(served, run_id)  # owned by this (live) process
    removed = wap.sweep_candidates(served, lambda run_id: run_id == "done")
    assert [(r.run_id, r.owner_died) for r in removed] == [("done", False)]
    assert removed[0].size > 0
    assert wap.candidate_run_ids(served) == ["running"]
    assert wap.candidate_owner(served, "running") == "live"
    # A live owner's candidate is kept however long it has been idle.
    idle = time.time() - 7200
    os.utime(wap.wap_dir(served) / "running", (idle, idle))
    assert wap.sweep_candidates(served, lambda _: False, abandoned_after=3600) == []
    wap.discard_candidate(served, "running")
    assert wap.candidate_owner(served, "running") == "unknown"
    assert rows(served) == 1


def test_a_candidate_without_an_owner_lock_goes_once_its_run_ended_or_it_aged(
    tmp_path: Path,
) -> None:
    # Candidates made before owner locks existed: the old rules.
    served = make_served(tmp_path / "portfolio.duckdb", 1)
    for run_id in ("ended", "recent", "old"):
        folder = wap.wap_dir(served) / run_id
        folder.mkdir(parents=True)
        (folder / served.name).write_bytes(b"x" * 10)
    old = time.time() - 7200
    for path in (wap.wap_dir(served) / "old", wap.wap_dir(served) / "old" / served.name):
        os.utime(path, (old, old))
    assert wap.candidate_owner(served, "old") == "unknown"
    removed = wap.sweep_candidates(served, lambda run_id: run_id == "ended", abandoned_after=3600)
    assert [(r.run_id, r.size, r.owner_died) for r in removed] == [
        ("ended", 10, False),
        ("old", 10, False),
    ]
    assert wap.candidate_run_ids(served) == ["recent"]


# Prepares a candidate like a run's first step (taking its owner lock), says so, then waits
# for stdin to close: a run process that the test can kill.
HOLDER = """
import sys
from pathlib import Path
from orchestration.warehouse import publish as wap
wap.create_candidate(Path(sys.argv[1]), sys.argv[2])
print("ready", flush=True)
sys.stdin.read()
"""


def hold_candidate(served: Path, run_id: str) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(served), run_id],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=PROJECT_DIR,
    )
    assert holder.stdout.readline().strip() == "ready"
    return holder


def test_a_candidate_goes_as_soon_as_its_owner_process_is_killed(tmp_path: Path) -> None:
    served = make_served(tmp_path / "portfolio.duckdb", 5)
    served_bytes = served.read_bytes()
    live = hold_candidate(served, "live")
    killed = hold_candidate(served, "killed")
    try:
        died: list[tuple[str, int]] = []

        def on_owner_died(run_id: str, size: int) -> None:
            died.append((run_id, size))

        # Both owners alive: nothing is removed, whatever the run status says.
        assert wap.candidate_owner(served, "killed") == "live"
        assert wap.sweep_candidates(served, lambda _: True, on_owner_died=on_owner_died) == []
        # Another process cannot take over a live run's candidate.
        with pytest.raises(wap.CandidateError, match="another live process"):
            wap.create_candidate(served, "live")

        killed.kill()  # SIGKILL: no clean-up code runs in the owner
        killed.wait()
        assert wap.candidate_owner(served, "killed") == "dead"
        size = wap.folder_size(wap.wap_dir(served) / "killed")
        assert size > len(served_bytes)
        removed = wap.sweep_candidates(served, lambda _: False, on_owner_died=on_owner_died)
        assert removed == [wap.RemovedCandidate("killed", size, owner_died=True)]
        assert died == [("killed", size)]
        assert wap.candidate_run_ids(served) == ["live"]
        assert wap.candidate_owner(served, "live") == "live"
    finally:
        for holder in (live, killed):
            holder.kill()
            holder.wait()
    assert served.read_bytes() == served_bytes  # the served file is never touched
    # A dead owner whose run had ended: removed, not reported as died.
    removed = wap.sweep_candidates(served, lambda _: True, on_owner_died=on_owner_died)
    assert [(r.run_id, r.owner_died) for r in removed] == [("live", False)]
    assert died == [("killed", size)]


def test_publish_and_discard_release_the_owner_lock(tmp_path: Path) -> None:
    served = make_served(tmp_path / "portfolio.duckdb", 1)
    candidate = wap.create_candidate(served, "r1")
    wap.create_candidate(served, "r2")
    assert not list(wap.wap_dir(served).glob(".claim-*"))  # staged, then renamed into place
    assert (candidate.parent / "owner.lock").read_text().startswith(f"run r1 pid {os.getpid()} ")
    wap.publish_candidate(candidate, served)
    wap.discard_candidate(served, "r2")
    assert candidate.parent not in wap._held
    assert wap.wap_dir(served) / "r2" not in wap._held
    # A stale staging folder of a claim killed halfway goes after the grace period.
    staging = wap.wap_dir(served) / ".claim-dead"
    staging.mkdir()
    old = time.time() - 7200
    os.utime(staging, (old, old))
    assert wap.sweep_candidates(served, lambda _: False) == []
    assert not staging.exists()


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
