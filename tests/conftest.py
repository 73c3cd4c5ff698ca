"""Shared pytest helpers: run the real loader and dbt against a temporary warehouse."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from filelock import FileLock

PROJECT_DIR = Path(__file__).resolve().parents[1]
BIN_DIR = Path(sys.executable).parent

#: The catalogue of the hand-made landing folders: one current managed-services (MRR)
#: offering, a component of the full package.
MANAGED_SERVICES_OFFERING = {
    "offering_id": "MS",
    "offering_name": "Managed services",
    "offering_family": "msp",
    "revenue_type": "mrr",
    "lifecycle": "current",
    "is_full_package_component": "true",
}


def pytest_configure(config: pytest.Config) -> None:
    """Runs of the job write their month-end report into a scratch folder, never into the
    checkout's ``reports/`` (a test that reads the report sets its own folder)."""
    os.environ["PORTFOLIO_REPORT_DIR"] = tempfile.mkdtemp(prefix="portfolio-reports-")
    # The pytest-xdist controller configures before it starts the workers, which inherit
    # its environment: one parse-state folder for the session, whichever process builds.
    if _PARSE_STATE_ENV not in os.environ:
        os.environ[_PARSE_STATE_ENV] = tempfile.mkdtemp(prefix="dbt-parse-state-")
        config.stash[_OWNS_PARSE_STATE] = True


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(_OWNS_PARSE_STATE, False):
        shutil.rmtree(os.environ.pop(_PARSE_STATE_ENV), ignore_errors=True)


#: dbt's partial-parse state of earlier builds of the session, one file per (warehouse file
#: name, vars), in a folder shared by the pytest-xdist workers (named by this variable).
#: dbt re-parses the whole project (~6 s of CPU) for a new target folder; the state is valid
#: for another build when the profile renders the same (same relative warehouse name, dbt runs
#: in the warehouse's folder) and the vars are the same, and dbt checks that itself. Shared,
#: each worker's first build skips the parse another worker already did.
_PARSE_STATE_ENV = "PORTFOLIO_TEST_PARSE_STATE"
_OWNS_PARSE_STATE = pytest.StashKey[bool]()
_PARTIAL_PARSE_FILE = "partial_parse.msgpack"


def _parse_state_file(warehouse_name: str, vars_: str | None) -> Path:
    if _PARSE_STATE_ENV not in os.environ:  # imported outside a pytest session
        os.environ[_PARSE_STATE_ENV] = tempfile.mkdtemp(prefix="dbt-parse-state-")
    key = hashlib.sha256(repr((warehouse_name, vars_)).encode()).hexdigest()[:16]
    return Path(os.environ[_PARSE_STATE_ENV]) / f"{key}.msgpack"


