"""What funding does when other services' facts arrive: the registry's families and aid's plans,
as two projections for the kernel's ProjectionRunner (durable consumers `funding-registry` and
`funding-aid`). Each translates the event into a command and calls a handler; the handler's
appends commit in the runner's batch transaction, with the upstream version gate: exactly once.

Each subscribes to every event of the upstream streams it gates on, even the ones it ignores:
the runner's version gate needs each stream's versions without holes. What they record (families,
plans, deliveries paid) is decision input, not a read model: `tables` is empty, so a replay never
truncates it, and the handlers are idempotent on their own should the upstream be consumed again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import asyncpg

from services.funding import family_aid
from services.funding.domain import (
    ClosePlan,
    PayDelivery,
    RecordEligibility,
    RecordEnrolment,
    RecordExit,
    RecordPlan,
)
from services.funding.handlers import Handlers
from shared.contracts import Event, EventCatalog, aid, registry
from shared.eventstore import Metadata
from shared.messaging import Envelope, stream_name


class _Reaction:
    """A reaction to some of one producer's events (`reacts_to`): each is parsed with the producer's
    catalog and handed to `react`; the rest of the stream passes through untouched."""

    catalog: ClassVar[EventCatalog]
    reacts_to: ClassVar[frozenset[str]]
    tables: Sequence[str] = ()  # decision input, never truncated (see the module docstring)

    def __init__(self, handlers: Handlers) -> None:
        self.handlers = handlers

    async def apply(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        if envelope.event_type in self.reacts_to:
            event = self.catalog.parse(envelope.event_type, envelope.schema_version, envelope.data)
            await self.react(conn, event, envelope)

    async def react(self, conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
        raise NotImplementedError


class RegistryPolicy(_Reaction):
    """Enrolments make a family sponsorable; an exit with no plan open releases its sponsorships;
    PersonalDataErased destroys the family's key in funding (its sealed notes become unreadable);
    FamilyEligibilityChanged decides whether the family may be sponsored anew."""

    name = "funding-registry"
    stream = stream_name("registry")
    filter_subjects: Sequence[str] = ("genting.registry.family.>",)
    catalog = registry.CATALOG
    reacts_to = frozenset({"FamilyEnrolled", "FamilyExited", "PersonalDataErased", "FamilyEligibilityChanged"})

    async def react(self, conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
        match event:
            case registry.FamilyEnrolled():
                await self.handlers.record_enrolment(
                    conn, RecordEnrolment(event.family_id, event.kelurahan_code, event.enrolled_on, event.plan_until)
                )
            case registry.FamilyExited():
                await self.handlers.record_exit(
                    conn,
                    RecordExit(event.family_id, event.kelurahan_code, event.exited_on),
                    Metadata.caused_by(envelope),
                )
            case registry.PersonalDataErased():
                await self.handlers.erase_family(conn, event.family_id)
            case registry.FamilyEligibilityChanged():
                eligibility = RecordEligibility(
                    event.family_id, event.kelurahan_code, event.eligible, event.effective_on, event.plan_until
                )
                await self.handlers.record_eligibility(conn, eligibility)


class AidPolicy(_Reaction):
    """Deliveries draw on the family's sponsorships; a plan's ending (AidPlanCompleted, or
    AidPlanClosed with any outcome) releases what is left, so no rupiah stays allocated to a plan
    that can no longer spend it. The second ending event finds nothing left. The plan
    facts, with DeliveryConfirmed, also feed the donors' families view (family_aid.py)."""

    name = "funding-aid"
    stream = stream_name("aid")
    filter_subjects: Sequence[str] = ("genting.aid.plan.>",)
    catalog = aid.CATALOG
    reacts_to = frozenset(
        {
            "AidPlanOpened",
            "AidDelivered",
            "DeliveryConfirmed",
            "AidPlanCompleted",
            "AidPlanClosed",
            "InterventionRecorded",
        }
    )

    async def react(self, conn: asyncpg.Connection, event: Event, envelope: Envelope) -> None:
        await family_aid.record(conn, event)  # what the donors' families view shows
        match event:
            case aid.AidPlanOpened():
                await self.handlers.record_plan(
                    conn, RecordPlan(event.plan_id, event.family_id, event.end_date, event.start_date)
                )
            case aid.AidDelivered():
                pay = PayDelivery(
                    event.delivery_id,
                    event.plan_id,
                    event.family_id,
                    event.value_rp,
                    event.delivered_on,
                    event.kelurahan_code,
                    event.distribution_rp,
                )
                await self.handlers.pay_delivery(conn, pay, Metadata.caused_by(envelope))
            case aid.AidPlanCompleted():
                await self.handlers.close_plan(
                    conn, ClosePlan(event.plan_id, event.family_id, event.completed_on), Metadata.caused_by(envelope)
                )
            case aid.AidPlanClosed():
                await self.handlers.close_plan(
                    conn, ClosePlan(event.plan_id, event.family_id, event.closed_on), Metadata.caused_by(envelope)
                )
            case aid.InterventionRecorded() if event.source_donor_id is not None:
                # Given in kind by a donor: on its statement, never drawn from a sponsorship.
                await conn.execute(
                    "insert into donor_in_kind_interventions (intervention_id, donor_id, plan_id, value_rp, done_on)"
                    " values ($1, $2, $3, $4, $5) on conflict do nothing",
                    event.intervention_id,
                    event.source_donor_id,
                    event.plan_id,
                    event.value_rp,
                    event.done_on,
                )


def policies(handlers: Handlers) -> list[RegistryPolicy | AidPolicy]:
    return [RegistryPolicy(handlers), AidPolicy(handlers)]
