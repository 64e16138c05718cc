"""The programme's money over random programmes, on the pure domains of funding and aid composed
by a small driver that plays the policies between them (aid opens a plan from the family's
sponsorships; a delivery is paid from them, oldest first, the rest recorded unfunded; a plan's
end or the family's exit releases what is left to the donors; the clocks end plans and release
sponsorships that found no plan). Four things hold:

(a) entering the records late (each within GENTING_MAX_ENTRY_DELAY_DAYS) gives the same final
    state as entering each on its day: in a random order across dates that keeps each family's and
    each donor's records in their date order (`books`), the clocks taking the records as complete
    by the entry bound alone; or, as where GENTING_ENTERED_IN_DATE_ORDER is set, in date order,
    the latest effective date entered moving the clocks along. Sponsorships are dated across the
    whole programme, before a plan, during it and after its end;
(b) no rupiah is held without end: once the clock is far past the programme, every sponsored
    rupiah was drawn for food or came back to its donor, and no plan is still active;
(c) what was delivered, food and its distribution, was drawn or recorded unfunded: delivered food
    + distribution = drawn_rp + unfunded_rp, and the distribution alone = its drawn part + its
    unfunded part;
(d) the city's totals equal the sum of the donors' statements.

Each programme has a distribution cost per plan day (GENTING_DISTRIBUTION_COST_RP, 0 or not) and
each family a registry `plan_until` or none (its plan days then from its enrolment to that date,
shorter or longer than the fixed days), which aid's review and funding's hold both apply."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID, uuid5

from hypothesis import given, settings
from hypothesis import strategies as st

from services.aid.domain import CloseForExit, EndWindow, PlanRules, RecordDelivery, ReviewFunding
from services.aid.domain import Sponsorship as AidSponsorship
from services.aid.domain.plan import Plan, decide, evolve
from services.funding.domain import donor as donors
from services.funding.domain import sponsorship as sponsorships
from services.funding.domain.commands import (
    PayDelivery,
    ReceiveContribution,
    Release,
    ReleaseUnplanned,
    ReturnFunds,
    SponsorFamily,
)
from services.funding.domain.donor import Donor
from services.funding.domain.rules import Limits
from services.funding.domain.sponsorship import Sponsorship
from shared.contracts.aid import AidDelivered, AidPlanClosed, DeliveredItem
from shared.contracts.funding import (
    ContributionReceived,
    DeliveryUnfunded,
    DonorRegistered,
    FundsReturned,
    ReleaseReason,
    SponsorshipDrawn,
)
from shared.errors import DomainError

START = date(2025, 1, 1)
MEDONO = "33.75.01.1002"
HOLD_DAYS = 60  # funding's hold for a plan (GENTING_SPONSORSHIP_HOLD_DAYS), which aid applies too
GRACE = 3
DISTRIBUTION_COSTS = (0, 5_000)  # GENTING_DISTRIBUTION_COST_RP: none, or a plan day's transport
ENTRY_DELAY = 30  # GENTING_MAX_ENTRY_DELAY_DAYS
END = START + timedelta(days=620)  # far past every plan's end (a sponsorship up to day 340 opens one) and every hold
DONORS = [UUID(int=0xD000 + i) for i in range(2)]
FAMILIES = [UUID(int=0xF000 + i) for i in range(2)]
ITEMS = (DeliveredItem(name="telur", quantity=30, unit="butir"),)
NS = UUID("00000000-0000-0000-0000-00000000c0de")

# A record: (effective date, rank among the same day's records, what). The rank is the dependency
# rule of CONTRACT "Effective dates and late entry" within a day: a contribution and an enrolment
# before the sponsorship that uses them, a plan's sponsorships before its deliveries.
Record = tuple[date, int, tuple[object, ...]]


@dataclass(frozen=True)
class Terms:
    """The programme's distribution cost per plan day, and each family's plan_until (None: the
    fixed days), as the settings and the registry give them to aid and funding alike."""

    distribution_daily_rp: int = 0
    plan_until: tuple[date | None, ...] = (None,) * len(FAMILIES)

    def rules(self) -> PlanRules:
        """Aid's rules for its review: plans open under funding's hold."""
        return PlanRules(programme_start=START, hold_days=HOLD_DAYS, distribution_daily_rp=self.distribution_daily_rp)

    def delivery_rules(self) -> PlanRules:
        """Aid's rules for a delivery: its records may come in the grace after the plan's end."""
        return PlanRules(programme_start=START, grace_days=GRACE, distribution_daily_rp=self.distribution_daily_rp)

    def limits(self) -> Limits:
        """Funding's: the family's minimum, food and distribution, for its own plan days."""
        return Limits(
            programme_start=START, sponsorship_hold_days=HOLD_DAYS, distribution_daily_rp=self.distribution_daily_rp
        )


Programme = tuple[list[Record], list[int], int, Terms]


@st.composite
def programmes(draw: st.DrawFn) -> Programme:
    day = st.integers(0, 40).map(lambda n: START + timedelta(days=n))
    records: list[Record] = []
    for d in range(len(DONORS)):
        for c in range(draw(st.integers(1, 2))):
            amount = draw(st.sampled_from([1_000_000, 3_000_000, 6_000_000]))
            records.append((draw(day), 0, ("contribution", d, c, amount)))
    enrolled = {}
    for f in range(len(FAMILIES)):
        enrolled[f] = draw(day)
        records.append((enrolled[f], 0, ("enrol", f)))
    # Some days after the enrolment, often fewer than the fixed 180 (a child soon past the age), or none.
    until = st.one_of(st.none(), st.integers(1, 240))
    plan_until = tuple(None if (n := draw(until)) is None else enrolled[f] + timedelta(days=n) for f in enrolled)
    terms = Terms(draw(st.sampled_from(DISTRIBUTION_COSTS)), plan_until)
    for s in range(draw(st.integers(1, 5))):
        # Across the whole programme: before a plan opens, while it runs, and after it ended.
        f, d = draw(st.integers(0, 1)), draw(st.integers(0, 1))
        on = enrolled[f] + timedelta(days=draw(st.one_of(st.integers(0, 30), st.integers(0, 300))))
        amount = draw(st.sampled_from([300_000, 1_500_000, 2_700_000, 2_700_000]))
        records.append((on, 1, ("sponsor", s, d, f, amount)))
    for f in range(len(FAMILIES)):
        on = START + timedelta(days=draw(st.integers(0, 60)))
        stop = draw(st.integers(0, 230))
        n = 0
        while (on - START).days < stop:
            days = draw(st.integers(1, 14))
            extra = draw(st.sampled_from([0, 0, 0, 5_000]))
            records.append((on, 2, ("deliver", f, n, days, 15_000 * days + extra)))
            on += timedelta(days=days + draw(st.sampled_from([0, 0, 0, 1, 5])))
            n += 1
        if draw(st.booleans()):
            # Before, on or after a sponsorship's hold ends (60 days): the exit releases by the hold first.
            records.append((START + timedelta(days=draw(st.integers(0, 120))), 3, ("exit", f)))
    records = fitting(records)
    delays = draw(st.lists(st.integers(0, ENTRY_DELAY), min_size=len(records), max_size=len(records)))
    return records, delays, draw(st.integers(0, 2**32)), terms


def fitting(records: list[Record]) -> list[Record]:
    """The records less each sponsorship its donor's contributions cannot pay without money given
    back. Money given back is there again from the day it came back, but only once it is recorded
    as back (by the exit or delivery that ends the plan, or by a clock that waits for the records
    to be complete past that day): a sponsorship spending it, entered before that, is refused
    (422 `sponsored_on`) and is taken when entered again. Which of two orders of entry came first
    then decides; funding's README, "Late entry in any order"."""
    kept: list[Record] = []
    spent: dict[int, int] = {}
    for on, rank, what in sorted(records, key=lambda r: (r[0], r[1])):
        if what[0] == "sponsor":
            d, amount = int(what[2]), int(what[4])  # type: ignore[call-overload]
            received = sum(
                int(w[3])  # type: ignore[call-overload]
                for o, _, w in records
                if w[0] == "contribution" and w[1] == d and o <= on
            )
            if spent.get(d, 0) + amount > received:
                continue
            spent[d] = spent.get(d, 0) + amount
        kept.append((on, rank, what))
    return kept


