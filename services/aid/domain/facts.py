"""A recorded fact: the public event, published as-is, and its private part, which stays in aid."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from shared.contracts.aid import AidDelivered, EducationSessionHeld, HomeVisitDone, InterventionRecorded
from shared.contracts.base import Event


class _Private(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DeliveryNote(_Private):
    """Who recorded the delivery (a staff account), for the audit trail inside aid."""

    recorded_by: str


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


PrivatePart = DeliveryNote | InterventionNote | SessionNote | VisitNote

# Which private part, if any, goes with each event type: for the store to unseal it.
PRIVATE_PARTS: dict[str, type[PrivatePart]] = {
    AidDelivered.event_type: DeliveryNote,
    InterventionRecorded.event_type: InterventionNote,
    EducationSessionHeld.event_type: SessionNote,
    HomeVisitDone.event_type: VisitNote,
}


@dataclass(frozen=True)
class Fact:
    event: Event
    private: PrivatePart | None = None
