"""MRR movements compared with dbt Labs' mrr-playbook on the playbook's own example data.

Each subscription period of ``tests/fixtures/mrr_playbook/subscription_periods.csv`` becomes
one ``managed_services`` agreement (start_date and end_date as-is, both exclusive ends) with one
monthly line of quantity 1 at the period's monthly_amount. Invoices are written for every month
a line is in force, so the last month of data is 2020-01 (four customers have periods ending
2020-02-01). ``marts.mrr_movements`` is then compared, row by row, with the playbook's
``change_category`` computed by :func:`playbook_movements`, a small re-implementation of the
playbook's models (util_months, customer_revenue_by_month, customer_churn_month, mrr).

Mapping of the playbook's categories: new → new, reactivation → reactivation, churn → churn,
upgrade → expansion, downgrade → contraction, no category on a month with MRR → unchanged. The
playbook also keeps a row with mrr 0 and no category for each month inside a gap; those say
nothing and are dropped before comparing (our grain keeps rows where mrr > 0 or
previous_mrr > 0).

Month convention: the playbook counts a period in month m when start_date ≤ m's first day <
end_date; we count a line in force on m's last day, start_date ≤ last day < end_date. Dates are
not shifted. For a period whose dates are first days of months — all 121 periods of the
playbook's data — the two agree (for a first day s, s ≤ first day ⇔ s ≤ last day; for a first
day e, e > first day ⇔ e > last day), so the convention causes differences only for dates
inside a month, shown by one synthetic customer.

The playbook's data has no open-ended, concurrent or mid-month periods and none straddling its
hard-coded spine start, so five synthetic customers (EXTRA_PERIODS) add them. Every row where
the two disagree is attributed to exactly one documented cause, and the number of such rows
per cause is asserted (worked out by hand below); every other row must agree exactly
(movement, mrr and previous_mrr).
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR, build_warehouse, query, write_table

pytestmark = pytest.mark.slow

PLAYBOOK_CSV = PROJECT_DIR / "tests" / "fixtures" / "mrr_playbook" / "subscription_periods.csv"

#: util_months: dbt_utils.date_spine from the hard-coded 2018-01-01 to
#: date_trunc('month', current_date), exclusive. Any run date after 2020-01 gives the same rows.
PLAYBOOK_SPINE_START = date(2018, 1, 1)
PLAYBOOK_RUN_DATE = date(2020, 2, 15)

#: Last month any period is in force, and so the last invoice month: our last reported month.
LAST_DATA_MONTH = date(2020, 1, 1)

#: Synthetic periods (subscription_id, customer_id, start_date, end_date or None, amount).
EXTRA_PERIODS = [
    # Started before the playbook's spine and runs into it.
    ("901", "straddles-2018", "2017-06-01", "2018-04-01", "60"),
    # Open-ended from the start.
    ("902", "open-ended", "2019-06-01", None, "20"),
    # A closed period followed by an open-ended one at a higher price.
    ("903", "open-ended-upgrade", "2019-01-01", "2019-04-01", "30"),
    ("904", "open-ended-upgrade", "2019-04-01", None, "45"),
    # Two subscriptions at once in March and April 2019.
    ("905", "concurrent", "2019-01-01", "2019-07-01", "30"),
    ("906", "concurrent", "2019-03-01", "2019-05-01", "20"),
    # Dates inside months: in force on the last days of February to April, on the first days
    # of March to May.
    ("907", "mid-month", "2019-02-15", "2019-05-15", "40"),
]

#: Rows that differ, per cause, worked out by hand:
#: - spine_start: customers 2, 3 and 4 only had periods in 2017 (3 + 2 + 2 rows the playbook
#:   never sees); straddles-2018 has 7 rows in 2017-06 … 2017-12 plus 2018-01, which the
#:   playbook calls `new` (its first spine month) where it is unchanged.
#: - beyond_data_end: the 4 customers with a period ending 2020-02-01 still have MRR in 2020-01,
#:   the last month of data; the playbook adds a churn row for each in 2020-02.
#: - open_ended: open-ended is dropped (no max(end_date)): its 8 rows 2019-06 … 2020-01;
#:   open-ended-upgrade is cut at the end of its closed period: a false churn in 2019-04 (we
#:   have an expansion 30 → 45) and its 9 rows 2019-05 … 2020-01 are missing.
#: - concurrent: two rows a month instead of a sum in 2019-03 and 2019-04 (we have an expansion
#:   to 50 and unchanged), and 2019-05 compares with one of them (we have a contraction).
#: - month_convention: mid-month is in force on 2019-02-28 (we: new in 2019-02; the playbook a
#:   row with mrr 0) and so unchanged, not new, in 2019-03.
EXPECTED_DIFFERENCES = {
    "spine_start": 3 + 2 + 2 + 8,
    "beyond_data_end": 4,
    "open_ended": 8 + 1 + 9,
    "concurrent": 3,
    "month_convention": 2,
}

CATEGORY_TO_MOVEMENT = {
    "new": "new",
    "reactivation": "reactivation",
    "churn": "churn",
    "upgrade": "expansion",
    "downgrade": "contraction",
}


@dataclass(frozen=True)
class Period:
    subscription_id: str
    customer_id: str
    start_date: date
    end_date: date | None
    monthly_amount: Decimal


def read_periods() -> list[Period]:
    """The playbook's periods followed by EXTRA_PERIODS."""
    with PLAYBOOK_CSV.open() as handle:
        rows = [
            (
                r["subscription_id"],
                r["customer_id"],
                r["start_date"],
                r["end_date"],
                r["monthly_amount"],
            )
            for r in csv.DictReader(handle)
        ]
    return [
        Period(
            subscription_id,
            customer_id,
            date.fromisoformat(start),
            date.fromisoformat(end) if end else None,
            Decimal(amount),
        )
        for subscription_id, customer_id, start, end, amount in rows + EXTRA_PERIODS
    ]


