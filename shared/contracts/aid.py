"""The facts aid publishes: six-month food plans, deliveries, coverage, education, interventions,
home visits for children who gained no weight.

Money is integer rupiah; dates are calendar days in the city's time zone. No personal data.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import Event, EventCatalog

Rupiah = Annotated[int, Field(ge=0)]
PositiveRupiah = Annotated[int, Field(gt=0)]
PlanOutcome = Literal["completed", "incomplete", "exited"]
EducationTopic = Literal["nutrition", "hygiene", "clean_water", "early_marriage", "parenting", "breastfeeding"]
InterventionKind = Literal["clean_water", "sanitation", "early_marriage_prevention", "health_referral", "house_repair"]
# How an intervention is paid. Only in kind: sponsorships are the family's food budget and are
# never drawn for an intervention, so its value comes from the source it names.
InterventionFunding = Literal["in_kind"]


class DeliveredItem(BaseModel):
    """One line of a food delivery (e.g. TELUR, telur ayam, 30, butir). On the bus `code` and `name`
    are the city's food catalogue's, never the text a kader typed (that stays in aid, sealed)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    quantity: float
    unit: str
    code: str | None = None


class PlanEvent(Event):
    """A fact about one family's aid plan — base class, never published itself."""

    context: ClassVar[str] = "aid"
    aggregate: ClassVar[str] = "plan"
    id_field: ClassVar[str] = "plan_id"

    plan_id: UUID
    family_id: UUID
    kelurahan_code: str


class AidPlanOpened(PlanEvent):
    """An enrolled family's sponsorships reached the minimum: its days of food are now planned."""

    event_type: ClassVar[str] = "AidPlanOpened"

    start_date: date
    end_date: date  # inclusive: start_date + days - 1
    days: int
    daily_minimum_rp: PositiveRupiah
    budget_rp: PositiveRupiah  # the family's total sponsorship when the plan opened
    opened_on: date
    # What bringing the food costs a day (GENTING_DISTRIBUTION_COST_RP when the plan opened): the
    # budget pays it on top of the food, for every day a delivery covers. 0: the food alone.
    distribution_daily_rp: Rupiah = 0


class AidPlanBudgetIncreased(PlanEvent):
    """Another sponsorship for the family raised the plan's budget."""

    event_type: ClassVar[str] = "AidPlanBudgetIncreased"

    increase_rp: PositiveRupiah
    budget_rp: PositiveRupiah  # the new total


class AidDelivered(PlanEvent):
    """Food worth `value_rp` covering `period_from`..`period_to` (inclusive) reached the family.
    Bringing it cost `distribution_rp` more (the plan's distribution rate x `days`, computed by
    aid, never typed): the plan's budget paid `value_rp` + `distribution_rp`."""

    event_type: ClassVar[str] = "AidDelivered"

    delivery_id: UUID
    period_from: date
    period_to: date
    days: int
    value_rp: PositiveRupiah
    delivered_on: date
    items: list[DeliveredItem] = Field(default_factory=list)
    distribution_rp: Rupiah = 0


class DeliveryConfirmed(PlanEvent):
    """The lurah of the family's kelurahan confirmed the family received the delivery."""

    event_type: ClassVar[str] = "DeliveryConfirmed"

    delivery_id: UUID
    confirmed_on: date
    confirmed_by: str
    # The proof photo's reference stays in aid, sealed under the family's key; the bus carries at
    # most an opaque id aid generated for it (free text never goes on the bus).
    photo_id: UUID | None = None
    has_photo: bool = False


class AidPlanUnderfunded(PlanEvent):
    """What the plan's remaining budget lacks to pay the daily minimum (and the distribution rate,
    when the plan has one) for its uncovered days: a top-up is needed. Published when the
    shortfall becomes positive or changes while positive."""

    event_type: ClassVar[str] = "AidPlanUnderfunded"

    shortfall_rp: PositiveRupiah
    uncovered_days: int
    remaining_rp: Rupiah
    detected_on: date  # the effective date of the record that changed it


class AidPlanFullyFunded(PlanEvent):
    """A top-up brought the plan's shortfall back to zero."""

    event_type: ClassVar[str] = "AidPlanFullyFunded"

    funded_on: date


class CoverageGapDetected(PlanEvent):
    """Days of the plan passed without food: `gap_from`..`gap_to` (inclusive) are uncovered."""

    event_type: ClassVar[str] = "CoverageGapDetected"

    gap_from: date
    gap_to: date
    days: int


class AidPlanCompleted(PlanEvent):
    """Every day of the plan was covered with food of at least the daily minimum."""

    event_type: ClassVar[str] = "AidPlanCompleted"

    completed_on: date
    delivered_rp: Rupiah
    days_covered: int


