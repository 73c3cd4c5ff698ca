"""End to end: customer classification (Part B) and offering penetration (Part C).

Two warehouses, built with the real loader and dbt:

1. A hand-made landing folder whose figures are worked out by hand below.
2. Generated demo data (the session's ``demo_build``), for which classification, penetration
   and cross-sell are recomputed here independently, in plain Python with exact decimals,
   straight from the landing CSVs.

The hand-made portfolio (months 2025-01 … 2025-06, so 2025-03 is the first quarter end and
2025-06 the second). Offerings MS1 and MS2 are the full package (current mrr), LEG is a legacy
mrr offering, TM is T&M labour, HW hardware resale, NEW a current offering nobody buys.

========  ==========================================  ===============================
customer  invoice lines (price / cost)                time entries (hours × cost/hour)
========  ==========================================  ===============================
A         01-10 MS1 400 / 100, 02-10 MS2 200 / 0      01-20 10 h × 20 = 200
B         02-12 LEG 250 / 0, 04-10 LEG −250 (credit)  02-20 10 h × 20 = 200
C         03-05 HW 100 / 60
D         03-10 TM 50 / 0, 06-10 TM 1 000 / 0         03-20 2 h × 20 = 40, 06-20 28 h × 20 = 560
F         01-15 TM 30, 02-20 TM −30 (credit)
G         05-10 HW 10 / 0
========  ==========================================  ===============================

TCP (industries incl. legal and accounting, 10 … 250 employees): A legal/50 by the rules; B
retail; C legal/50 but tcp_override false; D retail/5 000 but tcp_override true; F legal with no
employee_count (outside); G accounting/20 by the rules.

As of 2025-03 (window 2024-04 … 2025-03): F nets to 0 and is inactive. Revenue A 600, B 250,
C 100, D 50 = 1 000; cost A 300 (100 + 200), B 200, C 60, D 40; margin A 300 (50 %), B 50
(20 %), C 40 (40 %), D 10 (20 %) = 400, so the portfolio margin is 40 %. 80 % of 1 000 = 800:
A (0 above it) and B (600 above it, crosses to 850) are large; C has 850 above it and is small.
C's 40 % equals the portfolio's exactly: high margin. Classes A, B, C, D.
Penetration (4 active, TCP A and D): MS1 A 400, MS2 A 200, LEG B 250, TM D 50, HW C 100 — each
0.25; NEW 0, ARPO null. Whitespace (current offerings with an owner: MS1 400, MS2 200, TM 50,
HW 100): A 150, B 750, C 650, D 700 = 2 250; at full cross-sell 3 250, ratio 1 000 / 3 250.
Only A is on the full package (and in the TCP): 1 / 4 = 0.25. Offerings owned 5 / 4 = 1.25.

As of 2025-06 (window 2024-07 … 2025-06): B is credited to 0 (lost). Revenue D 1 050, A 600,
C 100, G 10 = 1 760, 80 % = 1 408: D and A (1 050 above it) are large. Margin A 300, C 40,
D 1 050 − 600 = 450, G 10 = 800, portfolio 800 / 1 760 = 45.45 %: A 50 % high → A (unchanged);
D 42.9 % low → B (D → B upgrade); C 40 % low → D (C → D downgrade); G 100 % → C (new).
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.conftest import build_warehouse, compile_model, query, write_table

pytestmark = pytest.mark.slow

MARTS = (
    "customer_classification",
    "classification_transitions",
    "customer_offering_matrix",
    "offering_penetration",
    "customer_cross_sell",
    "portfolio_cross_sell",
)
# Only what the classification and penetration marts need (and their tests).
SELECT = " ".join(f"+{mart}" for mart in MARTS)


@contextmanager
def only_buildable_tests() -> Iterator[None]:
    """Let dbt skip the tests of models outside the selection (DBT_INDIRECT_SELECTION)."""
    previous = os.environ.get("DBT_INDIRECT_SELECTION")
    os.environ["DBT_INDIRECT_SELECTION"] = "buildable"
    try:
        yield
    finally:
        if previous is None:
            del os.environ["DBT_INDIRECT_SELECTION"]
        else:
            os.environ["DBT_INDIRECT_SELECTION"] = previous


@pytest.fixture(scope="module")
def hand_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("classification_hand")
    (root / "landing").mkdir()
    write_hand_landing(root / "landing")
    warehouse = root / "portfolio.duckdb"
    with only_buildable_tests():
        build_warehouse(root / "landing", warehouse, select=SELECT)
    return warehouse


@pytest.fixture(scope="module")
def demo_warehouse(demo_build: tuple[Path, Path]) -> Path:
    """The session's generated portfolio (read only), next to its ``landing`` folder."""
    landing, warehouse = demo_build
    assert landing == warehouse.parent / "landing"
    return warehouse


