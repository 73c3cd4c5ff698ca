"""Orchestration test setup: a dbt manifest of their own, small landing data, job runs.

The code location loads its dbt assets from a prepared manifest (orchestration/defs/project.py).
These tests parse one into a temporary folder before any test module imports the code
location, so they neither depend on nor disturb ``target/`` of other dbt commands.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.conftest import shared_folder

PROJECT_DIR = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"

#: The demo data of these tests: 14 months ending 2026-10.
DEMO_FIRST_MONTH = "2025-09-01"
DEMO_LAST_MONTH = "2026-10-01"

_dagster_target: Path | None = None


def parse_manifest(project_dir: Path, target: Path) -> None:
    """``dbt parse`` of ``project_dir`` into ``target`` (what the Makefile rule does)."""
    # DBT_PROJECT_DIR and DBT_PROFILES_DIR win over the working directory (the Makefile
    # exports both): name this project explicitly.
    env = {
        **os.environ,
        "DBT_PROJECT_DIR": str(project_dir),
        "DBT_PROFILES_DIR": str(project_dir / "profiles"),
        "PORTFOLIO_WAREHOUSE": str(target / "unused.duckdb"),
    }
    result = subprocess.run(
        [
            str(BIN_DIR / "dbt"),
            "parse",
            "--quiet",
            "--target-path",
            str(target),
            "--log-path",
            str(target),
        ],
        cwd=project_dir,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"dbt parse failed:\n{result.stdout}\n{result.stderr}"


def pytest_configure(config: pytest.Config) -> None:
    global _dagster_target
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        return  # the pytest-xdist controller runs no test: each worker parses its own
    _dagster_target = Path(tempfile.mkdtemp(prefix="orchestration-tests-"))
    os.environ["PORTFOLIO_DAGSTER_TARGET_DIR"] = str(_dagster_target)
    parse_manifest(PROJECT_DIR, _dagster_target)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _dagster_target is not None:
        shutil.rmtree(_dagster_target, ignore_errors=True)


def generate_landing(folder: Path, *, customers: int = 30, seed: int = 11) -> Path:
    """Demo landing files: ``customers`` customers, 14 months ending 2026-10."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestration.demo",
            "--customers",
            str(customers),
            "--months",
            "14",
            "--end-month",
            "2026-10",
            "--seed",
            str(seed),
            "--output",
            str(folder),
            "--quiet",
        ],
        cwd=PROJECT_DIR,
        check=True,
        capture_output=True,
    )
    return folder


@pytest.fixture(scope="session")
def demo_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small demo landing folder shared by the tests and the workers (read only)."""
    return shared_folder(tmp_path_factory, "landing", generate_landing)


@dataclass(frozen=True)
class ServedDemo:
    """The demo landing built and published by a full-refresh run of the job over the demo
    months, with the exports and the month-end report the run wrote. Read only: a test that
    runs the job on it works on :meth:`copy`."""

    landing: Path
    warehouse: Path
    report_dir: Path

    def copy(self, folder: Path) -> Path:
        """Copy the served file and its exports into ``folder``; returns the copy's path.

        The copy reads the same landing files, so a run on it keeps what the build kept."""
        folder.mkdir(parents=True, exist_ok=True)
        copy = folder / self.warehouse.name
        shutil.copyfile(self.warehouse, copy)
        shutil.copytree(self.warehouse.parent / "exports", folder / "exports")
        return copy


@pytest.fixture(scope="session")
def served_demo(tmp_path_factory: pytest.TempPathFactory, demo_landing: Path) -> ServedDemo:
    """:class:`ServedDemo`, built once per test session for every worker (about a minute)."""

    def build(folder: Path) -> None:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("PORTFOLIO_WAREHOUSE", str(folder / "warehouse" / "portfolio.duckdb"))
            env.setenv("PORTFOLIO_LANDING_DIR", str(demo_landing))
            env.setenv("PORTFOLIO_REPORT_DIR", str(folder / "reports"))
            result = run_portfolio_job(DEMO_FIRST_MONTH, DEMO_LAST_MONTH, full_refresh=True)
            assert result.success

    folder = shared_folder(tmp_path_factory, "served-demo", build)
    return ServedDemo(demo_landing, folder / "warehouse" / "portfolio.duckdb", folder / "reports")


def instance_with_months(first: str, last: str):
    """An ephemeral Dagster instance with the month partitions ``first``..``last`` registered.

    The command line, schedule and sensor register the data's months before a run; a test
    that launches a run directly does it here.
    """
    from dagster import DagsterInstance

    from orchestration.defs.partitions import partition_month, sync_month_partitions
    from orchestration.months import month_key, month_range

    instance = DagsterInstance.ephemeral()
    months = month_range(partition_month(first), partition_month(last))
    sync_month_partitions(instance, [month_key(month) for month in months])
    return instance


def run_portfolio_job(
    first: str,
    last: str,
    *,
    full_refresh: bool = False,
    raise_on_error: bool = True,
    registered: tuple[str, str] = (DEMO_FIRST_MONTH, DEMO_LAST_MONTH),
):
    """Execute ``portfolio_job`` in process for the months ``first``..``last`` (partition keys).

    ``registered`` are the first and last month partitions registered beforehand (the demo's
    months). The resources are the code location's own: they read ``PORTFOLIO_WAREHOUSE`` and
    ``PORTFOLIO_LANDING_DIR`` when the run executes, so tests set those.
    """

    from orchestration.defs.definitions import defs
    from orchestration.defs.jobs import PORTFOLIO_JOB_NAME
    from orchestration.defs.run_config import full_refresh_run_config

    job = defs.resolve_job_def(PORTFOLIO_JOB_NAME)
    return job.execute_in_process(
        instance=instance_with_months(*registered),
        tags={RANGE_START_TAG: first, RANGE_END_TAG: last},
        run_config=full_refresh_run_config() if full_refresh else None,
        raise_on_error=raise_on_error,
    )


def table_snapshot(warehouse: Path, schema: str) -> dict[str, list[tuple]]:
    """Every row of every table in ``schema``, sorted, keyed by table."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            row[0]
            for row in con.execute(
                "select table_name from duckdb_tables() where schema_name = ? order by 1",
                [schema],
            ).fetchall()
        ]
        return {
            table: con.execute(f'select * from {schema}."{table}" order by all').fetchall()
            for table in tables
        }