@dataclass
class City:
    """Funding's and aid's state, and the events that reporting would count."""

    donors: dict[UUID, Donor] = field(default_factory=dict)
    sponsorships: dict[UUID, Sponsorship] = field(default_factory=dict)
    aid_view: dict[UUID, tuple[AidSponsorship, ...]] = field(default_factory=dict)  # family -> what aid knows
    plans: dict[UUID, Plan] = field(default_factory=dict)  # family -> plan
    enrolled_on: dict[UUID, date] = field(default_factory=dict)
    exited: set[UUID] = field(default_factory=set)
    events: list[object] = field(default_factory=list)
    through: date | None = None  # the latest effective date entered
    # Whether the latest effective date entered says the records before it are all in: only when
    # they are entered in date order (GENTING_ENTERED_IN_DATE_ORDER); else the entry bound alone.
    in_date_order: bool = True
    terms: Terms = field(default_factory=Terms)
    plan_until: dict[UUID, date | None] = field(default_factory=dict)  # the registry's, from the enrolment

    def donor(self, donor_id: UUID, facts: list[object]) -> None:
        for e in facts:
            self.donors[donor_id] = donors.evolve(self.donors[donor_id], e)  # type: ignore[arg-type]
            self.events.append(e)

    def sponsorship(self, sid: UUID, facts: list[object]) -> None:
        for e in facts:
            self.sponsorships[sid] = sponsorships.evolve(self.sponsorships.get(sid, Sponsorship()), e)  # type: ignore[arg-type]
            self.events.append(e)

    def release(self, family: UUID, reason: ReleaseReason, plan_id: UUID | None, on: date) -> None:
        for sid, s in sorted(self.sponsorships.items()):
            if s.family_id != family:
                continue
            self.give_back(sid, reason, list(sponsorships.decide(s, Release(sid, reason, plan_id, on))))

    def give_back(self, sid: UUID, reason: ReleaseReason, released: list[object]) -> None:
        """A sponsorship's release, and the donor's money back on the release's date."""
        self.sponsorship(sid, released)
        s = self.sponsorships[sid]
        assert s.donor_id is not None and s.family_id is not None
        for r in released:
            back = ReturnFunds(s.donor_id, sid, r.amount_rp, reason, r.released_on)  # type: ignore[attr-defined]
            self.donor(s.donor_id, list(donors.decide(self.donors[s.donor_id], back)))
        self.aid_view[s.family_id] = tuple(
            a for a in self.aid_view.get(s.family_id, ()) if self.sponsorships[a.sponsorship_id].released_reason is None
        )

    def plan(self, family: UUID, facts: list[object]) -> None:
        for f in facts:
            self.plans[family] = evolve(self.plans.get(family, Plan()), f)  # type: ignore[arg-type]
            event = f.event  # type: ignore[attr-defined]
            self.events.append(event)
            if isinstance(event, AidDelivered):
                self.pay(family, event)
            if isinstance(event, AidPlanClosed):  # a completion is followed by its closing
                closed_on = self.plans[family].closed_on
                assert closed_on is not None
                # As funding's closing: what the plan never took goes back no_plan first.
                self.release_unplanned(closed_on, family)
                self.release(family, "plan_closed", event.plan_id, closed_on)

    def pay(self, family: UUID, delivered: AidDelivered) -> None:
        start = self.plan_start(family)
        opened = sorted(
            (s.sponsored_on, sid, s.remaining_rp)
            for sid, s in self.sponsorships.items()
            if s.family_id == family and s.is_open and s.sponsored_on is not None and s.taken_by_plan(start, HOLD_DAYS)
        )
        command = PayDelivery(
            delivered.delivery_id,
            delivered.plan_id,
            family,
            delivered.value_rp,
            delivered.delivered_on,
            MEDONO,
            delivered.distribution_rp,
        )
        draws, unfunded = sponsorships.pay_delivery([(sid, rest) for _, sid, rest in opened], command)
        for d in draws:
            self.sponsorship(d.sponsorship_id, list(sponsorships.decide(self.sponsorships[d.sponsorship_id], d)))
        self.events.extend(unfunded)

    def review(self, family: UUID, today: date) -> None:
        plan = self.plans.get(family, Plan())
        command = ReviewFunding(
            uuid5(NS, str(family)),
            family,
            MEDONO,
            self.enrolled_on.get(family),
            family in self.exited,
            self.aid_view.get(family, ()),
            self.terms.rules(),
            today,
            plan_until=self.plan_until.get(family),
        )
        self.plan(family, list(decide(plan, command)))

    def step(self, today: date, entered_through: date | None = None) -> None:
        """Both clocks: aid ends plans whose days are over; funding releases what found no plan."""
        recorded = self.through if self.in_date_order else None
        for family, plan in sorted(self.plans.items()):
            command = EndWindow(plan.plan_id or family, today, recorded, GRACE, ENTRY_DELAY, entered_through)
            self.plan(family, list(decide(plan, command)))
        known = max(d for d in (recorded, today - timedelta(days=ENTRY_DELAY)) if d is not None)
        self.release_unplanned(known)

    def plan_start(self, family: UUID) -> date | None:
        window = self.plans[family].window if family in self.plans else None
        return window.first if window else None

    def release_unplanned(self, known: date, family: UUID | None = None) -> None:
        """Funding's hold: what found no plan by `known` goes back (no_plan), each sponsorship as
        its own decision; for one family only when it exits (the exit releases the rest)."""
        limits = self.terms.limits()
        for sid, s in sorted(self.sponsorships.items()):
            assert s.family_id is not None
            if family is not None and s.family_id != family:
                continue
            # As funding's handler: the family's own minimum, and no plan for one with no plan days.
            enrolled_on, until = self.enrolled_on.get(s.family_id), self.plan_until.get(s.family_id)
            held = sum(
                x.remaining_rp
                for x in self.sponsorships.values()
                if x.family_id == s.family_id and x.released_reason is None
            )
            money = tuple(x.held() for x in self.sponsorships.values() if x.family_id == s.family_id and x.is_open)
            unplanned = ReleaseUnplanned(
                sid,
                HOLD_DAYS,
                known,
                s.family_id in self.plans,
                held,
                limits.minimum_of(enrolled_on, until),
                eligible=limits.plan_days_of(enrolled_on, until) > 0,
                plan_start=self.plan_start(s.family_id),
                family_money=money,
                plan_until=until,
            )
            self.give_back(sid, "no_plan", list(sponsorships.decide(s, unplanned)))

    def enter(self, on: date, what: tuple[object, ...], today: date) -> None:
        self.through = on if self.through is None else max(self.through, on)
        try:
            self._enter(on, what, today)
        except DomainError:
            self.events.append(("refused", what))  # refused alike in both, or (a) fails

    def _enter(self, on: date, what: tuple[object, ...], today: date) -> None:
        match what:
            case ("contribution", int(d), int(c), int(amount)):
                donor_id = DONORS[d]
                if donor_id not in self.donors:
                    self.donors[donor_id] = Donor()
                    self.donor(donor_id, [DonorRegistered(donor_id=donor_id, donor_type="community", registered_on=on)])
                receive = ReceiveContribution(donor_id, uuid5(donor_id, str(c)), amount, on, "cash", f"r{c}", today)
                self.donor(donor_id, list(donors.decide(self.donors[donor_id], receive)))
            case ("enrol", int(f)):
                self.enrolled_on[FAMILIES[f]] = on
                self.plan_until[FAMILIES[f]] = self.terms.plan_until[f]
            case ("sponsor", int(s), int(d), int(f), int(amount)):
                family, sid = FAMILIES[f], uuid5(NS, f"s{s}")
                plan = self.plans.get(family, Plan())
                command = SponsorFamily(
                    sid,
                    DONORS[d],
                    family,
                    amount,
                    on,
                    today,
                    "exited" if family in self.exited else "enrolled",
                    MEDONO,
                    sponsored_on=on,
                    enrolled_on=self.enrolled_on.get(family),
                    plan_ended=plan.status not in ("none", "active"),
                    plan_last_day=plan.window.last if plan.window else None,
                )
                allocated, sponsored = sponsorships.sponsor(self.donors.get(DONORS[d], Donor()), command)
                self.donor(DONORS[d], list(allocated))
                self.sponsorship(sid, list(sponsored))
                known = AidSponsorship(sid, amount, on, on)
                self.aid_view[family] = (*self.aid_view.get(family, ()), known)
                self.review(family, today)
            case ("deliver", int(f), int(n), int(days), int(value)):
                family = FAMILIES[f]
                plan = self.plans.get(family, Plan())
                last = on + timedelta(days=days - 1)
                delivery = uuid5(family, str(n))
                rules = self.terms.delivery_rules()
                record = RecordDelivery(plan.plan_id or family, delivery, on, last, value, ITEMS, on, today, "k", rules)
                self.plan(family, list(decide(plan, record)))
            case ("exit", int(f)):
                family = FAMILIES[f]
                self.exited.add(family)
                plan = self.plans.get(family, Plan())
                if plan.status == "active":
                    assert plan.plan_id is not None
                    self.plan(family, list(decide(plan, CloseForExit(plan.plan_id, on, GRACE))))
                elif plan.status == "none":
                    # As funding's exit: what its clock would have sent back before the exit first.
                    self.release_unplanned(on, family)
                    self.release(family, "family_exited", None, on)
            case _:
                raise AssertionError(what)


