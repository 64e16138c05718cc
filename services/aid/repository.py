"""Loads and saves aid's aggregates. One save writes, in the caller's transaction: the events
(private parts sealed), the outbox and the inline read model."""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from uuid import UUID

import asyncpg

from services.aid.domain import plan as plans
from services.aid.domain import session as sessions
from services.aid.domain.facts import PRIVATE_PARTS, Fact
from services.aid.domain.plan_model import Plan, PlanCommand
from services.aid.domain.session import HoldSession, Session
from services.aid.private import Sealer
from services.aid.read_model import project, write_plan
from shared.contracts.aid import CATALOG
from shared.eventstore import EventStore, Metadata, NewEvent, StoredEvent


class FactStore:
    """An event store of one stream type whose events may carry a sealed private part."""

    def __init__(self, stream_type: str, sealer: Sealer) -> None:
        self.store = EventStore(stream_type)
        self.sealer = sealer

    async def load(self, conn: asyncpg.Connection, stream_id: UUID, *, private: bool = True) -> list[Fact]:
        """`private=False` leaves the sealed parts closed: decisions never need them, views do."""
        return [self.fact(e, private) for e in await self.store.load(conn, stream_id)]

    def fact(self, stored: StoredEvent, private: bool = True) -> Fact:
        event = CATALOG.parse(stored.event_type, stored.schema_version, stored.data)
        part = PRIVATE_PARTS.get(stored.event_type)
        if not private or part is None or stored.sealed is None:
            return Fact(event)
        return Fact(event, part.model_validate(self.sealer.open(stored.stream_id, stored.sealed)))

    async def append(
        self, conn: asyncpg.Connection, stream_id: UUID, version: int, facts: Sequence[Fact], meta: Metadata
    ) -> None:
        new = [
            NewEvent(f.event, None if f.private is None else self.sealer.seal(stream_id, f.private.model_dump()))
            for f in facts
        ]
        await self.store.append(conn, stream_id, version, new, meta)

    async def stream_ids(self, conn: asyncpg.Connection) -> list[UUID]:
        rows = await conn.fetch(
            "select stream_id from events where stream_type = $1 group by stream_id order by min(global_position)",
            self.store.stream_type,
        )
        return [r["stream_id"] for r in rows]


class PlanRepository:
    def __init__(self, sealer: Sealer) -> None:
        self.facts = FactStore("plan", sealer)

    async def load(self, conn: asyncpg.Connection, plan_id: UUID, *, lock: bool = False) -> Plan:
        """With `lock`, writers of one plan (commands, reactions, the clock) queue on its view row
        instead of colliding on the stream version; the version check stays the backstop."""
        if lock:
            await conn.execute("select 1 from plans_view where plan_id = $1 for update", plan_id)
        return plans.fold(await self.facts.load(conn, plan_id, private=False))

    async def save(self, conn: asyncpg.Connection, state: Plan, facts: list[Fact], meta: Metadata) -> Plan:
        if not facts:
            return state
        plan_id = facts[0].event.aggregate_id()
        await self.facts.append(conn, plan_id, state.version, facts, meta)
        after = reduce(plans.evolve, facts, state)
        await write_plan(conn, after)
        for fact in facts:
            await project(conn, fact)
        return after

    async def execute(
        self, conn: asyncpg.Connection, plan_id: UUID, command: PlanCommand, meta: Metadata
    ) -> tuple[Plan, list[Fact]]:
        """Load (locked), decide, save: the whole command in the caller's transaction."""
        state = await self.load(conn, plan_id, lock=True)
        facts = plans.decide(state, command)
        return await self.save(conn, state, facts, meta), facts


class SessionRepository:
    def __init__(self, sealer: Sealer) -> None:
        self.facts = FactStore("session", sealer)

    async def execute(self, conn: asyncpg.Connection, command: HoldSession, meta: Metadata) -> Session:
        state = sessions.fold(await self.facts.load(conn, command.session_id, private=False))
        facts = sessions.decide(state, command)
        await self.facts.append(conn, command.session_id, state.version, facts, meta)
        for fact in facts:
            await project(conn, fact)
        return reduce(sessions.evolve, facts, state)