# --- the hand-made portfolio -------------------------------------------------------------------


def offering(offering_id: str, revenue_type: str, lifecycle: str, component: bool) -> dict:
    return {
        "offering_id": offering_id,
        "offering_name": offering_id,
        "offering_family": "family",
        "revenue_type": revenue_type,
        "lifecycle": lifecycle,
        "is_full_package_component": "true" if component else "false",
    }


REVENUE_TYPES = {"MS1": "mrr", "MS2": "mrr", "LEG": "mrr", "TM": "t_and_m", "HW": "product_resale"}


def invoice(line: int, day: str, customer: str, offering_id: str, price: str, cost: str = "0"):
    return {
        "invoice_line_id": f"L{line}",
        "invoice_id": f"I{line}",
        "invoice_date": day,
        "customer_id": customer,
        "offering_id": offering_id,
        "revenue_type": REVENUE_TYPES[offering_id],
        "quantity": "1",
        "extended_price": price,
        "extended_cost": cost,
    }


def time_entry(entry: int, day: str, customer: str, hours: str) -> dict:
    return {
        "time_entry_id": f"T{entry}",
        "work_date": day,
        "customer_id": customer,
        "technician_id": "TECH-1",
        "hours_actual": hours,
        "loaded_hourly_cost": "20",
    }


def customer(customer_id: str, industry: str, employees: str, override: str = "") -> dict:
    return {
        "customer_id": customer_id,
        "customer_name": f"Customer {customer_id}",
        "industry": industry,
        "employee_count": employees,
        "created_date": "2020-01-01",
        "tcp_override": override,
    }


def write_hand_landing(landing: Path) -> None:
    write_table(
        landing,
        "customers",
        [
            customer("A", "legal", "50"),
            customer("B", "retail", "50"),
            customer("C", "legal", "50", "false"),
            customer("D", "retail", "5000", "true"),
            customer("F", "legal", ""),
            customer("G", "Accounting", "20"),
        ],
    )
    write_table(
        landing,
        "offerings",
        [
            offering("MS1", "mrr", "current", True),
            offering("MS2", "mrr", "current", True),
            offering("LEG", "mrr", "legacy", False),
            offering("TM", "t_and_m", "current", False),
            offering("HW", "product_resale", "current", False),
            offering("NEW", "mrr", "current", False),
        ],
    )
    write_table(
        landing,
        "invoice_lines",
        [
            invoice(1, "2025-01-10", "A", "MS1", "400.00", "100.00"),
            invoice(2, "2025-01-15", "F", "TM", "30.00"),
            invoice(3, "2025-02-10", "A", "MS2", "200.00"),
            invoice(4, "2025-02-12", "B", "LEG", "250.00"),
            invoice(5, "2025-02-20", "F", "TM", "-30.00"),
            invoice(6, "2025-03-05", "C", "HW", "100.00", "60.00"),
            invoice(7, "2025-03-10", "D", "TM", "50.00"),
            invoice(8, "2025-04-10", "B", "LEG", "-250.00"),
            invoice(9, "2025-05-10", "G", "HW", "10.00"),
            invoice(10, "2025-06-10", "D", "TM", "1000.00"),
        ],
    )
    write_table(
        landing,
        "time_entries",
        [
            time_entry(1, "2025-01-20", "A", "10"),
            time_entry(2, "2025-02-20", "B", "10"),
            time_entry(3, "2025-03-20", "D", "2"),
            time_entry(4, "2025-06-20", "D", "28"),
        ],
    )
    for table in ("agreements", "agreement_lines", "churn_events"):
        write_table(landing, table, [])


