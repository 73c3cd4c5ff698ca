"""A plain invoicing export: the optional tables absent, customers without created_date.

The first load has only customers (no created_date column), offerings and
invoice_lines: the data-quality panel must show each of the four absent
tables as one `file_absent` row of 0 rows carrying the loader's note, in
place of an `accepted` row, and the customers (created_date null) must reach
the marts: A 300 + B 100 gives a 2025-01 TTM revenue of 400, two customers.

The second load into the same warehouse adds agreements, agreement_lines and
time_entries; only churn_events is still absent. The panel follows the
latest load in landing.load_log: one file_absent row left, and the three
tables back to `accepted` (1, 1 and 2 rows).
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import MANAGED_SERVICES_OFFERING, build_warehouse, query, write_table

pytestmark = pytest.mark.slow

OPTIONAL_TABLES = ("agreements", "agreement_lines", "time_entries", "churn_events")


def write_plain_export(landing: Path) -> None:
    landing.mkdir(parents=True)
    with (landing / "customers.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "customer_name"])
        writer.writerows([["A", "Customer A"], ["B", "Customer B"]])
    write_table(landing, "offerings", [MANAGED_SERVICES_OFFERING])
    write_table(
        landing,
        "invoice_lines",
        [
            {
                "invoice_line_id": f"L{i}",
                "invoice_id": f"I{i}",
                "invoice_date": "2025-01-15",
                "customer_id": customer,
                "offering_id": "MS",
                "revenue_type": "mrr",
                "quantity": "1",
                "extended_price": amount,
                "extended_cost": "0",
            }
            for i, (customer, amount) in enumerate((("A", "300"), ("B", "100")))
        ],
    )


def panel(warehouse: Path) -> dict[tuple[str, str], tuple]:
    rows = query(
        warehouse,
        """
        select source_table, outcome, is_accepted, is_informational, row_count, rows_read,
               note
        from audit.data_quality_summary
        """,
    )
    return {(r[0], r[1]): r[2:] for r in rows}


def latest_notes(warehouse: Path) -> dict[str, str]:
    return dict(
        query(
            warehouse,
            """
            select table_name, note from landing.load_log
            where loaded_at = (select max(loaded_at) from landing.load_log) and not is_present
            """,
        )
    )


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("optional_tables")
    landing = root / "landing"
    write_plain_export(landing)
    warehouse = root / "portfolio.duckdb"
    build_warehouse(landing, warehouse)
    first = {
        "panel": panel(warehouse),
        "notes": latest_notes(warehouse),
        "customers": query(
            warehouse, "select customer_id, created_date from staging.stg_landing__customers"
        ),
        "concentration": query(
            warehouse,
            "select as_of_month, active_customers, revenue_ttm from marts.portfolio_concentration",
        ),
    }

    write_table(
        landing,
        "agreements",
        [
            {
                "agreement_id": "AG1",
                "customer_id": "A",
                "agreement_type": "managed_services",
                "start_date": "2025-01-01",
            }
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
                "unit_price": "300",
                "billing_cycle": "monthly",
                "effective_date": "2025-01-01",
            }
        ],
    )
    write_table(
        landing,
        "time_entries",
        [
            {
                "time_entry_id": f"T{i}",
                "work_date": "2025-01-20",
                "customer_id": "A",
                "technician_id": "TECH-1",
                "hours_actual": "2",
                "loaded_hourly_cost": "50",
            }
            for i in range(2)
        ],
    )
    # The second build is read only for its data-quality panel: build that alone.
    build_warehouse(landing, warehouse, select="+data_quality_summary")
    second = {
        "panel": panel(warehouse),
        "notes": latest_notes(warehouse),
        "loads": query(warehouse, "select count(distinct loaded_at) from landing.load_log"),
    }
    return {"first": first, "second": second}


def test_absent_tables_are_file_absent_rows_with_the_loaders_note(builds) -> None:
    summary, notes = builds["first"]["panel"], builds["first"]["notes"]
    assert set(notes) == set(OPTIONAL_TABLES)
    for table in OPTIONAL_TABLES:
        assert (table, "accepted") not in summary, table
        is_accepted, is_informational, row_count, rows_read, note = summary[(table, "file_absent")]
        assert (is_accepted, is_informational, row_count, rows_read) == (False, False, 0, 0)
        assert note == notes[table]
        assert note.startswith("file absent: read as empty"), note
    assert "marts.mrr_movements" in summary[("agreements", "file_absent")][4]
    # The tables that were read keep their accepted row, without a note.
    assert summary[("invoice_lines", "accepted")] == (True, False, 2, 2, None)
    assert summary[("customers", "accepted")] == (True, False, 2, 2, None)
    assert len(summary) == 7


def test_customers_without_created_date_reach_the_marts(builds) -> None:
    assert sorted(builds["first"]["customers"]) == [("A", None), ("B", None)]
    assert builds["first"]["concentration"] == [(date(2025, 1, 1), 2, Decimal("400"))]


def test_the_panel_follows_the_latest_load(builds) -> None:
    second = builds["second"]
    assert second["loads"] == [(2,)]
    assert set(second["notes"]) == {"churn_events"}
    summary = second["panel"]
    assert summary[("churn_events", "file_absent")][:4] == (False, False, 0, 0)
    for table, rows in (("agreements", 1), ("agreement_lines", 1), ("time_entries", 2)):
        assert (table, "file_absent") not in summary, table
        assert summary[(table, "accepted")] == (True, False, rows, rows, None), table
    assert len(summary) == 7
