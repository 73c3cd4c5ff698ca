"""The per-customer simulation: one customer's story, rendered as rows of six landing tables.

:class:`CustomerBuilder` draws the customer's profile (:mod:`orchestration.demo.profile`), then
in this order its customer row, recurring or time-and-materials agreements, the churn event of its
departure, projects, out-of-scope hours and resale, and last renders the work it collected as
time entries and what it billed as invoice lines. Every customer draws from its own random
generator, so its rows depend only on the seed, its number and the window; the order of the draws
is part of the output, so the steps keep it.

Rows are tuples in the contract's column order. Money is held as integer cents, quantities and
hours as integer hundredths (:mod:`orchestration.demo.writers` formats them).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

from orchestration.demo.catalogue import (
    ACCOUNT_MANAGERS,
    CATALOGUE_ORDER,
    CHURN_REASONS,
    EXTRAS,
    FULL_PACKAGE,
    INDUSTRY_NOUNS,
    LABOUR_HEAVY_REASONS,
    LEGACY,
    NAME_STEMS,
    NAME_SUFFIXES,
    OFFERING_CANCEL_REASONS,
    OFFERINGS_BY_ID,
    REGIONS,
    SURNAMES,
    UNKNOWN_REASON_CODE,
)
from orchestration.demo.context import Context, weighted
from orchestration.demo.profile import (
    ANCHOR_BIG,
    ANCHOR_HEAVY,
    UNKNOWN_REASON_CHURN,
    UNRECORDED_CHURN,
    draw_profile,
)
from orchestration.landing.contract import BILLING_CYCLES, CHURN_INITIATORS, LANDING_TABLES

CUSTOMER_TABLES = tuple(table for table in LANDING_TABLES if table != "offerings")
"""The landing tables the customers fill: every table but the catalogue."""

_CYCLE_NAMES = {1: "monthly", 3: "quarterly", 12: "annual"}
"""The contract's billing cycles by their length in months."""
if sorted(_CYCLE_NAMES.values()) != sorted(BILLING_CYCLES):
    raise ValueError(f"billing cycles {_CYCLE_NAMES} do not match the contract's {BILLING_CYCLES}")

_SUPPORT_HOURS_PER_SEAT = 0.8


@dataclass(frozen=True)
class State:
    """What a recurring agreement covers at some point in time."""

    seats: int
    offerings: tuple[str, ...]  # in catalogue order
    block_hours: int = 0


def state_at(timeline: list[tuple[int, State]], m: int) -> State:
    """The state in force in month ``m`` of a timeline of (first month, state), in month order."""
    state = timeline[0][1]
    for start, st in timeline:
        if start > m:
            break
        state = st
    return state


@dataclass(frozen=True)
class _Episode:
    """A run of recurring agreements from ``start_m``, until the customer leaves at ``stop_m``
    (on ``stop_date``) or, when ``stop_m`` is None, past the end of the window."""

    kind: str
    start_m: int
    stop_m: int | None
    stop_date: date | None
    cycle: int
    term: int | None


def _term_segments(ep: _Episode, months: int) -> list[tuple[int, int | None]]:
    """The agreements of an episode as (start month, end month): one open-ended agreement, or
    fixed terms renewed back to back, those that end before the window left out."""
    if ep.term is None:
        return [(ep.start_m, None)]
    segments: list[tuple[int, int | None]] = []
    s = ep.start_m
    while s < months and (ep.stop_m is None or s < ep.stop_m):
        if s + ep.term > 0:
            segments.append((s, s + ep.term))
        s += ep.term
    return segments


