"""The private parts of aid's facts (the kernel's `Fact.private`): sealed into the event store's
never-published `sealed` column, shown only to admin and the kelurahan's own staff."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared.contracts.aid import (
    AidDelivered,
    DeliveryConfirmed,
    EducationSessionHeld,
    GrievanceFiled,
    GrievanceResolved,
    HomeVisitDone,
    InterventionRecorded,
)


class _Private(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DeliveryNote(_Private):
    """Who recorded the delivery (a staff account), for the audit trail inside aid, and the item
    names as typed (free text that may name the family: never on the bus)."""

    recorded_by: str
    items_typed: list[str] | None = None


class ConfirmationNote(_Private):
    """Where the proof photo is kept: free text about a family, so never on the bus."""

    photo_ref: str


class InterventionNote(_Private):
    """The free-text description may mention people or health matters: it never leaves aid."""

    description: str
    recorded_by: str


class SessionNote(_Private):
    """The facilitator is a named person: kept in aid, never on the bus."""

    facilitator: str
    recorded_by: str


class VisitNote(_Private):
    """What the visitor noted at the child's home (health, the household): it never leaves aid."""

    note: str | None
    recorded_by: str


class GrievanceText(_Private):
    """What the person who filed wrote, and how to reach them: sealed under the family's key when a
    family is named (erased with it), else under the grievance's own."""

    description: str
    contact: str | None
    filed_by: str | None  # the account, when filed with a token


class ResolutionText(_Private):
    """The answer may describe the family: it stays in aid."""

    resolution: str
    resolved_by: str


# Which private part, if any, goes with each event type: the repositories' configuration.
PRIVATE_PARTS: dict[str, type[BaseModel]] = {
    AidDelivered.event_type: DeliveryNote,
    DeliveryConfirmed.event_type: ConfirmationNote,
    InterventionRecorded.event_type: InterventionNote,
    EducationSessionHeld.event_type: SessionNote,
    HomeVisitDone.event_type: VisitNote,
    GrievanceFiled.event_type: GrievanceText,
    GrievanceResolved.event_type: ResolutionText,
}