def entry_days(records: list[Record], delays: list[int] | None) -> list[date]:
    """The day each record is entered: on its day (`delays` None) or that many days late, never
    more than the entry bound, and never before a record it depends on (see `books`)."""
    days = [on if delays is None else on + timedelta(days=delays[i]) for i, (on, _, _) in enumerate(records)]
    changed = True
    while changed:  # a record may be in two books (a sponsorship: its family's and its donor's)
        changed = False
        for book in books(records):
            for before, after in itertools.pairwise(book):
                if days[after] < days[before]:
                    days[after], changed = days[before], True
    for i, (on, _, _) in enumerate(records):
        assert on <= days[i] <= on + timedelta(days=ENTRY_DELAY)
    return days


def books(records: list[Record]) -> list[list[int]]:
    """What depends on what: each family's records (its enrolment, sponsorships, deliveries and
    exit) and each donor's (its contributions and sponsorships) are entered in their date order
    (same-day ones by rank), each book being kept by one hand. Why these orders, and only these,
    the domains require (funding's README, "Late entry in any order"; aid's, "Plans in time"): a plan opens, and
    a delivery is paid, from the family's money entered by then, a delivery's gap and shortfall are
    judged against the deliveries before it, and a donor's money goes to its sponsorships in the
    order they take it. Across books any order goes, whatever the dates."""
    keyed: dict[tuple[str, int], list[tuple[date, int, int]]] = {}
    for i, (on, rank, what) in enumerate(records):
        match what:
            case ("contribution", int(d), *_):
                keys = [("donor", d)]
            case ("sponsor", _, int(d), int(f), _):
                keys = [("donor", d), ("family", f)]
            case ("enrol" | "deliver" | "exit", int(f), *_):
                keys = [("family", f)]
            case _:
                raise AssertionError(what)
        for key in keys:
            keyed.setdefault(key, []).append((on, rank, i))
    return [[i for *_, i in sorted(book)] for _, book in sorted(keyed.items())]


