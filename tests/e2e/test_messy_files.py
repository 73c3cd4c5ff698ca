"""End to end: a Windows-1252 customers export keeps every customer's invoices in the marts.

Before the loader read encodings, a byte such as ``ü`` (0xFC) in the first 8 KB stopped the
build, and further down it made DuckDB reject the customer's line, so its invoices were
rejected as ``unknown_customer`` and its revenue vanished from the marts. Here the customers
file is Windows-1252 with an accented name on the first line and another after 8 KB; by hand,
in 2025-01 C1 is invoiced 400.00 + 250.50 = 650.50 and C2 100.25 + 99.75 = 200.00.
"""

from __future__ import annotations

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

FIRST = "Müller & Söhne GmbH"
LATE = "Café Zoë – Ærø"


def invoice(line: int, customer: str, amount: str) -> dict[str, str]:
    return invoice_line(line, "2025-01-15", customer, amount)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("messy_files")
    landing = root / "landing"
    landing.mkdir()
    filler = [{"customer_id": f"F{i:03}", "customer_name": f"Filler {i:03}"} for i in range(400)]
    write_table(
        landing,
        "customers",
        [{"customer_id": "C1", "customer_name": FIRST}, *filler]
        + [{"customer_id": "C2", "customer_name": LATE}],
    )
    customers = landing / "customers.csv"
    text = customers.read_text(encoding="utf-8")
    assert text.index(LATE) > 8192
    customers.write_bytes(text.encode("cp1252"))  # a Windows export
    write_table(landing, "offerings", [MANAGED_SERVICES_OFFERING])
    write_table(
        landing,
        "invoice_lines",
        [
            invoice(1, "C1", "400.00"),
            invoice(2, "C1", "250.50"),
            invoice(3, "C2", "100.25"),
            invoice(4, "C2", "99.75"),
        ],
    )
    warehouse = root / "portfolio.duckdb"
    build_warehouse(landing, warehouse, select="+customer_concentration +rejected_rows")
    return warehouse


def test_windows_1252_customers_keep_their_names_and_revenue(warehouse: Path) -> None:
    rows = query(
        warehouse,
        """
        select customer_id, customer_name, revenue_ttm from marts.customer_concentration
        where as_of_month = date '2025-01-01' order by customer_id
        """,
    )
    assert rows == [("C1", FIRST, 650.50), ("C2", LATE, 200.00)]


def test_nothing_is_rejected_and_the_log_names_the_encoding(warehouse: Path) -> None:
    assert query(warehouse, "select count(*) from audit.rejected_rows") == [(0,)]
    assert query(
        warehouse,
        "select note from landing.load_log where table_name = 'customers'",
    ) == [("encoding cp1252 (detected: not UTF-8 from line 2), transcoded to UTF-8",)]


@pytest.fixture(scope="module")
def declared_utf8_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """UTF-8 declared; the second invoice line carries a Windows-1252 byte (0xFC)."""
    root = tmp_path_factory.mktemp("declared_utf8")
    landing = root / "landing"
    landing.mkdir()
    write_table(landing, "customers", [{"customer_id": "C1", "customer_name": "Plain"}])
    write_table(landing, "offerings", [MANAGED_SERVICES_OFFERING])
    write_table(
        landing,
        "invoice_lines",
        [invoice(1, "C1", "400.00"), invoice(2, "C1", "250.50"), invoice(3, "C1", "99.75")],
    )
    invoices = landing / "invoice_lines.csv"
    lines = invoices.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"L2", b"L\xfc2", 1)  # line 3 of the file: header, L1, L2
    invoices.write_bytes(b"\n".join(lines))
    warehouse = root / "portfolio.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PORTFOLIO_LANDING_ENCODING", "utf-8")
        build_warehouse(
            landing,
            warehouse,
            select="+customer_concentration +rejected_rows +data_quality_summary",
        )
    return warehouse


def test_an_undecodable_line_is_set_aside_by_line_number(declared_utf8_warehouse: Path) -> None:
    rejected = query(
        declared_utf8_warehouse,
        "select source_table, reason, line_number from audit.rejected_rows",
    )
    assert rejected == [("invoice_lines", "undecodable_line", 3)]
    outcomes = query(
        declared_utf8_warehouse,
        "select outcome, row_count from audit.data_quality_summary"
        " where source_table = 'invoice_lines' and outcome != 'accepted' order by outcome",
    )
    assert outcomes == [("undecodable_line", 1)]
    # Only that line is gone: 400.00 + 99.75.
    assert query(
        declared_utf8_warehouse,
        "select revenue_ttm from marts.customer_concentration where as_of_month = '2025-01-01'",
    ) == [(499.75,)]