class AidPlanClosed(PlanEvent):
    """The plan ended (completed, window passed with days uncovered, or the family exited);
    its unspent budget goes back to the donors."""

    event_type: ClassVar[str] = "AidPlanClosed"

    outcome: PlanOutcome
    closed_on: date
    delivered_rp: Rupiah
    unspent_rp: Rupiah
    days_covered: int


class InterventionRecorded(PlanEvent):
    """Beyond food: clean water, sanitation, early-marriage prevention, a health referral or a
    house repair (rumah layak huni)."""

    event_type: ClassVar[str] = "InterventionRecorded"

    intervention_id: UUID
    kind: InterventionKind
    done_on: date
    value_rp: Rupiah
    # Given in kind, never drawn from a sponsorship. The source: a registered donor (orang tua asuh),
    # or an organisation by its code (`pdam`, `baznas`: a code, never free text), or neither
    # (unnamed; what an older event means).
    funded_by: InterventionFunding = "in_kind"
    source_donor_id: UUID | None = None
    source_organisation: str | None = None


class EducationSessionHeld(Event):
    """A counselling session on a topic was held in a kelurahan for some enrolled families."""

    context: ClassVar[str] = "aid"
    aggregate: ClassVar[str] = "session"
    id_field: ClassVar[str] = "session_id"
    event_type: ClassVar[str] = "EducationSessionHeld"

    session_id: UUID
    topic: EducationTopic
    held_on: date
    kelurahan_code: str
    family_ids: list[UUID]
    families: int


class HomeVisitEvent(Event):
    """A fact about one home visit for a child who gained no weight — base class, never published itself.

    Its own stream (one per child and measurement day, `flag_id`), whether or not the family has a plan.
    """

    context: ClassVar[str] = "aid"
    aggregate: ClassVar[str] = "homevisit"
    id_field: ClassVar[str] = "flag_id"

    flag_id: UUID
    plan_id: UUID | None  # the family's aid plan when the child was flagged; None before one opened
    family_id: UUID
    kelurahan_code: str
    member_id: UUID


class HomeVisitFlagged(HomeVisitEvent):
    """A child of an enrolled family weighed no more than about two months earlier: a kader should visit."""

    event_type: ClassVar[str] = "HomeVisitFlagged"

    flagged_on: date  # the day of the measurement that showed no gain
    since: date  # the earliest of the three consecutive monthly weighings the rule compared
    weight_then_kg: float
    weight_now_kg: float


class HomeVisitDone(HomeVisitEvent):
    """Staff visited the flagged child's home; what they noted stays in aid."""

    event_type: ClassVar[str] = "HomeVisitDone"

    visited_on: date


GrievanceCategory = Literal["missed_delivery", "food_quality", "eligibility", "conduct", "other"]


class GrievanceEvent(Event):
    """A grievance anyone raised about the programme in a kelurahan. Only its category, place,
    dates and (when linked) family and plan: the description, contact and resolution text are
    private parts sealed in aid, never on the bus."""

    context: ClassVar[str] = "aid"
    aggregate: ClassVar[str] = "grievance"
    id_field: ClassVar[str] = "grievance_id"

    grievance_id: UUID
    kelurahan_code: str
    category: GrievanceCategory
    family_id: UUID | None = None
    plan_id: UUID | None = None  # a missed delivery on a plan with a recorded gap is linked to it
    filed_on: date


class GrievanceFiled(GrievanceEvent):
    event_type: ClassVar[str] = "GrievanceFiled"

    due_on: date  # filed_on + GENTING_GRIEVANCE_SLA_DAYS: still open after it, it is escalated


class GrievanceEscalated(GrievanceEvent):
    """Still open when its answer was due: escalated to the city (admin) by the clock."""

    event_type: ClassVar[str] = "GrievanceEscalated"

    escalated_on: date


class GrievanceResolved(GrievanceEvent):
    """The lurah of the kelurahan (or admin) answered it."""

    event_type: ClassVar[str] = "GrievanceResolved"

    resolved_on: date


GrievanceStreamEvent = GrievanceFiled | GrievanceEscalated | GrievanceResolved


AidEvent = (
    AidPlanOpened
    | AidPlanBudgetIncreased
    | AidDelivered
    | DeliveryConfirmed
    | AidPlanUnderfunded
    | AidPlanFullyFunded
    | CoverageGapDetected
    | AidPlanCompleted
    | AidPlanClosed
    | InterventionRecorded
    | EducationSessionHeld
    | HomeVisitFlagged
    | HomeVisitDone
)

CATALOG = EventCatalog(
    "aid",
    [
        AidPlanOpened,
        AidPlanBudgetIncreased,
        AidDelivered,
        DeliveryConfirmed,
        AidPlanUnderfunded,
        AidPlanFullyFunded,
        CoverageGapDetected,
        AidPlanCompleted,
        AidPlanClosed,
        InterventionRecorded,
        EducationSessionHeld,
        HomeVisitFlagged,
        HomeVisitDone,
        GrievanceFiled,
        GrievanceEscalated,
        GrievanceResolved,
    ],
)
