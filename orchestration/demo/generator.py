"""Deterministic demo landing data for a fictitious managed-service provider (MSP).

Writes the seven landing tables of the contract (orchestration/landing/loader.py) into one folder,
as CSV (header, ISO dates, ``true``/``false``, empty field = null) or Parquet (DECIMAL(18, 2) money,
quantities and hours; DATE dates; BOOLEAN flags)::

    python -m orchestration.demo --customers 300 --months 36 --end-month 2026-10 \\
        --seed 42 --output data/landing --format csv

The same arguments always produce byte-identical files. Every customer draws from its own random
generator, ``random.Random(f"{seed}-{i}")``, so its rows do not depend on the chunking; customers
are generated and written in chunks of 1,000, so memory stays flat for 100,000 customers.

What the portfolio contains
---------------------------
- A catalogue of 19 offerings in 8 families covering all five revenue types; a "full package" of
  five current mrr offerings (managed endpoints, managed network, helpdesk, EDR, cloud backup) and
  two legacy mrr offerings (the legacy managed-services bundle and an on-premises backup appliance).
- Customer size (seats) is lognormal, so about 20 % of the customers bring 70-80 % of the revenue;
  two "anchor" accounts (``C00003`` and ``C00011``) are sized from the number of customers so that
  a default-sized portfolio shows a concentration warning (top customer > 10 % of revenue).
  ``C00003`` is a well-run full-package account, ``C00011`` a large, labour-heavy legacy account.
- Recurring agreements (``managed_services`` on the full, a partial or the legacy package, or
  ``block_time`` retainers) are open-ended or fixed-term (12/24/36 months, renewed by a new
  agreement on the end date with a 3.5 % price uplift). Their lines change over time: a change of
  quantity is a line cancelled and a new line effective the same day; offerings are added
  (cross-sell), removed (with an ``offering_cancel`` event for some) and legacy customers migrate
  to the full package. Most lines bill monthly; some customers are billed quarterly or annually
  (``unit_price`` is per billing cycle, so an annual line carries 12 months' price).
- About two thirds of the monthly-billed customers who churn first cut seats (or block hours)
  by 20-50 % one to three months before they leave, the leading signal churn-risk scoring uses.
- Churn cancels every agreement of the customer (on the first of a month, or for about a quarter
  of the churns on the last day of the month before), or is a fixed-term agreement not renewed.
  About 85 % of recurring churns are recorded in ``churn_events`` with a reason code (including
  the unknown code ``other``); a few churned customers come back months later (reactivation).
- Invoices (one ``invoice_id`` per customer and month, dated the 1st): recurring lines in advance
  per billing cycle, project milestones, time-and-materials hours of the previous month, block-hour
  overage, hardware and software resale at 80-92 % cost, third-party licence cost on some mrr
  lines, occasional service-level credits, and one disputed project per 100 customers
  (``C00023``, ``C00123``, ...) fully credited so its trailing revenue drops to 0 and below.
- Time entries by 10-40 technicians (``TECH-001`` ...), roughly proportional to size, with about
  12 % labour-heavy customers whose hours far exceed what their fees justify.

Scenarios every demo needs are pinned to customer numbers so that even small portfolios have
them: numbers ending (mod 100) in 07 churn with the unknown reason ``other``, 19 churn without a
churn event, 23 have the disputed project, 27 are billed annually, 31 quarterly, and 35 churn and
come back.

Deliberate edge cases for the warehouse: agreements that started before the window, fixed-term
agreements whose contractual ``end_date`` lies after the window, lines left open (no
``cancelled_date``) on agreements that ended or were cancelled, T&M and project agreements
without recurring lines, customers with invoices but no agreement (hardware only).
Invoice and time-entry dates always fall inside the window; customer ``created_date`` and agreement
``start_date``/``effective_date`` may precede it for long-standing customers.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import math
import os
import random
import re
import sys
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

CHUNK_SIZE = 1_000
"""Customers generated and written per chunk (one Parquet row group per table and chunk)."""

TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "customers": (
        ("customer_id", "text"),
        ("customer_name", "text"),
        ("industry", "text"),
        ("employee_count", "int"),
        ("region", "text"),
        ("account_manager", "text"),
        ("created_date", "date"),
        ("tcp_override", "bool"),
    ),
    "offerings": (
        ("offering_id", "text"),
        ("offering_name", "text"),
        ("offering_family", "text"),
        ("revenue_type", "text"),
        ("lifecycle", "text"),
        ("is_full_package_component", "bool"),
        ("list_price", "money"),
    ),
    "agreements": (
        ("agreement_id", "text"),
        ("customer_id", "text"),
        ("agreement_type", "text"),
        ("start_date", "date"),
        ("end_date", "date"),
        ("cancelled_date", "date"),
    ),
    "agreement_lines": (
        ("agreement_line_id", "text"),
        ("agreement_id", "text"),
        ("offering_id", "text"),
        ("quantity", "decimal"),
        ("unit_price", "money"),
        ("billing_cycle", "text"),
        ("effective_date", "date"),
        ("cancelled_date", "date"),
    ),
    "invoice_lines": (
        ("invoice_line_id", "text"),
        ("invoice_id", "text"),
        ("invoice_date", "date"),
        ("customer_id", "text"),
        ("offering_id", "text"),
        ("revenue_type", "text"),
        ("quantity", "decimal"),
        ("extended_price", "money"),
        ("extended_cost", "money"),
    ),
    "time_entries": (
        ("time_entry_id", "text"),
        ("work_date", "date"),
        ("customer_id", "text"),
        ("offering_id", "text"),
        ("technician_id", "text"),
        ("hours_actual", "decimal"),
        ("loaded_hourly_cost", "money"),
    ),
    "churn_events": (
        ("churn_event_id", "text"),
        ("customer_id", "text"),
        ("offering_id", "text"),
        ("event_type", "text"),
        ("notice_date", "date"),
        ("effective_date", "date"),
        ("reason_code", "text"),
        ("initiated_by", "text"),
        ("was_flagged_at_risk", "bool"),
    ),
}
"""Landing tables and their columns, in the contract's order (orchestration/landing/loader.py).

