"""What the Pekalongan demo's dataset is made of: the programme's numbers, a donor's, a family's and a
session's records, and the `Dataset` that orders them into the steps the loader enters (in
effective-date order, `Dataset.steps`). How they are generated, from the seed: `dataset.py`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from shared import regions
from shared.programme import family_minimum_rp
from shared.regions import Kelurahan

SEED = 2025
DEFAULT_FAMILIES = 200
PROGRAMME_DAYS = 210  # the demo began about seven months (30 weeks) before its first load
CITY = "33.75"  # Kota Pekalongan
# The services' defaults (GENTING_PLAN_DAYS, GENTING_DAILY_MINIMUM_RP, GENTING_DISTRIBUTION_COST_RP).
PLAN_DAYS = 180
DAILY_MINIMUM_RP = 15_000
DISTRIBUTION_COST_RP = 0  # Pekalongan: the food alone (DOMAIN.md)
# Rp2,700,000 opens a plan
PLAN_MINIMUM_RP = family_minimum_rp(DAILY_MINIMUM_RP, PLAN_DAYS, distribution_daily_rp=DISTRIBUTION_COST_RP)
SERIALS = range(7000, 9998)  # the NIK/KK serials the demo uses; tests and the README use low ones
MONTH = 30.4375  # days in an average month, for ages

KELURAHAN: tuple[Kelurahan, ...] = regions.city(CITY).kelurahan  # type: ignore[union-attr]

# What a step records, in the order an actor's records of one day are entered.
KINDS = (
    "donor",
    "pledge",
    "contribution",
    "register",
    "verify",
    "sponsor",
    "deliver",
    "confirm",
    "intervene",
    "measure",
    "visit",
    "exit",
    "session",
)
# Who enters it: the treasurer's ledger first each period, then the families' stories, then the
# sessions (they list families registered before them).
PHASES = {"donor": 0, "pledge": 0, "contribution": 0, "session": 2}


@dataclass(frozen=True)
class Contribution:
    amount_rp: int
    received_on: date
    method: str
    reference: str


@dataclass
class Donor:
    key: str
    name: str
    donor_type: str
    contact: str | None
    registered_on: date | None = None
    pledges: list[int] = field(default_factory=list)
    contributions: list[Contribution] = field(default_factory=list)
    allocated_rp: int = 0
    gives_on: list[tuple[date, int]] = field(default_factory=list)  # its sponsorships: (start, amount)


@dataclass(frozen=True)
class Sponsorship:
    donor_key: str
    amount_rp: int
    start_date: date


@dataclass(frozen=True)
class Delivery:
    """`offset` days from the plan's start, handed over on `delivered_on` (the first day it covers).
    The plan's start comes from aid; the dataset expects it on `Family.plan_start`."""

    offset: int
    days: int
    value_rp: int
    items: tuple[tuple[str, float, str], ...]
    delivered_on: date
    confirmed_on: date | None
    photo: bool
    under_value_first: bool = False  # `genting simulate`: sent first below the minimum, refused on purpose


@dataclass(frozen=True)
class Intervention:
    kind: str
    description: str
    done_on: date
    value_rp: int


@dataclass(frozen=True)
class Growth:
    child: str  # the member's name (unique in the family)
    measured_on: date
    weight_kg: float
    length_cm: float
    stunted: bool  # as the registry will judge it (haz < -2), for the outcome the demo expects


# Grievances the demo files (Entry._grievances), one category after another.
GRIEVANCE_CATEGORIES = ("missed_delivery", "food_quality", "eligibility", "conduct", "other")


@dataclass
class Family:
    key: str
    kelurahan_code: str
    body: dict[str, Any]  # POST /families without its effective date (`registered_on`)
    decision: str | None  # approve | reject | None (awaiting the lurah)
    registered_on: date
    decided_on: date | None = None
    note: str | None = None
    sponsorships: list[Sponsorship] = field(default_factory=list)
    plan_start: date | None = None  # when aid opens the plan: enrolment and the last sponsorship
    deliveries: list[Delivery] = field(default_factory=list)
    interventions: list[Intervention] = field(default_factory=list)
    growth: list[Growth] = field(default_factory=list)
    flagged_on: date | None = None  # a child gained no weight at two monthly weighings: aid flags it
    visited_on: date | None = None  # ... and a kader visits
    exit_reason: str | None = None
    exited_on: date | None = None

    @property
    def stalled(self) -> bool:
        return self.flagged_on is not None

    @property
    def gets_a_plan(self) -> bool:
        return self.plan_start is not None

    @property
    def days_covered(self) -> int:
        return sum(d.days for d in self.deliveries)

    @property
    def completes(self) -> bool:
        return self.gets_a_plan and self.exited_on is None and self.days_covered == PLAN_DAYS

    def ends_incomplete(self, today: date, grace: int = 0) -> bool:
        """Its window passed (`grace` days ago) with days uncovered."""
        return (
            self.plan_start is not None
            and self.exited_on is None
            and self.days_covered < PLAN_DAYS
            and self.plan_start + timedelta(days=PLAN_DAYS - 1 + grace) < today
        )


@dataclass(frozen=True)
class Session:
    key: str
    kelurahan_code: str
    topic: str
    held_on: date
    family_keys: tuple[str, ...]
    facilitator: str


