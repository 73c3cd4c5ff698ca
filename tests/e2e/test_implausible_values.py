"""Implausible dates and values on a hand-made landing folder, checked by hand.

Customer A has an agreement line of 10 × 100 = 1000 a month, customer B one of
5 × 20.123456 a month from 2025-01-01; invoices run 2025-01 … 2025-03. Next to
them, rows a typo or a broken export produces:

- invoice lines dated 2062-05-01 (a typo for 2026), ``infinity``,
  ``-infinity`` and 1989-12-31, and a time entry dated 2062-01-01: rejected
  with ``date_out_of_range`` (event dates end with the month after the
  export date; every date starts in earliest_plausible_year, 1990), so the
  months stay 2025-01 … 2025-03;
- agreement lines of −651 seats or a price of −5: ``negative_value``;
  effective 9999-01-01 or cancelled ``infinity``: ``date_out_of_range``
  (contract dates end in latest_plausible_year, 2199), while an agreement
  ending 2029-12-31 is accepted;
- B's unit price 20.123456 is kept as 20.1235 (decimal(18, 4)), so B's MRR
  is 5 × 20.1235 = 100.6175 and the panel reports 1 rounded value of
  agreement_lines.unit_price, difference 0.000044; invoice line 4's
  quantity 1.000001 is kept as 1, difference 0.000001.

MRR is therefore 1000 + 100.6175 = 1100.6175 in every month: the rejected
negative line would have cut it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from orchestration.months import plausible_event_window
from tests.conftest import (
    MANAGED_SERVICES_OFFERING,
    build_warehouse,
    invoice_line,
    query,
    write_table,
)

pytestmark = pytest.mark.slow

#: The key of a rejected row, from its record (JSON of the exported values).
KEY = (
    "coalesce(record ->> 'agreement_line_id', record ->> 'invoice_line_id', "
    "record ->> 'time_entry_id')"
)


def agreement_line(line: str, agreement: str, quantity: str, price: str, **dates: str) -> dict:
    return {
        "agreement_line_id": line,
        "agreement_id": agreement,
        "offering_id": "MS",
        "quantity": quantity,
        "unit_price": price,
        "billing_cycle": "monthly",
        "effective_date": dates.get("effective_date", "2025-01-01"),
        "cancelled_date": dates.get("cancelled_date", ""),
    }


def write_landing(landing: Path) -> None:
    landing.mkdir(parents=True)
    write_table(
        landing,
        "customers",
        [{"customer_id": c, "customer_name": c, "created_date": "2024-01-01"} for c in "AB"],
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
                "end_date": "2029-12-31",  # a fixed term in the future: plausible
            },
            {
                "agreement_id": "AG2",
                "customer_id": "B",
                "agreement_type": "managed_services",
                "start_date": "2025-01-01",
            },
        ],
    )
    write_table(
        landing,
        "agreement_lines",
        [
            agreement_line("AL1", "AG1", "10", "100"),
            agreement_line("AL2", "AG2", "5", "20.123456"),
            agreement_line("AL3", "AG1", "-651", "100"),
            agreement_line("AL4", "AG1", "1", "-5"),
            agreement_line("AL5", "AG2", "1", "100", effective_date="9999-01-01"),
            agreement_line("AL6", "AG2", "1", "100", cancelled_date="infinity"),
        ],
    )
    write_table(
        landing,
        "invoice_lines",
        [
            invoice_line(1, "2025-01-10", "A", "1000.00"),
            invoice_line(2, "2025-02-10", "A", "1000.00"),
            invoice_line(3, "2025-03-10", "A", "1000.00"),
            invoice_line(4, "2025-03-31", "B", "100.62", quantity="1.000001"),
            invoice_line(5, "2062-05-01", "A", "1000.00"),
            invoice_line(6, "infinity", "A", "1.00"),
            invoice_line(7, "-infinity", "A", "2.00"),
            invoice_line(8, "1989-12-31", "A", "4.00"),
        ],
    )
    write_table(
        landing,
        "time_entries",
        [
            {
                "time_entry_id": f"T{n}",
                "work_date": work_date,
                "customer_id": "A",
                "hours_actual": "1",
                "loaded_hourly_cost": "50",
            }
            for n, work_date in ((1, "2025-02-03"), (2, "2062-01-01"))
        ],
    )
    write_table(landing, "churn_events", [])


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("implausible_values")
    write_landing(root / "landing")
    warehouse = root / "portfolio.duckdb"
    # Only what the tests read (the staging models are parents of these).
    build_warehouse(
        root / "landing",
        warehouse,
        select="+portfolio_concentration +retention_summary +rejected_rows +data_quality_summary",
    )
    return warehouse


def test_implausible_dates_and_negative_values_are_rejected(warehouse: Path) -> None:
    rows = query(
        warehouse,
        f"select source_table, reason, {KEY} from audit.rejected_rows order by 1, 3",
    )
    assert rows == [
        ("agreement_lines", "negative_value", "AL3"),
        ("agreement_lines", "negative_value", "AL4"),
        ("agreement_lines", "date_out_of_range", "AL5"),
        ("agreement_lines", "date_out_of_range", "AL6"),
        ("invoice_lines", "date_out_of_range", "L5"),
        ("invoice_lines", "date_out_of_range", "L6"),
        ("invoice_lines", "date_out_of_range", "L7"),
        ("invoice_lines", "date_out_of_range", "L8"),
        ("time_entries", "date_out_of_range", "T2"),
    ]
    assert query(warehouse, "select count(*) from staging.stg_landing__agreements") == [(2,)]


def test_the_detail_names_column_value_and_the_same_window_as_python(warehouse: Path) -> None:
    (exported_at,) = query(warehouse, "select max(loaded_at) from landing.load_log")[0]
    lower, upper = plausible_event_window(exported_at.date(), 1990)
    details = dict(
        query(
            warehouse,
            f"select {KEY}, detail from audit.rejected_rows",
        )
    )
    assert details["L5"] == (
        f"invoice_date '2062-05-01' is outside {lower}..{upper} (event date: "
        "earliest_plausible_year to the end of the month after the export date "
        f"{exported_at.date()})"
    )
    assert details["L6"].startswith("invoice_date 'infinity' is outside 1990-01-01..")
    assert details["L8"].startswith("invoice_date '1989-12-31' is outside 1990-01-01..")
    assert details["T2"].startswith(f"work_date '2062-01-01' is outside {lower}..{upper} (")
    assert details["AL5"] == (
        "effective_date '9999-01-01' is outside 1990-01-01..2199-12-31 "
        "(contract date: earliest_plausible_year to latest_plausible_year)"
    )
    assert details["AL3"] == "quantity -651 is negative"
    assert details["AL4"] == "unit_price -5 is negative"


def test_months_end_where_the_plausible_invoices_end(warehouse: Path) -> None:
    months = query(warehouse, "select month_start from utilities.month_spine order by 1")
    assert months == [(date(2025, 1, 1),), (date(2025, 2, 1),), (date(2025, 3, 1),)]
    last = query(warehouse, "select max(as_of_month) from marts.portfolio_concentration")
    assert last == [(date(2025, 3, 1),)]


def test_mrr_counts_only_the_plausible_lines(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select as_of_month, ending_mrr from marts.retention_summary order by as_of_month",
    )
    mrr = Decimal("1000") + 5 * Decimal("20.1235")
    assert rows == [(date(2025, month, 1), mrr) for month in (1, 2, 3)]


def test_rounded_values_are_reported_in_the_panel(warehouse: Path) -> None:
    rows = query(
        warehouse,
        """
        select source_table, column_name, is_accepted, is_informational, row_count,
               rounding_difference
        from audit.data_quality_summary where outcome = 'rounded' order by 1, 2
        """,
    )
    assert rows == [
        # |exported - kept|: |20.123456 - 20.1235| and |1.000001 - 1|.
        (
            "agreement_lines",
            "unit_price",
            True,
            True,
            1,
            abs(Decimal("20.123456") - Decimal("20.1235")),
        ),
        ("invoice_lines", "quantity", True, True, 1, Decimal("1.000001") - 1),
    ]
    # Informational rows add nothing to rows_read: 8 invoice lines, 6 agreement lines.
    read = query(
        warehouse,
        "select source_table, max(rows_read) from audit.data_quality_summary "
        "where source_table in ('agreement_lines', 'invoice_lines') group by 1 order by 1",
    )
    assert read == [("agreement_lines", 6), ("invoice_lines", 8)]
    kept = query(
        warehouse,
        "select unit_price from staging.stg_landing__agreement_lines "
        "where agreement_line_id = 'AL2'",
    )
    assert kept == [(Decimal("20.1235"),)]
