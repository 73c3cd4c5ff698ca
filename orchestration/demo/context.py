"""What every customer's simulation shares: the month window, the technicians, weighted draws.

Months are indices into the window: month 0 is its first month, ``months - 1`` its last, and a
negative index lies before the window (a long-standing customer's start).
"""

from __future__ import annotations

import calendar
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta


class Calendar:
    """Month-index arithmetic for the window: month 0 is the first month of the window."""

    def __init__(self, end_month: str, months: int) -> None:
        match = re.fullmatch(r"(\d{4})-(\d{2})", end_month)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"end_month must look like YYYY-MM, got {end_month!r}")
        end_abs = int(match.group(1)) * 12 + int(match.group(2)) - 1
        self.months = months
        self.start_abs = end_abs - months + 1
        self._first: dict[int, date] = {}
        self._business_days: dict[int, tuple[date, ...]] = {}

    def first(self, m: int) -> date:
        """First day of month index ``m`` (negative = before the window)."""
        d = self._first.get(m)
        if d is None:
            year, month0 = divmod(self.start_abs + m, 12)
            d = self._first[m] = date(year, month0 + 1, 1)
        return d

    def last(self, m: int) -> date:
        """Last day of month index ``m``."""
        return self.first(m + 1) - timedelta(days=1)

    def year(self, m: int) -> int:
        """Calendar year of month index ``m``."""
        return (self.start_abs + m) // 12

    def business_days(self, m: int) -> tuple[date, ...]:
        """Monday-to-Friday days of month index ``m``, in date order."""
        days = self._business_days.get(m)
        if days is None:
            first = self.first(m)
            n = calendar.monthrange(first.year, first.month)[1]
            days = tuple(
                first + timedelta(days=k)
                for k in range(n)
                if (first + timedelta(days=k)).weekday() < 5
            )
            self._business_days[m] = days
        return days


@dataclass
class Context:
    """One run's settings and what every customer shares: the window and the technicians."""

    seed: int
    customers: int
    cal: Calendar
    technicians: tuple[str, ...]
    tech_cost: list[list[int]]  # [month index][technician index] -> cents per hour

    @property
    def months(self) -> int:
        """Length of the window in months."""
        return self.cal.months


def make_context(customers: int, months: int, end_month: str, seed: int) -> Context:
    """The run's context: 10-40 technicians with hourly costs drawn from their own generator."""
    cal = Calendar(end_month, months)
    rng = random.Random(f"{seed}-technicians")
    n_tech = min(40, max(10, customers // 10))
    technicians = tuple(f"TECH-{k:03d}" for k in range(1, n_tech + 1))
    # Base loaded cost 45-78 per hour, +3 % per calendar year (raises), so 45-85 in practice.
    base = [rng.randint(90, 156) * 50 for _ in technicians]
    first_year = cal.year(0)
    tech_cost = [
        [round(b * 1.03 ** (cal.year(m) - first_year)) for b in base] for m in range(months)
    ]
    return Context(seed, customers, cal, technicians, tech_cost)


def weighted(rng: random.Random, choices: Iterable[tuple]) -> tuple:
    """One of ``choices``, tuples whose second item is the weight, drawn with one random number."""
    items = list(choices)
    total = sum(item[1] for item in items)
    x = rng.random() * total
    for item in items:
        x -= item[1]
        if x < 0:
            return item
    return items[-1]