@dataclass(frozen=True, order=True)
class Step:
    """One record to enter: on `day`, in `phase` (0 the donors' ledger, 1 the families, 2 the
    sessions), by `actor` (whose records are entered one after the other), `kind` and `index`
    saying which (the n-th delivery, ...)."""

    day: date
    phase: int
    actor: str
    rank: int
    kind: str
    index: int = 0


@dataclass
class Dataset:
    seed: int
    anchor: date  # the day of the first load: the programme's "today"
    first_day: date  # the programme's first day (GENTING_PROGRAMME_START must be on or before it)
    donors: list[Donor]
    families: list[Family]
    sessions: list[Session]

    def sizes(self) -> dict[str, int]:
        fams = self.families
        plans = [f for f in fams if f.gets_a_plan]
        return {
            "families": len(fams),
            "kelurahan": len({f.kelurahan_code for f in fams}),
            "approved": sum(f.decision == "approve" for f in fams),
            "rejected": sum(f.decision == "reject" for f in fams),
            "awaiting_verification": sum(f.decision is None for f in fams),
            "donors": len(self.donors),
            "contributions": sum(len(d.contributions) for d in self.donors),
            "pledges": sum(len(d.pledges) for d in self.donors),
            "sponsored": sum(bool(f.sponsorships) for f in fams),
            "sponsorships": sum(len(f.sponsorships) for f in fams),
            "plans": len(plans),
            "completed": sum(f.completes for f in plans),
            "incomplete": sum(f.ends_incomplete(self.anchor) for f in plans),
            "deliveries": sum(len(f.deliveries) for f in fams),
            "under_value_first": sum(d.under_value_first for f in fams for d in f.deliveries),
            "confirmations": sum(d.confirmed_on is not None for f in fams for d in f.deliveries),
            "interventions": sum(len(f.interventions) for f in fams),
            "growth_measurements": sum(len(f.growth) for f in fams),
            "children_measured": len({(f.key, g.child) for f in fams for g in f.growth}),
            "home_visits_flagged": sum(f.stalled for f in fams),
            "home_visits": sum(f.visited_on is not None for f in fams),
            "education_sessions": len(self.sessions),
            "exits": sum(f.exit_reason is not None for f in fams),
            "weeks": (self.anchor - self.first_day).days // 7 + 1,
        }

    def grievances(self) -> list[Grievance]:
        """One grievance for every tenth family with a plan, filed 20 days into the plan (late
        entry: with that date), every category in turn; every other one answered two days later."""
        planned = sorted((f for f in self.families if f.plan_start is not None), key=lambda f: f.key)[::10]
        out = []
        for n, f in enumerate(planned):
            assert f.plan_start is not None
            filed_on = min(f.plan_start + timedelta(days=20), self.anchor)
            resolved_on = filed_on + timedelta(days=2)
            category = GRIEVANCE_CATEGORIES[n % len(GRIEVANCE_CATEGORIES)]
            out.append(
                Grievance(f, category, filed_on, resolved_on if n % 2 == 0 and resolved_on <= self.anchor else None)
            )
        return out

    def grievance_requests(self) -> int:
        """POSTs of the grievances, sent after every step: the filings and the answers."""
        grievances = self.grievances()
        return len(grievances) + sum(g.resolved_on is not None for g in grievances)

    def requests(self) -> int:
        """POSTs the loader sends (the progress line's total)."""
        s = self.sizes()
        return (
            self.grievance_requests()
            + sum(s[k] for k in ("donors", "contributions", "pledges", "families", "approved", "rejected"))
            + sum(
                s[k]
                for k in (
                    "sponsorships",
                    "deliveries",
                    "under_value_first",
                    "confirmations",
                    "interventions",
                    "growth_measurements",
                    "home_visits",
                    "education_sessions",
                    "exits",
                )
            )
        )

    def steps(self) -> list[Step]:
        """Every record, in effective-date order (then phase, actor, and order within the actor)."""
        out: list[Step] = []

        def add(day: date, actor: str, kind: str, index: int = 0) -> None:
            out.append(Step(day, PHASES.get(kind, 1), actor, KINDS.index(kind), kind, index))

        for d in self.donors:
            if d.registered_on is None:
                continue
            add(d.registered_on, d.key, "donor")
            for n in range(len(d.pledges)):
                add(d.registered_on, d.key, "pledge", n)
            for n, c in enumerate(d.contributions):
                add(c.received_on, d.key, "contribution", n)
        for f in self.families:
            add(f.registered_on, f.key, "register")
            if f.decided_on is not None:
                add(f.decided_on, f.key, "verify")
            for n, sp in enumerate(f.sponsorships):
                add(sp.start_date, f.key, "sponsor", n)
            for n, dl in enumerate(f.deliveries):
                add(dl.delivered_on, f.key, "deliver", n)
                if dl.confirmed_on is not None:
                    add(dl.confirmed_on, f.key, "confirm", n)
            for n, i in enumerate(f.interventions):
                add(i.done_on, f.key, "intervene", n)
            for n, g in enumerate(f.growth):
                add(g.measured_on, f.key, "measure", n)
            if f.visited_on is not None:
                add(f.visited_on, f.key, "visit")
            if f.exited_on is not None:
                add(f.exited_on, f.key, "exit")
        for s in self.sessions:
            add(s.held_on, s.key, "session")
        return sorted(out)


@dataclass(frozen=True)
class Grievance:
    """A grievance the kader files for a family; answered by the lurah on `resolved_on`, or left
    open for aid's clock to escalate."""

    family: Family
    category: str
    filed_on: date
    resolved_on: date | None
