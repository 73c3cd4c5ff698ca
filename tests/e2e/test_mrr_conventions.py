"""MRR churn conventions (vars churn_recognition, reactivation_counts_as_new) end to end.

A copy of the shared generated warehouse (built with the defaults: effective recognition,
reactivations kept apart) is rebuilt twice, only the MRR models and the two bridges with their
data tests, under ``notice`` and under ``paid_period`` with reactivations counted as new. Each
line's recognised end, each customer's MRR and movements are recomputed here from the landing
CSV files with Python's ``decimal`` and plain loops (no SQL shared with the models) and compared
with the marts; the MRR and gross-profit bridges must close exactly under every choice.
"""

from __future__ import annotations

import calendar
import csv
import os
import shutil
import subprocess
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.conftest import BIN_DIR, PROJECT_DIR, query

pytestmark = pytest.mark.slow

CYCLE_MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12}
#: Only the models a convention changes, and the two bridges read from them.
SELECTION = [
    "int_agreement_lines_normalised+,+retention_summary",
    "int_agreement_lines_normalised+,+gross_profit_bridge",
]
#: The conventions built here beyond the shared warehouse's defaults.
VARIANTS = {
    "notice": {"churn_recognition": "notice", "reactivation_counts_as_new": False},
    "paid_period": {"churn_recognition": "paid_period", "reactivation_counts_as_new": True},
}
DEFAULTS = {"churn_recognition": "effective", "reactivation_counts_as_new": False}


