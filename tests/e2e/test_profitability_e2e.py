"""Profitability marts on the generated portfolio, against a separate implementation.

customer_profitability, agreement_profitability and agreement_type_profitability are recomputed
here from the landing CSV files with Python's ``decimal`` and plain loops — no SQL, no code
shared with the models — and compared row by row for every as_of_month: money and hours
exactly, ratios to double precision. The attribution of invoice lines and time entries to
agreements is implemented again below from its documented rule (the docs block
agreement_attribution), with the default var profitability_agreement_types.
"""

from __future__ import annotations

import calendar
import csv
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.conftest import query

pytestmark = pytest.mark.slow

ZERO = Decimal(0)
FOUR_PLACES = Decimal("0.0001")
TARGET_MARGIN = 0.5
# The default var profitability_agreement_types: suitable agreement types in order of preference.
SUITABLE_TYPES = {
    "mrr": ["managed_services"],
    "project_labor": ["project"],
    "t_and_m": ["t_and_m"],
    "block_time": ["block_time"],
    "product_resale": [],
    None: ["managed_services", "block_time", "t_and_m", "project"],  # time entry, no offering
}
AMOUNTS = ("revenue", "product_cost", "labor_hours", "labor_cost")


def read(landing: Path, table: str) -> list[dict[str, str]]:
    with (landing / f"{table}.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def month_of(d: date) -> date:
    return d.replace(day=1)


def add_months(m: date, n: int) -> date:
    index = m.year * 12 + m.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_end(m: date) -> date:
    return m.replace(day=calendar.monthrange(m.year, m.month)[1])


def earliest(*dates: date | None) -> date | None:
    known = [d for d in dates if d is not None]
    return min(known) if known else None


def in_force(start: date, stop: date | None, d: date) -> bool:
    return start <= d and (stop is None or d < stop)


class Portfolio:
    """The landing folder's items, months and agreements, attributed independently."""

    def __init__(self, landing: Path) -> None:
        offering_types = {r["offering_id"]: r["revenue_type"] for r in read(landing, "offerings")}
        self.names = {r["customer_id"]: r["customer_name"] for r in read(landing, "customers")}
        self.agreements = {}
        for row in read(landing, "agreements"):
            stop = earliest(day(row["end_date"]), day(row["cancelled_date"]))
            self.agreements[row["agreement_id"]] = {
                "customer": row["customer_id"],
                "type": row["agreement_type"],
                "start": day(row["start_date"]),
                "stop": stop,
            }
        self.lines = []
        for row in read(landing, "agreement_lines"):
            agreement = self.agreements[row["agreement_id"]]
            self.lines.append(
                {
                    "agreement": row["agreement_id"],
                    "customer": agreement["customer"],
                    "offering": row["offering_id"],
                    "from": max(day(row["effective_date"]), agreement["start"]),
                    "until": earliest(day(row["cancelled_date"]), agreement["stop"]),
                }
            )
        # Items: invoice lines (revenue_type set) and time entries (revenue_type None), keyed
        # for the attribution by the line's revenue_type or the entry's offering's.
        self.items = []
        for row in read(landing, "invoice_lines"):
            self.items.append(
                {
                    "date": day(row["invoice_date"]),
                    "customer": row["customer_id"],
                    "offering": row["offering_id"],
                    "key": row["revenue_type"],
                    "revenue_type": row["revenue_type"],
                    "revenue": Decimal(row["extended_price"]),
                    "product_cost": Decimal(row["extended_cost"]),
                    "labor_hours": ZERO,
                    "labor_cost": ZERO,
                }
            )
        for row in read(landing, "time_entries"):
            offering_id = row["offering_id"] or None
            hours = Decimal(row["hours_actual"])
            self.items.append(
                {
                    "date": day(row["work_date"]),
                    "customer": row["customer_id"],
                    "offering": offering_id,
                    "key": offering_types.get(offering_id) if offering_id else None,
                    "revenue_type": None,
                    "revenue": ZERO,
                    "product_cost": ZERO,
                    "labor_hours": hours,
                    # Each entry's labour cost rounded to 4 decimals, half away from zero.
                    "labor_cost": (hours * Decimal(row["loaded_hourly_cost"])).quantize(
                        FOUR_PLACES, ROUND_HALF_UP
                    ),
                }
            )
        invoice_months = sorted(
            {month_of(i["date"]) for i in self.items if i["revenue_type"] is not None}
        )
        self.months = []
        m = invoice_months[0]
        while m <= invoice_months[-1]:
            self.months.append(m)
            m = add_months(m, 1)
        for item in self.items:
            item["agreement"] = self.attribute(item)

    def best(self, agreement_ids: set[str]) -> str | None:
        """The latest start, then the smallest agreement_id."""
        if not agreement_ids:
            return None
        return sorted(agreement_ids, key=lambda a: (-self.agreements[a]["start"].toordinal(), a))[0]

    def attribute(self, item: dict) -> str | None:
        by_offering = {
            line["agreement"]
            for line in self.lines
            if line["customer"] == item["customer"]
            and item["offering"] is not None
            and line["offering"] == item["offering"]
            and in_force(line["from"], line["until"], item["date"])
        }
        if by_offering:
            return self.best(by_offering)
        if item["revenue_type"] is None and item["offering"] is None:
            suitable = SUITABLE_TYPES[None]
        else:
            suitable = SUITABLE_TYPES.get(item["key"], [])
        for agreement_type in suitable:
            found = {
                agreement_id
                for agreement_id, a in self.agreements.items()
                if a["customer"] == item["customer"]
                and a["type"] == agreement_type
                and in_force(a["start"], a["stop"], item["date"])
            }
            if found:
                return self.best(found)
        return None

    def window(self, as_of: date) -> tuple[date, date]:
        return add_months(as_of, -11), as_of

    def in_window(self, as_of: date, d: date) -> bool:
        first, last = self.window(as_of)
        return first <= month_of(d) <= last

    def customers(self, as_of: date) -> dict[str, dict]:
        totals: dict[str, dict] = defaultdict(lambda: defaultdict(Decimal))
        for item in self.items:
            if not self.in_window(as_of, item["date"]):
                continue
            t = totals[item["customer"]]
            for amount in AMOUNTS:
                t[amount] += item[amount]
            if item["revenue_type"] == "product_resale":
                t["revenue_resale"] += item["revenue"]
                t["cost_resale"] += item["product_cost"]
            elif item["revenue_type"] is not None:
                t["revenue_service"] += item["revenue"]
                t["cost_service"] += item["product_cost"]
        return {c: t for c, t in totals.items() if t["revenue"] > 0}

    def months_in_force(self, agreement_id: str, as_of: date) -> int:
        a = self.agreements[agreement_id]
        first, last = self.window(as_of)
        count = 0
        for m in self.months:
            if not first <= m <= last:
                continue
            stop = a["stop"]
            if a["start"] <= month_end(m) and (stop is None or (stop > m and stop > a["start"])):
                count += 1
        return count

    def agreement_totals(self, as_of: date, active: set[str]) -> dict[str | None, dict]:
        """Per agreement (and per customer's unattributed amounts, keyed ('', customer))."""
        totals: dict = defaultdict(lambda: defaultdict(Decimal))
        for agreement_id, a in self.agreements.items():
            if a["customer"] in active and self.months_in_force(agreement_id, as_of) > 0:
                totals[agreement_id]["revenue"] += ZERO  # in force, perhaps with no amounts
        for item in self.items:
            if item["customer"] not in active or not self.in_window(as_of, item["date"]):
                continue
            key = item["agreement"] or ("", item["customer"])
            for amount in AMOUNTS:
                totals[key][amount] += item[amount]
        return totals


def ratio(numerator: Decimal, denominator: Decimal) -> float | None:
    return None if denominator == 0 else float(numerator) / float(denominator)


def assert_close(actual: float | None, expected: float | None, what: str) -> None:
    if expected is None:
        assert actual is None, what
    else:
        assert actual == pytest.approx(expected, rel=1e-12, abs=1e-9), what


@pytest.fixture(scope="module")
def portfolio(demo_build: tuple[Path, Path]) -> Portfolio:
    return Portfolio(demo_build[0])


def test_customer_profitability_matches_an_independent_recomputation(
    demo_build: tuple[Path, Path], portfolio: Portfolio
) -> None:
    _, warehouse = demo_build
    rows = query(
        warehouse,
        "select as_of_month, customer_id, customer_name, revenue_ttm, revenue_service_ttm,"
        " revenue_product_resale_ttm, labor_hours_ttm, labor_cost_ttm, product_cost_ttm,"
        " product_cost_service_ttm, product_cost_product_resale_ttm, gross_margin_ttm,"
        " service_margin_ttm, product_resale_margin_ttm, gross_margin_pct, service_margin_pct,"
        " product_resale_margin_pct, effective_hourly_rate from marts.customer_profitability",
    )
    actual = {(r[0], r[1]): r[2:] for r in rows}
    expected_keys = set()
    checked_ehr = 0
    for as_of in portfolio.months:
        for customer_id, t in portfolio.customers(as_of).items():
            expected_keys.add((as_of, customer_id))
            row = actual[(as_of, customer_id)]
            labor_cost = t["labor_cost"].quantize(FOUR_PLACES)
            service_margin = t["revenue_service"] - t["cost_service"] - labor_cost
            resale_margin = t["revenue_resale"] - t["cost_resale"]
            gross_margin = t["revenue"] - t["product_cost"] - labor_cost
            assert service_margin + resale_margin == gross_margin
            what = f"{as_of} {customer_id}"
            assert row[:12] == (
                portfolio.names[customer_id],
                t["revenue"],
                t["revenue_service"],
                t["revenue_resale"],
                t["labor_hours"],
                labor_cost,
                t["product_cost"],
                t["cost_service"],
                t["cost_resale"],
                gross_margin,
                service_margin,
                resale_margin,
            ), what
            assert_close(row[12], ratio(gross_margin, t["revenue"]), what)
            assert_close(row[13], ratio(service_margin, t["revenue_service"]), what)
            assert_close(row[14], ratio(resale_margin, t["revenue_resale"]), what)
            ehr = ratio(t["revenue"] - t["product_cost"], t["labor_hours"])
            assert_close(row[15], ehr, what)
            checked_ehr += ehr is not None
    assert set(actual) == expected_keys
    assert checked_ehr > 100


def test_agreement_profitability_matches_an_independent_attribution(
    demo_build: tuple[Path, Path], portfolio: Portfolio
) -> None:
    _, warehouse = demo_build
    rows = query(
        warehouse,
        "select as_of_month, agreement_id, customer_id, customer_name, agreement_type,"
        " months_in_force_ttm, revenue_ttm, product_cost_ttm, labor_hours_ttm, labor_cost_ttm,"
        " gross_margin_ttm, gross_margin_pct, effective_hourly_rate, labor_hours_per_month,"
        " target_labor_hours_per_month, is_over_target_hours"
        " from marts.agreement_profitability",
    )
    actual = {(r[0], r[1]): r[2:] for r in rows}
    expected_keys = set()
    over = under = 0
    for as_of in portfolio.months:
        active = set(portfolio.customers(as_of))
        for key, t in portfolio.agreement_totals(as_of, active).items():
            if isinstance(key, tuple):
                continue
            a = portfolio.agreements[key]
            expected_keys.add((as_of, key))
            row = actual[(as_of, key)]
            what = f"{as_of} {key}"
            months = portfolio.months_in_force(key, as_of)
            labor_cost = t["labor_cost"].quantize(FOUR_PLACES)
            margin = t["revenue"] - t["product_cost"] - labor_cost
            assert row[:9] == (
                a["customer"],
                portfolio.names[a["customer"]],
                a["type"],
                months,
                t["revenue"],
                t["product_cost"],
                t["labor_hours"],
                labor_cost,
                margin,
            ), what
            assert_close(row[9], ratio(margin, t["revenue"]), what)
            assert_close(row[10], ratio(t["revenue"] - t["product_cost"], t["labor_hours"]), what)
            per_month = float(t["labor_hours"]) / months if months else None
            assert_close(row[11], per_month, what)
            target = None
            if t["labor_hours"] > 0 and labor_cost > 0 and months:
                hourly_cost = float(labor_cost) / float(t["labor_hours"])
                room = (1 - TARGET_MARGIN) * float(t["revenue"]) - float(t["product_cost"])
                target = max(room / hourly_cost, 0.0) / months
            assert_close(row[12], target, what)
            assert row[13] == (None if target is None else per_month > target), what
            over += row[13] is True
            under += row[13] is False
    assert set(actual) == expected_keys
    assert over > 0 and under > 0


def test_agreement_types_reconcile_with_customers_including_unattributed(
    demo_build: tuple[Path, Path], portfolio: Portfolio
) -> None:
    _, warehouse = demo_build
    rows = query(
        warehouse,
        "select as_of_month, agreement_type, agreements, revenue_ttm, product_cost_ttm,"
        " labor_hours_ttm, labor_cost_ttm from marts.agreement_type_profitability",
    )
    actual = {(r[0], r[1]): r[2:] for r in rows}
    expected = {}
    unattributed_revenue = ZERO
    for as_of in portfolio.months:
        active = set(portfolio.customers(as_of))
        by_type: dict = defaultdict(lambda: [set(), ZERO, ZERO, ZERO, ZERO])
        for key, t in portfolio.agreement_totals(as_of, active).items():
            agreement_type = "unattributed"
            if not isinstance(key, tuple):
                agreement_type = portfolio.agreements[key]["type"]
                by_type[agreement_type][0].add(key)
            sums = by_type[agreement_type]
            sums[1] += t["revenue"]
            sums[2] += t["product_cost"]
            sums[3] += t["labor_hours"]
            sums[4] += t["labor_cost"].quantize(FOUR_PLACES)
        for agreement_type, sums in by_type.items():
            expected[(as_of, agreement_type)] = (len(sums[0]), *sums[1:])
        unattributed_revenue += by_type["unattributed"][1] if "unattributed" in by_type else 0
    assert actual == expected
    # The demo has product resale outside agreements: the unattributed row is not empty.
    assert unattributed_revenue > 0
