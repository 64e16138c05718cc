"""What aid is asked to do: the commands of its three aggregates, the city's policy they carry, and
the stream ids they address. Ids, `today` and the acting user are stamped by the handler."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid5

from services.aid.domain.growth import NoGain
from shared.contracts.aid import DeliveredItem

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
class Policy:
    """The city's rule (configuration): at least `daily_minimum_rp` a day for `days` days."""

    daily_minimum_rp: int = 15_000
    days: int = 180

    def __post_init__(self) -> None:
        if self.daily_minimum_rp <= 0 or self.days <= 0:
            raise ValueError("the daily minimum and the number of days must be positive")

    @property
    def minimum_rp(self) -> int:
        return self.daily_minimum_rp * self.days


@dataclass(frozen=True)
class Sponsorship:
    """A sponsorship as aid knows it from funding's events: what is left of it, and from when."""

    sponsorship_id: UUID
    amount_rp: int
    start_date: date


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
    policy: Policy
    today: date


@dataclass(frozen=True)
class CloseForExit:
    plan_id: UUID
    exited_on: date


@dataclass(frozen=True)
class EndWindow:
    """The clock's: end an active plan whose days are over, `grace_days` after its last day."""

    plan_id: UUID
    today: date
    grace_days: int = 0


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


@dataclass(frozen=True)
class ConfirmDelivery:
    plan_id: UUID
    delivery_id: UUID
    today: date
    confirmed_by: str
    photo_ref: str | None = None


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


HomeVisitCommand = FlagHomeVisit | RecordVisit