def test_hand_checked_classification(hand_warehouse: Path) -> None:
    rows = query(
        hand_warehouse,
        """
        select customer_id, revenue_ttm, cost_ttm, gross_margin_ttm, gross_margin_pct,
               portfolio_gross_margin_pct, is_large, is_high_margin, in_tcp, is_on_full_package,
               classification, recommended_action
        from marts.customer_classification where as_of_month = date '2025-03-01'
        order by customer_id
        """,
    )
    assert [r[:4] for r in rows] == [
        ("A", 600, 300, 300),
        ("B", 250, 200, 50),
        ("C", 100, 60, 40),
        ("D", 50, 40, 10),
    ]
    assert [r[4] for r in rows] == pytest.approx([0.5, 0.2, 0.4, 0.2])
    assert [r[5] for r in rows] == pytest.approx([0.4] * 4)
    # (is_large, is_high_margin, in_tcp, is_on_full_package, class)
    assert [r[6:11] for r in rows] == [
        (True, True, True, True, "A"),
        (True, False, False, False, "B"),
        (False, True, False, False, "C"),  # exactly at the portfolio margin; TCP overridden out
        (False, False, True, False, "D"),  # TCP by override despite industry and size
    ]
    assert rows[0][11].startswith("Protect")
    assert rows[3][11].startswith("Upgrade to the full package or let go")


def test_hand_checked_transitions(hand_warehouse: Path) -> None:
    rows = query(
        hand_warehouse,
        """
        select quarter_end_month, customer_id, previous_classification, classification, transition,
               has_previous_quarter_end
        from marts.classification_transitions order by all
        """,
    )
    assert rows == [
        (date(2025, 3, 1), "A", None, "A", "new", False),
        (date(2025, 3, 1), "B", None, "B", "new", False),
        (date(2025, 3, 1), "C", None, "C", "new", False),
        (date(2025, 3, 1), "D", None, "D", "new", False),
        (date(2025, 6, 1), "A", "A", "A", "unchanged", True),
        (date(2025, 6, 1), "B", "B", None, "lost", True),
        (date(2025, 6, 1), "C", "C", "D", "downgrade", True),
        (date(2025, 6, 1), "D", "D", "B", "upgrade", True),
        (date(2025, 6, 1), "G", None, "C", "new", True),
    ]


def test_hand_checked_penetration(hand_warehouse: Path) -> None:
    rows = query(
        hand_warehouse,
        """
        select offering_id, owning_customers, penetration_rate, penetration_rate_tcp,
               revenue_ttm, avg_revenue_per_owner
        from marts.offering_penetration where as_of_month = date '2025-03-01'
        order by offering_id
        """,
    )
    assert rows == [
        ("HW", 1, 0.25, 0.0, 100, 100),
        ("LEG", 1, 0.25, 0.0, 250, 250),
        ("MS1", 1, 0.25, 0.5, 400, 400),
        ("MS2", 1, 0.25, 0.5, 200, 200),
        ("NEW", 0, 0.0, 0.0, 0, None),
        ("TM", 1, 0.25, 0.5, 50, 50),
    ]
    june = query(
        hand_warehouse,
        """
        select offering_id, owning_customers, penetration_rate, avg_revenue_per_owner
        from marts.offering_penetration
        where as_of_month = date '2025-06-01' and offering_id in ('HW', 'LEG')
        order by offering_id
        """,
    )
    # C 100 + G 10 own HW; B's credit leaves LEG without an owner.
    assert june == [("HW", 2, 0.5, 55), ("LEG", 0, 0.0, None)]


def test_hand_checked_cross_sell(hand_warehouse: Path) -> None:
    rows = query(
        hand_warehouse,
        """
        select customer_id, offerings_owned, is_on_full_package, whitespace_revenue,
               agreement_profile
        from marts.customer_cross_sell where as_of_month = date '2025-03-01'
        order by customer_id
        """,
    )
    assert rows == [
        ("A", 2, True, 150, "full_package"),
        ("B", 1, False, 750, "legacy_mrr"),
        ("C", 1, False, 650, "product_only"),
        ("D", 1, False, 700, "t_and_m"),
    ]
    portfolio = query(
        hand_warehouse,
        """
        select revenue_ttm, whitespace_revenue, revenue_at_full_cross_sell, cross_sell_ratio,
               pct_in_tcp_and_full_package, is_best_in_class_tcp_and_full_package,
               avg_offerings_owned
        from marts.portfolio_cross_sell where as_of_month = date '2025-03-01'
        """,
    )[0]
    assert portfolio[:3] == (1000, 2250, 3250)
    assert portfolio[3] == pytest.approx(1000 / 3250)
    assert portfolio[4:] == (0.25, False, 1.25)


