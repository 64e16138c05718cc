"""The Plan aggregate's vocabulary: the city's policy, the state, the commands and the refusals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal, get_args
from uuid import UUID, uuid5

from services.aid.domain.coverage import ONE_DAY, Period, day_count, holes
from shared.contracts.aid import DeliveredItem, InterventionKind, PlanOutcome
from shared.errors import Conflict, NotFound

Status = Literal["none", "active", "completed", "incomplete", "closed"]
INTERVENTION_KINDS: tuple[str, ...] = get_args(InterventionKind)
MAX_DESCRIPTION = 2000
MAX_PHOTO_REF = 512

# One plan per family: its id is derived from the family's, so that a reaction that runs again
# (a redelivery, a replay of the upstream streams) finds the plan it opened the first time.
PLAN_NAMESPACE = UUID("6d1c1f3e-8a53-4d0e-9f57-0b8f3c5e2a11")


def plan_id_for(family_id: UUID) -> UUID:
    return uuid5(PLAN_NAMESPACE, f"plan:{family_id}")


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


# -- state --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    delivery_id: UUID
    period: Period
    value_rp: int


@dataclass(frozen=True)
class Plan:
    plan_id: UUID | None = None
    family_id: UUID | None = None
    kelurahan_code: str = ""
    status: Status = "none"
    window: Period | None = None
    daily_minimum_rp: int = 0
    budget_rp: int = 0
    delivered_rp: int = 0
    covered: tuple[Period, ...] = ()  # merged, sorted
    # The last day accounted for, by a delivery or a recorded gap; None before the first.
    horizon: date | None = None
    deliveries: tuple[Delivery, ...] = ()
    confirmed: frozenset[UUID] = field(default_factory=frozenset)
    interventions: int = 0
    opened_on: date | None = None
    closed_on: date | None = None
    outcome: PlanOutcome | None = None
    version: int = 0

    @property
    def days(self) -> int:
        return self.window.days if self.window else 0

    @property
    def days_covered(self) -> int:
        return day_count(self.covered)

    @property
    def remaining_rp(self) -> int:
        return self.budget_rp - self.delivered_rp

    @property
    def last_accounted(self) -> date:
        assert self.window is not None
        return self.horizon if self.horizon is not None else self.window.first - ONE_DAY

    @property
    def gaps(self) -> tuple[Period, ...]:
        """Uncovered days up to the last day accounted for; a later delivery may still fill them."""
        if self.window is None or self.horizon is None:
            return ()
        return holes(self.covered, Period(self.window.first, self.horizon))


# -- commands: ids, `today` and the acting user are stamped by the handler ---------------


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


def photo_ref_error(ref: str) -> str | None:
    """A photo reference names where the proof is kept (an object key, a URL): never the photo."""
    if not 1 <= len(ref) <= MAX_PHOTO_REF:
        return f"must be 1 to {MAX_PHOTO_REF} characters"
    if any(c.isspace() or not c.isprintable() for c in ref):
        return "must not contain spaces or control characters"
    if ref.lower().startswith("data:"):
        return "must reference the photo (an object key or URL), not contain it"
    return None


# -- errors: they carry ids; `detail` renders the sentence -------------------------------


class PlanNotFound(NotFound):
    """No aid plan has this id."""

    def __init__(self, plan_id: UUID) -> None:
        self.plan_id = plan_id
        super().__init__(f"Aid plan {plan_id} does not exist.")


class DeliveryNotFound(NotFound):
    """No delivery has this id."""

    def __init__(self, delivery_id: UUID) -> None:
        self.delivery_id = delivery_id
        super().__init__(f"Delivery {delivery_id} does not exist.")


class PlanNotActive(Conflict):
    """Deliveries go only to an active plan."""

    def __init__(self, plan_id: UUID, status: Status) -> None:
        self.plan_id = plan_id
        self.plan_status = status  # `status` is the HTTP status code on DomainError
        super().__init__(f"Aid plan {plan_id} is {status}, not active.")


class PlanEnded(Conflict):
    """The family exited, so its plan takes no more records."""

    def __init__(self, plan_id: UUID) -> None:
        self.plan_id = plan_id
        super().__init__(f"Aid plan {plan_id} was closed when the family exited.")


class DeliveryOverlaps(Conflict):
    """Some of the delivery's days are already covered by an earlier delivery."""

    def __init__(self, plan_id: UUID, covered: Period) -> None:
        self.plan_id = plan_id
        self.covered = covered
        super().__init__(f"Aid plan {plan_id} already covers {covered.first} to {covered.last}.")


class OverBudget(Conflict):
    """The delivery is worth more than what is left of the plan's budget."""

    def __init__(self, plan_id: UUID, value_rp: int, remaining_rp: int) -> None:
        self.plan_id = plan_id
        self.value_rp = value_rp
        self.remaining_rp = remaining_rp
        super().__init__(f"Rp{value_rp:,} exceeds the Rp{remaining_rp:,} left in aid plan {plan_id}'s budget.")


class DeliveryAlreadyConfirmed(Conflict):
    """The lurah has already confirmed this delivery."""

    def __init__(self, delivery_id: UUID) -> None:
        self.delivery_id = delivery_id
        super().__init__(f"Delivery {delivery_id} is already confirmed.")
