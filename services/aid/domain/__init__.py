"""Aid's pure domain (no I/O, clock or random ids), one module per aggregate with its state,
`decide` and `evolve`: `plan` (a family's six-month food plan), `session` (an education
session) and `home_visit` (a child flagged for no weight gain). `commands` and `errors` are
theirs; `notes` the private parts of their facts; `coverage` and `growth` the calendar and
weight arithmetic they rely on."""

from services.aid.domain import home_visit, plan, session
from services.aid.domain.commands import (
    MAX_DESCRIPTION,
    MAX_FACILITATOR,
    MAX_FAMILIES,
    MAX_NOTE,
    MAX_PHOTO_REF,
    CloseForExit,
    ConfirmDelivery,
    EndWindow,
    FlagHomeVisit,
    HoldSession,
    HomeVisitCommand,
    PlanCommand,
    Policy,
    RecordDelivery,
    RecordIntervention,
    RecordVisit,
    ReviewFunding,
    Sponsorship,
    flag_id_for,
    plan_id_for,
)
from services.aid.domain.errors import (
    DeliveryAlreadyConfirmed,
    DeliveryNotFound,
    DeliveryOverlaps,
    HomeVisitAlreadyDone,
    HomeVisitNotFound,
    OverBudget,
    PlanEnded,
    PlanNotActive,
    PlanNotFound,
    SessionAlreadyRecorded,
)
from services.aid.domain.growth import Measurement, NoGain, flags_due
from services.aid.domain.home_visit import HomeVisit
from services.aid.domain.notes import PRIVATE_PARTS, DeliveryNote, InterventionNote, SessionNote, VisitNote
from services.aid.domain.plan import Plan
from services.aid.domain.session import Session

__all__ = [
    "MAX_DESCRIPTION",
    "MAX_FACILITATOR",
    "MAX_FAMILIES",
    "MAX_NOTE",
    "MAX_PHOTO_REF",
    "PRIVATE_PARTS",
    "CloseForExit",
    "ConfirmDelivery",
    "DeliveryAlreadyConfirmed",
    "DeliveryNotFound",
    "DeliveryNote",
    "DeliveryOverlaps",
    "EndWindow",
    "FlagHomeVisit",
    "HoldSession",
    "HomeVisit",
    "HomeVisitAlreadyDone",
    "HomeVisitCommand",
    "HomeVisitNotFound",
    "InterventionNote",
    "Measurement",
    "NoGain",
    "OverBudget",
    "Plan",
    "PlanCommand",
    "PlanEnded",
    "PlanNotActive",
    "PlanNotFound",
    "Policy",
    "RecordDelivery",
    "RecordIntervention",
    "RecordVisit",
    "ReviewFunding",
    "Session",
    "SessionAlreadyRecorded",
    "SessionNote",
    "Sponsorship",
    "VisitNote",
    "flag_id_for",
    "flags_due",
    "home_visit",
    "plan",
    "plan_id_for",
    "session",
]
