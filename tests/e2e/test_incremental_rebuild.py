"""Incremental rebuilds replace a month's rows, even when the month now yields none.

A hand-made landing folder: customers A and B are invoiced every month of
2025-01 … 2025-06 (A 100, B 50 a month) and C only in 2025-06 (40); A has an
open-ended agreement line of 100 a month from 2025-01-01. A full build
reports 2025-01 … 2025-06 (2025-06 TTM revenue 600 + 300 + 40 = 940).

Then the 2025-06 invoices are removed from the landing file, the folder is
reloaded and only 2025-06 is rebuilt (var as_of_month). The month spine now
ends in 2025-05, so 2025-06 yields no row in any mart: every incremental mart
must have lost its 2025-06 rows (delete+insert on the month would have kept
them), and every other month's rows must be untouched (2025-05 TTM revenue
A 500 + B 250 = 750). Last, an incremental run without a month var but with
cut_off_month 2025-04 rebuilds every month and drops 2025-05.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import (
    MANAGED_SERVICES_OFFERING,
    build_warehouse,
    invoice_line,
    query,
    write_table,
)

pytestmark = pytest.mark.slow

#: The incremental marts and their month columns (unique_key), by hand.
INCREMENTAL_MARTS = {
    "customer_concentration": "as_of_month",
    "portfolio_concentration": "as_of_month",
    "customer_classification": "as_of_month",
    "classification_transitions": "quarter_end_month",
    "customer_offering_matrix": "as_of_month",
    "offering_penetration": "as_of_month",
    "customer_cross_sell": "as_of_month",
    "portfolio_cross_sell": "as_of_month",
    "mrr_movements": "as_of_month",
    "retention_summary": "as_of_month",
    "gross_profit_bridge": "as_of_month",
    "churn_risk_features": "as_of_month",
    "customer_profitability": "as_of_month",
    "agreement_profitability": "as_of_month",
    "agreement_type_profitability": "as_of_month",
    "committed_mrr": "as_of_month",
    "renewal_calendar": "as_of_month",
    "account_plan": "as_of_month",
}

JUNE = date(2025, 6, 1)


def invoice(month: int, customer: str, amount: str) -> dict[str, str]:
    return invoice_line(f"{month}{customer}", f"2025-{month:02d}-15", customer, amount)


def write_invoices(landing: Path, last_month: int) -> None:
    lines = [
        invoice(m, c, a) for m in range(1, last_month + 1) for c, a in (("A", "100"), ("B", "50"))
    ]
    if last_month >= 6:
        lines.append(invoice(6, "C", "40"))
    write_table(landing, "invoice_lines", lines)


def write_landing(landing: Path) -> None:
    landing.mkdir(parents=True)
    write_table(
        landing,
        "customers",
        [
            {"customer_id": c, "customer_name": f"Customer {c}", "created_date": "2024-01-01"}
            for c in "ABC"
        ],
    )
    write_table(landing, "offerings", [MANAGED_SERVICES_OFFERING])
    write_table(
        landing,
        "agreements",
        [
            {
                "agreement_id": "AG1",
                "customer_id": "A",
                "agreement_type": "managed_services",
                "start_date": "2025-01-01",
            },
            # B's agreements without lines (no MRR) put an agreement on the renewal calendar
            # of every month: BG1 ends 29 and 1 days after January's and February's last day,
            # BG2 62, 32 and 1 days after March's, April's and May's, BG3 1 day after June's.
            *(
                {
                    "agreement_id": agreement_id,
                    "customer_id": "B",
                    "agreement_type": "block_time",
                    "start_date": "2025-01-01",
                    "end_date": end_date,
                }
                for agreement_id, end_date in (
                    ("BG1", "2025-03-01"),
                    ("BG2", "2025-06-01"),
                    ("BG3", "2025-07-01"),
                )
            ),
        ],
    )
    write_table(
        landing,
        "agreement_lines",
        [
            {
                "agreement_line_id": "AL1",
                "agreement_id": "AG1",
                "offering_id": "MS",
                "quantity": "1",
                "unit_price": "100",
                "billing_cycle": "monthly",
                "effective_date": "2025-01-01",
            }
        ],
    )
    for table in ("time_entries", "churn_events"):
        write_table(landing, table, [])
    write_invoices(landing, last_month=6)


def months_by_mart(warehouse: Path) -> dict[str, list[date]]:
    return {
        mart: [
            m for (m,) in query(warehouse, f"select distinct {column} from marts.{mart} order by 1")
        ]
        for mart, column in INCREMENTAL_MARTS.items()
    }


def rows_before(warehouse: Path, month: date) -> dict[str, list[tuple]]:
    """Every incremental mart's rows of the months before ``month``."""
    return {
        mart: query(
            warehouse,
            f"select * from marts.{mart} where {column} < date '{month}' order by all",
        )
        for mart, column in INCREMENTAL_MARTS.items()
    }


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("incremental_rebuild")
    landing = root / "landing"
    write_landing(landing)
    warehouse = root / "portfolio.duckdb"
    build_warehouse(landing, warehouse, write_json=True)
    full = {
        "months": months_by_mart(warehouse),
        "rows_before_june": rows_before(warehouse, JUNE),
        "revenue": query(
            warehouse,
            "select as_of_month, revenue_ttm from marts.portfolio_concentration order by 1",
        ),
    }
    manifest = json.loads((root / "dbt-target" / "manifest.json").read_text())

    write_invoices(landing, last_month=5)
    build_warehouse(landing, warehouse, vars_='{"as_of_month": "2025-06"}')
    rebuilt = {
        "months": months_by_mart(warehouse),
        "rows_before_june": rows_before(warehouse, JUNE),
        "revenue": query(
            warehouse,
            "select as_of_month, revenue_ttm from marts.portfolio_concentration order by 1",
        ),
    }
    rows_before_may = rows_before(warehouse, date(2025, 5, 1))

    build_warehouse(landing, warehouse, vars_='{"cut_off_month": "2025-04"}')
    cut_off = {
        "months": months_by_mart(warehouse),
        "rows_before_may": rows_before(warehouse, date(2025, 5, 1)),
    }
    return {
        "manifest": manifest,
        "full": full,
        "rebuilt": rebuilt,
        "rows_before_may": rows_before_may,
        "cut_off": cut_off,
    }


