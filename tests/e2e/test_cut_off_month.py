"""The var cut_off_month on a hand-made landing folder, checked by hand.

Invoices run 2025-01 … 2025-04; customer A also has an open-ended agreement
line of 100 a month from 2024-12-01. With cut_off_month 2025-03:

- the as_of_months are 2025-01 … 2025-03 (not 2025-04);
- the MRR months are 2024-12 (the line's first month-end) … 2025-03;
- 2025-03's TTM revenue is A 100 + 100 + 100 and B 50 = 350;
- the accepted April lines (A 100, B 30) are the panel's `after_cut_off`
  row of invoice_lines: 2 rows, 130, while `accepted` still counts all six
  accepted lines (480) and rows_read is 7 (six accepted, one rejected);
- A's time entry of 2025-03-15 (2 h × 50) is its 2025-03 cost_ttm of 100;
  the one of 2025-04-03 (1.5 h × 40 = 60) is time_entries' `after_cut_off`.

A cut-off before the first invoice month stops the build at a data test.
"""

from __future__ import annotations

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


def time_entry(entry: str, date_: str, hours: str, cost: str) -> dict[str, str]:
    return {
        "time_entry_id": entry,
        "work_date": date_,
        "customer_id": "A",
        "hours_actual": hours,
        "loaded_hourly_cost": cost,
    }


def write_landing(landing: Path) -> None:
    landing.mkdir(parents=True)
    write_table(
        landing,
        "customers",
        [
            {"customer_id": c, "customer_name": f"Customer {c}", "created_date": "2024-01-01"}
            for c in "AB"
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
                "start_date": "2024-12-01",
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
                "unit_price": "100",
                "billing_cycle": "monthly",
                "effective_date": "2024-12-01",
            }
        ],
    )
    write_table(landing, "churn_events", [])
    write_table(
        landing,
        "time_entries",
        [
            time_entry("T1", "2025-03-15", "2", "50"),
            # After the cut-off: accepted, in no mart.
            time_entry("T2", "2025-04-03", "1.5", "40"),
        ],
    )
    write_table(
        landing,
        "invoice_lines",
        [
            invoice_line(1, "2025-01-10", "A", "100.00"),
            invoice_line(2, "2025-02-10", "A", "100.00"),
            invoice_line(3, "2025-03-10", "A", "100.00"),
            invoice_line(4, "2025-03-31", "B", "50.00"),
            # After the cut-off: accepted, in no mart.
            invoice_line(5, "2025-04-01", "A", "100.00"),
            invoice_line(6, "2025-04-02", "B", "30.00"),
            # After the cut-off but rejected: counted as rejected only.
            invoice_line(7, "2025-04-05", "Z", "999.00"),
        ],
    )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cut_off_month")
    write_landing(root / "landing")
    warehouse = root / "portfolio.duckdb"
    # Only what the tests read (the month spine is a parent of these); the failing build
    # below builds everything.
    build_warehouse(
        root / "landing",
        warehouse,
        select="+customer_classification +customer_concentration +portfolio_concentration"
        " +retention_summary +mrr_movements +data_quality_summary",
        vars_='{"cut_off_month": "2025-03"}',
    )
    return warehouse


def test_as_of_months_end_at_the_cut_off(warehouse: Path) -> None:
    months = query(warehouse, "select month_start from utilities.month_spine order by 1")
    assert months == [(date(2025, 1, 1),), (date(2025, 2, 1),), (date(2025, 3, 1),)]
    for mart in ("portfolio_concentration", "customer_concentration", "customer_classification"):
        last = query(warehouse, f"select max(as_of_month) from marts.{mart}")
        assert last == [(date(2025, 3, 1),)], mart
    rows = query(
        warehouse,
        "select as_of_month, revenue_ttm from marts.portfolio_concentration order by 1",
    )
    assert rows == [
        (date(2025, 1, 1), Decimal("100")),
        (date(2025, 2, 1), Decimal("200")),
        (date(2025, 3, 1), Decimal("350")),
    ]


def test_mrr_months_end_at_the_cut_off(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select as_of_month, ending_mrr from marts.retention_summary order by as_of_month",
    )
    assert rows == [
        (date(2024, 12, 1), Decimal("100")),
        (date(2025, 1, 1), Decimal("100")),
        (date(2025, 2, 1), Decimal("100")),
        (date(2025, 3, 1), Decimal("100")),
    ]
    assert query(warehouse, "select max(as_of_month) from marts.mrr_movements") == [
        (date(2025, 3, 1),)
    ]


def test_lines_after_the_cut_off_are_reported_in_the_panel(warehouse: Path) -> None:
    rows = query(
        warehouse,
        """
        select outcome, is_accepted, is_informational, row_count, amount, rows_read,
               share_of_rows_read
        from audit.data_quality_summary where source_table = 'invoice_lines'
        order by outcome
        """,
    )
    assert [r[:6] for r in rows] == [
        ("accepted", True, False, 6, Decimal("480"), 7),
        ("after_cut_off", True, True, 2, Decimal("130"), 7),
        ("unknown_customer", False, False, 1, Decimal("999"), 7),
    ]
    assert rows[1][6] == pytest.approx(2 / 7)
    notes = query(
        warehouse,
        "select outcome, note from audit.data_quality_summary"
        " where source_table = 'invoice_lines' order by outcome",
    )
    assert notes == [
        ("accepted", None),
        (
            "after_cut_off",
            "accepted invoice lines dated after cut_off_month 2025-03:"
            " counted under accepted, in no mart",
        ),
        ("unknown_customer", None),
    ]
    # Time entries too: T2, 1.5 h × 40 = 60, is in no mart (A's cost is T1's 100 only).
    assert query(
        warehouse,
        "select source_table, row_count, amount, note from audit.data_quality_summary"
        " where outcome = 'after_cut_off' and source_table != 'invoice_lines'",
    ) == [
        (
            "time_entries",
            1,
            Decimal("60"),
            "accepted time entries dated after cut_off_month 2025-03:"
            " counted under accepted, in no mart",
        )
    ]
    assert query(
        warehouse,
        "select cost_ttm from marts.customer_classification"
        " where customer_id = 'A' and as_of_month = '2025-03-01'",
    ) == [(Decimal("100"),)]


def test_a_cut_off_before_the_first_invoice_month_stops_the_build(
    warehouse: Path, tmp_path: Path
) -> None:
    with pytest.raises(AssertionError) as failure:
        build_warehouse(
            warehouse.parent / "landing",
            tmp_path / "portfolio.duckdb",
            vars_='{"cut_off_month": "2024-12"}',
            data_tests=True,
        )
    output = str(failure.value)
    # dbt's progress line, the same in dbt 1.11 and 1.12 (their closing summaries differ).
    assert "FAIL 1 assert_cut_off_month_not_before_first_invoice_month" in output
    # The marts downstream of the month spine were skipped, not built empty.
    assert query(
        tmp_path / "portfolio.duckdb",
        "select count(*) from information_schema.tables where table_schema = 'marts'",
    ) == [(0,)]
