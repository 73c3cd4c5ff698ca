"""Superset as a real BI client of the served warehouse (superset/, ``make superset``).

The warehouse is a copy of the session's served demo warehouse, built by the real job (full
refresh over the demo months, ``served_demo`` of tests/orchestration). Superset is installed
and set up by ``make superset-setup`` into a temporary home, imports the dashboard of
superset/dashboard/ against that file and serves on a free port of 127.0.0.1.
Every chart's query is then run over and over through the REST API while a second run of the
job publishes into the same served file: none may fail, and the figures Superset returns must
equal the marts' as computed here. The Superset environment (.superset/venv, ~700 MB) is
installed once and reused; a migrated metadata DB is cached in .superset/cache.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
import requests

# demo_landing and served_demo are fixtures, found by pytest in this module's namespace.
from tests.orchestration.conftest import (  # noqa: F401
    DEMO_LAST_MONTH,
    PROJECT_DIR,
    ServedDemo,
    demo_landing,
    parse_manifest,
    publish_log,
    run_portfolio_job,
    served_demo,
)

SUPERSET_PYTHON = PROJECT_DIR / ".superset" / "venv" / "bin" / "python"
MANAGE = PROJECT_DIR / "superset" / "manage.py"
DASHBOARD = "customer-portfolio"

#: The tiles of the latest month, by chart name, and the chart behind every other figure.
TILES = (
    "Active customers",
    "TTM revenue",
    "MRR",
    "NRR (12 months)",
    "GRR (12 months)",
    "HHI",
    "In TCP and on full package",
)
CHARTS = (
    *TILES,
    "MRR over time",
    "NRR and GRR (12 months)",
    "Revenue by class",
    "Top customers (Pareto)",
    "Penetration per offering",
    "Churned MRR by churn quadrant",
)
#: Rounds of every chart's query that must complete while the second run builds and publishes.
MIN_ROUNDS_DURING_RUN = 2


@pytest.fixture(scope="session", autouse=True)
def dagster_manifest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A dbt manifest for the code location before anything imports it (tests/orchestration's
    conftest prepares one when that folder is collected too)."""
    existing = os.environ.get("PORTFOLIO_DAGSTER_TARGET_DIR")
    if existing and (Path(existing) / "manifest.json").exists():
        yield
        return
    target = tmp_path_factory.mktemp("dagster_target")
    parse_manifest(PROJECT_DIR, target)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PORTFOLIO_DAGSTER_TARGET_DIR", str(target))
        yield


@pytest.fixture(scope="module")
def demo(request: pytest.FixtureRequest) -> ServedDemo:
    """The session's served demo warehouse (a full-refresh run of the job over the demo
    months), built once for every module and worker that asks (tests/orchestration)."""
    return request.getfixturevalue("served_demo")


@pytest.fixture(scope="module")
def served_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this module's copy of the served demo warehouse goes (:func:`served`)."""
    return tmp_path_factory.mktemp("bi") / "warehouse" / "portfolio.duckdb"


@pytest.fixture(scope="module")
def served(served_path: Path, demo: ServedDemo) -> Path:
    """A copy of the served demo warehouse: this module's run publishes into it."""
    copy = demo.copy(served_path.parent)
    assert copy == served_path
    return copy


@pytest.fixture(scope="module")
def landing(demo: ServedDemo) -> Path:
    return demo.landing


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Superset:
    """A running Superset: its URL, a logged-in API session and the server's process id."""

    url: str
    session: requests.Session
    pid: int
    timings: dict[str, float] = field(default_factory=dict)

    def get(self, path: str, **params: str) -> dict:
        response = self.session.get(f"{self.url}{path}", params=params, timeout=120)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        return response.json()

    def charts(self) -> dict[str, int]:
        """The dashboard's charts: id by name."""
        charts = self.get(f"/api/v1/dashboard/{DASHBOARD}/charts")["result"]
        return {chart["slice_name"]: chart["id"] for chart in charts}

    def chart_data(self, chart_id: int) -> list[dict]:
        """The rows of the chart's saved query, run now (no cache)."""
        (result,) = self.get(f"/api/v1/chart/{chart_id}/data/", force="true")["result"]
        assert result["status"] == "success", result
        return result["data"]