Column kinds: ``text``, ``int``, ``date``, ``bool``, ``money`` (held as integer cents) and
``decimal`` (quantities and hours, held as integer hundredths)."""

KNOWN_REASON_CODES = (
    "price",
    "service_quality",
    "competitor",
    "insourced",
    "non_payment",
    "bad_fit",
    "provider_terminated",
    "out_of_business",
    "acquired",
)
UNKNOWN_REASON_CODE = "other"

TARGET_INDUSTRIES = (
    "healthcare",
    "legal",
    "accounting",
    "manufacturing",
    "professional_services",
)
"""Industries of the typical target client profile (TCP) the demo is built around; the TCP size
band the demo assumes is 10-250 employees."""
OTHER_INDUSTRIES = (
    "retail",
    "construction",
    "non_profit",
    "hospitality",
    "education",
    "real_estate",
    "logistics",
)


@dataclass(frozen=True)
class Offering:
    """One catalogue entry. Prices and costs are monthly, in cents, per unit of ``unit``."""

    offering_id: str
    name: str
    family: str
    revenue_type: str
    lifecycle: str
    is_full_package_component: bool
    list_price_cents: int | None
    monthly_unit_cost_cents: int
    unit: str


OFFERINGS: tuple[Offering, ...] = (
    Offering("OFF-MS-ENDPOINT", "Managed Endpoints (per device)", "managed_services", "mrr",
             "current", True, 4500, 350, "device"),
    Offering("OFF-MS-NETWORK", "Managed Network & Firewall (per site)", "managed_services", "mrr",
             "current", True, 25000, 2000, "site"),
    Offering("OFF-MS-HELPDESK", "Unlimited Helpdesk (per user)", "managed_services", "mrr",
             "current", True, 3500, 0, "user"),
    Offering("OFF-SEC-EDR", "Endpoint Detection & Response (per device)", "security", "mrr",
             "current", True, 1200, 450, "device"),
    Offering("OFF-BCK-CLOUD", "Cloud Backup & Recovery (per server)", "backup_continuity", "mrr",
             "current", True, 9500, 3000, "server"),
    Offering("OFF-SEC-EMAIL", "Email Security & Archiving (per user)", "security", "mrr",
             "current", False, 400, 150, "user"),
    Offering("OFF-SEC-SAT", "Security Awareness Training (per user)", "security", "mrr",
             "current", False, 300, 100, "user"),
    Offering("OFF-SEC-MDR", "24x7 SOC / Managed Detection & Response (per device)", "security",
             "mrr", "current", False, 1800, 700, "device"),
    Offering("OFF-CLD-M365", "Microsoft 365 Business Premium Licences (per user)",
             "cloud_productivity", "mrr", "current", False, 2200, 1870, "user"),
    Offering("OFF-CLD-AZURE", "Managed Azure Hosting (per server)", "cloud_productivity", "mrr",
             "current", False, 32000, 18000, "server"),
    Offering("OFF-ADV-VCIO", "vCIO Strategic Advisory (monthly)", "advisory", "mrr", "current",
             False, 75000, 0, "flat"),
    Offering("OFF-LEG-BUNDLE", "Legacy Managed Services Bundle (per device)", "managed_services",
             "mrr", "legacy", False, 6500, 300, "device"),
    Offering("OFF-LEG-BDR", "Legacy On-premises Backup Appliance (per site)",
             "backup_continuity", "mrr", "legacy", False, 19900, 4000, "site"),
    Offering("OFF-PS-PROJECT", "Project Services (fixed fee)", "professional_services",
             "project_labor", "current", False, None, 0, "project"),
    Offering("OFF-PS-TM", "Time & Materials Labour (per hour)", "professional_services",
             "t_and_m", "current", False, 15000, 0, "hour"),
    Offering("OFF-PS-BLOCK", "Prepaid Block Hours (per hour)", "professional_services",
             "block_time", "current", False, 13500, 0, "hour"),
    Offering("OFF-HW-ENDPOINT", "Workstations & Laptops (resale)", "hardware", "product_resale",
             "current", False, None, 0, "unit"),
    Offering("OFF-HW-NETWORK", "Network & Firewall Appliances (resale)", "hardware",
             "product_resale", "current", False, None, 0, "unit"),
    Offering("OFF-SW-LICENCE", "Software Licences (resale)", "software", "product_resale",
             "current", False, None, 0, "unit"),
)  # fmt: skip
_OFF = {o.offering_id: o for o in OFFERINGS}
_FULL_PACKAGE = tuple(o.offering_id for o in OFFERINGS if o.is_full_package_component)
_EXTRAS = ("OFF-SEC-EMAIL", "OFF-SEC-SAT", "OFF-SEC-MDR", "OFF-CLD-M365", "OFF-CLD-AZURE")
_LEGACY = ("OFF-LEG-BUNDLE", "OFF-LEG-BDR")
_ORDER = {o.offering_id: n for n, o in enumerate(OFFERINGS)}

_REGIONS = ("Northeast", "Southeast", "Midwest", "Southwest", "West")
_ACCOUNT_MANAGERS = (
    "Dana Whitfield",
    "Marcus Osei",
    "Priya Raman",
    "Tom Brennan",
    "Elena Kovacs",
    "Jamal Carter",
    "Sofia Lindqvist",
)
_NAME_STEMS = (
    "Harbor", "Summit", "Cedar", "Riverside", "Northgate", "Bluewater", "Granite", "Maple",
    "Lakeside", "Ironwood", "Pioneer", "Westbrook", "Oakridge", "Silverline", "Brightpath",
    "Keystone", "Redwood", "Meridian", "Clearwater", "Evergreen", "Stonebridge", "Hillcrest",
    "Fairview", "Copperfield", "Bayview", "Highland", "Willow", "Crescent", "Sterling", "Horizon",
)  # fmt: skip
_SURNAMES = (
    "Whitfield", "Reyes", "Okafor", "Lindqvist", "Patel", "Moreau", "Castellano", "Brennan",
    "Nakamura", "Haddad", "Kowalski", "Delgado", "Fitzgerald", "Abernathy", "Sorensen", "Marsh",
    "Calloway", "Underwood", "Vasquez", "Donovan",
)  # fmt: skip
_INDUSTRY_NOUNS = {
    "healthcare": ("Family Medicine", "Dental Group", "Pediatrics", "Physical Therapy",
                   "Medical Associates", "Eye Care", "Health Partners"),
    "legal": ("Law Group", "Legal", "Law Offices"),
    "accounting": ("CPAs", "Accounting", "Tax & Advisory"),
    "manufacturing": ("Manufacturing", "Precision Parts", "Fabrication", "Industries", "Plastics"),
    "professional_services": ("Consulting", "Engineering", "Architects", "Advisors", "Staffing"),
    "retail": ("Outfitters", "Home & Garden", "Market", "Boutique"),
    "construction": ("Builders", "Construction", "Contracting", "Roofing"),
    "non_profit": ("Foundation", "Community Services", "Trust"),
    "hospitality": ("Hotels", "Restaurant Group", "Inn & Suites"),
    "education": ("Academy", "Learning Center", "Montessori School"),
    "real_estate": ("Realty", "Property Management", "Real Estate"),
    "logistics": ("Logistics", "Freight", "Distribution"),
}  # fmt: skip
_NAME_SUFFIXES = ("", "", " Inc.", " LLC", " Ltd.", " Co.")

# Reason codes: (code, weight, initiated_by or None for "either").
_CHURN_REASONS = (
    ("price", 18, "customer"),
    ("service_quality", 15, "customer"),
    ("competitor", 14, "customer"),
    ("insourced", 8, "customer"),
    ("non_payment", 5, "provider"),
    ("bad_fit", 7, None),
    ("provider_terminated", 6, "provider"),
    ("out_of_business", 8, "customer"),
    ("acquired", 9, "customer"),
    (UNKNOWN_REASON_CODE, 3, "customer"),
)
_LABOUR_HEAVY_REASONS = (
    ("provider_terminated", 5, "provider"),
    ("bad_fit", 4, "provider"),
    ("price", 3, "customer"),
    ("service_quality", 3, "customer"),
    ("competitor", 2, "customer"),
)
_OFFERING_CANCEL_REASONS = (
    ("price", 5, "customer"),
    ("competitor", 3, "customer"),
    ("insourced", 3, "customer"),
    ("service_quality", 2, "customer"),
    (UNKNOWN_REASON_CODE, 1, "customer"),
)

_SUPPORT_HOURS_PER_SEAT = 0.8
_RECURRING_KINDS = ("full", "partial", "legacy", "block")
_ANCHOR_BIG = 3  # well-run full-package account
_ANCHOR_HEAVY = 11  # large, labour-heavy legacy account


# --------------------------------------------------------------------------------------------
# Calendar
# --------------------------------------------------------------------------------------------


class _Calendar:
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
        return (self.start_abs + m) // 12

    def business_days(self, m: int) -> tuple[date, ...]:
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
class _Context:
    seed: int
    customers: int
    cal: _Calendar
    technicians: tuple[str, ...]
    tech_cost: list[list[int]]  # [month index][technician index] -> cents per hour

    @property
    def months(self) -> int:
        return self.cal.months


def _make_context(customers: int, months: int, end_month: str, seed: int) -> _Context:
    cal = _Calendar(end_month, months)
    rng = random.Random(f"{seed}-technicians")
    n_tech = min(40, max(10, customers // 10))
    technicians = tuple(f"TECH-{k:03d}" for k in range(1, n_tech + 1))
    # Base loaded cost 45-78 per hour, +3 % per calendar year (raises), so 45-85 in practice.
    base = [rng.randint(90, 156) * 50 for _ in technicians]
    first_year = cal.year(0)
    tech_cost = [
        [round(b * 1.03 ** (cal.year(m) - first_year)) for b in base] for m in range(months)
    ]
    return _Context(seed, customers, cal, technicians, tech_cost)


def _weighted(rng: random.Random, choices: Iterable[tuple]) -> tuple:
    items = list(choices)
    total = sum(item[1] for item in items)
    x = rng.random() * total
    for item in items:
        x -= item[1]
        if x < 0:
            return item
    return items[-1]


# --------------------------------------------------------------------------------------------
# One customer
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _State:
    """What a recurring agreement covers at some point in time."""

    seats: int
    offerings: tuple[str, ...]  # in catalogue order
    block_hours: int = 0


class _CustomerBuilder:
    """Draws one customer's story and renders it as rows of the seven tables."""

    def __init__(self, ctx: _Context, i: int) -> None:
        self.ctx = ctx
        self.cal = ctx.cal
        self.i = i
        self.cid = f"C{i:05d}"
        self.rng = random.Random(f"{ctx.seed}-{i}")
        self.rows: dict[str, list[tuple]] = {t: [] for t in TABLES if t != "offerings"}
        self._n_agreement = 0
        self._n_line = 0
        self._n_event = 0
        # month -> [(offering_id, quantity hundredths, price cents, cost cents)]
        self.bill: dict[int, list[tuple[str, int, int, int]]] = {}
        # month -> [(offering_id, hours hundredths, may the entry omit the offering)]
        self.work: dict[int, list[tuple[str, int, bool]]] = {}
        # month of work -> T&M hours (hundredths) to invoice the month after
        self.tm_hours: dict[int, int] = {}

    # ---- identifiers -------------------------------------------------------------------------

    def _agreement_id(self) -> str:
        self._n_agreement += 1
        return f"AGR-{self.i:05d}-{self._n_agreement:02d}"

    def _line_id(self) -> str:
        self._n_line += 1
        return f"AGL-{self.i:05d}-{self._n_line:03d}"

    def _event_id(self) -> str:
        self._n_event += 1
        return f"CHE-{self.i:05d}-{self._n_event:02d}"

    # ---- the story ---------------------------------------------------------------------------

    def build(self) -> dict[str, list[tuple]]:
        ctx, rng, months = self.ctx, self.rng, self.ctx.months
        i = self.i
        anchor = i in (_ANCHOR_BIG, _ANCHOR_HEAVY)
        # Scenarios every demo needs, pinned to customer numbers so small portfolios have them too:
        # 7 churns with an unknown reason, 19 churns unrecorded, 27 is billed annually,
        # 31 quarterly, 35 churns and comes back.
        forced = i % 100 if not anchor and months >= 6 and i % 100 in (7, 19, 27, 31, 35) else None
        disputed = not anchor and months >= 14 and i % 100 == 23

        # Size, profile and commercial terms.
        if i == _ANCHOR_BIG:
            seats = min(2500, max(200, round(3.6 * ctx.customers)))
        elif i == _ANCHOR_HEAVY:
            seats = min(1200, max(120, round(1.6 * ctx.customers)))
        else:
            seats = min(1500, max(2, round(rng.lognormvariate(math.log(12), 1.5))))
        self.seats0 = seats
        if i == _ANCHOR_BIG:
            industry = "healthcare"
        elif i == _ANCHOR_HEAVY:
            industry = "manufacturing"
        elif rng.random() < 0.58:
            industry = rng.choice(TARGET_INDUSTRIES)
        else:
            industry = rng.choice(OTHER_INDUSTRIES)

        if seats >= 25:
            kinds = (
                ("full", 42),
                ("partial", 27),
                ("legacy", 15),
                ("block", 6),
                ("tm", 5),
                ("project", 3),
                ("product", 2),
            )
        else:
            kinds = (
                ("full", 26),
                ("partial", 24),
                ("legacy", 12),
                ("block", 13),
                ("tm", 13),
                ("project", 6),
                ("product", 6),
            )
        kind = _weighted(rng, kinds)[0]
        if i == _ANCHOR_BIG:
            kind = "full"
        elif i == _ANCHOR_HEAVY:
            kind = "legacy"
        elif disputed:
            kind = "project"
        elif forced in (7, 19, 27, 31, 35) and kind not in ("full", "partial", "legacy"):
            kind = "full"

        heavy = rng.random() < 0.12
        self.labour_mult = rng.uniform(1.5, 2.4) if heavy else rng.lognormvariate(0.0, 0.2)
        if i == _ANCHOR_BIG:
            heavy, self.labour_mult = False, 0.85
        elif i == _ANCHOR_HEAVY:
            heavy, self.labour_mult = True, 1.1
        self.heavy = heavy
        discount = 1.06 - 0.07 * math.log10(seats) + rng.gauss(0.0, 0.04)
        if rng.random() < 0.1:
            discount *= 0.8  # under-priced deal
        self.discount = min(1.1, max(0.65, discount))
        self.dev_ratio = rng.uniform(1.05, 1.4)
        self.tm_rate = round(15000 * min(1.1, max(0.85, self.discount)) / 500) * 500

        cycle = 1
        if kind in ("full", "partial", "legacy"):
            cycle = _weighted(rng, ((1, 84), (3, 10), (12, 6)))[0]
        elif kind == "block":
            cycle = _weighted(rng, ((1, 85), (3, 15)))[0]
        if forced == 27:
            cycle = 12
        elif forced == 31:
            cycle = 3
        elif anchor:
            cycle = 1
        term = None if rng.random() < 0.6 else rng.choice((12, 24, 36))
        if anchor:
            term = None

        # Start, churn and reactivation (month indices; negative = before the window).
        if anchor:
            start_m = -rng.randint(48, 90)
        elif forced in (7, 19, 35) or disputed or rng.random() < 0.62:
            start_m = -rng.randint(1, 96)
        else:
            start_m = rng.randint(0, max(0, months - 2))
        if disputed:
            start_m = rng.randint(0, months - 14)

        churn_m: int | None = None
        if forced in (7, 19, 35):
            hi = months - 2 if forced != 35 else max(1, months // 2)
            churn_m = rng.randint(max(1, hi - 10), hi)
        elif not anchor and not disputed:
            hazard = 0.011 if seats < 10 else 0.007 if seats < 100 else 0.004
            if heavy:
                hazard *= 1.5
            if kind == "legacy":
                hazard *= 1.3
            for m in range(max(1, start_m + 6), months):
                if rng.random() < hazard:
                    churn_m = m
                    break
        # Fixed-term customers often leave by not renewing at the end of a term.
        if churn_m is not None and term is not None and forced is None and rng.random() < 0.5:
            lo = max(1, start_m + 6)
            boundaries = [m for m in range(start_m + term, months, term) if m >= lo]
            if boundaries:
                churn_m = rng.choice(boundaries)
        last_day = churn_m is not None and rng.random() < 0.25
        if churn_m is not None and term is not None and (churn_m - start_m) % term == 0:
            last_day = False  # a non-renewal ends on the end date itself
        stop_date = None
        if churn_m is not None:
            stop_date = self.cal.last(churn_m - 1) if last_day else self.cal.first(churn_m)

        react_m = None
        if churn_m is not None and kind in _RECURRING_KINDS:
            gap = rng.randint(3, max(3, min(12, months - 2 - churn_m)))
            if (forced == 35 or rng.random() < 0.08) and churn_m + gap <= months - 2:
                react_m = churn_m + gap

        self._customer_row(seats, industry, start_m)

        # Recurring agreements.
        ends = [] if churn_m is None else [churn_m]
        if kind in _RECURRING_KINDS:
            state = self._initial_state(kind, seats)
            self._recurring_episode(kind, state, start_m, churn_m, stop_date, cycle, term)
            if react_m is not None:
                back = max(2, round(seats * rng.uniform(0.5, 1.0)))
                state2 = self._initial_state("block" if kind == "block" else "partial", back)
                self._recurring_episode(
                    "partial" if kind != "block" else "block", state2, react_m, None, None, 1, None
                )
        elif kind == "tm":
            self._tm_agreement(start_m, churn_m, stop_date)
        spans = [(start_m, churn_m if churn_m is not None else months)]
        if react_m is not None:
            spans.append((react_m, months))
        self.spans = spans

        # Churn event for the whole customer.
        if churn_m is not None and stop_date is not None:
            recorded = rng.random() < (0.85 if kind in _RECURRING_KINDS else 0.5)
            if forced == 7:
                recorded = True
            elif forced == 19:
                recorded = False
            if kind == "product":
                recorded = False
            if recorded:
                reasons = _LABOUR_HEAVY_REASONS if heavy else _CHURN_REASONS
                code, _, by = _weighted(rng, reasons)
                if forced == 7:
                    code, by = UNKNOWN_REASON_CODE, "customer"
                if by is None:
                    by = rng.choice(("customer", "provider"))
                self._churn_event(
                    None,
                    "full_churn",
                    stop_date,
                    code,
                    by,
                    lead=(60, 100) if not last_day else (20, 90),
                )

        # Non-recurring work and sales.
        if disputed:
            self._disputed_project(start_m)
        else:
            self._projects(kind, spans, ends)
            self._out_of_scope_tm(kind, spans)
            self._resale(kind, spans)
        self._time_entries()
        self._invoices()
        return self.rows

    # ---- customers ---------------------------------------------------------------------------

    def _customer_row(self, seats: int, industry: str, start_m: int) -> None:
        rng, cal = self.rng, self.cal
        if self.i == _ANCHOR_BIG:
            name = "Meridian Regional Health Network"
        elif self.i == _ANCHOR_HEAVY:
            name = "Ironwood Precision Manufacturing Inc."
        elif industry in ("legal", "accounting") and rng.random() < 0.45:
            a, b = rng.sample(_SURNAMES, 2)
            tail = " & Partners LLP" if industry == "legal" else " & Co. CPAs"
            name = f"{a}, {b}{tail}"
        else:
            stem = rng.choice(_NAME_STEMS) if rng.random() < 0.6 else rng.choice(_SURNAMES)
            name = f"{stem} {rng.choice(_INDUSTRY_NOUNS[industry])}{rng.choice(_NAME_SUFFIXES)}"
        employees = None if rng.random() < 0.08 else max(1, round(seats * rng.uniform(1.0, 1.6)))
        region = None if rng.random() < 0.04 else rng.choice(_REGIONS)
        manager = None if rng.random() < 0.06 else rng.choice(_ACCOUNT_MANAGERS)
        created = cal.first(start_m) - timedelta(days=rng.randint(0, 60))
        if start_m >= 0:
            created = max(created, cal.first(0))
        x = rng.random()
        tcp_override = True if x < 0.03 else False if x < 0.06 else None
        self.rows["customers"].append(
            (self.cid, name, industry, employees, region, manager, created, tcp_override)
        )

    # ---- recurring agreements ----------------------------------------------------------------

    def _initial_state(self, kind: str, seats: int) -> _State:
        rng = self.rng
        if kind == "block":
            hours = 10 if seats < 15 else 20 if seats < 60 else 40
            return _State(seats, ("OFF-PS-BLOCK",), hours)
        if kind == "full":
            offs = set(_FULL_PACKAGE)
        elif kind == "partial":
            optional = ["OFF-MS-NETWORK", "OFF-SEC-EDR", "OFF-BCK-CLOUD", "OFF-MS-HELPDESK"]
            keep = rng.randint(1, 3)
            offs = {"OFF-MS-ENDPOINT", *rng.sample(optional, keep)}
        else:
            offs = {"OFF-LEG-BUNDLE"}
            if rng.random() < 0.6:
                offs.add("OFF-LEG-BDR")
        scale = 0.5 if kind == "legacy" else 1.0
        for off, p in (("OFF-SEC-EMAIL", 0.45), ("OFF-SEC-SAT", 0.25), ("OFF-CLD-M365", 0.35)):
            if rng.random() < p * scale:
                offs.add(off)
        if kind != "legacy" and rng.random() < (0.2 if seats >= 20 else 0.05):
            offs.add("OFF-SEC-MDR")
        if kind != "legacy" and seats >= 30 and rng.random() < 0.12:
            offs.add("OFF-CLD-AZURE")
        if seats >= 80 and rng.random() < 0.5:
            offs.add("OFF-ADV-VCIO")
        if self.i == _ANCHOR_BIG:
            offs |= {
                "OFF-SEC-MDR",
                "OFF-CLD-M365",
                "OFF-CLD-AZURE",
                "OFF-ADV-VCIO",
                "OFF-SEC-EMAIL",
            }
        return _State(seats, tuple(sorted(offs, key=_ORDER.__getitem__)))

    def _quantity(self, off: str, st: _State) -> int:
        """Whole units of ``off`` under state ``st``."""
        unit = _OFF[off].unit
        if unit == "device":
            return math.ceil(st.seats * self.dev_ratio)
        if unit == "user":
            return st.seats
        if unit == "site":
            return 1 + st.seats // 60
        if unit == "server":
            return max(1, round(st.seats / 20))
        if unit == "hour":
            return st.block_hours
        return 1

    def _change(self, kind: str, st: _State, m: int) -> _State | None:
        """A random change of a recurring state at month ``m`` (or None for no change)."""
        rng = self.rng
        if kind == "block":
            hours = st.block_hours + rng.choice((-10, 10, 10, 20))
            return _State(st.seats, st.offerings, hours) if hours >= 10 else None
        offs = list(st.offerings)
        if kind == "legacy" and "OFF-LEG-BUNDLE" in offs and rng.random() < 0.3:
            if self.i == _ANCHOR_HEAVY:
                return None
            # Migration to the full package, the same day the legacy lines are cancelled.
            new = set(offs) - set(_LEGACY) | set(_FULL_PACKAGE)
            return _State(st.seats, tuple(sorted(new, key=_ORDER.__getitem__)))
        what = _weighted(rng, (("grow", 45), ("shrink", 20), ("add", 25), ("remove", 10)))[0]
        if what == "grow":
            return _State(max(st.seats + 1, round(st.seats * rng.uniform(1.05, 1.3))), st.offerings)
        if what == "shrink":
            seats = min(st.seats - 1, round(st.seats * rng.uniform(0.75, 0.95)))
            if seats < 2:
                return None
            if rng.random() < 0.25:
                self._churn_event(
                    None, "downgrade", self.cal.first(m), *self._cancel_reason(), lead=(20, 60)
                )
            return _State(seats, st.offerings)
        if what == "add":
            candidates = _EXTRAS if "OFF-LEG-BUNDLE" in offs else _FULL_PACKAGE + _EXTRAS
            pool = [o for o in candidates if o not in offs]
            if not pool:
                return None
            offs.append(rng.choice(pool))
            return _State(st.seats, tuple(sorted(offs, key=_ORDER.__getitem__)))
        removable = [o for o in offs if o in _EXTRAS or o == "OFF-ADV-VCIO"]
        if not removable:
            return None
        gone = rng.choice(removable)
        offs.remove(gone)
        if rng.random() < 0.5:
            self._churn_event(
                gone, "offering_cancel", self.cal.first(m), *self._cancel_reason(), lead=(20, 75)
            )
        return _State(st.seats, tuple(offs))

    def _cancel_reason(self) -> tuple[str, str]:
        code, _, by = _weighted(self.rng, _OFFERING_CANCEL_REASONS)
        return code, by

    def _recurring_episode(
        self,
        kind: str,
        state: _State,
        start_m: int,
        stop_m: int | None,
        stop_date: date | None,
        cycle: int,
        term: int | None,
    ) -> None:
        rng, cal, months = self.rng, self.cal, self.ctx.months
        cycle_name = {1: "monthly", 3: "quarterly", 12: "annual"}[cycle]
        agreement_type = "block_time" if kind == "block" else "managed_services"

        # How the covered state evolves inside the window (changes on cycle boundaries).
        timeline: list[tuple[int, _State]] = [(start_m, state)]
        last_change = months if stop_m is None else stop_m - 1
        rate = 0.09 * cycle if cycle < 12 else 0.6
        for m in range(max(1, start_m + 1), last_change):
            if (m - start_m) % cycle or rng.random() >= rate:
                continue
            new = self._change(kind, state, m)
            if new is not None and new != state:
                timeline.append((m, new))
                state = new
        # Customers on their way out often cut seats or hours first, one to three months
        # before they leave: the leading signal account managers watch for.
        if stop_m is not None and cycle == 1 and rng.random() < 0.65:
            pre = stop_m - rng.randint(1, 3)
            if max(0, start_m, timeline[-1][0]) < pre < stop_m:
                if kind == "block":
                    cut = _State(state.seats, state.offerings, max(10, state.block_hours // 2))
                else:
                    cut = _State(
                        max(1, round(state.seats * rng.uniform(0.5, 0.8))), state.offerings
                    )
                if cut != state:
                    timeline.append((pre, cut))
                    state = cut

        # Agreement terms: one open-ended agreement, or fixed terms renewed back to back.
        if term is None:
            segments: list[tuple[int, int | None]] = [(start_m, None)]
        else:
            segments = []
            s = start_m
            while s < months and (stop_m is None or s < stop_m):
                if s + term > 0:
                    segments.append((s, s + term))
                s += term

        for k, (seg_start, seg_end) in enumerate(segments):
            aid = self._agreement_id()
            is_last = k == len(segments) - 1
            cancelled = None
            if is_last and stop_m is not None:
                non_renewal = seg_end == stop_m and stop_date == cal.first(stop_m)
                cancelled = None if non_renewal else stop_date
            self.rows["agreements"].append(
                (
                    aid,
                    self.cid,
                    agreement_type,
                    cal.first(seg_start),
                    None if seg_end is None else cal.first(seg_end),
                    cancelled,
                )
            )
            uplift = 1.035**k
            bound = months
            for limit in (seg_end, stop_m):
                if limit is not None:
                    bound = min(bound, limit)
            # Lines: the state at the segment start, then one cancel/add per change.
            open_lines: dict[str, tuple[str, str, int, int, int, int]] = {}
            current = _state_at(timeline, seg_start)
            for off in current.offerings:
                open_lines[off] = self._open_line(aid, off, current, seg_start, cycle, uplift)
            for m, new in timeline:
                if m <= seg_start or (seg_end is not None and m >= seg_end):
                    continue
                for off in sorted(set(current.offerings) | set(new.offerings), key=_ORDER.get):
                    old_q = self._quantity(off, current) if off in current.offerings else 0
                    new_q = self._quantity(off, new) if off in new.offerings else 0
                    if old_q == new_q:
                        continue
                    if old_q:
                        self._close_line(open_lines.pop(off), m, cycle_name, bound)
                    if new_q:
                        open_lines[off] = self._open_line(aid, off, new, m, cycle, uplift)
                current = new
            for line in open_lines.values():
                self._close_line(line, None, cycle_name, bound)

        # Work: support hours on managed services, consumption of block hours.
        for m in range(max(-1, start_m), months if stop_m is None else stop_m):
            st = _state_at(timeline, m)
            if kind == "block":
                used = st.block_hours * rng.uniform(0.4, 1.5) * math.sqrt(self.labour_mult)
                used_h = round(used * 4) * 25
                block_h = st.block_hours * 100
                if m >= 0:
                    self._add_work(m, "OFF-PS-BLOCK", min(used_h, block_h))
                if used_h > block_h:
                    self.tm_hours[m] = self.tm_hours.get(m, 0) + used_h - block_h
            elif m >= 0:
                hours = st.seats * _SUPPORT_HOURS_PER_SEAT * self.labour_mult
                hours *= rng.uniform(0.75, 1.25) * (1.15 if "OFF-LEG-BUNDLE" in st.offerings else 1)
                main = "OFF-MS-HELPDESK" if "OFF-MS-HELPDESK" in st.offerings else st.offerings[0]
                self._add_work(m, main, round(hours * 4) * 25, split_null=True)
        if kind != "block":
            self._sla_credits(start_m, stop_m)

    def _open_line(
        self, aid: str, off: str, st: _State, m: int, cycle: int, uplift: float
    ) -> tuple[str, str, int, int, int, int]:
        """An open line: (agreement_id, offering_id, quantity, monthly cents, month, cycle)."""
        o = _OFF[off]
        assert o.list_price_cents is not None
        monthly = round(o.list_price_cents * self.discount * uplift)
        if off == "OFF-CLD-M365":
            monthly = max(monthly, o.monthly_unit_cost_cents + 150)  # licences keep a margin
        return (aid, off, self._quantity(off, st), monthly, m, cycle)

    def _close_line(self, line: tuple, cancel_m: int | None, cycle_name: str, bound: int) -> None:
        aid, off, qty, monthly, eff_m, cycle = line
        cal = self.cal
        self.rows["agreement_lines"].append(
            (
                self._line_id(),
                aid,
                off,
                qty * 100,
                monthly * cycle,
                cycle_name,
                cal.first(eff_m),
                None if cancel_m is None else cal.first(cancel_m),
            )
        )
        end = bound if cancel_m is None else min(bound, cancel_m)
        first_due = eff_m if eff_m >= 0 else eff_m + math.ceil(-eff_m / cycle) * cycle
        price = qty * monthly * cycle
        cost = qty * _OFF[off].monthly_unit_cost_cents * cycle
        for m in range(first_due, end, cycle):
            self.bill.setdefault(m, []).append((off, qty * 100, price, cost))

    def _sla_credits(self, start_m: int, stop_m: int | None) -> None:
        rng = self.rng
        end = self.ctx.months if stop_m is None else stop_m
        for m in range(max(0, start_m), end):
            if rng.random() >= 0.012:
                continue
            items = [it for it in self.bill.get(m, ()) if _OFF[it[0]].revenue_type == "mrr"]
            if items:
                total = sum(it[2] for it in items)
                credit = round(total * rng.uniform(0.05, 0.3))
                if credit > 0:
                    self.bill[m].append((items[0][0], 100, -credit, 0))

    def _tm_agreement(self, start_m: int, stop_m: int | None, stop_date: date | None) -> None:
        rng, months = self.rng, self.ctx.months
        self.rows["agreements"].append(
            (self._agreement_id(), self.cid, "t_and_m", self.cal.first(start_m), None, stop_date)
        )
        for m in range(max(-1, start_m), months if stop_m is None else stop_m):
            if rng.random() < 0.25:
                continue
            hours = self.seats0 * 0.5 * self.labour_mult * rng.lognormvariate(0.0, 0.5)
            h = max(50, round(hours * 4) * 25)
            self.tm_hours[m] = self.tm_hours.get(m, 0) + h
            if m >= 0:
                self._add_work(m, "OFF-PS-TM", h)

    def _out_of_scope_tm(self, kind: str, spans: list[tuple[int, int]]) -> None:
        if kind not in ("full", "partial", "legacy"):
            return
        rng = self.rng
        for a, b in spans:
            for m in range(max(-1, a), b):
                if rng.random() < 0.12:
                    h = rng.randint(2, 24) * 25 * max(1, self.seats0 // 100)
                    self.tm_hours[m] = self.tm_hours.get(m, 0) + h
                    if m >= 0:
                        self._add_work(m, "OFF-PS-TM", h)

    # ---- projects, resale, the disputed project --------------------------------------------

    def _project(self, m: int, duration: int, hours_est: float, may_cancel: bool) -> int:
        """Adds one project agreement, its milestone invoices and work; returns billed cents."""
        rng, cal, months = self.rng, self.cal, self.ctx.months
        rate = round(16500 * min(1.1, max(0.85, self.discount)) / 500) * 500
        total = round(hours_est) * rate
        cancelled_m = None
        if may_cancel and duration >= 2 and rng.random() < 0.05:
            cancelled_m = m + rng.randint(1, duration - 1)
        self.rows["agreements"].append(
            (
                self._agreement_id(),
                self.cid,
                "project",
                cal.first(m),
                cal.first(m + duration),
                None if cancelled_m is None else cal.first(cancelled_m),
            )
        )
        actual = hours_est * rng.uniform(0.85, 1.5) * math.sqrt(self.labour_mult)
        run = duration if cancelled_m is None else cancelled_m - m
        part = total // duration
        billed = 0
        for k in range(run):
            amount = part if k < duration - 1 else total - part * (duration - 1)
            if m + k < months:
                self.bill.setdefault(m + k, []).append(("OFF-PS-PROJECT", 100, amount, 0))
                billed += amount
                self._add_work(m + k, "OFF-PS-PROJECT", round(actual / duration * 4) * 25)
        return billed

    def _projects(self, kind: str, spans: list[tuple[int, int]], ends: list[int]) -> None:
        rng, months = self.rng, self.ctx.months
        if kind == "product":
            return
        rate = 1 / 6 if kind == "project" else (1 / 12 if self.seats0 >= 50 else 1 / 20)
        busy_until = -1
        for n, (a, b) in enumerate(spans):
            for m in range(max(0, a), b):
                if m < busy_until or rng.random() >= rate:
                    continue
                duration = rng.randint(1, 4)
                if n < len(ends) and m + duration > ends[n]:
                    continue  # no project runs past the customer's departure
                hours = rng.lognormvariate(math.log(25 + self.seats0 * 0.6), 0.5)
                self._project(m, duration, min(2000.0, max(8.0, hours)), may_cancel=True)
                busy_until = min(months, m + duration)

    def _disputed_project(self, m: int) -> None:
        """A project billed over three months, disputed and fully credited two months after its
        last milestone, so the customer's trailing revenue falls to 0 and, a year on, below."""
        billed = self._project(m, 3, self.rng.uniform(60, 120), may_cancel=False)
        self.bill.setdefault(m + 4, []).append(("OFF-PS-PROJECT", 100, -billed, 0))

    def _resale(self, kind: str, spans: list[tuple[int, int]]) -> None:
        rng = self.rng
        seats = self.seats0
        p_laptop = 0.25 if kind == "product" else 0.03 + 0.04 * min(1.0, seats / 100)
        licence_month = rng.randrange(12) if rng.random() < 0.35 else None
        for a, b in spans:
            for m in range(max(0, a), b):
                if rng.random() < p_laptop:
                    units = rng.randint(1, max(1, seats // 8))
                    unit_price = rng.randint(90, 180) * 1000
                    price = units * unit_price
                    cost = round(price * rng.uniform(0.8, 0.9))
                    self.bill.setdefault(m, []).append(
                        ("OFF-HW-ENDPOINT", units * 100, price, cost)
                    )
                    self._add_work(m, "OFF-HW-ENDPOINT", units * 50, split_null=True)
                if rng.random() < 0.01 + (0.03 if kind == "product" else 0):
                    price = rng.randint(15, 90) * 10000
                    cost = round(price * rng.uniform(0.8, 0.9))
                    self.bill.setdefault(m, []).append(("OFF-HW-NETWORK", 100, price, cost))
                    self._add_work(m, "OFF-HW-NETWORK", rng.randint(8, 24) * 25)
                if licence_month is not None and (self.cal.start_abs + m) % 12 == licence_month:
                    price = seats * rng.randint(60, 250) * 100
                    cost = round(price * rng.uniform(0.85, 0.92))
                    self.bill.setdefault(m, []).append(("OFF-SW-LICENCE", seats * 100, price, cost))

    # ---- churn events ------------------------------------------------------------------------

    def _churn_event(
        self,
        offering_id: str | None,
        event_type: str,
        effective: date,
        reason_code: str,
        initiated_by: str,
        lead: tuple[int, int],
    ) -> None:
        rng = self.rng
        notice = max(self.cal.first(0), effective - timedelta(days=rng.randint(*lead)))
        x = rng.random()
        p_true = 0.5 if self.heavy or reason_code in ("price", "service_quality") else 0.25
        # Unknown when the PSA was not filled in, always so with the catch-all "other" reason.
        flagged = None if x < 0.15 or reason_code == "other" else rng.random() < p_true
        self.rows["churn_events"].append(
            (
                self._event_id(),
                self.cid,
                offering_id,
                event_type,
                notice,
                effective,
                reason_code,
                initiated_by,
                flagged,
            )
        )

    # ---- time entries and invoices -----------------------------------------------------------

    def _add_work(self, m: int, off: str, hours_h: int, split_null: bool = False) -> None:
        """Records work of month ``m``; with ``split_null`` a quarter of its entries carry no
        offering (time logged against the customer only)."""
        if hours_h > 0 and 0 <= m < self.ctx.months:
            self.work.setdefault(m, []).append((off, hours_h, split_null))

    def _time_entries(self) -> None:
        rng, ctx = self.rng, self.ctx
        techs = ctx.technicians
        n_team = 1 + min(len(techs) - 1, 2 + self.seats0 // 150)
        team = rng.sample(range(len(techs)), n_team)
        primary, others = team[0], team[1:]
        n_others = len(others)
        rows = self.rows["time_entries"]
        draw = rng.random
        n = 0
        for m in sorted(self.work):
            days = self.cal.business_days(m)
            n_days = len(days)
            costs = ctx.tech_cost[m]
            entries = []
            for off, hours_h, nullable in self.work[m]:
                left = hours_h
                while left > 0:
                    h = min(left, 50 + int(draw() * 23) * 25)  # 0.5-6 hours in quarter hours
                    left -= h
                    t = primary if draw() < 0.6 else others[int(draw() * n_others)]
                    entry_off = None if nullable and draw() < 0.25 else off
                    entries.append((days[int(draw() * n_days)], entry_off, t, h))
            entries.sort(key=lambda e: (e[0], e[2]))
            for day, off, t, h in entries:
                n += 1
                rows.append((f"TE-{self.i:05d}-{n:06d}", day, self.cid, off, techs[t], h, costs[t]))

    def _invoices(self) -> None:
        months = self.ctx.months
        for work_m, hours_h in self.tm_hours.items():
            if 0 <= work_m + 1 < months:
                price = round(hours_h * self.tm_rate / 100)
                self.bill.setdefault(work_m + 1, []).append(("OFF-PS-TM", hours_h, price, 0))
        rows = self.rows["invoice_lines"]
        for m in sorted(self.bill):
            if not 0 <= m < months:
                continue
            invoice_date = self.cal.first(m)
            invoice_id = f"INV-{invoice_date:%Y%m}-{self.i:05d}"
            for n, (off, qty_h, price, cost) in enumerate(self.bill[m], start=1):
                rows.append(
                    (
                        f"{invoice_id}-{n:03d}",
                        invoice_id,
                        invoice_date,
                        self.cid,
                        off,
                        _OFF[off].revenue_type,
                        qty_h,
                        price,
                        cost,
                    )
                )


def _state_at(timeline: list[tuple[int, _State]], m: int) -> _State:
    state = timeline[0][1]
    for start, st in timeline:
        if start > m:
            break
        state = st
    return state


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------


def _money_text(cents: int) -> str:
    """Integer cents as a plain number with two decimals: 12345 -> "123.45"."""
    q, r = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{q}.{r:02d}"


def _decimal_text(hundredths: int) -> str:
    """Integer hundredths as a plain number without trailing zeros: 750 -> "7.5"."""
    q, r = divmod(abs(hundredths), 100)
    sign = "-" if hundredths < 0 else ""
    return f"{sign}{q}" if r == 0 else f"{sign}{q}.{r:02d}".rstrip("0")


# Most values are small (hours, hourly costs, quantities): format those once.
_SMALL = 100_000
_MONEY_TEXT = [_money_text(c) for c in range(_SMALL)]
_DECIMAL_TEXT = [_decimal_text(h) for h in range(_SMALL)]


def _fmt_money(cents: int | None) -> str:
    if cents is None:
        return ""
    return _MONEY_TEXT[cents] if 0 <= cents < _SMALL else _money_text(cents)


def _fmt_decimal(hundredths: int | None) -> str:
    if hundredths is None:
        return ""
    return _DECIMAL_TEXT[hundredths] if 0 <= hundredths < _SMALL else _decimal_text(hundredths)


def _fmt_bool(b: bool | None) -> str:
    return "" if b is None else ("true" if b else "false")


_FORMATTERS: dict[str, Callable[[Any], str]] = {
    "bool": _fmt_bool,
    "money": _fmt_money,
    "decimal": _fmt_decimal,
}


class _CsvSink:
    def __init__(self, path: Path, columns: tuple[tuple[str, str], ...], stack: ExitStack) -> None:
        self._file = stack.enter_context(path.open("w", newline="", encoding="utf-8"))
        self._writer = csv.writer(self._file, lineterminator="\n")
        self._writer.writerow([name for name, _ in columns])
        # csv writes None as an empty field, str and int as they are and a date as ISO text;
        # only booleans, money and decimals need formatting.
        self._convert = [
            (n, _FORMATTERS[kind]) for n, (_, kind) in enumerate(columns) if kind in _FORMATTERS
        ]

    def _format(self, rows: list[tuple]) -> Iterable[list]:
        convert = self._convert
        for row in rows:
            out = list(row)
            for n, f in convert:
                out[n] = f(out[n])
            yield out

    def write(self, rows: list[tuple]) -> None:
        self._writer.writerows(self._format(rows))


class _ParquetSink:
    def __init__(self, path: Path, columns: tuple[tuple[str, str], ...], stack: ExitStack) -> None:
        import numpy as np
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._np, self._pa = np, pa
        types = {
            "text": pa.string(),
            "int": pa.int64(),
            "date": pa.date32(),
            "bool": pa.bool_(),
            "money": pa.decimal128(18, 2),
            "decimal": pa.decimal128(18, 2),
        }
        self._columns = columns
        self._schema = pa.schema([(name, types[kind]) for name, kind in columns])
        self._writer = stack.enter_context(pq.ParquetWriter(path, self._schema, compression="zstd"))

    def _decimal(self, values: tuple) -> object:
        """DECIMAL(18, 2) array straight from integer hundredths (exact, no float)."""
        np, pa = self._np, self._pa
        n = len(values)
        nulls = [v is None for v in values]
        low = np.array([0 if v is None else v for v in values], dtype=np.int64)
        words = np.empty((n, 2), dtype=np.int64)
        words[:, 0] = low
        words[:, 1] = low >> 63  # sign extension into the high 64 bits
        validity = pa.array([not x for x in nulls], pa.bool_()).buffers()[1] if any(nulls) else None
        return pa.Array.from_buffers(
            pa.decimal128(18, 2), n, [validity, pa.py_buffer(words.tobytes())]
        )

    def write(self, rows: list[tuple]) -> None:
        pa = self._pa
        columns = list(zip(*rows, strict=True))
        arrays = []
        for (_, kind), values, field in zip(self._columns, columns, self._schema, strict=True):
            if kind in ("money", "decimal"):
                arrays.append(self._decimal(values))
            else:
                arrays.append(pa.array(values, field.type))
        self._writer.write_table(pa.Table.from_arrays(arrays, schema=self._schema))


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def _offering_rows() -> list[tuple]:
    return [
        (
            o.offering_id,
            o.name,
            o.family,
            o.revenue_type,
            o.lifecycle,
            o.is_full_package_component,
            o.list_price_cents,
        )
        for o in OFFERINGS
    ]


def generate(
    output_dir: str | os.PathLike[str],
    customers: int = 300,
    months: int = 36,
    end_month: str = "2026-10",
    seed: int = 42,
    file_format: str = "csv",
    progress: bool = True,
) -> dict[str, int]:
    """Write the seven demo landing tables into ``output_dir`` and return row counts per table.

    Args:
        output_dir: landing folder; created if missing. The seven ``<table>.csv`` and
            ``<table>.parquet`` files in it are replaced (the other format's files are removed
            so that the folder holds one file per table); nothing else is touched.
        customers: number of customers (``C00001`` ...).
        months: length of the window in months, ending with ``end_month``.
        end_month: last month of the window, ``YYYY-MM``.
        seed: random seed; the same arguments give byte-identical files.
        file_format: ``csv`` or ``parquet``.
        progress: print a progress line per chunk of customers to stderr.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if months < 1:
        raise ValueError("months must be at least 1")
    if file_format not in ("csv", "parquet"):
        raise ValueError(f"file_format must be 'csv' or 'parquet', got {file_format!r}")
    ctx = _make_context(customers, months, end_month, seed)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        for ext in ("csv", "parquet"):
            (out / f"{table}.{ext}").unlink(missing_ok=True)

    sink_class = _CsvSink if file_format == "csv" else _ParquetSink
    tmp_paths = {t: out / f".{t}.{file_format}.tmp" for t in TABLES}
    counts = dict.fromkeys(TABLES, 0)
    started = time.monotonic()
    try:
        with ExitStack() as stack:
            sinks = {t: sink_class(tmp_paths[t], cols, stack) for t, cols in TABLES.items()}
            _write_all(ctx, sinks, counts, progress, started)
    except BaseException:
        for tmp in tmp_paths.values():
            tmp.unlink(missing_ok=True)
        raise
    for table, tmp in tmp_paths.items():
        os.replace(tmp, out / f"{table}.{file_format}")
    return counts


def _write_all(
    ctx: _Context,
    sinks: dict[str, _CsvSink | _ParquetSink],
    counts: dict[str, int],
    progress: bool,
    started: float,
) -> None:
    """Writes the catalogue, then the customers chunk by chunk."""
    customers = ctx.customers
    offerings = _offering_rows()
    sinks["offerings"].write(offerings)
    counts["offerings"] = len(offerings)
    for chunk_start in range(1, customers + 1, CHUNK_SIZE):
        chunk_end = min(customers, chunk_start + CHUNK_SIZE - 1)
        buffers: dict[str, list[tuple]] = {t: [] for t in TABLES if t != "offerings"}
        for i in range(chunk_start, chunk_end + 1):
            for table, rows in _CustomerBuilder(ctx, i).build().items():
                buffers[table].extend(rows)
        for table, rows in buffers.items():
            if rows:
                sinks[table].write(rows)
                counts[table] += len(rows)
        if progress:
            print(
                f"demo_data: customers {chunk_end}/{customers}, "
                f"{sum(counts.values()):,} rows, {time.monotonic() - started:.1f} s",
                file=sys.stderr,
                flush=True,
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.demo",
        description="Write deterministic demo landing data (the seven tables of the landing "
        "contract) for a fictitious managed-service provider.",
    )
    parser.add_argument("--customers", type=int, default=300, help="number of customers (300)")
    parser.add_argument("--months", type=int, default=36, help="months in the window (36)")
    parser.add_argument(
        "--end-month", default="2026-10", help="last month of the window, YYYY-MM (2026-10)"
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (42)")
    parser.add_argument(
        "--output", default="data/landing", help="landing folder, created if missing"
    )
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv", dest="file_format")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    try:
        counts = generate(
            args.output,
            customers=args.customers,
            months=args.months,
            end_month=args.end_month,
            seed=args.seed,
            file_format=args.file_format,
            progress=not args.quiet,
        )
    except ValueError as exc:
        parser.error(str(exc))
    for table, n in counts.items():
        print(f"{table}: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