def month_of(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_end(month: date) -> date:
    return add_months(month, 1) - timedelta(days=1)


# ---- the playbook, re-implemented -------------------------------------------------------------


def playbook_movements(periods: list[Period], run_date: date) -> dict[tuple[date, str], list]:
    """(month, customer_id) → the playbook's rows [(movement, mrr, previous_mrr), …].

    Follows the playbook's SQL: a customer × month spine from the month of its first start to
    (excluding) the month of its last end, cut to util_months; a left join of periods active on
    the month's first day (one row per matching period, mrr 0 when none); a churn row the month
    after the last active month; lag over months for the previous row; first matching rule:
    is_first_month → new, inactive after active → churn, active after inactive → reactivation,
    change > 0 → upgrade, change < 0 → downgrade. Movements are mapped to ours; rows without a
    category are `unchanged` when active and None (no MRR, nothing happened) otherwise.
    """
    spine = []
    month = PLAYBOOK_SPINE_START
    while month < month_of(run_date):
        spine.append(month)
        month = add_months(month, 1)

    by_customer: dict[str, list[Period]] = defaultdict(list)
    for period in periods:
        by_customer[period.customer_id].append(period)

    result: dict[tuple[date, str], list] = defaultdict(list)
    for customer_id, subs in by_customer.items():
        first = month_of(min(p.start_date for p in subs))
        ends = [p.end_date for p in subs if p.end_date is not None]  # SQL max() skips nulls
        if not ends:
            continue
        last = month_of(max(ends))
        rows = []  # [month, mrr, is_active, is_first, is_last]
        for month in (m for m in spine if first <= m < last):
            # `month < end_date` is unknown for a null end_date: never matched.
            matching = [
                p for p in subs if p.start_date <= month and p.end_date and month < p.end_date
            ]
            for amount in [p.monthly_amount for p in matching] or [Decimal(0)]:
                rows.append([month, amount, amount > 0])
        active_months = [r[0] for r in rows if r[2]]
        if not active_months:
            continue
        first_active, last_active = min(active_months), max(active_months)
        rows = [[m, mrr, active, m == first_active, m == last_active] for m, mrr, active in rows]
        rows += [
            [add_months(m, 1), Decimal(0), False, False, False]
            for m, *_, is_last in rows
            if is_last
        ]
        rows.sort(key=lambda r: r[0])  # stable: ties keep period order
        previous_active, previous_mrr = False, Decimal(0)
        for month, mrr, active, is_first, _ in rows:
            change = mrr - previous_mrr
            if is_first:
                category = "new"
            elif not active and previous_active:
                category = "churn"
            elif active and not previous_active:
                category = "reactivation"
            elif change > 0:
                category = "upgrade"
            elif change < 0:
                category = "downgrade"
            else:
                category = None
            movement = CATEGORY_TO_MOVEMENT.get(category, "unchanged" if active else None)
            result[(month, customer_id)].append((movement, mrr, previous_mrr))
            previous_active, previous_mrr = active, mrr
    # Filler rows of months without MRR before or after (inside a gap) say nothing.
    return {
        key: rows
        for key, rows in result.items()
        if not (len(rows) == 1 and rows[0][0] is None and rows[0][1] == rows[0][2] == 0)
    }


# ---- attribution of differences ---------------------------------------------------------------


def difference_cause(month: date, customer_id: str, ours: tuple | None, subs: list[Period]) -> str:
    """The documented cause of a row where the playbook and we disagree."""
    if month < PLAYBOOK_SPINE_START or (
        month == PLAYBOOK_SPINE_START and ours is not None and ours[2] > 0
    ):
        return "spine_start"
    if month > LAST_DATA_MONTH:
        return "beyond_data_end"
    if any(p.end_date is None for p in subs):
        return "open_ended"

    def in_force_on_first_day(m: date) -> int:
        return sum(1 for p in subs if p.start_date <= m < p.end_date)

    if max(in_force_on_first_day(month), in_force_on_first_day(add_months(month, -1))) > 1:
        return "concurrent"
    if any(p.start_date.day != 1 or p.end_date.day != 1 for p in subs):
        return "month_convention"
    return "unexplained"


# ---- the build --------------------------------------------------------------------------------


def in_force_months(period: Period) -> list[date]:
    """Months whose last day the period covers (our convention), up to the last data month."""
    months, month = [], month_of(period.start_date)
    while month <= LAST_DATA_MONTH:
        day = month_end(month)
        if period.start_date <= day and (period.end_date is None or day < period.end_date):
            months.append(month)
        month = add_months(month, 1)
    return months


def write_landing(folder: Path, periods: list[Period]) -> None:
    customers = sorted({p.customer_id for p in periods})
    write_table(
        folder,
        "customers",
        [
            {
                "customer_id": c,
                "customer_name": f"Customer {c}",
                "industry": "software",
                "created_date": "2017-01-01",
            }
            for c in customers
        ],
    )
    write_table(
        folder,
        "offerings",
        [
            {
                "offering_id": "SUB",
                "offering_name": "Subscription",
                "offering_family": "saas",
                "revenue_type": "mrr",
                "lifecycle": "current",
                "is_full_package_component": "true",
                "list_price": "",
            }
        ],
    )
    write_table(
        folder,
        "agreements",
        [
            {
                "agreement_id": f"S{p.subscription_id}",
                "customer_id": p.customer_id,
                "agreement_type": "managed_services",
                "start_date": p.start_date.isoformat(),
                "end_date": p.end_date.isoformat() if p.end_date else "",
            }
            for p in periods
        ],
    )
    write_table(
        folder,
        "agreement_lines",
        [
            {
                "agreement_line_id": f"S{p.subscription_id}-1",
                "agreement_id": f"S{p.subscription_id}",
                "offering_id": "SUB",
                "quantity": "1",
                "unit_price": str(p.monthly_amount),
                "billing_cycle": "monthly",
                "effective_date": p.start_date.isoformat(),
            }
            for p in periods
        ],
    )
    write_table(
        folder,
        "invoice_lines",
        [
            {
                "invoice_line_id": f"I{p.subscription_id}-{m:%Y%m}",
                "invoice_id": f"I{p.subscription_id}-{m:%Y%m}",
                "invoice_date": m.isoformat(),
                "customer_id": p.customer_id,
                "offering_id": "SUB",
                "revenue_type": "mrr",
                "quantity": "1",
                "extended_price": str(p.monthly_amount),
                "extended_cost": "0",
            }
            for p in periods
            for m in in_force_months(p)
        ],
    )
    for table in ("time_entries", "churn_events"):
        write_table(folder, table, [])


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("mrr_playbook")
    landing = root / "landing"
    landing.mkdir()
    periods = read_periods()
    write_landing(landing, periods)
    warehouse = root / "portfolio.duckdb"
    # Only what the comparison reads: the other marts are built in the other modules.
    build_warehouse(landing, warehouse, select="+mrr_movements")
    ours = {
        (month, customer_id): (movement, mrr, previous_mrr)
        for month, customer_id, movement, mrr, previous_mrr in query(
            warehouse,
            "select as_of_month, customer_id, movement, mrr, previous_mrr from marts.mrr_movements",
        )
    }
    theirs = playbook_movements(periods, PLAYBOOK_RUN_DATE)
    subs_by_customer: dict[str, list[Period]] = defaultdict(list)
    for period in periods:
        subs_by_customer[period.customer_id].append(period)
    differences: dict[tuple[date, str], str] = {}
    agreeing = 0
    for key in ours.keys() | theirs.keys():
        mine, playbook = ours.get(key), theirs.get(key, [])
        if len(playbook) == 1 and mine is not None and playbook[0] == mine:
            agreeing += 1
        else:
            differences[key] = difference_cause(*key, mine, subs_by_customer[key[1]])
    return {
        "ours": ours,
        "theirs": theirs,
        "differences": differences,
        "agreeing": agreeing,
        "warehouse": warehouse,
    }


def test_every_difference_has_a_documented_cause(comparison: dict) -> None:
    unexplained = {k: v for k, v in comparison["differences"].items() if v == "unexplained"}
    assert unexplained == {}


def test_differences_per_cause(comparison: dict) -> None:
    assert Counter(comparison["differences"].values()) == EXPECTED_DIFFERENCES


def test_the_playbooks_own_data_agrees_in_its_range(comparison: dict) -> None:
    # Rows of the 121 playbook periods inside 2018-01 … 2020-01 all agree, and there are
    # many of them: the comparison is not vacuous.
    extras = {customer_id for _, customer_id, *_ in EXTRA_PERIODS}
    in_range = [
        key
        for key in comparison["ours"]
        if key[1] not in extras and PLAYBOOK_SPINE_START <= key[0] <= LAST_DATA_MONTH
    ]
    assert len(in_range) > 350
    assert not [key for key in in_range if key in comparison["differences"]]
    movements = Counter(comparison["ours"][key][0] for key in in_range)
    assert {"new", "churn", "reactivation", "expansion", "contraction", "unchanged"} <= set(
        movements
    )


def test_hand_picked_rows(comparison: dict) -> None:
    ours = comparison["ours"]
    # Customer 1: 50 from 2018-11, a gap in 2019-02 … 03, back at 50, 75 from 2019-06, gone
    # from 2019-08 (the playbook agrees on all of these).
    assert ours[(date(2019, 2, 1), "1")] == ("churn", 0, 50)
    assert (date(2019, 3, 1), "1") not in ours
    assert ours[(date(2019, 4, 1), "1")] == ("reactivation", 50, 0)
    assert ours[(date(2019, 6, 1), "1")] == ("expansion", 75, 50)
    assert ours[(date(2019, 8, 1), "1")] == ("churn", 0, 75)
    # Started before 2018 and still there in 2018-01: not new.
    assert ours[(date(2018, 1, 1), "straddles-2018")] == ("unchanged", 60, 60)
    assert comparison["theirs"][(date(2018, 1, 1), "straddles-2018")] == [("new", 60, 0)]
    # Concurrent subscriptions are summed.
    assert ours[(date(2019, 3, 1), "concurrent")] == ("expansion", 50, 30)
    assert len(comparison["theirs"][(date(2019, 3, 1), "concurrent")]) == 2
    # Open-ended: still there in the last month of data, no churn row after it.
    assert ours[(LAST_DATA_MONTH, "open-ended")] == ("unchanged", 20, 20)
    assert not [key for key in ours if key[0] > LAST_DATA_MONTH]