def test_every_incremental_mart_is_listed_with_its_month_column(builds) -> None:
    incremental = {
        node["name"]: node["config"]["unique_key"]
        for node in builds["manifest"]["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
    }
    assert incremental == INCREMENTAL_MARTS


def test_the_full_build_reports_june(builds) -> None:
    months = builds["full"]["months"]
    first_six = [date(2025, m, 1) for m in range(1, 7)]
    for mart, found in months.items():
        expected = [date(2025, 3, 1), JUNE] if mart == "classification_transitions" else first_six
        assert found == expected, mart
    assert builds["full"]["revenue"][-1] == (JUNE, Decimal("940"))


def test_rebuilding_june_without_its_invoices_removes_its_rows(builds) -> None:
    months = builds["rebuilt"]["months"]
    first_five = [date(2025, m, 1) for m in range(1, 6)]
    for mart, found in months.items():
        expected = [date(2025, 3, 1)] if mart == "classification_transitions" else first_five
        assert found == expected, mart
    assert builds["rebuilt"]["revenue"][-1] == (date(2025, 5, 1), Decimal("750"))


def test_rebuilding_june_leaves_the_other_months_untouched(builds) -> None:
    before, after = builds["full"]["rows_before_june"], builds["rebuilt"]["rows_before_june"]
    for mart in INCREMENTAL_MARTS:
        assert after[mart], mart
        assert after[mart] == before[mart], mart


def test_a_cut_off_in_a_run_without_month_vars_drops_the_later_months(builds) -> None:
    months = builds["cut_off"]["months"]
    first_four = [date(2025, m, 1) for m in range(1, 5)]
    for mart, found in months.items():
        expected = [date(2025, 3, 1)] if mart == "classification_transitions" else first_four
        assert found == expected, mart
    assert builds["cut_off"]["rows_before_may"] == builds["rows_before_may"]
