"""What aid is asked to do: the commands of its three aggregates, the plan rules they carry, and
the stream ids they address. Ids, `today` and the acting user are stamped by the handler."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid5

from services.aid.domain.catalogue import PEKALONGAN, FoodCatalogue
from services.aid.domain.growth import NoGain
from shared.contracts.aid import DeliveredItem
from shared.effective import effective_date_errors
from shared.errors import FieldError
from shared.held_money import Held
from shared.programme import family_minimum_rp, family_plan_days

MAX_DESCRIPTION = 2000
MAX_PHOTO_REF = 512
MAX_FACILITATOR = 200
MAX_FAMILIES = 500
MAX_NOTE = 2000

# One plan per family: its id is derived from the family's, so that a reaction that runs again
# (a redelivery, a replay of the upstream streams) finds the plan it opened the first time.
PLAN_NAMESPACE = UUID("6d1c1f3e-8a53-4d0e-9f57-0b8f3c5e2a11")
# One home visit stream per child and measurement day, for the same reason.
FLAG_NAMESPACE = UUID("3f0c9a52-7d1e-4b8a-9c64-2e5d7a1b8f03")


def plan_id_for(family_id: UUID) -> UUID:
    return uuid5(PLAN_NAMESPACE, f"plan:{family_id}")


def flag_id_for(member_id: UUID, flagged_on: date) -> UUID:
    return uuid5(FLAG_NAMESPACE, f"home-visit:{member_id}:{flagged_on.isoformat()}")


@dataclass(frozen=True)
class PlanRules:
    """The programme's rules aid applies (configuration, the kernel settings): at least
    `daily_minimum_rp` a day of food for `days` days, and `distribution_daily_rp` a day to bring
    it, both paid from the plan's budget; effective dates from `programme_start`; a delivery
    covers at most `max_ahead_days` beyond the day it was handed over; a plan's records may come
    in up to `grace_days` after its last day."""

    daily_minimum_rp: int = 15_000
    distribution_daily_rp: int = 0
    days: int = 180
    programme_start: date = date(2025, 1, 1)
    max_ahead_days: int = 14
    grace_days: int = 0
    # What a delivery's items are matched to (GENTING_FOOD_CATALOGUE; Pekalongan's by default).
    catalogue: FoodCatalogue = PEKALONGAN
    # Funding's hold (GENTING_SPONSORSHIP_HOLD_DAYS): a sponsorship counts for a plan only if the
    # plan starts by its hold's last day; after it, funding gives it back. None: no hold.
    hold_days: int | None = None

    def __post_init__(self) -> None:
        if self.daily_minimum_rp <= 0 or self.days <= 0:
            raise ValueError("the daily minimum and the number of days must be positive")
        if self.max_ahead_days < 0 or self.grace_days < 0 or self.distribution_daily_rp < 0:
            raise ValueError("max_ahead_days, grace_days and the distribution cost must not be negative")

    @property
    def minimum_rp(self) -> int:
        """What the sponsorships must reach to open a plan: food and distribution for every day."""
        return family_minimum_rp(self.daily_minimum_rp, self.days, distribution_daily_rp=self.distribution_daily_rp)


def check_effective(
    field: str, value: date, today: date, rules: PlanRules, not_before: date | None = None, what: str = ""
) -> list[FieldError]:
    """CONTRACT.md, "Effective dates and late entry" on the rules' programme start (the domain holds
    values, not the settings): `shared.effective`'s rule."""
    return effective_date_errors(
        field, value, today, rules.programme_start, not_before=not_before, not_before_field=what or None
    )


@dataclass(frozen=True)
class Sponsorship:
    """A sponsorship as aid knows it from funding's events: what is left of it, and from when."""

    sponsorship_id: UUID
    amount_rp: int
    start_date: date
    # The sponsorship's effective date: the day the money was there for the family.
    sponsored_on: date | None = None

    @property
    def money_from(self) -> date:
        """The earliest day this money may pay for: the donor's start, not before it was given."""
        return self.start_date if self.sponsored_on is None else max(self.start_date, self.sponsored_on)

    @property
    def held(self) -> Held:
        """As funding's hold judges it (an older event without `sponsored_on`: its start)."""
        return Held(self.money_from, self.sponsored_on or self.start_date, self.amount_rp)