class CustomerBuilder:
    """Draws one customer's story and renders it as rows of the six customer tables."""

    def __init__(self, ctx: Context, i: int) -> None:
        self.ctx = ctx
        self.cal = ctx.cal
        self.i = i
        self.cid = f"C{i:05d}"
        self.rng = random.Random(f"{ctx.seed}-{i}")
        self.profile = draw_profile(self.rng, ctx, i)
        self.rows: dict[str, list[tuple]] = {t: [] for t in CUSTOMER_TABLES}
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
        """The customer's rows by table (every table but ``offerings``)."""
        self._customer_row()
        self._agreements()
        self._departure_event()
        self._one_off_work_and_sales()
        self._time_entries()
        self._invoices()
        return self.rows

    def _spans(self) -> list[tuple[int, int]]:
        """The months [from, to) the customer is a customer: until it leaves, and again from
        its return."""
        p, months = self.profile, self.ctx.months
        spans = [(p.start_m, p.churn_m if p.churn_m is not None else months)]
        if p.react_m is not None:
            spans.append((p.react_m, months))
        return spans

    def _agreements(self) -> None:
        """Recurring agreements (and those of a return), or the T&M agreement."""
        p = self.profile
        if p.is_recurring:
            state = self._initial_state(p.kind, p.seats)
            self._recurring_episode(
                _Episode(p.kind, p.start_m, p.churn_m, p.stop_date, p.cycle, p.term), state
            )
            if p.react_m is not None:
                back = max(2, round(p.seats * self.rng.uniform(0.5, 1.0)))
                kind = "block" if p.kind == "block" else "partial"
                state = self._initial_state(kind, back)
                self._recurring_episode(_Episode(kind, p.react_m, None, None, 1, None), state)
        elif p.kind == "tm":
            self._tm_agreement(p.start_m, p.churn_m, p.stop_date)

    def _departure_event(self) -> None:
        """The ``full_churn`` event of a leaving customer, for most recurring customers."""
        p, rng = self.profile, self.rng
        if p.stop_date is None:
            return
        recorded = rng.random() < (0.85 if p.is_recurring else 0.5)
        if p.pins.scenario == UNKNOWN_REASON_CHURN:
            recorded = True
        elif p.pins.scenario == UNRECORDED_CHURN:
            recorded = False
        if not recorded or p.kind == "product":
            return
        code, _, by = weighted(rng, LABOUR_HEAVY_REASONS if p.heavy else CHURN_REASONS)
        if p.pins.scenario == UNKNOWN_REASON_CHURN:
            code, by = UNKNOWN_REASON_CODE, "customer"
        if by is None:
            by = rng.choice(CHURN_INITIATORS)
        lead = (60, 100) if not p.last_day else (20, 90)
        self._churn_event(None, "full_churn", p.stop_date, code, by, lead=lead)

    def _one_off_work_and_sales(self) -> None:
        """Projects, out-of-scope T&M hours and resale; or the disputed project alone."""
        p = self.profile
        if p.pins.disputed:
            self._disputed_project(p.start_m)
            return
        spans = self._spans()
        self._projects(p.kind, spans, [] if p.churn_m is None else [p.churn_m])
        self._out_of_scope_tm(p.kind, spans)
        self._resale(p.kind, spans)

    # ---- customers ---------------------------------------------------------------------------

    def _customer_name(self, industry: str) -> str:
        rng = self.rng
        if self.i == ANCHOR_BIG:
            return "Meridian Regional Health Network"
        if self.i == ANCHOR_HEAVY:
            return "Ironwood Precision Manufacturing Inc."
        if industry in ("legal", "accounting") and rng.random() < 0.45:
            a, b = rng.sample(SURNAMES, 2)
            tail = " & Partners LLP" if industry == "legal" else " & Co. CPAs"
            return f"{a}, {b}{tail}"
        stem = rng.choice(NAME_STEMS) if rng.random() < 0.6 else rng.choice(SURNAMES)
        return f"{stem} {rng.choice(INDUSTRY_NOUNS[industry])}{rng.choice(NAME_SUFFIXES)}"

    def _customer_row(self) -> None:
        rng, cal, p = self.rng, self.cal, self.profile
        name = self._customer_name(p.industry)
        employees = None if rng.random() < 0.08 else max(1, round(p.seats * rng.uniform(1.0, 1.6)))
        region = None if rng.random() < 0.04 else rng.choice(REGIONS)
        manager = None if rng.random() < 0.06 else rng.choice(ACCOUNT_MANAGERS)
        created = cal.first(p.start_m) - timedelta(days=rng.randint(0, 60))
        if p.start_m >= 0:
            created = max(created, cal.first(0))
        x = rng.random()
        tcp_override = True if x < 0.03 else False if x < 0.06 else None
        self.rows["customers"].append(
            (self.cid, name, p.industry, employees, region, manager, created, tcp_override)
        )

    # ---- recurring states --------------------------------------------------------------------

    def _initial_state(self, kind: str, seats: int) -> State:
        """What a new recurring agreement of ``kind`` covers for ``seats`` seats."""
        if kind == "block":
            hours = 10 if seats < 15 else 20 if seats < 60 else 40
            return State(seats, ("OFF-PS-BLOCK",), hours)
        offs = self._package(kind)
        self._add_extras(offs, kind, seats)
        return State(seats, tuple(sorted(offs, key=CATALOGUE_ORDER.__getitem__)))

    def _package(self, kind: str) -> set[str]:
        """The package offerings: the full package, the endpoints and one to three more of it,
        or the legacy bundle (mostly with the legacy backup appliance)."""
        rng = self.rng
        if kind == "full":
            return set(FULL_PACKAGE)
        if kind == "partial":
            optional = ["OFF-MS-NETWORK", "OFF-SEC-EDR", "OFF-BCK-CLOUD", "OFF-MS-HELPDESK"]
            keep = rng.randint(1, 3)
            return {"OFF-MS-ENDPOINT", *rng.sample(optional, keep)}
        offs = {"OFF-LEG-BUNDLE"}
        if rng.random() < 0.6:
            offs.add("OFF-LEG-BDR")
        return offs

    def _add_extras(self, offs: set[str], kind: str, seats: int) -> None:
        """Adds the extras sold with a package: fewer to legacy customers, more to larger ones."""
        rng = self.rng
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
        if self.i == ANCHOR_BIG:
            offs |= {
                "OFF-SEC-MDR",
                "OFF-CLD-M365",
                "OFF-CLD-AZURE",
                "OFF-ADV-VCIO",
                "OFF-SEC-EMAIL",
            }

    def _quantity(self, off: str, st: State) -> int:
        """Whole units of ``off`` under state ``st``."""
        unit = OFFERINGS_BY_ID[off].unit
        if unit == "device":
            return math.ceil(st.seats * self.profile.dev_ratio)
        if unit == "user":
            return st.seats
        if unit == "site":
            return 1 + st.seats // 60
        if unit == "server":
            return max(1, round(st.seats / 20))
        if unit == "hour":
            return st.block_hours
        return 1

    def _change(self, kind: str, st: State, m: int) -> State | None:
        """A random change of a recurring state at month ``m`` (or None for no change)."""
        rng = self.rng
        if kind == "block":
            hours = st.block_hours + rng.choice((-10, 10, 10, 20))
            return State(st.seats, st.offerings, hours) if hours >= 10 else None
        if kind == "legacy" and "OFF-LEG-BUNDLE" in st.offerings and rng.random() < 0.3:
            return self._migration(st)
        what = weighted(rng, (("grow", 45), ("shrink", 20), ("add", 25), ("remove", 10)))[0]
        if what == "grow":
            return State(max(st.seats + 1, round(st.seats * rng.uniform(1.05, 1.3))), st.offerings)
        if what == "shrink":
            return self._shrink(st, m)
        if what == "add":
            return self._add_offering(st)
        return self._remove_offering(st, m)

    def _migration(self, st: State) -> State | None:
        """Migration to the full package, the same day the legacy lines are cancelled; never for
        the heavy anchor account."""
        if self.i == ANCHOR_HEAVY:
            return None
        new = set(st.offerings) - set(LEGACY) | set(FULL_PACKAGE)
        return State(st.seats, tuple(sorted(new, key=CATALOGUE_ORDER.__getitem__)))

    def _shrink(self, st: State, m: int) -> State | None:
        """5-25 % fewer seats, a quarter of the time with a ``downgrade`` event."""
        seats = min(st.seats - 1, round(st.seats * self.rng.uniform(0.75, 0.95)))
        if seats < 2:
            return None
        if self.rng.random() < 0.25:
            self._churn_event(
                None, "downgrade", self.cal.first(m), *self._cancel_reason(), lead=(20, 60)
            )
        return State(seats, st.offerings)

    def _add_offering(self, st: State) -> State | None:
        """One more offering (cross-sell): an extra, or for a non-legacy customer also a missing
        full-package offering."""
        offs = list(st.offerings)
        candidates = EXTRAS if "OFF-LEG-BUNDLE" in offs else FULL_PACKAGE + EXTRAS
        pool = [o for o in candidates if o not in offs]
        if not pool:
            return None
        offs.append(self.rng.choice(pool))
        return State(st.seats, tuple(sorted(offs, key=CATALOGUE_ORDER.__getitem__)))

    def _remove_offering(self, st: State, m: int) -> State | None:
        """One extra (or the vCIO advisory) fewer, half the time with an ``offering_cancel``
        event."""
        offs = list(st.offerings)
        removable = [o for o in offs if o in EXTRAS or o == "OFF-ADV-VCIO"]
        if not removable:
            return None
        gone = self.rng.choice(removable)
        offs.remove(gone)
        if self.rng.random() < 0.5:
            self._churn_event(
                gone, "offering_cancel", self.cal.first(m), *self._cancel_reason(), lead=(20, 75)
            )
        return State(st.seats, tuple(offs))

    def _cancel_reason(self) -> tuple[str, str]:
        code, _, by = weighted(self.rng, OFFERING_CANCEL_REASONS)
        return code, by

    # ---- recurring agreements ----------------------------------------------------------------

    def _recurring_episode(self, ep: _Episode, state: State) -> None:
        """An episode's agreements, their lines, the work they bring and service-level credits."""
        timeline = self._timeline(ep, state)
        segments = _term_segments(ep, self.ctx.months)
        for k, (seg_start, seg_end) in enumerate(segments):
            self._agreement(ep, timeline, k, seg_start, seg_end, k == len(segments) - 1)
        self._recurring_work(ep, timeline)
        if ep.kind != "block":
            self._sla_credits(ep.start_m, ep.stop_m)

    def _timeline(self, ep: _Episode, state: State) -> list[tuple[int, State]]:
        """How the covered state evolves inside the window, as (first month, state): changes on
        billing-cycle boundaries, and perhaps a cut before the customer leaves."""
        rng, months = self.rng, self.ctx.months
        timeline: list[tuple[int, State]] = [(ep.start_m, state)]
        last_change = months if ep.stop_m is None else ep.stop_m - 1
        rate = 0.09 * ep.cycle if ep.cycle < 12 else 0.6
        for m in range(max(1, ep.start_m + 1), last_change):
            if (m - ep.start_m) % ep.cycle or rng.random() >= rate:
                continue
            new = self._change(ep.kind, state, m)
            if new is not None and new != state:
                timeline.append((m, new))
                state = new
        self._cut_before_leaving(ep, timeline)
        return timeline

    def _cut_before_leaving(self, ep: _Episode, timeline: list[tuple[int, State]]) -> None:
        """Customers on their way out often cut seats or hours first, one to three months
        before they leave: the leading signal account managers watch for."""
        rng = self.rng
        if ep.stop_m is None or ep.cycle != 1 or rng.random() >= 0.65:
            return
        pre = ep.stop_m - rng.randint(1, 3)
        last_m, state = timeline[-1]
        if not max(0, ep.start_m, last_m) < pre < ep.stop_m:
            return
        if ep.kind == "block":
            cut = State(state.seats, state.offerings, max(10, state.block_hours // 2))
        else:
            cut = State(max(1, round(state.seats * rng.uniform(0.5, 0.8))), state.offerings)
        if cut != state:
            timeline.append((pre, cut))

    def _agreement(
        self,
        ep: _Episode,
        timeline: list[tuple[int, State]],
        k: int,
        seg_start: int,
        seg_end: int | None,
        is_last: bool,
    ) -> None:
        """The ``k``-th agreement of an episode, cancelled when the customer leaves before its
        end date, and its lines."""
        cal = self.cal
        aid = self._agreement_id()
        cancelled = None
        if is_last and ep.stop_m is not None:
            non_renewal = seg_end == ep.stop_m and ep.stop_date == cal.first(ep.stop_m)
            cancelled = None if non_renewal else ep.stop_date
        self.rows["agreements"].append(
            (
                aid,
                self.cid,
                "block_time" if ep.kind == "block" else "managed_services",
                cal.first(seg_start),
                None if seg_end is None else cal.first(seg_end),
                cancelled,
            )
        )
        bound = self.ctx.months
        for limit in (seg_end, ep.stop_m):
            if limit is not None:
                bound = min(bound, limit)
        self._agreement_lines(aid, ep.cycle, 1.035**k, timeline, seg_start, seg_end, bound)

    def _agreement_lines(
        self,
        aid: str,
        cycle: int,
        uplift: float,
        timeline: list[tuple[int, State]],
        seg_start: int,
        seg_end: int | None,
        bound: int,
    ) -> None:
        """An agreement's lines: the state at its start, then one cancel/add per change of a
        quantity. Lines are billed until month ``bound``."""
        cycle_name = _CYCLE_NAMES[cycle]
        open_lines: dict[str, tuple[str, str, int, int, int, int]] = {}
        current = state_at(timeline, seg_start)
        for off in current.offerings:
            open_lines[off] = self._open_line(aid, off, current, seg_start, cycle, uplift)
        for m, new in timeline:
            if m <= seg_start or (seg_end is not None and m >= seg_end):
                continue
            for off in sorted(set(current.offerings) | set(new.offerings), key=CATALOGUE_ORDER.get):
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

    def _open_line(
        self, aid: str, off: str, st: State, m: int, cycle: int, uplift: float
    ) -> tuple[str, str, int, int, int, int]:
        """An open line: (agreement_id, offering_id, quantity, monthly cents, month, cycle)."""
        o = OFFERINGS_BY_ID[off]
        assert o.list_price_cents is not None
        monthly = round(o.list_price_cents * self.profile.discount * uplift)
        if off == "OFF-CLD-M365":
            monthly = max(monthly, o.monthly_unit_cost_cents + 150)  # licences keep a margin
        return (aid, off, self._quantity(off, st), monthly, m, cycle)

    def _close_line(self, line: tuple, cancel_m: int | None, cycle_name: str, bound: int) -> None:
        """Writes an open line, cancelled at ``cancel_m`` (None = left open), and bills it in
        advance once per cycle in the window until it ends."""
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
        cost = qty * OFFERINGS_BY_ID[off].monthly_unit_cost_cents * cycle
        for m in range(first_due, end, cycle):
            self.bill.setdefault(m, []).append((off, qty * 100, price, cost))

    def _recurring_work(self, ep: _Episode, timeline: list[tuple[int, State]]) -> None:
        """Work of each month of an episode: block hours used (beyond the block billed as T&M),
        or support hours on managed services."""
        months = self.ctx.months
        for m in range(max(-1, ep.start_m), months if ep.stop_m is None else ep.stop_m):
            st = state_at(timeline, m)
            if ep.kind == "block":
                self._block_hours_used(m, st)
            elif m >= 0:
                self._support_hours(m, st)

    def _block_hours_used(self, m: int, st: State) -> None:
        used = st.block_hours * self.rng.uniform(0.4, 1.5) * math.sqrt(self.profile.labour_mult)
        used_h = round(used * 4) * 25
        block_h = st.block_hours * 100
        if m >= 0:
            self._add_work(m, "OFF-PS-BLOCK", min(used_h, block_h))
        if used_h > block_h:
            self.tm_hours[m] = self.tm_hours.get(m, 0) + used_h - block_h

    def _support_hours(self, m: int, st: State) -> None:
        hours = st.seats * _SUPPORT_HOURS_PER_SEAT * self.profile.labour_mult
        hours *= self.rng.uniform(0.75, 1.25) * (1.15 if "OFF-LEG-BUNDLE" in st.offerings else 1)
        main = "OFF-MS-HELPDESK" if "OFF-MS-HELPDESK" in st.offerings else st.offerings[0]
        self._add_work(m, main, round(hours * 4) * 25, split_null=True)

    def _sla_credits(self, start_m: int, stop_m: int | None) -> None:
        """Occasional service-level credits (1.2 % of the months): 5-30 % of the month's mrr."""
        rng = self.rng
        end = self.ctx.months if stop_m is None else stop_m
        for m in range(max(0, start_m), end):
            if rng.random() >= 0.012:
                continue
            items = [
                it for it in self.bill.get(m, ()) if OFFERINGS_BY_ID[it[0]].revenue_type == "mrr"
            ]
            if items:
                total = sum(it[2] for it in items)
                credit = round(total * rng.uniform(0.05, 0.3))
                if credit > 0:
                    self.bill[m].append((items[0][0], 100, -credit, 0))

    # ---- time and materials --------------------------------------------------------------------

    def _tm_agreement(self, start_m: int, stop_m: int | None, stop_date: date | None) -> None:
        """An open-ended T&M agreement and the hours worked under it (three months in four)."""
        rng, months, p = self.rng, self.ctx.months, self.profile
        self.rows["agreements"].append(
            (self._agreement_id(), self.cid, "t_and_m", self.cal.first(start_m), None, stop_date)
        )
        for m in range(max(-1, start_m), months if stop_m is None else stop_m):
            if rng.random() < 0.25:
                continue
            hours = p.seats * 0.5 * p.labour_mult * rng.lognormvariate(0.0, 0.5)
            h = max(50, round(hours * 4) * 25)
            self.tm_hours[m] = self.tm_hours.get(m, 0) + h
            if m >= 0:
                self._add_work(m, "OFF-PS-TM", h)

    def _out_of_scope_tm(self, kind: str, spans: list[tuple[int, int]]) -> None:
        """Hours outside a package's scope, billed as T&M (12 % of the months)."""
        if kind not in ("full", "partial", "legacy"):
            return
        rng, seats = self.rng, self.profile.seats
        for a, b in spans:
            for m in range(max(-1, a), b):
                if rng.random() < 0.12:
                    h = rng.randint(2, 24) * 25 * max(1, seats // 100)
                    self.tm_hours[m] = self.tm_hours.get(m, 0) + h
                    if m >= 0:
                        self._add_work(m, "OFF-PS-TM", h)

    # ---- projects, resale, the disputed project --------------------------------------------

    def _project(self, m: int, duration: int, hours_est: float, may_cancel: bool) -> int:
        """Adds one project agreement, its milestone invoices and work; returns billed cents."""
        rng, cal, months, p = self.rng, self.cal, self.ctx.months, self.profile
        rate = round(16500 * min(1.1, max(0.85, p.discount)) / 500) * 500
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
        actual = hours_est * rng.uniform(0.85, 1.5) * math.sqrt(p.labour_mult)
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
        """Projects of one to four months, one at a time, none running past a departure."""
        rng, months, seats = self.rng, self.ctx.months, self.profile.seats
        if kind == "product":
            return
        rate = 1 / 6 if kind == "project" else (1 / 12 if seats >= 50 else 1 / 20)
        busy_until = -1
        for n, (a, b) in enumerate(spans):
            for m in range(max(0, a), b):
                if m < busy_until or rng.random() >= rate:
                    continue
                duration = rng.randint(1, 4)
                if n < len(ends) and m + duration > ends[n]:
                    continue  # no project runs past the customer's departure
                hours = rng.lognormvariate(math.log(25 + seats * 0.6), 0.5)
                self._project(m, duration, min(2000.0, max(8.0, hours)), may_cancel=True)
                busy_until = min(months, m + duration)

    def _disputed_project(self, m: int) -> None:
        """A project billed over three months, disputed and fully credited two months after its
        last milestone, so the customer's trailing revenue falls to 0 and, a year on, below."""
        billed = self._project(m, 3, self.rng.uniform(60, 120), may_cancel=False)
        self.bill.setdefault(m + 4, []).append(("OFF-PS-PROJECT", 100, -billed, 0))

    def _resale(self, kind: str, spans: list[tuple[int, int]]) -> None:
        """Laptops, network appliances and a yearly software-licence renewal, resold at 80-92 %
        cost."""
        rng = self.rng
        seats = self.profile.seats
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
        """A churn event, noticed ``lead`` days (a range) before it takes effect."""
        rng = self.rng
        notice = max(self.cal.first(0), effective - timedelta(days=rng.randint(*lead)))
        x = rng.random()
        p_true = 0.5 if self.profile.heavy or reason_code in ("price", "service_quality") else 0.25
        # Unknown when the PSA was not filled in, always so with the catch-all "other" reason.
        flagged = None if x < 0.15 or reason_code == UNKNOWN_REASON_CODE else rng.random() < p_true
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
        """The recorded work as time entries of 0.5-6 hours on business days, by a team of
        technicians (the primary one logs 60 %)."""
        rng, ctx = self.rng, self.ctx
        techs = ctx.technicians
        n_team = 1 + min(len(techs) - 1, 2 + self.profile.seats // 150)
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
        """What was billed as invoice lines, one invoice per month dated the 1st; T&M hours are
        billed the month after the work."""
        months = self.ctx.months
        for work_m, hours_h in self.tm_hours.items():
            if 0 <= work_m + 1 < months:
                price = round(hours_h * self.profile.tm_rate / 100)
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
                        OFFERINGS_BY_ID[off].revenue_type,
                        qty_h,
                        price,
                        cost,
                    )
                )
