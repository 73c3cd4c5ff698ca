"""The whole build on a real invoicing export: UCI Online Retail (2010-12 … 2011-12).

``tests/fixtures/online_retail/online_retail_2010_2011.parquet`` (source and licence in the
README next to it) is converted by ``orchestration.landing.online_retail`` into a landing
folder with
only the three required tables and built with the loader and ``dbt build``. The expected
figures are computed here straight from the Parquet file with pandas and Python ``Decimal``,
by the definitions of the README glossary, never from the converter's output or the build:

- a line's amount is Quantity × UnitPrice, the price read from its shortest decimal text;
- a line without CustomerID is quarantined (``missing_value``), every other line is accepted;
- months run from the first to the last invoice month; the TTM window of M is M-11 … M; a
  customer is active at M when its TTM revenue is above 0;
- HHI = Σ (100 · share)², Gini = Σ_i Σ_j |x_i − x_j| / (2 n · Σ x), the Pareto 80 count is
  the fewest top customers whose revenue reaches 80 % of the total, rank 1 is the largest
  customer (ties by customer_id).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from orchestration.landing.online_retail import convert
from tests.conftest import PROJECT_DIR, build_warehouse, query

pytestmark = pytest.mark.slow

EXPORT = PROJECT_DIR / "tests" / "fixtures" / "online_retail" / "online_retail_2010_2011.parquet"
CHECKED_MONTHS = [date(2011, 11, 1), date(2011, 12, 1)]


def month_index(month: date) -> int:
    return month.year * 12 + month.month - 1


@pytest.fixture(scope="module")
def export() -> pd.DataFrame:
    """The export, one row per line, with the customer as text, the month and the amount."""
    lines = pd.read_parquet(EXPORT)
    lines["customer"] = [None if pd.isna(c) else str(int(c)) for c in lines["CustomerID"]]
    lines["month"] = [date(t.year, t.month, 1) for t in lines["InvoiceDate"]]
    lines["amount"] = [
        Decimal(repr(float(price))) * int(quantity)
        for price, quantity in zip(lines["UnitPrice"], lines["Quantity"], strict=True)
    ]
    return lines


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The export converted and built once; tests only read the warehouse."""
    root = tmp_path_factory.mktemp("online_retail")
    convert([EXPORT], root / "landing", "parquet")
    warehouse = root / "portfolio.duckdb"
    build_warehouse(root / "landing", warehouse)
    return warehouse


def ttm_revenue_by_customer(export: pd.DataFrame, as_of_month: date) -> dict[str, Decimal]:
    """TTM revenue of every customer with lines in the window of ``as_of_month``."""
    end = month_index(as_of_month)
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for customer, month, amount in zip(
        export["customer"], export["month"], export["amount"], strict=True
    ):
        if pd.notna(customer) and end - 11 <= month_index(month) <= end:
            revenue[customer] += amount
    return revenue


def expected_concentration(export: pd.DataFrame, as_of_month: date) -> dict[str, object]:
    active = {c: r for c, r in ttm_revenue_by_customer(export, as_of_month).items() if r > 0}
    ranked = sorted(active.items(), key=lambda item: (-item[1], item[0]))
    revenues = [r for _, r in ranked]
    total = sum(revenues)
    n = len(revenues)
    running, pareto = Decimal(0), 0
    for revenue in revenues:
        pareto += 1
        running += revenue
        if running >= Decimal("0.8") * total:
            break
    # Σ_i Σ_j |x_i − x_j| from the ascending order: each x_(i) exceeds the i − 1 before it.
    ascending = sorted(revenues)
    absolute_differences = 2 * sum((2 * i - n - 1) * x for i, x in enumerate(ascending, start=1))
    return {
        "active_customers": n,
        "revenue_ttm": total,
        "hhi": sum(float(100 * r / total) ** 2 for r in revenues),
        "gini": float(absolute_differences / (2 * n * total)),
        "pareto_80_customer_count": pareto,
        "top1_customer_id": ranked[0][0],
    }


def test_months_run_from_first_to_last_invoice_month(warehouse: Path, export: pd.DataFrame) -> None:
    months = [
        m for (m,) in query(warehouse, "select as_of_month from marts.portfolio_concentration")
    ]
    accepted = export[export["customer"].notna()]
    assert min(months) == min(accepted["month"]) == date(2010, 12, 1)
    assert max(months) == max(accepted["month"]) == date(2011, 12, 1)
    assert len(months) == len(set(months)) == 13


