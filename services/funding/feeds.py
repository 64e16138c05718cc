"""What funding consumes: the registry's families and aid's plans, as two projections for the kernel's
ProjectionRunner (durable consumers `funding-registry` and `funding-aid`).

Each subscribes to every event of the upstream streams it gates on, even the ones it ignores:
the runner's version gate needs each stream's versions without holes. Their state (families,
plans, deliveries paid) is decision input, not a read model: a replay never truncates it, and the
reactions are idempotent on their own should the upstream ever be consumed again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg
import structlog

from services.funding import ledger
from shared.contracts import aid, registry
from shared.eventstore import Metadata
from shared.messaging import Envelope, stream_name

log = structlog.get_logger()


def _meta(envelope: Envelope) -> Metadata:
    """Funding's events follow the upstream fact: same correlation, caused by that event."""
    return Metadata(
        occurred_at=datetime.now(UTC), correlation_id=envelope.correlation_id, causation_id=envelope.event_id
    )


class RegistryFeed:
    """Enrolments make a family sponsorable; an exit with no plan open releases its sponsorships."""

    name = "funding-registry"
    stream = stream_name("registry")
    filter_subjects: Sequence[str] = ("genting.registry.family.>",)
    tables: Sequence[str] = ()  # decision input, never truncated (see the module docstring)

    def __init__(self, stats: ledger.LedgerStats) -> None:
        self.stats = stats

    async def apply(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        if envelope.event_type not in ("FamilyEnrolled", "FamilyExited"):
            return
        event = registry.CATALOG.parse(envelope.event_type, envelope.schema_version, envelope.data)
        match event:
            case registry.FamilyEnrolled():
                await conn.execute(
                    "insert into funding_families (family_id, status, kelurahan_code, enrolled_on)"
                    " values ($1, 'enrolled', $2, $3) on conflict (family_id) do update set"
                    " status = case when funding_families.status = 'exited' then 'exited' else 'enrolled' end,"
                    " kelurahan_code = excluded.kelurahan_code, enrolled_on = excluded.enrolled_on",
                    event.family_id,
                    event.kelurahan_code,
                    event.enrolled_on,
                )
            case registry.FamilyExited():
                await conn.execute(
                    "insert into funding_families (family_id, status, kelurahan_code, exited_on)"
                    " values ($1, 'exited', $2, $3) on conflict (family_id) do update set"
                    " status = 'exited', exited_on = excluded.exited_on",
                    event.family_id,
                    event.kelurahan_code,
                    event.exited_on,
                )
                # With a plan open, aid closes it on the exit and AidPlanClosed releases the rest
                # after the last deliveries are paid; releasing now would leave those unpaid.
                if not await ledger.has_open_plan(conn, event.family_id):
                    await ledger.release_family(
                        conn, event.family_id, "family_exited", None, event.exited_on, _meta(envelope), self.stats
                    )


class AidFeed:
    """Deliveries draw on the family's sponsorships; a closed plan releases what is left."""

    name = "funding-aid"
    stream = stream_name("aid")
    filter_subjects: Sequence[str] = ("genting.aid.plan.>",)
    tables: Sequence[str] = ()

    def __init__(self, stats: ledger.LedgerStats) -> None:
        self.stats = stats

    async def apply(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        if envelope.event_type not in ("AidPlanOpened", "AidDelivered", "AidPlanClosed"):
            return
        event = aid.CATALOG.parse(envelope.event_type, envelope.schema_version, envelope.data)
        match event:
            case aid.AidPlanOpened():
                await ledger.plan_opened(conn, event.plan_id, event.family_id)
            case aid.AidDelivered():
                await ledger.draw_delivery(conn, event, _meta(envelope), self.stats)
            case aid.AidPlanClosed():
                await ledger.plan_closed(conn, event.plan_id, event.family_id, event.closed_on)
                await ledger.release_family(
                    conn, event.family_id, "plan_closed", event.plan_id, event.closed_on, _meta(envelope), self.stats
                )


def feeds(stats: ledger.LedgerStats) -> list[RegistryFeed | AidFeed]:
    return [RegistryFeed(stats), AidFeed(stats)]