def publish_log(warehouse: Path) -> list[tuple]:
    """(run_id, first_month, last_month, full_refresh) of every publish, oldest first."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select run_id, cast(first_month as varchar), cast(last_month as varchar), "
            "full_refresh from audit.publish_log order by published_at"
        ).fetchall()


@pytest.fixture(scope="session")
def old_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated export of 25 customers, 14 months ending 2012-03, without the optional
    ``time_entries`` and ``churn_events`` files, shared by the workers (read only)."""

    def create(landing: Path) -> None:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "orchestration.demo",
                "--customers",
                "25",
                "--months",
                "14",
                "--end-month",
                "2012-03",
                "--seed",
                "4",
                "--output",
                str(landing),
                "--quiet",
            ],
            cwd=PROJECT_DIR,
            check=True,
            capture_output=True,
        )
        for optional in ("time_entries.csv", "churn_events.csv"):
            (landing / optional).unlink()

    return shared_folder(tmp_path_factory, "old-export", create)


#: The clock of :func:`served_old`'s build: years after its data ends.
OLD_BUILD_CLOCK = "2026-12-05T10:00:00"


@dataclass(frozen=True)
class ServedOld:
    """``make build`` of :func:`old_export` as on :data:`OLD_BUILD_CLOCK`: the run command's
    output, the served file and the month-end report it wrote (read only)."""

    landing: Path
    warehouse: Path
    report_dir: Path
    returncode: int
    stdout: str


@pytest.fixture(scope="session")
def served_old(tmp_path_factory: pytest.TempPathFactory, old_export: Path) -> ServedOld:
    """:class:`ServedOld`, built once per test session for every worker by the run command
    (``--all-months --full-refresh``; about a minute). A failed build is returned, not
    raised: the test of the command says why."""

    def build(folder: Path) -> None:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("PORTFOLIO_REPORT_DIR", str(folder / "reports"))
            built = run_command(
                folder, old_export, OLD_BUILD_CLOCK, "--all-months", "--full-refresh"
            )
        (folder / "stdout.txt").write_text(built.stdout + built.stderr)
        (folder / "returncode.txt").write_text(str(built.returncode))

    folder = shared_folder(tmp_path_factory, "served-old", build)
    return ServedOld(
        old_export,
        folder / "warehouse" / "portfolio.duckdb",
        folder / "reports",
        int((folder / "returncode.txt").read_text()),
        (folder / "stdout.txt").read_text(),
    )


def run_command(root: Path, landing: Path, clock: str, *args: str) -> subprocess.CompletedProcess:
    """``python -m orchestration.commands.run *args`` as on ``clock``, in a Dagster instance under
    ``root``, serving ``root/warehouse/portfolio.duckdb``."""
    home = root / "dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copy(PROJECT_DIR / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "PORTFOLIO_LANDING_DIR": str(landing),
        "PORTFOLIO_WAREHOUSE": str(root / "warehouse" / "portfolio.duckdb"),
        "PORTFOLIO_CLOCK": clock,
    }
    return subprocess.run(
        [sys.executable, "-m", "orchestration.commands.run", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