@pytest.mark.parametrize("as_of_month", CHECKED_MONTHS, ids=str)
def test_concentration_matches_the_export(
    warehouse: Path, export: pd.DataFrame, as_of_month: date
) -> None:
    expected = expected_concentration(export, as_of_month)
    ((customers, revenue, hhi, gini, pareto),) = query(
        warehouse,
        "select active_customers, revenue_ttm, hhi, gini, pareto_80_customer_count "
        f"from marts.portfolio_concentration where as_of_month = '{as_of_month}'",
    )
    ((top1,),) = query(
        warehouse,
        "select customer_id from marts.customer_concentration "
        f"where as_of_month = '{as_of_month}' and revenue_rank = 1",
    )
    assert customers == expected["active_customers"]
    assert revenue == expected["revenue_ttm"]
    assert hhi == pytest.approx(expected["hhi"], abs=1e-9)
    assert gini == pytest.approx(expected["gini"], abs=1e-9)
    assert pareto == expected["pareto_80_customer_count"]
    assert top1 == expected["top1_customer_id"]


def test_lines_without_a_customer_are_quarantined_and_counted(
    warehouse: Path, export: pd.DataFrame
) -> None:
    panel = {
        outcome: (rows, amount, rows_read)
        for outcome, rows, amount, rows_read in query(
            warehouse,
            "select outcome, row_count, amount, rows_read from audit.data_quality_summary "
            "where source_table = 'invoice_lines' and not is_informational",
        )
    }
    without_customer = export[export["customer"].isna()]
    with_customer = export[export["customer"].notna()]
    assert set(panel) == {"accepted", "missing_value"}
    assert panel["missing_value"][:2] == (len(without_customer), sum(without_customer["amount"]))
    assert panel["accepted"][:2] == (len(with_customer), sum(with_customer["amount"]))
    assert panel["accepted"][0] + panel["missing_value"][0] == len(export) == 541_909
    assert panel["accepted"][2] == panel["missing_value"][2] == 541_909
    ((details,),) = query(
        warehouse,
        "select list(distinct detail) from audit.rejected_rows "
        "where source_table = 'invoice_lines'",
    )
    assert details == ["customer_id is empty"]


def test_every_customer_is_accepted(warehouse: Path, export: pd.DataFrame) -> None:
    ((accepted, rows_read),) = query(
        warehouse,
        "select row_count, rows_read from audit.data_quality_summary "
        "where source_table = 'customers' and outcome = 'accepted'",
    )
    assert accepted == rows_read == export["customer"].nunique() == 4_372


def test_line_ids_do_not_depend_on_row_order(tmp_path: Path) -> None:
    """The same lines in the opposite order, and split over two overlapping exports, get the
    same ids and land once."""
    lines = pd.read_parquet(EXPORT)
    december = lines[lines["InvoiceDate"] < "2011-01-01"]
    december.to_parquet(tmp_path / "in_order.parquet")
    december.iloc[::-1].to_parquet(tmp_path / "reversed.parquet")
    # Overlapping exports cut by date: 1 … 14 December, and 8 … 31 December backwards.
    december[december["InvoiceDate"] < "2010-12-15"].to_parquet(tmp_path / "first.parquet")
    second = december[december["InvoiceDate"] >= "2010-12-08"]
    second.iloc[::-1].to_parquet(tmp_path / "second.parquet")
    convert([tmp_path / "in_order.parquet"], tmp_path / "a", "csv")
    convert([tmp_path / "reversed.parquet"], tmp_path / "b", "csv")
    convert([tmp_path / "first.parquet", tmp_path / "second.parquet"], tmp_path / "c", "csv")
    read = [pd.read_csv(tmp_path / f / "invoice_lines.csv", dtype=str) for f in "abc"]
    in_order, reversed_, overlapping = (
        frame.sort_values("invoice_line_id").reset_index(drop=True) for frame in read
    )
    assert in_order["invoice_line_id"].is_unique
    assert len(in_order) == len(december)
    pd.testing.assert_frame_equal(in_order, reversed_)
    pd.testing.assert_frame_equal(in_order, overlapping)
