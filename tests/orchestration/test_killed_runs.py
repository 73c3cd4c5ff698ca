"""Runs whose process died: the next run (or `make clean-runs`) removes their candidate at once
and marks their Dagster run failed; a live run's candidate and run are left alone.

Liveness is the candidate's owner lock (orchestration/warehouse/publish.py). Candidates are
owned by small subprocesses (killed with SIGKILL to play a dead run) and, in the last test, by
a real Dagster run process.
"""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRun, DagsterRunStatus

from orchestration.defs.resources import clean_up_runs, human_size
from orchestration.warehouse import publish as wap
from tests.orchestration.conftest import PROJECT_DIR

# Prepares a candidate like a run's first step (taking its owner lock), says so, then waits
# for stdin to close.
HOLDER = """
import sys
from pathlib import Path
from orchestration.warehouse import publish as wap
wap.create_candidate(Path(sys.argv[1]), sys.argv[2])
print("ready", flush=True)
sys.stdin.read()
"""

# A Dagster run whose only step prepares its candidate through the warehouse resource, prints
# the run id and waits: killed, it leaves a STARTED run and a candidate behind.
RUN = """
import sys, time
from dagster import DagsterInstance, OpExecutionContext, job, op
from orchestration.defs.resources import WarehouseResource

@op
def build(context: OpExecutionContext, warehouse: WarehouseResource) -> None:
    warehouse.candidate(context)
    print(context.run.run_id, flush=True)
    time.sleep(300)

resource = WarehouseResource(served_path=sys.argv[1], dbt_target_dir=sys.argv[2])

@job(resource_defs={"warehouse": resource})
def portfolio_job():
    build()

portfolio_job.execute_in_process(instance=DagsterInstance.get())
"""


def make_served(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create table facts as select range as id from range(1000)")
    return path


def hold_candidates(served: Path, *run_ids: str) -> dict[str, subprocess.Popen]:
    """One live process per run id, each owning that run's candidate (started together)."""
    holders = {
        run_id: subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(served), run_id],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=PROJECT_DIR,
        )
        for run_id in run_ids
    }
    for holder in holders.values():
        assert holder.stdout.readline().strip() == "ready"
    return holders


def kill(process: subprocess.Popen) -> None:
    process.kill()  # SIGKILL: nothing of the process's own clean-up runs
    process.wait()


def add_run(instance: DagsterInstance, run_id: str, status: DagsterRunStatus) -> None:
    instance.add_run(DagsterRun(job_name="portfolio_job", run_id=run_id, status=status))


def failure_messages(instance: DagsterInstance, run_id: str) -> list[str]:
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.RUN_FAILURE).records
    return [record.event_log_entry.dagster_event.message for record in records]


def test_only_runs_whose_process_died_are_cleaned_and_marked_failed(tmp_path: Path) -> None:
    served = make_served(tmp_path / "warehouse" / "portfolio.duckdb")
    served_bytes = served.read_bytes()
    instance = DagsterInstance.ephemeral()
    dead, live, failed = "dead0001-run", "live0002-run", "fail0003-run"
    add_run(instance, dead, DagsterRunStatus.STARTED)
    add_run(instance, live, DagsterRunStatus.STARTED)
    add_run(instance, failed, DagsterRunStatus.FAILURE)
    holders = hold_candidates(served, dead, live, failed)
    try:
        # Every owner alive: nothing changes, not even the already failed run's candidate.
        assert clean_up_runs(instance, served) == []
        kill(holders[dead])
        kill(holders[failed])
        sizes = {run_id: wap.folder_size(wap.wap_dir(served) / run_id) for run_id in holders}
        assert sizes[dead] > len(served_bytes)

        cleaned = clean_up_runs(instance, served, by="the test")

        assert [line.line for line in cleaned] == [
            f"cleaned up run dead0001: its process died; candidate removed "
            f"({human_size(sizes[dead])}), run marked failed",
            f"cleaned up run fail0003: it had ended (FAILURE) unpublished; candidate removed "
            f"({human_size(sizes[failed])})",
        ]
        assert [(c.size, c.owner_died, c.marked_failed) for c in cleaned] == [
            (sizes[dead], True, True),
            (sizes[failed], False, False),
        ]
        assert wap.candidate_run_ids(served) == [live]
        assert instance.get_run_by_id(dead).status == DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(live).status == DagsterRunStatus.STARTED
        [message] = failure_messages(instance, dead)
        assert message.startswith("The process of this run died")
        assert "Marked failed by the test, which removed its candidate" in message
        assert failure_messages(instance, failed) == []  # already failed: not reported again
        assert failure_messages(instance, live) == []
        assert clean_up_runs(instance, served) == []  # nothing left to do
    finally:
        for holder in holders.values():
            kill(holder)
    assert served.read_bytes() == served_bytes


def test_clean_only_command_prints_one_line_per_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestration.commands.run import main

    home = tmp_path / "dagster_home"
    home.mkdir()
    served = make_served(tmp_path / "warehouse" / "portfolio.duckdb")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("PORTFOLIO_WAREHOUSE", str(served))
    with DagsterInstance.get() as instance:
        add_run(instance, "8f2b637d-dead", DagsterRunStatus.STARTED)
        kill(hold_candidates(served, "8f2b637d-dead")["8f2b637d-dead"])
        assert main(["--clean-only"]) == 0
        out = capsys.readouterr().out.splitlines()
        assert len(out) == 1
        assert out[0].startswith("==> cleaned up run 8f2b637d: its process died; candidate ")
        assert out[0].endswith(" kB), run marked failed")
        assert instance.get_run_by_id("8f2b637d-dead").status == DagsterRunStatus.FAILURE
        assert main(["--clean-only"]) == 0
        assert capsys.readouterr().out == f"==> nothing to clean up next to {served}\n"


def test_a_killed_dagster_run_is_cleaned_by_the_next_clean_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    served = make_served(tmp_path / "warehouse" / "portfolio.duckdb")
    targets = tmp_path / "dbt_runs"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    run = subprocess.Popen(
        [sys.executable, "-c", RUN, str(served), str(targets)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=PROJECT_DIR,
        env={**os.environ, "DAGSTER_HOME": str(home)},
    )
    try:
        run_id = run.stdout.readline().strip()
        with DagsterInstance.get() as instance:
            assert instance.get_run_by_id(run_id).status == DagsterRunStatus.STARTED
            assert clean_up_runs(instance, served, targets) == []  # alive: kept
            assert wap.candidate_run_ids(served) == [run_id]
            kill(run)
            (targets / run_id / "abc").mkdir(parents=True)  # a dbt target it left
            [cleaned] = clean_up_runs(instance, served, targets)
            assert (cleaned.run_id, cleaned.owner_died, cleaned.marked_failed) == (
                run_id,
                True,
                True,
            )
            assert instance.get_run_by_id(run_id).status == DagsterRunStatus.FAILURE
            assert wap.candidate_run_ids(served) == []
            assert not (targets / run_id).exists()
    finally:
        kill(run)


def test_sizes_read_like_ls_si() -> None:
    assert [human_size(n) for n in (512, 19_400_000, 3_240_000_000, 12_000_000_000)] == [
        "512 B",
        "19 MB",
        "3.2 GB",
        "12 GB",
    ]