def read(landing: Path, table: str) -> list[dict[str, str]]:
    with (landing / f"{table}.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def month_end(d: date) -> date:
    return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def add_months(d: date, months: int) -> date:
    """Calendar month arithmetic, the day clamped to the target month's last day."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


def landing_lines(landing: Path) -> list[dict]:
    """Every agreement line with its contract dates and monthly amount."""
    agreements = {row["agreement_id"]: row for row in read(landing, "agreements")}
    lines = []
    for row in read(landing, "agreement_lines"):
        agreement = agreements[row["agreement_id"]]
        ends = [
            d
            for d in (
                day(row["cancelled_date"]),
                day(agreement["end_date"]),
                day(agreement["cancelled_date"]),
            )
            if d is not None
        ]
        cycle = CYCLE_MONTHS[row["billing_cycle"]]
        lines.append(
            {
                "customer": agreement["customer_id"],
                "offering": row["offering_id"],
                "cycle": cycle,
                "effective": day(row["effective_date"]),
                "start": max(day(row["effective_date"]), day(agreement["start_date"])),
                "end": min(ends) if ends else None,
                "mrr": (Decimal(row["quantity"]) * Decimal(row["unit_price"]) / cycle).quantize(
                    Decimal("0.000001"), rounding=ROUND_HALF_UP
                ),
            }
        )
    return lines


def recognised_end(line: dict, recognition: str, events: list[dict]) -> date | None:
    """The date a line's MRR stops counting under one churn_recognition choice."""
    end = line["end"]
    if end is None or recognition == "effective":
        return end
    if recognition == "notice":
        notices = [
            day(e["notice_date"])
            for e in events
            if e["customer_id"] == line["customer"]
            and (
                e["event_type"] == "full_churn"
                or (
                    e["event_type"] == "offering_cancel"
                    and e["offering_id"] in ("", line["offering"])
                )
            )
            and day(e["notice_date"]) < end <= day(e["effective_date"])
        ]
        return min(notices, default=end)
    if line["cycle"] == 1:
        return end
    periods = 0
    while add_months(line["effective"], periods * line["cycle"]) < end:
        periods += 1
    return add_months(line["effective"], periods * line["cycle"])


def reported_months(landing: Path, lines: list[dict]) -> list[date]:
    invoice_months = {day(r["invoice_date"]).replace(day=1) for r in read(landing, "invoice_lines")}
    first = min(invoice_months)
    for line in lines:
        if line["end"] is None or line["end"] > month_end(line["start"]):
            first = min(first, line["start"].replace(day=1))
    months, m = [], first
    while m <= max(invoice_months):
        months.append(m)
        m = add_months(m, 1)
    return months


def expected_movements(
    months: list[date], lines: list[dict], ends: list[date | None], reactivation_as_new: bool
) -> dict[tuple[date, str], tuple[str, Decimal, Decimal]]:
    """(month, customer) -> (movement, mrr, previous_mrr), as mrr_movements defines them."""
    mrr: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    for m in months:
        last = month_end(m)
        for line, end in zip(lines, ends, strict=True):
            if line["start"] <= last and (end is None or last < end):
                mrr[m, line["customer"]] += line["mrr"]
    movements = {}
    for customer in {c for _, c in mrr}:
        had_mrr, previous = False, Decimal(0)
        for m in months:
            current = mrr.get((m, customer), Decimal(0))
            current = current if current > 0 else Decimal(0)
            if current or previous:
                if not previous:
                    movement = "reactivation" if had_mrr and not reactivation_as_new else "new"
                elif not current:
                    movement = "churn"
                elif current > previous:
                    movement = "expansion"
                elif current < previous:
                    movement = "contraction"
                else:
                    movement = "unchanged"
                movements[m, customer] = (movement, current, previous)
            had_mrr = had_mrr or current > 0
            previous = current
    return movements


def rebuild(source: Path, folder: Path, vars_: dict) -> Path:
    """A copy of ``source`` with the MRR models and bridges rebuilt (and tested) under ``vars_``."""
    folder.mkdir()
    warehouse = folder / "portfolio.duckdb"
    shutil.copyfile(source, warehouse)
    env = {
        **os.environ,
        "PORTFOLIO_WAREHOUSE": str(warehouse),
        "DBT_PROFILES_DIR": str(PROJECT_DIR / "profiles"),
    }
    vars_text = ", ".join(f"{k}: {str(v).lower()}" for k, v in vars_.items())
    command = [
        str(BIN_DIR / "dbt"),
        "build",
        "--select",
        *SELECTION,
        "--indirect-selection",
        "cautious",
        "--exclude-resource-type",
        "unit_test",
        "--vars",
        "{" + vars_text + "}",
        "--target-path",
        str(folder / "dbt-target"),
        "--log-path",
        str(folder / "dbt-logs"),
        "--log-level-file",
        "none",
        "--no-write-json",
    ]
    result = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"dbt build failed:\n{result.stdout}\n{result.stderr}"
    return warehouse


@pytest.fixture(scope="module")
def builds(
    demo_build: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[dict, Path]]:
    """Convention name -> (its vars, its warehouse); ``effective`` is the shared build."""
    _, warehouse = demo_build
    root = tmp_path_factory.mktemp("mrr-conventions")
    built = {"effective": (DEFAULTS, warehouse)}
    for name, vars_ in VARIANTS.items():
        built[name] = (vars_, rebuild(warehouse, root / name, vars_))
    return built


@pytest.fixture(scope="module")
def expected(demo_build: tuple[Path, Path]) -> dict:
    landing, _ = demo_build
    lines = landing_lines(landing)
    events = read(landing, "churn_events")
    months = reported_months(landing, lines)
    ends = {
        recognition: [recognised_end(line, recognition, events) for line in lines]
        for recognition in ("effective", "notice", "paid_period")
    }
    return {"lines": lines, "months": months, "ends": ends}


def movements_of(warehouse: Path) -> dict[tuple[date, str], tuple[str, Decimal, Decimal]]:
    rows = query(
        warehouse,
        "select as_of_month, customer_id, movement, mrr, previous_mrr from marts.mrr_movements",
    )
    return {(m, c): (movement, mrr, previous) for m, c, movement, mrr, previous in rows}


def churn_months(movements: dict) -> dict[str, list[date]]:
    months = defaultdict(list)
    for (m, customer), (movement, *_) in sorted(movements.items()):
        if movement == "churn":
            months[customer].append(m)
    return months


@pytest.mark.parametrize("name", ["effective", *VARIANTS])
def test_movements_match_python(name: str, builds: dict, expected: dict) -> None:
    vars_, warehouse = builds[name]
    ends = expected["ends"][vars_["churn_recognition"]]
    want = expected_movements(
        expected["months"], expected["lines"], ends, vars_["reactivation_counts_as_new"]
    )
    assert movements_of(warehouse) == want
    kinds = {movement for movement, *_ in want.values()}
    assert ("reactivation" in kinds) != vars_["reactivation_counts_as_new"]


@pytest.mark.parametrize("name", ["effective", *VARIANTS])
def test_bridges_close_exactly(name: str, builds: dict) -> None:
    _, warehouse = builds[name]
    mrr_rows = query(
        warehouse,
        """
        select as_of_month, starting_mrr, new_mrr, expansion_mrr, contraction_mrr, churned_mrr,
               reactivation_mrr, ending_mrr, quick_ratio, gross_mrr_churn_rate,
               net_mrr_churn_rate
        from marts.retention_summary order by 1
        """,
    )
    gp_rows = query(
        warehouse,
        """
        select as_of_month, starting_gross_profit, new_gross_profit, expansion_gross_profit,
               contraction_gross_profit, churned_gross_profit, reactivation_gross_profit,
               margin_change, ending_gross_profit
        from marts.gross_profit_bridge order by 1
        """,
    )
    assert [r[0] for r in gp_rows] == [r[0] for r in mrr_rows]
    # Ending of a month = starting of the next, in both bridges.
    for earlier, later in zip(mrr_rows, mrr_rows[1:], strict=False):
        assert earlier[7] == later[1], later[0]
    for earlier, later in zip(gp_rows, gp_rows[1:], strict=False):
        assert earlier[8] == later[1], later[0]
    for month, start, new, exp, con, churned, react, end, quick, gross, net in mrr_rows:
        assert end == start + new + exp - con - churned + react, month
        lost = con + churned
        assert quick == (pytest.approx(float((new + exp + react) / lost)) if lost else None)
        if start:
            assert gross == pytest.approx(float(lost / start))
            assert net == pytest.approx(float((churned + con - exp - react) / start))
        else:
            assert gross is None and net is None
    for month, start, new, exp, con, churned, react, margin, end in gp_rows:
        assert end == start + new + exp - con - churned + react + margin, month
    assert any(r[-1] for r in gp_rows)


def test_notice_moves_churn_earlier_and_paid_period_later(builds: dict, expected: dict) -> None:
    """The customers whose churn moves, found from the landing files, churn earlier under
    notice and later under paid_period in the marts."""
    lines, months = expected["lines"], expected["months"]
    python_churns = {
        name: churn_months(
            expected_movements(months, lines, expected["ends"][name], reactivation_as_new=False)
        )
        for name in ("effective", "notice", "paid_period")
    }
    mart_churns = {name: churn_months(movements_of(builds[name][1])) for name in python_churns}
    assert mart_churns == python_churns
    effective = python_churns["effective"]
    earlier = {
        c for c, ms in python_churns["notice"].items() if c in effective and ms < effective[c]
    }
    later = {
        c
        for c, ms in effective.items()
        if c not in python_churns["paid_period"] or python_churns["paid_period"][c] > ms
    }
    assert earlier and later
    for customer in earlier:
        assert mart_churns["notice"][customer][0] < mart_churns["effective"][customer][0]
    for customer in later:
        paid = mart_churns["paid_period"].get(customer)
        assert paid is None or paid[-1] > mart_churns["effective"][customer][-1]
    # Nothing moves the other way.
    for customer, ms in effective.items():
        assert python_churns["notice"].get(customer, ms) <= ms
        assert python_churns["paid_period"].get(customer, [date.max])[0] >= ms[0]


def test_total_lost_mrr_is_the_same_under_every_choice(builds: dict, expected: dict) -> None:
    """Σ contraction + churned MRR over the history, per customer, agrees under every choice
    for customers whose moved line ends stay inside the reported months and who have no line
    that a notice removes before it starts (such a line's MRR is never gained nor lost)."""
    lines, ends, months = expected["lines"], expected["ends"], expected["months"]
    last = month_end(months[-1])
    moved_out = set()
    for i, line in enumerate(lines):
        recognised = [ends[name][i] for name in ends]
        if len(set(recognised)) == 1:
            continue
        if any(e is None or e > last for e in recognised) or ends["notice"][i] <= line["start"]:
            moved_out.add(line["customer"])
    totals = {}
    for name, (_, warehouse) in builds.items():
        lost: dict[str, Decimal] = defaultdict(Decimal)
        for _, customer, mrr_change in query(
            warehouse,
            "select as_of_month, customer_id, mrr_change from marts.mrr_movements"
            " where mrr_change < 0",
        ):
            if customer not in moved_out:
                lost[customer] -= mrr_change
        totals[name] = dict(lost)
    assert totals["notice"] == totals["effective"] == totals["paid_period"]
    assert sum(totals["effective"].values()) > 0
    # The portfolio totals in retention_summary are those sums plus the excluded customers'.
    for _, warehouse in builds.values():
        (portfolio,) = query(
            warehouse, "select sum(contraction_mrr + churned_mrr) from marts.retention_summary"
        )[0]
        (of_all,) = query(
            warehouse, "select -sum(mrr_change) from marts.mrr_movements where mrr_change < 0"
        )[0]
        assert portfolio == of_all