def build_warehouse(
    landing_dir: Path,
    warehouse: Path,
    *,
    select: str | None = None,
    vars_: str | None = None,
    data_tests: bool = False,
    write_json: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Load ``landing_dir`` into ``warehouse`` and run ``dbt build``.

    Unit tests never run here (``make test`` runs them on empty models); data tests only with
    ``data_tests=True`` (the shared generated portfolio ``demo_build`` and the broken build of
    test_fuzz_exports run every data test, so most end-to-end tests skip them to stay fast).
    Raises AssertionError with dbt's output when the build fails.
    """
    from orchestration.landing.loader import load_landing
    from orchestration.warehouse.connection import connect_warehouse

    with connect_warehouse(warehouse) as con:
        load_landing(con, landing_dir)
    env = {
        **os.environ,
        # Relative to dbt's working directory, the warehouse's folder: every build renders
        # the same profile, so dbt can reuse an earlier build's parse.
        "PORTFOLIO_WAREHOUSE": warehouse.name,
        "PORTFOLIO_LANDING_DIR": str(landing_dir),
        "DBT_PROFILES_DIR": str(PROJECT_DIR / "profiles"),
        "DBT_PROJECT_DIR": str(PROJECT_DIR),
    }
    target = warehouse.parent / "dbt-target"
    state = _parse_state_file(warehouse.name, vars_)
    if state.exists() and not (target / _PARTIAL_PARSE_FILE).exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(state, target / _PARTIAL_PARSE_FILE)
    command = [
        str(BIN_DIR / "dbt"),
        "build",
        "--exclude-resource-type",
        "unit_test",
        *([] if data_tests else ["--exclude-resource-type", "test"]),
        "--target-path",
        str(target),
        "--log-path",
        str(warehouse.parent / "dbt-logs"),
        # dbt's debug log is not read (its output is in the assertion message when a build
        # fails), nor its JSON artefacts unless asked for: about 5 % of a build.
        "--log-level-file",
        "none",
        *([] if write_json else ["--no-write-json"]),
    ]
    if select:
        command += ["--select", select]
    if vars_:
        command += ["--vars", vars_]
    result = subprocess.run(command, cwd=warehouse.parent, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"dbt build failed:\n{result.stdout}\n{result.stderr}"
    if not state.exists() and (target / _PARTIAL_PARSE_FILE).exists():
        # Written whole under another name first: another worker may be reading the state.
        partial = state.with_suffix(f".{os.getpid()}")
        shutil.copyfile(target / _PARTIAL_PARSE_FILE, partial)
        partial.replace(state)
    return result


def compile_model(model: str, vars_: str, scratch: Path) -> subprocess.CompletedProcess[str]:
    """Run ``dbt compile`` of one model with ``--vars`` against a scratch warehouse."""
    env = {
        **os.environ,
        "PORTFOLIO_WAREHOUSE": str(scratch / "compile.duckdb"),
        "DBT_PROFILES_DIR": str(PROJECT_DIR / "profiles"),
    }
    command = [str(BIN_DIR / "dbt"), "compile", "--select", model, "--vars", vars_]
    command += ["--target-path", str(scratch / "compile-target")]
    command += ["--log-path", str(scratch / "compile-logs")]
    return subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)


def invoice_line(
    line: int | str,
    invoice_date: str,
    customer: str,
    amount: str,
    revenue_type: str = "mrr",
    **columns: str,
) -> dict[str, str]:
    """An invoice line of ``MANAGED_SERVICES_OFFERING`` (quantity 1, no cost) for the
    hand-made landing folders: keys ``L<line>`` and ``I<line>``; ``columns`` override."""
    return {
        "invoice_line_id": f"L{line}",
        "invoice_id": f"I{line}",
        "invoice_date": invoice_date,
        "customer_id": customer,
        "offering_id": MANAGED_SERVICES_OFFERING["offering_id"],
        "revenue_type": revenue_type,
        "quantity": "1",
        "extended_price": amount,
        "extended_cost": "0",
        **columns,
    }


def write_table(folder: Path, table: str, rows: list[dict[str, object]]) -> None:
    """Write a landing CSV with the contract's columns; columns a row omits are empty."""
    from orchestration.landing.contract import LANDING_TABLES

    with (folder / f"{table}.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LANDING_TABLES[table])
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in LANDING_TABLES[table]})


def mart_names(warehouse: Path) -> list[str]:
    """The tables of schema ``marts`` in a built warehouse, sorted."""
    rows = query(
        warehouse,
        "select table_name from information_schema.tables where table_schema = 'marts' order by 1",
    )
    return [name for (name,) in rows]


def query(warehouse: Path, sql: str) -> list[tuple]:
    """Run a read-only query against a built warehouse."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def project_dir() -> Path:
    return PROJECT_DIR


def shared_folder(
    tmp_path_factory: pytest.TempPathFactory, name: str, create: Callable[[Path], None]
) -> Path:
    """A folder made once per test session, whichever pytest-xdist worker asks first.

    The workers' temporary folders share a parent; the first worker to take the folder's lock
    runs ``create(folder)`` and marks it done, the others wait for the lock and find it done.
    A failed ``create`` leaves no mark: the next worker tries again (and fails the same way).
    """
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = root / f"shared-{name}"
    with FileLock(str(folder) + ".lock"):
        if not (folder / ".done").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            create(folder)
            (folder / ".done").touch()
    return folder


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A generated portfolio (120 customers, 18 months to 2026-06, seed 3), built once per test
    session for every worker with every data test (a failing data test fails the build, so
    every test using it).

    Returns (landing folder, warehouse file). Tests must only read the warehouse.
    """
    from orchestration.demo.generator import generate

    def build(root: Path) -> None:
        generate(
            root / "landing", customers=120, months=18, end_month="2026-06", seed=3, progress=False
        )
        build_warehouse(root / "landing", root / "portfolio.duckdb", data_tests=True)

    root = shared_folder(tmp_path_factory, "demo-build", build)
    return root / "landing", root / "portfolio.duckdb"