def test_the_matrix_covers_every_offering(hand_warehouse: Path) -> None:
    rows = query(
        hand_warehouse,
        """
        select offering_id, revenue_ttm, owns_offering from marts.customer_offering_matrix
        where as_of_month = date '2025-06-01' and customer_id = 'D' order by offering_id
        """,
    )
    assert rows == [
        ("HW", 0, False),
        ("LEG", 0, False),
        ("MS1", 0, False),
        ("MS2", 0, False),
        ("NEW", 0, False),
        ("TM", 1050, True),
    ]


def test_rebuilding_one_month_leaves_the_marts_identical(hand_warehouse: Path) -> None:
    def snapshot() -> dict[str, list[tuple]]:
        return {
            mart: query(hand_warehouse, f"select * from marts.{mart} order by all")
            for mart in MARTS
        }

    before = snapshot()
    # 2025-03 is a quarter end: its transitions and those of 2025-06 (whose previous quarter end
    # it is) are rebuilt from the classification history.
    with only_buildable_tests():
        build_warehouse(
            hand_warehouse.parent / "landing",
            hand_warehouse,
            select=" ".join(MARTS),
            vars_="{as_of_month: '2025-03'}",
        )
    assert snapshot() == before


def test_malformed_vars_are_compile_errors(hand_warehouse: Path) -> None:
    result = compile_model(
        "int_customers_profiled",
        '{tcp_industries: ["legal\'); drop table x; --"]}',
        hand_warehouse.parent,
    )
    assert result.returncode != 0
    assert "var 'tcp_industries' must hold labels" in result.stdout


# --- generated demo data, recomputed independently ---------------------------------------------

TCP_INDUSTRIES = {"healthcare", "legal", "accounting", "manufacturing", "professional_services"}
TCP_EMPLOYEES = (10, 250)
CENT = Decimal("0.0001")


