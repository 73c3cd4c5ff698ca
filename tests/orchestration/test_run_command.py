"""``make build`` on a history that ended years ago, with the clock moved past it.

``python -m orchestration.commands.run --all-months --full-refresh`` runs in a subprocess with
its own Dagster instance, the clock injected through ``PORTFOLIO_CLOCK`` (fixture
``served_old`` in conftest.py, which other modules read too). Expected months and revenue are
computed from the landing CSV in the test, not read from the build.
"""

import csv
from collections import defaultdict
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from tests.orchestration.conftest import OLD_BUILD_CLOCK, ServedOld

pytestmark = pytest.mark.slow


def month_of(text: str) -> date:
    day = date.fromisoformat(text)
    return date(day.year, day.month, 1)


def months_back(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def test_make_build_of_a_history_that_ended_years_ago(served_old: ServedOld) -> None:
    with (served_old.landing / "invoice_lines.csv").open(newline="") as handle:
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
    assert OLD_BUILD_CLOCK.startswith("2026-12-05")
    assert served_old.returncode == 0, served_old.stdout
    assert f"{expected_months} month(s) {first:%Y-%m}..2012-03" in served_old.stdout
    assert "absent:    time_entries: read as empty" in served_old.stdout
    assert "absent:    churn_events: read as empty" in served_old.stdout
    # The report of the data's last month, not of the clock's.
    report = served_old.report_dir / "month_end_2012-03.html"
    assert f"    month-end report: {report}\n" in served_old.stdout
    assert served_old.stdout.count("month-end report:") == 1  # one report for the 14 months
    assert report.exists()
    served = served_old.warehouse
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
        for table in (
            "churn_risk_scores",
            "churn_risk_drivers",
            "customer_lifetime_value",
            "retention_curves",
        ):
            scored = con.execute(f"select distinct as_of_month from scoring.{table}").fetchall()
            assert scored in ([(last,)], []), table
        absent = con.execute(
            "select source_table from audit.data_quality_summary "
            "where outcome = 'file_absent' order by 1"
        ).fetchall()
        assert absent == [("churn_events",), ("time_entries",)]
