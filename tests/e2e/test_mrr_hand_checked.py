"""MRR, movements, the bridge and churn events on a hand-made landing folder, checked by hand.

Agreements and lines (dates exclusive at the end; a month counts when in force on its last day):

    A   from 2024-05-01, open: 10 × 50 monthly = 500; from 2025-03-01 also 1 × 1 200 annual
        = 1 200 / 12 = 100                                     → 500, 600 from 2025-03
    B   agreement 2025-01-15, cancelled 2025-04-30 with its line left open: 4 × 75 quarterly
        = 300 / 3 = 100; not in force on 2025-04-30           → 100 in 2025-01 … 2025-03
    C   two concurrent agreements: 3 × 100 monthly = 300 from 2024-12-01, open; 1 × 90 monthly
        under a fixed term 2025-02-01 … 2025-05-01             → 300, 390 in 2025-02 … 04
    D   2 × 100 monthly from 2024-11-01, line cancelled 2025-03-31 (not in force on March's
        last day) → 200 in 2024-11 … 2025-02; back with 1 × 150 from 2025-05-20 → 150
    E   from 2025-06-01: 1 × 1 000 annual = 83.333333 and 1 × 100 quarterly = 33.333333
        (each line rounded to 6 decimals)                      → 116.666666
    F   an open-ended agreement starting 2025-09-01, after the last month of data → nothing
    G   1 × 250 monthly, agreement 2024-06-01 cancelled 2024-09-01 → 250 in 2024-06 … 08

Invoices run 2025-01 … 2025-06, so the MRR months are 2024-05 (A's first month) … 2025-06.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import build_warehouse, query, write_table

pytestmark = pytest.mark.slow

# (month, customer_id, movement, mrr, previous_mrr), worked out from the table above.
EXPECTED_MOVEMENTS = [
    ("2024-05", "A", "new", "500", "0"),
    ("2024-06", "A", "unchanged", "500", "500"),
    ("2024-06", "G", "new", "250", "0"),
    ("2024-07", "A", "unchanged", "500", "500"),
    ("2024-07", "G", "unchanged", "250", "250"),
    ("2024-08", "A", "unchanged", "500", "500"),
    ("2024-08", "G", "unchanged", "250", "250"),
    ("2024-09", "A", "unchanged", "500", "500"),
    ("2024-09", "G", "churn", "0", "250"),
    ("2024-10", "A", "unchanged", "500", "500"),
    ("2024-11", "A", "unchanged", "500", "500"),
    ("2024-11", "D", "new", "200", "0"),
    ("2024-12", "A", "unchanged", "500", "500"),
    ("2024-12", "C", "new", "300", "0"),
    ("2024-12", "D", "unchanged", "200", "200"),
    # A has had MRR since 2024-05: unchanged, not new, in the first invoice month.
    ("2025-01", "A", "unchanged", "500", "500"),
    ("2025-01", "B", "new", "100", "0"),
    ("2025-01", "C", "unchanged", "300", "300"),
    ("2025-01", "D", "unchanged", "200", "200"),
    ("2025-02", "A", "unchanged", "500", "500"),
    ("2025-02", "B", "unchanged", "100", "100"),
    ("2025-02", "C", "expansion", "390", "300"),  # 300 + 90 from the second agreement
    ("2025-02", "D", "unchanged", "200", "200"),
    ("2025-03", "A", "expansion", "600", "500"),  # + 1 200 / 12
    ("2025-03", "B", "unchanged", "100", "100"),
    ("2025-03", "C", "unchanged", "390", "390"),
    ("2025-03", "D", "churn", "0", "200"),  # cancelled on 2025-03-31
    ("2025-04", "A", "unchanged", "600", "600"),
    ("2025-04", "B", "churn", "0", "100"),  # agreement cancelled 2025-04-30
    ("2025-04", "C", "unchanged", "390", "390"),
    ("2025-05", "A", "unchanged", "600", "600"),
    ("2025-05", "C", "contraction", "300", "390"),  # fixed term ended 2025-05-01
    ("2025-05", "D", "reactivation", "150", "0"),  # no row for D in 2025-04
    ("2025-06", "A", "unchanged", "600", "600"),
    ("2025-06", "C", "unchanged", "300", "300"),
    ("2025-06", "D", "unchanged", "150", "150"),
    ("2025-06", "E", "new", "116.666666", "0"),
]

#: The month rebuilt by test_rebuilding_one_month_leaves_the_marts_identical.
REBUILD_VARS = "{as_of_month: '2025-03'}"

#: MRR per customer per month with MRR (from EXPECTED_MOVEMENTS), for the invoices.
MRR = {(m, c): Decimal(mrr) for m, c, _, mrr, _ in EXPECTED_MOVEMENTS if Decimal(mrr) > 0}


def agreement(agreement_id, customer, start, end="", cancelled=""):
    return {
        "agreement_id": agreement_id,
        "customer_id": customer,
        "agreement_type": "managed_services",
        "start_date": start,
        "end_date": end,
        "cancelled_date": cancelled,
    }


def line(line_id, agreement_id, offering, quantity, price, cycle, effective, cancelled=""):
    return {
        "agreement_line_id": line_id,
        "agreement_id": agreement_id,
        "offering_id": offering,
        "quantity": quantity,
        "unit_price": price,
        "billing_cycle": cycle,
        "effective_date": effective,
        "cancelled_date": cancelled,
    }


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mrr_hand_checked")
    landing = root / "landing"
    landing.mkdir()
    write_table(
        landing,
        "customers",
        [
            {
                "customer_id": c,
                "customer_name": f"Customer {c}",
                "industry": "legal",
                "employee_count": "50",
                "created_date": "2024-01-01",
            }
            for c in "ABCDEFG"
        ],
    )
    write_table(
        landing,
        "offerings",
        [
            {
                "offering_id": offering,
                "offering_name": name,
                "offering_family": "msp",
                "revenue_type": "mrr",
                "lifecycle": "current",
                "is_full_package_component": "true",
            }
            for offering, name in (("MS", "Managed services"), ("BK", "Backup"))
        ],
    )
    write_table(
        landing,
        "agreements",
        [
            agreement("A1", "A", "2024-05-01"),
            agreement("B1", "B", "2025-01-15", cancelled="2025-04-30"),
            agreement("C1", "C", "2024-12-01"),
            agreement("C2", "C", "2025-02-01", end="2025-05-01"),
            agreement("D1", "D", "2024-11-01"),
            agreement("D2", "D", "2025-05-20"),
            agreement("E1", "E", "2025-06-01"),
            agreement("F1", "F", "2025-09-01"),
            agreement("G1", "G", "2024-06-01", cancelled="2024-09-01"),
        ],
    )
    write_table(
        landing,
        "agreement_lines",
        [
            line("A1-MS", "A1", "MS", "10", "50", "monthly", "2024-05-01"),
            line("A1-BK", "A1", "BK", "1", "1200", "annual", "2025-03-01"),
            line("B1-MS", "B1", "MS", "4", "75", "quarterly", "2025-01-15"),
            line("C1-MS", "C1", "MS", "3", "100", "monthly", "2024-12-01"),
            line("C2-BK", "C2", "BK", "1", "90", "monthly", "2025-02-01"),
            line("D1-MS", "D1", "MS", "2", "100", "monthly", "2024-11-01", "2025-03-31"),
            line("D2-MS", "D2", "MS", "1", "150", "monthly", "2025-05-20"),
            line("E1-MS", "E1", "MS", "1", "1000", "annual", "2025-06-01"),
            line("E1-BK", "E1", "BK", "1", "100", "quarterly", "2025-06-01"),
            line("F1-MS", "F1", "MS", "1", "999", "monthly", "2025-09-01"),
            line("G1-MS", "G1", "MS", "1", "250", "monthly", "2024-06-01"),
        ],
    )
    # Each customer invoiced its MRR (to the cent) in every month of 2025-01 … 2025-06.
    write_table(
        landing,
        "invoice_lines",
        [
            {
                "invoice_line_id": f"{customer}-{month}",
                "invoice_id": f"{customer}-{month}",
                "invoice_date": f"{month}-01",
                "customer_id": customer,
                "offering_id": "MS",
                "revenue_type": "mrr",
                "quantity": "1",
                "extended_price": str(mrr.quantize(Decimal("0.01"))),
                "extended_cost": "0",
            }
            for (month, customer), mrr in MRR.items()
            if month >= "2025-01"
        ],
    )
    write_table(landing, "time_entries", [])
    write_table(
        landing,
        "churn_events",
        [
            {
                "churn_event_id": "CE-B",
                "customer_id": "B",
                "event_type": "full_churn",
                "notice_date": "2025-02-15",
                "effective_date": "2025-04-30",
                "reason_code": "price",
                "initiated_by": "customer",
                "was_flagged_at_risk": "true",
            },
            {
                "churn_event_id": "CE-C",
                "customer_id": "C",
                "offering_id": "BK",
                "event_type": "offering_cancel",
                "notice_date": "2025-03-01",
                "effective_date": "2025-05-01",
                "reason_code": "mystery",
                "initiated_by": "customer",
            },
        ],
    )
    warehouse = root / "portfolio.duckdb"
    # On a new warehouse every month is built whatever the month vars say; passing the vars of
    # the one-month rebuild below lets that rebuild reuse dbt's parse.
    build_warehouse(landing, warehouse, vars_=REBUILD_VARS)
    return warehouse


def test_movements(warehouse: Path) -> None:
    rows = query(
        warehouse,
        """
        select strftime(as_of_month, '%Y-%m'), customer_id, movement, mrr, previous_mrr
        from marts.mrr_movements order by as_of_month, customer_id
        """,
    )
    expected = [
        (m, c, mv, Decimal(mrr), Decimal(prev)) for m, c, mv, mrr, prev in EXPECTED_MOVEMENTS
    ]
    assert rows == expected


def test_bridge_and_rates(warehouse: Path) -> None:
    rows = {
        month: rest
        for month, *rest in query(
            warehouse,
            """
            select strftime(as_of_month, '%Y-%m'), starting_mrr, new_mrr, expansion_mrr,
                   contraction_mrr, churned_mrr, reactivation_mrr, ending_mrr,
                   starting_customers, ending_customers, grr, nrr, logo_churn_rate,
                   nrr_12m, grr_12m
            from marts.retention_summary order by as_of_month
            """,
        )
    }
    assert len(rows) == 14  # 2024-05 … 2025-06
    ending = [rows[m][6] for m in sorted(rows)]
    # 2024-05 … 2024-10: A 500, G 250 in 06 … 08; then D from 2024-11, C from 2024-12, …
    assert ending == [
        Decimal(x) for x in (500, 750, 750, 750, 500, 500, 700, 1000, 1100, 1190, 1090, 990, 1050)
    ] + [Decimal("1166.666666")]
    # 2025-03: 1 190 (A 500 + B 100 + C 390 + D 200) + 100 (A) − 200 (D) = 1 090.
    *money, starting_n, ending_n, grr, nrr, logo, nrr_12m, grr_12m = rows["2025-03"]
    assert money == [Decimal(x) for x in ("1190", "0", "100", "0", "200", "0", "1090")]
    assert (starting_n, ending_n) == (4, 3)
    assert grr == pytest.approx(990 / 1190)  # (1 190 − 0 − 200) / 1 190
    assert nrr == pytest.approx(1090 / 1190)  # (1 190 + 100 − 0 − 200) / 1 190
    assert logo == pytest.approx(0.25)  # D of A, B, C, D
    # 2025-05: 990 (A 600 + C 390) − 90 (C) + 150 (D back) = 1 050; no churn.
    *money, starting_n, ending_n, grr, nrr, logo, nrr_12m, grr_12m = rows["2025-05"]
    assert money == [Decimal(x) for x in ("990", "0", "0", "90", "0", "150", "1050")]
    assert grr == pytest.approx(900 / 990)
    assert nrr == pytest.approx(900 / 990)
    assert logo == 0
    # Cohort of 2024-05: A at 500, now 600.
    assert nrr_12m == pytest.approx(1.2)
    assert grr_12m == pytest.approx(1.0)
    # 2025-06: cohort of 2024-06 is A 500 + G 250 = 750; now A 600, G 0.
    *money, starting_n, ending_n, grr, nrr, logo, nrr_12m, grr_12m = rows["2025-06"]
    assert money[1] == Decimal("116.666666") and money[6] == Decimal("1166.666666")
    assert nrr_12m == pytest.approx(600 / 750)
    assert grr_12m == pytest.approx(500 / 750)  # A capped at its 500
    # No month twelve months before 2025-04 is reported.
    assert rows["2025-04"][12:] == [None, None]
    # Months before the first invoice month (2025-01) are flagged.
    flags = query(
        warehouse,
        "select is_in_invoice_history, count(*) from marts.retention_summary group by 1 order by 1",
    )
    assert flags == [(False, 8), (True, 6)]


def test_churn_events(warehouse: Path) -> None:
    rows = {
        row[0]: row[1:]
        for row in query(
            warehouse,
            """
            select churn_event_id, event_type, reason_code, is_avoidable, is_expected,
                   churn_quadrant, effective_date, mrr_lost
            from marts.churn_events
            """,
        )
    }
    assert rows == {
        # Explains B's April churn; loses B's March MRR.
        "CE-B": ("full_churn", "price", True, True, "E&A", date(2025, 4, 30), Decimal(100)),
        # Unknown reason kept; the BK line in force on 2025-04-30.
        "CE-C": ("offering_cancel", "mystery", None, False, "unclassified", date(2025, 5, 1),
                 Decimal(90)),
        # No event for D's March churn: D's line ended 2025-03-31; loses February's 200.
        "unrecorded-D-2025-03": ("full_churn", "unrecorded", None, False, "unclassified",
                                 date(2025, 3, 31), Decimal(200)),
        "unrecorded-G-2024-09": ("full_churn", "unrecorded", None, False, "unclassified",
                                 date(2024, 9, 1), Decimal(250)),
    }  # fmt: skip


def test_classification_at_churn(warehouse: Path) -> None:
    rows = query(
        warehouse,
        """
        select churn_events.churn_event_id, churn_events.classification_as_of_month,
               churn_events.classification_at_churn, customer_classification.classification
        from marts.churn_events
        left join marts.customer_classification
            on churn_events.customer_id = customer_classification.customer_id
            and churn_events.classification_as_of_month = customer_classification.as_of_month
        order by 1
        """,
    )
    by_event = {event: rest for event, *rest in rows}
    # B churned effective in April: its class at 2025-03; D's March churn: at 2025-02.
    assert by_event["CE-B"][0] == date(2025, 3, 1)
    assert by_event["unrecorded-D-2025-03"][0] == date(2025, 2, 1)
    for event in ("CE-B", "unrecorded-D-2025-03"):
        assert by_event[event][1] is not None
        assert by_event[event][1] == by_event[event][2]
    # G left before the invoice history: never classified.
    assert by_event["unrecorded-G-2024-09"] == [None, None, None]


def test_rebuilding_one_month_leaves_the_marts_identical(warehouse: Path) -> None:
    tables = (
        "marts.mrr_movements",
        "marts.retention_summary",
        "marts.churn_events",
        "marts.gross_profit_bridge",
    )

    def snapshot() -> dict[str, list[tuple]]:
        return {t: query(warehouse, f"select * from {t} order by all") for t in tables}

    before = snapshot()
    landing = warehouse.parent / "landing"
    build_warehouse(landing, warehouse, select="marts.churn", vars_=REBUILD_VARS)
    assert snapshot() == before
