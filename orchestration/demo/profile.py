"""One customer's profile: what is drawn about a customer before any of its rows.

Its size, industry and kind, how labour-heavy it is, its prices, billing cycle and term, the month
it started, the month it leaves (if it does) and the month it comes back (if it does). Each step
draws from the customer's own random generator; the order of the draws is part of the output (the
same arguments give byte-identical files), so :func:`draw_profile` calls the steps in a fixed
order and a step draws even where a pinned scenario then overrides what it drew.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date

from orchestration.demo.catalogue import OTHER_INDUSTRIES, TARGET_INDUSTRIES
from orchestration.demo.context import Context, weighted

ANCHOR_BIG = 3
"""Customer number of a large, well-run full-package account, sized from the number of customers
so that a default-sized portfolio shows a concentration warning."""
ANCHOR_HEAVY = 11
"""Customer number of a large, labour-heavy legacy account, sized the same way."""

# Scenarios every demo needs, pinned to customer numbers (mod 100) so that even small portfolios
# have them.
UNKNOWN_REASON_CHURN = 7
"""Churns, recorded with the unknown reason ``other``."""
UNRECORDED_CHURN = 19
"""Churns without a churn event."""
DISPUTED_PROJECT = 23
"""Has a project that is disputed and fully credited."""
ANNUAL_BILLING = 27
QUARTERLY_BILLING = 31
COMES_BACK = 35
"""Churns and comes back months later."""
_PINNED = (UNKNOWN_REASON_CHURN, UNRECORDED_CHURN, ANNUAL_BILLING, QUARTERLY_BILLING, COMES_BACK)
_PINNED_CHURNS = (UNKNOWN_REASON_CHURN, UNRECORDED_CHURN, COMES_BACK)

RECURRING_KINDS = ("full", "partial", "legacy", "block")
"""Kinds of customer with recurring agreements: on the full, a partial or the legacy package, or
a block-hours retainer. The other kinds are ``tm``, ``project`` and ``product`` (resale only)."""
_PACKAGE_KINDS = ("full", "partial", "legacy")
# (kind, weight) for customers of 25 seats or more, and for smaller ones.
_KINDS_LARGE = (
    ("full", 42),
    ("partial", 27),
    ("legacy", 15),
    ("block", 6),
    ("tm", 5),
    ("project", 3),
    ("product", 2),
)
_KINDS_SMALL = (
    ("full", 26),
    ("partial", 24),
    ("legacy", 12),
    ("block", 13),
    ("tm", 13),
    ("project", 6),
    ("product", 6),
)


@dataclass(frozen=True)
class Pins:
    """What a customer's number fixes in advance."""

    i: int
    #: One of the two anchor accounts.
    anchor: bool
    #: The pinned scenario (customer number mod 100, e.g. ``UNKNOWN_REASON_CHURN``), or None.
    scenario: int | None
    #: Has the disputed project (and nothing else).
    disputed: bool


def pins_of(i: int, months: int) -> Pins:
    """The pins of customer ``i`` in a window of ``months``: scenarios need 6 months, the
    disputed project 14."""
    anchor = i in (ANCHOR_BIG, ANCHOR_HEAVY)
    scenario = i % 100 if not anchor and months >= 6 and i % 100 in _PINNED else None
    disputed = not anchor and months >= 14 and i % 100 == DISPUTED_PROJECT
    return Pins(i, anchor, scenario, disputed)


@dataclass(frozen=True)
class Profile:
    """One customer's drawn profile. Months are window indices (negative = before the window)."""

    pins: Pins
    #: Seats at the start.
    seats: int
    industry: str
    #: ``full``, ``partial``, ``legacy``, ``block``, ``tm``, ``project`` or ``product``.
    kind: str
    #: Labour-heavy: its hours far exceed what its fees justify.
    heavy: bool
    #: Factor on support, block and project hours.
    labour_mult: float
    #: Factor on list prices.
    discount: float
    #: Devices per seat.
    dev_ratio: float
    #: Time-and-materials rate, cents per hour.
    tm_rate: int
    #: Billing cycle of the recurring lines in months: 1, 3 or 12.
    cycle: int
    #: Months of a fixed-term agreement; None for open-ended.
    term: int | None
    start_m: int
    #: First month without service; None when the customer stays.
    churn_m: int | None
    #: Leaves on the last day of the month before ``churn_m`` rather than on its first day.
    last_day: bool
    #: The day the customer leaves; None when it stays.
    stop_date: date | None
    #: The month a churned customer comes back; None when it does not.
    react_m: int | None

    @property
    def is_recurring(self) -> bool:
        """Has recurring agreements."""
        return self.kind in RECURRING_KINDS


