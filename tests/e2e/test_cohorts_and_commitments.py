"""Cohort retention, committed MRR and the renewal calendar on a generated portfolio, against a
separate implementation.

Every figure is recomputed here from the landing CSV files with Python's ``decimal``, calendar
days and plain loops — no SQL, no shared code with the models — and compared with the marts
exactly (ratios to floating-point precision). Only the customer's class, agreement profile and
TCP fit are read from their own marts (customer_classification, customer_cross_sell and
customers, tested elsewhere). The generated portfolio has agreements that began years before
the invoice history, annual and quarterly lines, fixed terms, cancellations of agreements and
of single lines (before and after a month, on a month's last day) and reactivations.
"""

from __future__ import annotations

import calendar
import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.conftest import query

pytestmark = pytest.mark.slow

CYCLE_MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12}
ZERO = Decimal(0)


def read(landing: Path, table: str) -> list[dict[str, str]]:
    with (landing / f"{table}.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def in_force(start: date, until: date | None, on: date) -> bool:
    """In force on a day: start ≤ day < until (exclusive, None = open)."""
    return start <= on and (until is None or on < until)


@dataclass(frozen=True)
class Line:
    customer: str
    agreement: str
    start: date
    until: date | None
    monthly: Decimal
    #: Why the line stops: its agreement's end_date is reached (scheduled) or a cancellation.
    reason: str | None


@dataclass(frozen=True)
class Agreement:
    agreement_id: str
    customer: str
    agreement_type: str
    start: date
    end: date | None
    cancelled: date | None

    @property
    def ends_on(self) -> date | None:
        dates = [d for d in (self.end, self.cancelled) if d is not None]
        return min(dates) if dates else None


def portfolio(landing: Path) -> tuple[list[date], dict[str, Agreement], list[Line]]:
    """The reported MRR months, the agreements and the agreement lines of the export."""
    agreements = {
        row["agreement_id"]: Agreement(
            row["agreement_id"],
            row["customer_id"],
            row["agreement_type"],
            day(row["start_date"]),
            day(row["end_date"]),
            day(row["cancelled_date"]),
        )
        for row in read(landing, "agreements")
    }
    lines = []
    for row in read(landing, "agreement_lines"):
        agreement = agreements[row["agreement_id"]]
        ends = [d for d in (day(row["cancelled_date"]), agreement.end, agreement.cancelled) if d]
        until = min(ends) if ends else None
        reason = None
        if until is not None:
            reason = "scheduled_end" if until == agreement.end else "cancellation"
        monthly = (
            Decimal(row["quantity"])
            * Decimal(row["unit_price"])
            / CYCLE_MONTHS[row["billing_cycle"]]
        ).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
        start = max(day(row["effective_date"]), agreement.start)
        lines.append(
            Line(agreement.customer, agreement.agreement_id, start, until, monthly, reason)
        )

    invoice_months = {day(r["invoice_date"]).replace(day=1) for r in read(landing, "invoice_lines")}
    first = min(invoice_months)
    for line in lines:
        if line.until is None or line.until > month_end(line.start):
            first = min(first, line.start.replace(day=1))
    months = [first]
    while months[-1] < max(invoice_months):
        months.append(add_months(months[-1], 1))
    return months, agreements, lines


def customer_mrr(months: list[date], lines: list[Line]) -> dict[tuple[date, str], Decimal]:
    """Each customer's MRR per month, where > 0."""
    mrr: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    for month in months:
        for line in lines:
            if in_force(line.start, line.until, month_end(month)):
                mrr[month, line.customer] += line.monthly
    return {key: value for key, value in mrr.items() if value > 0}


@pytest.fixture(scope="module")
def expected(demo_build: tuple[Path, Path]) -> dict:
    landing, warehouse = demo_build
    months, agreements, lines = portfolio(landing)
    classes = {
        (m, c): cls
        for m, c, cls in query(
            warehouse,
            "select as_of_month, customer_id, classification from marts.customer_classification",
        )
    }
    profiles = {
        (m, c): profile
        for m, c, profile in query(
            warehouse,
            "select as_of_month, customer_id, agreement_profile from marts.customer_cross_sell",
        )
    }
    tcp = dict(query(warehouse, "select customer_id, in_tcp from marts.customers"))
    names = {row["customer_id"]: row["customer_name"] for row in read(landing, "customers")}
    return {
        "months": months,
        "agreements": agreements,
        "lines": lines,
        "mrr": customer_mrr(months, lines),
        "classes": classes,
        "profiles": profiles,
        "tcp": tcp,
        "names": names,
    }


def test_cohort_retention_matches(demo_build: tuple[Path, Path], expected: dict) -> None:
    _, warehouse = demo_build
    months, mrr = expected["months"], expected["mrr"]
    cohort_of: dict[str, date] = {}
    for month, customer in sorted(mrr):
        cohort_of.setdefault(customer, month)

    def segments(customer: str) -> list[tuple[str, str]]:
        start = cohort_of[customer]
        return [
            ("all", "all"),
            ("class_at_start", expected["classes"].get((start, customer), "unclassified")),
            ("tcp_fit", "in_tcp" if expected["tcp"].get(customer) else "outside_tcp"),
            ("agreement_profile", expected["profiles"].get((start, customer), "unclassified")),
        ]

    members: dict[tuple[date, str, str], list[str]] = defaultdict(list)
    for customer, start in cohort_of.items():
        for segment_type, segment in segments(customer):
            members[start, segment_type, segment].append(customer)
    want = {}
    for (start, segment_type, segment), customers in members.items():
        starting = sum((mrr[start, c] for c in customers), ZERO)
        for k, month in enumerate(m for m in months if m >= start):
            now = [mrr[month, c] for c in customers if (month, c) in mrr]
            want[start, k, segment_type, segment] = (
                month,
                len(customers),
                starting,
                len(now),
                sum(now, ZERO),
            )

    rows = query(
        warehouse,
        """
        select cohort_month, months_since_start, segment_type, segment, retention_month,
               cohort_customers, cohort_starting_mrr, retained_customers, retained_mrr,
               logo_retention, net_revenue_retention
        from marts.customer_cohort_retention
        """,
    )
    actual = {tuple(row[:4]): tuple(row[4:9]) for row in rows}
    assert len(actual) == len(rows)
    assert actual == want
    for *_, cohort, starting, retained, retained_mrr, logo, nrr in rows:
        assert logo == pytest.approx(retained / cohort)
        assert nrr == pytest.approx(float(retained_mrr / starting))
    # Every cohort of segment `all` is the month's whole MRR (the ending MRR of the bridge).
    ending = dict(query(warehouse, "select as_of_month, ending_mrr from marts.retention_summary"))
    by_month: dict[date, Decimal] = defaultdict(Decimal)
    for (_, _, segment_type, _), (month, _, _, _, retained_mrr) in want.items():
        if segment_type == "all":
            by_month[month] += retained_mrr
    assert {m: by_month.get(m, ZERO) for m in ending} == ending
    # The portfolio exercises the segments and losses: lost and reactivated customers, every
    # class, customers without a class at the start (cohorts before the invoice history).
    assert {s for (_, _, t, s) in want if t == "class_at_start"} >= {
        "A",
        "B",
        "C",
        "D",
        "unclassified",
    }
    assert {s for (_, _, t, s) in want if t == "tcp_fit"} == {"in_tcp", "outside_tcp"}
    assert any(v[3] < v[1] for v in want.values())


def test_committed_mrr_matches(demo_build: tuple[Path, Path], expected: dict) -> None:
    _, warehouse = demo_build
    want = {}
    for month in expected["months"]:
        as_of = month_end(month)
        current = [line for line in expected["lines"] if in_force(line.start, line.until, as_of)]
        if not current:
            continue
        current_mrr = sum((line.monthly for line in current), ZERO)
        for ahead in range(1, 13):
            forecast = add_months(month, ahead)
            horizon = month_end(forecast)
            kept, ended = [], []
            for line in current:
                (kept if line.until is None or line.until > horizon else ended).append(line)
            want[month, forecast] = (
                ahead,
                current_mrr,
                sum((line.monthly for line in kept), ZERO),
                len({line.customer for line in kept}),
                len({line.agreement for line in kept}),
                sum((x.monthly for x in ended if x.reason == "scheduled_end"), ZERO),
                sum((x.monthly for x in ended if x.reason == "cancellation"), ZERO),
            )
    rows = query(
        warehouse,
        """
        select as_of_month, forecast_month, months_ahead, current_mrr, committed_mrr,
               committed_customers, committed_agreements, ended_by_scheduled_end_mrr,
               ended_by_cancellation_mrr, committed_share_of_current_mrr
        from marts.committed_mrr
        """,
    )
    actual = {(row[0], row[1]): tuple(row[2:9]) for row in rows}
    assert len(actual) == len(rows)
    assert actual == want
    for row in rows:
        current, committed, share = row[3], row[4], row[9]
        assert share == (pytest.approx(float(committed / current)) if current else None)
    # Both kinds of end occur, and a cancellation dated after the month counts as known.
    assert any(v[5] > 0 for v in want.values()) and any(v[6] > 0 for v in want.values())


def test_renewal_calendar_matches(demo_build: tuple[Path, Path], expected: dict) -> None:
    _, warehouse = demo_build
    lines_of: dict[str, list[Line]] = defaultdict(list)
    for line in expected["lines"]:
        lines_of[line.agreement].append(line)
    want = {}
    for month in expected["months"]:
        as_of = month_end(month)
        for agreement in expected["agreements"].values():
            ends_on = agreement.ends_on
            if ends_on is None or not in_force(agreement.start, ends_on, as_of):
                continue
            days = (ends_on - as_of).days
            if days > 90:
                continue
            assert as_of + timedelta(days=days) == ends_on
            window = "30_days" if days <= 30 else "60_days" if days <= 60 else "90_days"
            mrr = sum(
                (
                    x.monthly
                    for x in lines_of[agreement.agreement_id]
                    if in_force(x.start, x.until, as_of)
                ),
                ZERO,
            )
            want[month, agreement.agreement_id] = (
                agreement.customer,
                expected["names"].get(agreement.customer),
                agreement.agreement_type,
                ends_on,
                "scheduled_end" if ends_on == agreement.end else "cancellation",
                days,
                window,
                agreement.cancelled is not None,
                mrr,
                expected["classes"].get((month, agreement.customer)),
                bool(expected["tcp"].get(agreement.customer)),
            )
    rows = query(
        warehouse,
        """
        select as_of_month, agreement_id, customer_id, customer_name, agreement_type, end_date,
               end_reason, days_to_end, renewal_window, is_cancelled, agreement_mrr,
               classification, in_tcp
        from marts.renewal_calendar
        """,
    )
    actual = {(row[0], row[1]): tuple(row[2:]) for row in rows}
    assert len(actual) == len(rows)
    assert actual == want
    # Every window and both reasons occur.
    assert {v[6] for v in want.values()} == {"30_days", "60_days", "90_days"}
    assert {v[4] for v in want.values()} == {"scheduled_end", "cancellation"}