def read_csv(landing: Path, table: str) -> list[dict[str, str]]:
    with (landing / f"{table}.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def month_of(text: str) -> date:
    return date(int(text[:4]), int(text[5:7]), 1)


def months_back(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def recompute(landing: Path, as_of: date) -> dict:
    """Classification, penetration and cross-sell of ``as_of`` from the landing CSVs."""
    first = months_back(as_of, 11)
    in_window = lambda text: first <= month_of(text) <= as_of  # noqa: E731
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    cost: dict[str, Decimal] = defaultdict(Decimal)
    pair_revenue: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for line in read_csv(landing, "invoice_lines"):
        if in_window(line["invoice_date"]):
            revenue[line["customer_id"]] += Decimal(line["extended_price"])
            cost[line["customer_id"]] += Decimal(line["extended_cost"])
            pair_revenue[line["customer_id"], line["offering_id"]] += Decimal(
                line["extended_price"]
            )
    for entry in read_csv(landing, "time_entries"):
        if in_window(entry["work_date"]):
            cost[entry["customer_id"]] += Decimal(entry["hours_actual"]) * Decimal(
                entry["loaded_hourly_cost"]
            )

    active = sorted((c for c, r in revenue.items() if r > 0), key=lambda c: (-revenue[c], c))
    total = sum(revenue[c] for c in active)
    total_margin = sum(revenue[c] - cost[c] for c in active)

    in_tcp = {}
    for row in read_csv(landing, "customers"):
        if row["tcp_override"]:
            in_tcp[row["customer_id"]] = row["tcp_override"].lower() == "true"
        else:
            employees = int(row["employee_count"]) if row["employee_count"] else None
            in_tcp[row["customer_id"]] = (
                row["industry"].strip().lower() in TCP_INDUSTRIES
                and employees is not None
                and TCP_EMPLOYEES[0] <= employees <= TCP_EMPLOYEES[1]
            )
    offerings = {row["offering_id"]: row for row in read_csv(landing, "offerings")}
    components = {o for o, row in offerings.items() if row["is_full_package_component"] == "true"}
    owned = {c: {o for o in offerings if pair_revenue[c, o] > 0} for c in active}

    penetration = {}
    for o in offerings:
        owners = [c for c in active if o in owned[c]]
        tcp = [c for c in active if in_tcp[c]]
        owner_revenue = sum((pair_revenue[c, o] for c in owners), Decimal(0))
        penetration[o] = {
            "owning_customers": len(owners),
            "owning_tcp_customers": sum(in_tcp[c] for c in owners),
            "tcp_customers": len(tcp),
            "revenue_ttm": owner_revenue,
            "arpo": (owner_revenue / len(owners)).quantize(CENT, ROUND_HALF_UP) if owners else None,
        }

    customers = {}
    cumulative = Decimal(0)
    for c in active:
        margin = revenue[c] - cost[c]
        is_large = cumulative < Decimal("0.8") * total
        cumulative += revenue[c]
        is_high = margin * total >= total_margin * revenue[c]
        full = bool(components) and components <= owned[c]
        whitespace = sum(
            (
                p["arpo"]
                for o, p in penetration.items()
                if offerings[o]["lifecycle"] == "current"
                and p["owning_customers"] > 0
                and o not in owned[c]
            ),
            Decimal(0),
        )
        types = {offerings[o]["revenue_type"] for o in owned[c]}
        profile = (
            "full_package"
            if full
            else "legacy_mrr"
            if "mrr" in types
            else "block_time"
            if "block_time" in types
            else "t_and_m"
            if "t_and_m" in types
            else "project_only"
            if "project_labor" in types
            else "product_only"
            if "product_resale" in types
            else "other"
        )
        customers[c] = {
            "revenue_ttm": revenue[c],
            "cost_ttm": cost[c],
            "is_large": is_large,
            "is_high_margin": is_high,
            "in_tcp": in_tcp[c],
            "is_on_full_package": full,
            "classification": ("A" if is_high else "B") if is_large else ("C" if is_high else "D"),
            "offerings_owned": len(owned[c]),
            "whitespace_revenue": whitespace,
            "agreement_profile": profile,
        }
    return {"customers": customers, "penetration": penetration}


@pytest.mark.parametrize("as_of", [date(2025, 9, 1), date(2026, 6, 1)])
def test_demo_data_matches_an_independent_recomputation(demo_warehouse: Path, as_of: date) -> None:
    expected = recompute(demo_warehouse.parent / "landing", as_of)
    day = f"date '{as_of.isoformat()}'"

    classification = query(
        demo_warehouse,
        f"""
        select c.customer_id, c.revenue_ttm, c.cost_ttm, c.is_large, c.is_high_margin, c.in_tcp,
               c.is_on_full_package, c.classification, x.offerings_owned, x.whitespace_revenue,
               x.agreement_profile
        from marts.customer_classification as c
        inner join marts.customer_cross_sell as x using (as_of_month, customer_id)
        where c.as_of_month = {day}
        """,
    )
    columns = (
        "revenue_ttm",
        "cost_ttm",
        "is_large",
        "is_high_margin",
        "in_tcp",
        "is_on_full_package",
        "classification",
        "offerings_owned",
        "whitespace_revenue",
        "agreement_profile",
    )
    actual = {row[0]: dict(zip(columns, row[1:], strict=True)) for row in classification}
    assert actual.keys() == expected["customers"].keys()
    classes = {c: v["classification"] for c, v in actual.items()}
    assert set(classes.values()) == {"A", "B", "C", "D"}  # the data exercises every class
    for customer_id, figures in expected["customers"].items():
        got = actual[customer_id]
        # ARPOs are rounded to 0.0001: the whitespace may differ by that per offering.
        assert abs(got.pop("whitespace_revenue") - figures["whitespace_revenue"]) <= Decimal(
            "0.002"
        ), customer_id
        assert got == {k: v for k, v in figures.items() if k != "whitespace_revenue"}, customer_id

    penetration = query(
        demo_warehouse,
        f"""
        select offering_id, owning_customers, owning_tcp_customers, tcp_customers, revenue_ttm,
               avg_revenue_per_owner
        from marts.offering_penetration where as_of_month = {day}
        """,
    )
    for offering_id, owners, tcp_owners, tcp, revenue, arpo in penetration:
        figures = expected["penetration"][offering_id]
        assert (owners, tcp_owners, tcp, revenue) == (
            figures["owning_customers"],
            figures["owning_tcp_customers"],
            figures["tcp_customers"],
            figures["revenue_ttm"],
        ), offering_id
        if figures["arpo"] is None:
            assert arpo is None
        else:
            assert abs(arpo - figures["arpo"]) <= CENT, offering_id
    assert {row[0] for row in penetration} == set(expected["penetration"])