def draw_profile(rng: random.Random, ctx: Context, i: int) -> Profile:
    """Draws customer ``i``'s profile from ``rng``, the customer's own generator."""
    months = ctx.months
    pins = pins_of(i, months)
    seats = _seats(rng, i, ctx.customers)
    industry = _industry(rng, i)
    kind = _kind(rng, pins, seats)
    heavy, labour_mult = _labour(rng, i)
    discount = _discount(rng, seats)
    dev_ratio = rng.uniform(1.05, 1.4)
    tm_rate = round(15000 * min(1.1, max(0.85, discount)) / 500) * 500
    cycle = _billing_cycle(rng, pins, kind)
    term = _term(rng, pins)
    start_m = _start_month(rng, months, pins)
    churn_m = _churn_month(rng, months, pins, start_m, _hazard(seats, heavy, kind))
    churn_m = _moved_to_a_term_end(rng, months, pins, start_m, term, churn_m)
    last_day = _leaves_on_last_day(rng, start_m, term, churn_m)
    stop_date = None
    if churn_m is not None:
        stop_date = ctx.cal.last(churn_m - 1) if last_day else ctx.cal.first(churn_m)
    react_m = _return_month(rng, months, pins, kind, churn_m)
    return Profile(
        pins,
        seats,
        industry,
        kind,
        heavy,
        labour_mult,
        discount,
        dev_ratio,
        tm_rate,
        cycle,
        term,
        start_m,
        churn_m,
        last_day,
        stop_date,
        react_m,
    )


def _seats(rng: random.Random, i: int, customers: int) -> int:
    """Seats, lognormal (median 12, at most 1,500); the anchors grow with the portfolio."""
    if i == ANCHOR_BIG:
        return min(2500, max(200, round(3.6 * customers)))
    if i == ANCHOR_HEAVY:
        return min(1200, max(120, round(1.6 * customers)))
    return min(1500, max(2, round(rng.lognormvariate(math.log(12), 1.5))))


def _industry(rng: random.Random, i: int) -> str:
    """An industry, a target-profile one for 58 % of the customers."""
    if i == ANCHOR_BIG:
        return "healthcare"
    if i == ANCHOR_HEAVY:
        return "manufacturing"
    if rng.random() < 0.58:
        return rng.choice(TARGET_INDUSTRIES)
    return rng.choice(OTHER_INDUSTRIES)


def _kind(rng: random.Random, pins: Pins, seats: int) -> str:
    """The kind of customer; small customers more often buy hours or hardware only."""
    kind = weighted(rng, _KINDS_LARGE if seats >= 25 else _KINDS_SMALL)[0]
    if pins.i == ANCHOR_BIG:
        return "full"
    if pins.i == ANCHOR_HEAVY:
        return "legacy"
    if pins.disputed:
        return "project"
    if pins.scenario is not None and kind not in _PACKAGE_KINDS:
        return "full"
    return kind


def _labour(rng: random.Random, i: int) -> tuple[bool, float]:
    """Whether the customer is labour-heavy (12 %), and its factor on hours."""
    heavy = rng.random() < 0.12
    labour_mult = rng.uniform(1.5, 2.4) if heavy else rng.lognormvariate(0.0, 0.2)
    if i == ANCHOR_BIG:
        return False, 0.85
    if i == ANCHOR_HEAVY:
        return True, 1.1
    return heavy, labour_mult