def entry_order(records: list[Record], days: list[date], seed: int) -> list[int]:
    """A random order of entry: by entry day, and within a day any order the books allow; across
    books, records of different dates interleave freely (a later-dated one often comes first)."""
    shuffle = random.Random(seed)
    waits_for: dict[int, set[int]] = {i: set() for i in range(len(records))}
    for book in books(records):
        for before, after in itertools.pairwise(book):
            waits_for[after].add(before)
    order: list[int] = []
    done: set[int] = set()
    while len(order) < len(records):
        ready = [i for i in range(len(records)) if i not in done and waits_for[i] <= done]
        first = min(days[i] for i in ready)
        pick = shuffle.choice([i for i in ready if days[i] == first])
        order.append(pick)
        done.add(pick)
    return order


def run(
    records: list[Record],
    delays: list[int] | None,
    seed: int,
    *,
    in_date_order: bool = False,
    terms: Terms | None = None,
) -> City:
    """Enter the records, each on its day (`delays` None) or that many days late (`entry_days`).
    In date order, or (`in_date_order` False) in a random order across dates that keeps each
    book's (`entry_order`). The clock steps every day before that day's entries."""
    days = entry_days(records, delays)
    if in_date_order:
        shuffle = random.Random(seed)
        keyed = [(on, rank, shuffle.random(), i) for i, (on, rank, _) in enumerate(records)]
        order, last = [i for *_, i in sorted(keyed)], START
        for i in order:  # never before an earlier record
            days[i] = last = max(last, days[i])
            assert days[i] - records[i][0] <= timedelta(days=ENTRY_DELAY)
    else:
        order = entry_order(records, days, seed)
    city = City(in_date_order=in_date_order, terms=terms or Terms())
    pending = list(order)
    today = START
    while today <= END:
        city.step(today)
        while pending and days[pending[0]] == today:
            i = pending.pop(0)
            city.enter(records[i][0], records[i][2], today)
        today += timedelta(days=1)
    assert not pending
    return city


