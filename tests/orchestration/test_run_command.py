"""The README's commands on a history that ended years ago, with the clock moved past it.

``python -m orchestration.run`` (what ``make build`` and ``make month`` call) runs in a
subprocess with its own Dagster instance, the clock injected through ``PORTFOLIO_CLOCK``. The
export is a small generated portfolio of 14 months ending March 2012 without the optional
``time_entries`` and ``churn_events`` files. Expected months and revenue are computed from the
landing CSV in the test, not read from the build.
"""

import csv
import hashlib
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.orchestration.conftest import PROJECT_DIR

pytestmark = pytest.mark.slow


def month_of(text: str) -> date:
    day = date.fromisoformat(text)
    return date(day.year, day.month, 1)


def months_back(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


@pytest.fixture(scope="module")
def old_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    landing = tmp_path_factory.mktemp("old_export") / "landing"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestration.demo_data",
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
    return landing


def run_command(root: Path, landing: Path, clock: str, *args: str) -> subprocess.CompletedProcess:
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
        [sys.executable, "-m", "orchestration.run", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_build_and_month_end_of_a_history_that_ended_years_ago(
    tmp_path: Path, old_export: Path
) -> None:
    with (old_export / "invoice_lines.csv").open(newline="") as handle:
        lines = list(csv.DictReader(handle))
    months_seen = {month_of(line["invoice_date"]) for line in lines}
    first, last = min(months_seen), max(months_seen)
    assert last == date(2012, 3, 1)
    expected_months = (last.year - first.year) * 12 + last.month - first.month + 1
    # Portfolio TTM revenue: the sum over active customers (TTM revenue > 0) of the window.
    by_customer: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        if months_back(last, 11) <= month_of(line["invoice_date"]) <= last:
            by_customer[line["customer_id"]] += Decimal(line["extended_price"])
    ttm_revenue = sum((v for v in by_customer.values() if v > 0), Decimal(0))
    active = sum(1 for v in by_customer.values() if v > 0)

    # make build, on 5 December 2026.
    clock = "2026-12-05T10:00:00"
    built = run_command(tmp_path, old_export, clock, "--all-months", "--full-refresh")
    assert built.returncode == 0, built.stdout + built.stderr
    assert f"{expected_months} month(s) {first:%Y-%m}..2012-03" in built.stdout
    assert "absent:    time_entries: read as empty" in built.stdout
    assert "absent:    churn_events: read as empty" in built.stdout
    served = tmp_path / "warehouse" / "portfolio.duckdb"
    with duckdb.connect(str(served), read_only=True) as con:
        months = con.execute(
            "select min(as_of_month), max(as_of_month), count(*) from marts.portfolio_concentration"
        ).fetchall()
        assert months == [(first, last, expected_months)]
        figures = con.execute(
            "select revenue_ttm, active_customers from marts.portfolio_concentration "
            "where as_of_month = ?",
            [last],
        ).fetchall()
        assert figures == [(ttm_revenue, active)]
        # Scoring ran for the last month of the data, not for a month of the clock.
        for table in ("churn_risk_scores", "customer_lifetime_value", "retention_curves"):
            scored = con.execute(f"select distinct as_of_month from scoring.{table}").fetchall()
            assert scored in ([(last,)], []), table
        absent = con.execute(
            "select source_table from audit.data_quality_summary "
            "where outcome = 'file_absent' order by 1"
        ).fetchall()
        assert absent == [("churn_events",), ("time_entries",)]

    # make month with no MONTH, on 1 January 2027: the latest month of the data, said in a line.
    month = run_command(tmp_path, old_export, "2027-01-01T00:00:00")
    assert month.returncode == 0, month.stdout + month.stderr
    assert "1 month(s) 2012-03" in month.stdout
    assert (
        "note:      exports do not reach the month just closed 2026-12: the exports end at "
        "2012-03 (last invoice month); building 2012-03"
    ) in month.stdout

    # A month the exports do not reach is refused in one line; nothing is published.
    before = hashlib.sha256(served.read_bytes()).hexdigest()
    refused = run_command(tmp_path, old_export, "2012-05-02T00:00:00", "--month", "2012-04")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"error: 2012-04 is not a month of the exports: invoice months {first:%Y-%m}..2012-03"
    )
    assert hashlib.sha256(served.read_bytes()).hexdigest() == before