def _discount(rng: random.Random, seats: int) -> float:
    """Factor on list prices, 0.65-1.1: larger customers pay less, a tenth are under-priced."""
    discount = 1.06 - 0.07 * math.log10(seats) + rng.gauss(0.0, 0.04)
    if rng.random() < 0.1:
        discount *= 0.8  # under-priced deal
    return min(1.1, max(0.65, discount))


def _billing_cycle(rng: random.Random, pins: Pins, kind: str) -> int:
    """Months per billing cycle of the recurring lines: mostly monthly."""
    cycle = 1
    if kind in _PACKAGE_KINDS:
        cycle = weighted(rng, ((1, 84), (3, 10), (12, 6)))[0]
    elif kind == "block":
        cycle = weighted(rng, ((1, 85), (3, 15)))[0]
    if pins.scenario == ANNUAL_BILLING:
        return 12
    if pins.scenario == QUARTERLY_BILLING:
        return 3
    if pins.anchor:
        return 1
    return cycle


def _term(rng: random.Random, pins: Pins) -> int | None:
    """Months of a fixed term (12, 24 or 36) for 40 % of the customers; None for open-ended."""
    term = None if rng.random() < 0.6 else rng.choice((12, 24, 36))
    return None if pins.anchor else term


def _start_month(rng: random.Random, months: int, pins: Pins) -> int:
    """The first month as a customer: before the window for most customers (up to 8 years)."""
    if pins.anchor:
        start_m = -rng.randint(48, 90)
    elif pins.scenario in _PINNED_CHURNS or pins.disputed or rng.random() < 0.62:
        start_m = -rng.randint(1, 96)
    else:
        start_m = rng.randint(0, max(0, months - 2))
    if pins.disputed:
        start_m = rng.randint(0, months - 14)
    return start_m


def _hazard(seats: int, heavy: bool, kind: str) -> float:
    """Monthly probability of churn: higher for small, labour-heavy and legacy customers."""
    hazard = 0.011 if seats < 10 else 0.007 if seats < 100 else 0.004
    if heavy:
        hazard *= 1.5
    if kind == "legacy":
        hazard *= 1.3
    return hazard


def _churn_month(
    rng: random.Random, months: int, pins: Pins, start_m: int, hazard: float
) -> int | None:
    """The first month without service, or None; never in a customer's first six months."""
    if pins.scenario in _PINNED_CHURNS:
        hi = months - 2 if pins.scenario != COMES_BACK else max(1, months // 2)
        return rng.randint(max(1, hi - 10), hi)
    if pins.anchor or pins.disputed:
        return None
    for m in range(max(1, start_m + 6), months):
        if rng.random() < hazard:
            return m
    return None


def _moved_to_a_term_end(
    rng: random.Random,
    months: int,
    pins: Pins,
    start_m: int,
    term: int | None,
    churn_m: int | None,
) -> int | None:
    """``churn_m``, or for half of the fixed-term customers who leave, the end of one of their
    terms inside the window: they leave by not renewing."""
    if churn_m is None or term is None or pins.scenario is not None or rng.random() >= 0.5:
        return churn_m
    lo = max(1, start_m + 6)
    boundaries = [m for m in range(start_m + term, months, term) if m >= lo]
    return rng.choice(boundaries) if boundaries else churn_m


def _leaves_on_last_day(
    rng: random.Random, start_m: int, term: int | None, churn_m: int | None
) -> bool:
    """Whether a leaving customer's agreements end on the last day of the month before
    ``churn_m`` (a quarter of them) rather than on its first; a non-renewal ends on the end date."""
    last_day = churn_m is not None and rng.random() < 0.25
    if churn_m is not None and term is not None and (churn_m - start_m) % term == 0:
        return False
    return last_day


def _return_month(
    rng: random.Random, months: int, pins: Pins, kind: str, churn_m: int | None
) -> int | None:
    """The month a churned recurring customer comes back (8 %, 3-12 months later), or None."""
    if churn_m is None or kind not in RECURRING_KINDS:
        return None
    gap = rng.randint(3, max(3, min(12, months - 2 - churn_m)))
    if (pins.scenario == COMES_BACK or rng.random() < 0.08) and churn_m + gap <= months - 2:
        return churn_m + gap
    return None