def final_state(city: City) -> object:
    return (
        {k: (d.received_rp, d.allocated_rp, d.returned_rp, sorted(d.ledger)) for k, d in city.donors.items()},
        {k: (s.amount_rp, s.drawn_rp, s.released_rp, s.released_reason) for k, s in city.sponsorships.items()},
        {
            k: (p.status, p.window, p.budget_rp, p.delivered_rp, p.covered, p.outcome, p.closed_on)
            for k, p in city.plans.items()
        },
        sorted(repr(e) for e in city.events),
    )


def unfunded_rp(city: City) -> int:
    """The domain's figure: funding's DeliveryUnfunded events."""
    return sum(e.unfunded_rp for e in city.events if isinstance(e, DeliveryUnfunded))


@settings(max_examples=400, deadline=None)
@given(programmes(), st.booleans())
def test_a_programme_entered_late_keeps_its_money_whole(programme: Programme, in_date_order: bool) -> None:
    records, delays, seed, terms = programme
    on_their_days = run(records, None, seed, in_date_order=in_date_order, terms=terms)
    late = run(records, delays, seed, in_date_order=in_date_order, terms=terms)
    # (a) the same final state as entry on the day
    assert final_state(late) == final_state(on_their_days)
    city = late
    # (b) no rupiah held without end
    assert all(p.status != "active" for p in city.plans.values())
    for s in city.sponsorships.values():
        assert s.drawn_rp + s.released_rp == s.amount_rp
    for d in city.donors.values():
        assert d.allocated_rp == sum(s.drawn_rp for s in city.sponsorships.values() if s.donor_id == d.donor_id)
    # (c) delivered food + distribution = drawn_rp + unfunded_rp, and the distribution part alone
    delivered = [e for e in city.events if isinstance(e, AidDelivered)]
    drawn = sum(s.drawn_rp for s in city.sponsorships.values())
    assert sum(e.value_rp + e.distribution_rp for e in delivered) == drawn + unfunded_rp(city)
    unfunded = [e for e in city.events if isinstance(e, DeliveryUnfunded)]
    drawn_distribution = sum(e.distribution_rp for e in city.events if isinstance(e, SponsorshipDrawn))
    assert sum(e.distribution_rp for e in delivered) == drawn_distribution + sum(
        e.unfunded_distribution_rp for e in unfunded
    )
    if terms.distribution_daily_rp == 0:
        assert drawn_distribution == 0
    # (d) the city's totals (counted from the events, as reporting does) equal the donors' statements
    received = sum(e.amount_rp for e in city.events if isinstance(e, ContributionReceived))
    returned = sum(e.amount_rp for e in city.events if isinstance(e, FundsReturned))
    city_drawn = sum(e.amount_rp for e in city.events if isinstance(e, SponsorshipDrawn))
    assert received == sum(d.received_rp for d in city.donors.values())
    assert returned == sum(d.returned_rp for d in city.donors.values())
    assert city_drawn == drawn
    assert received - city_drawn == sum(d.available_rp for d in city.donors.values())