@pytest.fixture(scope="module")
def superset(
    served_path: Path, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Superset]:
    """Superset set up by ``make superset-setup`` against ``served``, serving on a free port.

    The setup needs only the served file's path: it runs first, while another worker may
    still be building the session's demo warehouse that ``served`` copies."""
    home = tmp_path_factory.mktemp("superset_home")
    password = secrets.token_urlsafe(16)
    # Not the make of `make test` (its jobserver), nor the warehouse settings of the caller.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MAKE", "MFL"))}
    env |= {
        "SUPERSET_HOME": str(home),
        "PORTFOLIO_WAREHOUSE": str(served_path),
        "SUPERSET_ADMIN_USER": "admin",
        "SUPERSET_ADMIN_PASSWORD": password,
    }
    timings: dict[str, float] = {}
    started = time.monotonic()
    setup = subprocess.run(
        ["make", "--no-print-directory", "superset-setup"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    timings["setup"] = time.monotonic() - started
    request.getfixturevalue("served")
    port = free_port()
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        [str(SUPERSET_PYTHON), str(MANAGE), "serve", "--port", str(port)],
        cwd=PROJECT_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # gunicorn and its workers: one process group to stop
    )
    url = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        while True:
            try:
                if requests.get(f"{url}/health", timeout=30).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or still loading
                pass
            assert server.poll() is None, (home / "server.log").read_text()
            assert time.monotonic() - started < 300, "Superset did not start within 300 s"
            time.sleep(0.5)
        timings["start"] = time.monotonic() - started
        print(f"superset: setup {timings['setup']:.0f} s, start {timings['start']:.0f} s")
        session = requests.Session()
        login = session.post(
            f"{url}/api/v1/security/login",
            json={"username": "admin", "password": password, "provider": "db", "refresh": False},
            timeout=60,
        )
        assert login.status_code == 200, login.text
        session.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        csrf = session.get(f"{url}/api/v1/security/csrf_token/", timeout=60).json()["result"]
        session.headers.update({"X-CSRFToken": csrf, "Referer": url})
        yield Superset(url, session, server.pid, timings)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def latest_figures(warehouse: Path) -> dict[str, float]:
    """The latest month's headline figures, each from a mart of its own grain."""
    with duckdb.connect(str(warehouse), read_only=True) as con:

        def one(sql: str) -> float:
            return float(con.execute(sql).fetchall()[0][0])

        latest = "(select max(as_of_month) from marts.customer_concentration)"
        return {
            "Active customers": one(
                f"select count(*) from marts.customer_concentration where as_of_month = {latest}"
            ),
            "TTM revenue": one(
                "select sum(revenue_ttm) from marts.customer_concentration "
                f"where as_of_month = {latest}"
            ),
            "MRR": one(f"select sum(mrr) from marts.mrr_movements where as_of_month = {latest}"),
            "NRR (12 months)": one(
                f"select nrr_12m from marts.retention_summary where as_of_month = {latest}"
            ),
            "GRR (12 months)": one(
                f"select grr_12m from marts.retention_summary where as_of_month = {latest}"
            ),
            "HHI": one(
                "select sum(power(100 * revenue_share, 2)) from marts.customer_concentration "
                f"where as_of_month = {latest}"
            ),
            "In TCP and on full package": one(
                "select avg(case when in_tcp and is_on_full_package then 1 else 0 end) "
                f"from marts.customer_classification where as_of_month = {latest}"
            ),
        }


def test_the_dashboard_has_every_headline_chart(superset: Superset) -> None:
    assert sorted(superset.charts()) == sorted(CHARTS)


#: Superset's generic types (superset.utils.core.GenericDataType) of DuckDB's types.
GENERIC_TYPES = {
    "BIGINT": 0,
    "INTEGER": 0,
    "DOUBLE": 0,
    "DECIMAL": 0,
    "DATE": 2,
    "BOOLEAN": 3,
}


def test_numbers_and_dates_of_the_datasets_are_typed_as_superset_reads_them(
    superset: Superset, served: Path
) -> None:
    # Superset types a virtual dataset's columns from the Arrow types of its result and has no
    # type for decimals: revenue_ttm of marts.portfolio_concentration (decimal(38,4)) came out
    # untyped, so it could not be charted as a number. Refresh each dataset's columns from the
    # warehouse, as "Sync columns from source" does, and compare what Superset made of them
    # with the types DuckDB gives the dataset's SQL.
    datasets = superset.get(f"/api/v1/dashboard/{DASHBOARD}/datasets")["result"]
    assert len(datasets) == 5
    compared = 0
    for dataset in datasets:
        refreshed = superset.session.put(
            f"{superset.url}/api/v1/dataset/{dataset['id']}/refresh", timeout=120
        )
        assert refreshed.status_code == 200, refreshed.text
        detail = superset.get(f"/api/v1/dataset/{dataset['id']}")["result"]
        with duckdb.connect(str(served), read_only=True) as con:
            description = con.execute(f"select * from ({detail['sql']}) limit 0").description
        duckdb_types = {name: str(type_).split("(")[0] for name, type_, *_ in description}
        shown = {column["column_name"]: column["type_generic"] for column in detail["columns"]}
        assert shown.keys() == duckdb_types.keys(), dataset["table_name"]
        expected = {
            name: GENERIC_TYPES[type_]
            for name, type_ in duckdb_types.items()
            if type_ in GENERIC_TYPES
        }
        assert {name: shown[name] for name in expected} == expected, dataset["table_name"]
        compared += len(expected)
    assert compared >= 30


@dataclass
class Answer:
    chart: str
    ok: bool
    detail: str
    inodes: tuple[int, int]  # of the served file before and after the query


def query_until(superset: Superset, served: Path, stop: threading.Event) -> list[Answer]:
    """Every chart's query, round after round, until a whole round after ``stop`` was set."""
    charts = superset.charts()
    answers: list[Answer] = []
    last_round = False
    while not last_round:
        last_round = stop.is_set()
        for name, chart_id in charts.items():
            before = served.stat().st_ino
            try:
                response = superset.session.get(
                    f"{superset.url}/api/v1/chart/{chart_id}/data/",
                    params={"force": "true"},
                    timeout=120,
                )
                results = response.json().get("result") or [{}]
                ok = response.status_code == 200 and all(
                    result.get("status") == "success" for result in results
                )
                detail = "" if ok else f"{response.status_code} {response.text[:500]}"
            except (requests.RequestException, ValueError) as error:
                ok, detail = False, repr(error)
            answers.append(Answer(name, ok, detail, (before, served.stat().st_ino)))
    return answers


def open_files(pid: int) -> list[str]:
    """The files the process ``pid`` and its children hold open."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        pids += [int(child) for child in (task / "children").read_text().split()]
    files = []
    for process in pids:
        for descriptor in Path(f"/proc/{process}/fd").iterdir():
            try:
                files.append(os.readlink(descriptor))
            except FileNotFoundError:
                continue
    return files


@pytest.fixture(scope="module")
def queried_during_run(superset: Superset, served: Path, landing: Path) -> dict[str, object]:
    """Query every chart in a thread while a one-month run rebuilds and publishes ``served``."""
    inode_before = served.stat().st_ino
    published_before = len(publish_log(served))
    stop = threading.Event()
    answers: list[Answer] = []
    reader = threading.Thread(
        target=lambda: answers.extend(query_until(superset, served, stop)), daemon=True
    )
    reader.start()
    started = time.monotonic()
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("PORTFOLIO_WAREHOUSE", str(served))
            env.setenv("PORTFOLIO_LANDING_DIR", str(landing))
            env.setenv("PORTFOLIO_EXPORT_DIR", "off")  # no Parquet files, no month-end report
            env.setenv("PORTFOLIO_REPORT_DIR", "off")
            result = run_portfolio_job(DEMO_LAST_MONTH, DEMO_LAST_MONTH)
    finally:
        run_seconds = time.monotonic() - started
        stop.set()
        reader.join(timeout=600)
    print(f"superset: {len(answers)} chart queries during a run of {run_seconds:.0f} s")
    return {
        "success": result.success,
        "answers": answers,
        "inode_before": inode_before,
        "inode_after": served.stat().st_ino,
        "published": len(publish_log(served)) - published_before,
        "run_seconds": run_seconds,
        "open_files": open_files(superset.pid),
    }


def test_no_chart_query_fails_while_a_run_publishes(
    queried_during_run: dict[str, object], served: Path
) -> None:
    run = queried_during_run
    assert run["success"]
    assert run["published"] == 1
    assert run["inode_after"] != run["inode_before"]  # the publish renamed a new file in place
    answers: list[Answer] = run["answers"]
    failed = [(answer.chart, answer.detail) for answer in answers if not answer.ok]
    assert failed == []
    assert len(answers) >= MIN_ROUNDS_DURING_RUN * len(CHARTS), (
        f"{len(answers)} queries in {run['run_seconds']:.0f} s"
    )
    # Queries ran against the file before the publish and against the published one.
    old, new = run["inode_before"], run["inode_after"]
    assert sum(answer.inodes == (old, old) for answer in answers) >= len(CHARTS)
    assert sum(answer.inodes == (new, new) for answer in answers) >= len(CHARTS)


def test_superset_holds_no_connection_to_the_warehouse_between_queries(
    queried_during_run: dict[str, object], served: Path
) -> None:
    # Superset's NullPool: each query opens the file read-only and closes it. A pooled
    # connection would keep the replaced file open (shown as "... (deleted)").
    held = [path for path in queried_during_run["open_files"] if path.startswith(str(served))]
    assert held == []
    assert queried_during_run["open_files"]  # the server's descriptors were read


def test_the_headline_figures_are_the_marts(
    superset: Superset, served: Path, queried_during_run: dict[str, object]
) -> None:
    charts = superset.charts()
    expected = latest_figures(served)
    shown = {}
    for tile in TILES:
        (row,) = superset.chart_data(charts[tile])
        shown[tile] = row[tile]
    assert shown == pytest.approx(expected, rel=1e-9)
    assert expected["Active customers"] > 0 and expected["MRR"] > 0


def test_the_tables_and_series_are_the_marts(superset: Superset, served: Path) -> None:
    charts = superset.charts()
    with duckdb.connect(str(served), read_only=True) as con:
        top = con.execute(
            """
            select revenue_rank, customer_name, cast(revenue_ttm as double)
            from marts.customer_concentration
            where as_of_month = (select max(as_of_month) from marts.customer_concentration)
            order by revenue_rank limit 25
            """
        ).fetchall()
        mrr_by_month = dict(
            con.execute(
                """
                select epoch_ms(as_of_month::timestamp), cast(sum(mrr) as double)
                from marts.mrr_movements group by all
                """
            ).fetchall()
        )
        churned = dict(
            con.execute(
                """
                select churn_quadrant, cast(sum(mrr_lost) as double)
                from marts.churn_events
                where effective_month > (
                    select max(as_of_month) - interval 12 month
                    from marts.portfolio_concentration
                )
                group by all
                """
            ).fetchall()
        )
        penetration = dict(
            con.execute(
                """
                select offering_name, penetration_rate from marts.offering_penetration
                where as_of_month = (select max(as_of_month) from marts.offering_penetration)
                """
            ).fetchall()
        )
    table = superset.chart_data(charts["Top customers (Pareto)"])
    assert [(r["revenue_rank"], r["customer_name"], r["revenue_ttm"]) for r in table] == top
    series = superset.chart_data(charts["MRR over time"])
    shown_mrr = {row["as_of_month"]: row["MRR"] for row in series}
    assert shown_mrr == pytest.approx({m: v for m, v in mrr_by_month.items() if m in shown_mrr})
    assert len(shown_mrr) >= 12
    pie = superset.chart_data(charts["Churned MRR by churn quadrant"])
    shown_churn = {row["churn_quadrant"]: row["Churned MRR"] for row in pie}
    assert shown_churn == pytest.approx({q: v for q, v in churned.items() if v is not None})
    bars = superset.chart_data(charts["Penetration per offering"])
    assert {row["offering_name"]: row["Penetration"] for row in bars} == penetration