# -- the plan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewFunding:
    """The process manager's: the family's enrolment or sponsorships changed; look again."""

    plan_id: UUID
    family_id: UUID
    kelurahan_code: str
    enrolled_on: date | None
    exited: bool
    sponsorships: tuple[Sponsorship, ...]
    rules: PlanRules
    today: date
    # The registry's FamilyEligibilityChanged: a family no longer a target gets no new plan (a
    # running one runs to its end).
    eligible: bool = True
    # The registry's plan_until (FamilyEnrolled, FamilyEligibilityChanged): the first day the
    # family is no longer planned for; None: the rules' fixed `days`.
    plan_until: date | None = None

    @property
    def days(self) -> int:
        """The days the family's minimum pays for, from its enrolment (`family_plan_days`)."""
        return family_plan_days(self.rules.days, self.enrolled_on, self.plan_until)

    @property
    def minimum_rp(self) -> int:
        """What the family's sponsorships must reach for its plan to open."""
        return family_minimum_rp(
            self.rules.daily_minimum_rp, self.days, distribution_daily_rp=self.rules.distribution_daily_rp
        )


@dataclass(frozen=True)
class CloseForExit:
    plan_id: UUID
    exited_on: date
    # The recording grace (GENTING_RECORDING_GRACE_DAYS): an exit dated after the plan's last day
    # plus it finds the plan's days already over, and the plan ends as its window would.
    grace_days: int = 0


@dataclass(frozen=True)
class EndWindow:
    """The clock's: end an active plan whose days are over. `recorded_through` is the latest
    effective date of any record aid holds (README, "Plans in time"): the plan ends only once
    the records, not just the clock, have moved past its last day plus the grace."""

    plan_id: UUID
    today: date
    recorded_through: date | None
    grace_days: int = 0
    # The deployment's bound on the wait (README, "Plans in time"): records are entered at most
    # this many days late, so everything up to `today` minus it is in (None: no bound) ...
    max_entry_delay_days: int | None = None
    # ... and the operator's declaration that every record up to this day is entered.
    entered_through: date | None = None


@dataclass(frozen=True)
class RecordDelivery:
    plan_id: UUID
    delivery_id: UUID
    period_from: date
    period_to: date
    value_rp: int
    items: tuple[DeliveredItem, ...]
    delivered_on: date
    today: date
    recorded_by: str
    rules: PlanRules = PlanRules()


@dataclass(frozen=True)
class ConfirmDelivery:
    plan_id: UUID
    delivery_id: UUID
    confirmed_on: date
    today: date
    confirmed_by: str
    photo_ref: str | None = None
    photo_id: UUID | None = None  # fresh, from the handler, used when there is a photo_ref
    rules: PlanRules = PlanRules()
    # Who recorded the delivery (aid's own record; it never goes on the bus): that account does
    # not also confirm it, the confirmation being a second person's word.
    recorded_by: str | None = None


@dataclass(frozen=True)
class RecordIntervention:
    plan_id: UUID
    intervention_id: UUID
    kind: str
    description: str
    done_on: date
    value_rp: int
    today: date
    recorded_by: str
    rules: PlanRules = PlanRules()
    funded_by: str = "in_kind"
    source_donor_id: UUID | None = None
    source_organisation: str | None = None


PlanCommand = ReviewFunding | CloseForExit | EndWindow | RecordDelivery | ConfirmDelivery | RecordIntervention


# -- the education session ----------------------------------------------------------------


@dataclass(frozen=True)
class HoldSession:
    session_id: UUID
    topic: str
    held_on: date
    kelurahan_code: str
    family_ids: tuple[UUID, ...]
    facilitator: str
    today: date
    recorded_by: str
    # Aid's own knowledge (from registry events): the families enrolled, and not exited, there.
    enrolled_here: frozenset[UUID]
    rules: PlanRules = PlanRules()


# -- the home visit -----------------------------------------------------------------------


@dataclass(frozen=True)
class FlagHomeVisit:
    """The process manager's: a measurement showed no gain for a child of an enrolled family."""

    plan_id: UUID | None
    family_id: UUID
    kelurahan_code: str
    member_id: UUID
    no_gain: NoGain

    @property
    def flag_id(self) -> UUID:
        return flag_id_for(self.member_id, self.no_gain.flagged_on)


@dataclass(frozen=True)
class RecordVisit:
    flag_id: UUID
    visited_on: date
    note: str | None
    today: date
    recorded_by: str
    rules: PlanRules = PlanRules()


HomeVisitCommand = FlagHomeVisit | RecordVisit
