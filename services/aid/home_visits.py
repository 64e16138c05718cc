"""Home visits: the homevisit streams and their inline view, and the judging of each registry
GrowthMeasured against the no-weight-gain rule (README, Home visits)."""

from __future__ import annotations

from datetime import date
from functools import reduce
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from services.aid.domain import home_visit
from services.aid.domain.facts import Fact, VisitNote
from services.aid.domain.growth import Measurement, flags_due
from services.aid.domain.home_visit import FlagHomeVisit, HomeVisit, HomeVisitCommand
from services.aid.private import Sealer
from services.aid.repository import FactStore
from shared.contracts.aid import HomeVisitDone, HomeVisitFlagged
from shared.contracts.registry import GrowthMeasured
from shared.eventstore import Metadata

log = structlog.get_logger()


async def project_visit(conn: asyncpg.Connection, fact: Fact) -> None:
    """The home_visits_view row a fact adds or changes; idempotent (replays, retries)."""
    match fact.event:
        case HomeVisitFlagged() as e:
            await conn.execute(
                "insert into home_visits_view (flag_id, plan_id, family_id, kelurahan_code, member_id, flagged_on,"
                " since, weight_then_kg, weight_now_kg, status) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open')"
                " on conflict do nothing",
                e.flag_id,
                e.plan_id,
                e.family_id,
                e.kelurahan_code,
                e.member_id,
                e.flagged_on,
                e.since,
                e.weight_then_kg,
                e.weight_now_kg,
            )
        case HomeVisitDone() as e:
            note = fact.private if isinstance(fact.private, VisitNote) else None
            await conn.execute(
                "update home_visits_view set status = 'visited', visited_on = $2, note = $3, visited_by = $4"
                " where flag_id = $1",
                e.flag_id,
                e.visited_on,
                note.note if note else None,
                note.recorded_by if note else None,
            )
        case _:
            pass


class HomeVisitRepository:
    def __init__(self, sealer: Sealer) -> None:
        self.facts = FactStore("homevisit", sealer)

    async def load(self, conn: asyncpg.Connection, flag_id: UUID) -> HomeVisit:
        """Locked: the reaction and a visit's command queue on the view row."""
        await conn.execute("select 1 from home_visits_view where flag_id = $1 for update", flag_id)
        return home_visit.fold(await self.facts.load(conn, flag_id, private=False))

    async def save(self, conn: asyncpg.Connection, state: HomeVisit, facts: list[Fact], meta: Metadata) -> HomeVisit:
        if not facts:
            return state
        await self.facts.append(conn, facts[0].event.aggregate_id(), state.version, facts, meta)
        for fact in facts:
            await project_visit(conn, fact)
        return reduce(home_visit.evolve, facts, state)

    async def execute(
        self, conn: asyncpg.Connection, flag_id: UUID, command: HomeVisitCommand, meta: Metadata
    ) -> list[Fact]:
        state = await self.load(conn, flag_id)
        facts = home_visit.decide(state, command)
        await self.save(conn, state, facts, meta)
        return facts


class GrowthWatch:
    """Part of the registry reaction: keeps each child's weights and flags no gain."""

    def __init__(self, visits: HomeVisitRepository) -> None:
        self.visits = visits

    async def judge(
        self,
        conn: asyncpg.Connection,
        family: asyncpg.Record,
        measured: GrowthMeasured,
        stream_version: int,
        meta: Metadata,
    ) -> None:
        """`family` is aid's row of the family, locked by the caller: a plan opening in the
        funding reaction waits, so the plan id read here is the one that exists."""
        await conn.execute(
            "insert into aid_growth (measurement_id, family_id, member_id, measured_on, weight_kg, stream_version)"
            " values ($1, $2, $3, $4, $5, $6) on conflict do nothing",
            measured.measurement_id,
            measured.family_id,
            measured.member_id,
            measured.measured_on,
            measured.weight_kg,
            stream_version,
        )
        # Enrolment as the family's own stream told it before this measurement: a replay of that
        # stream judges exactly as the first pass did. A plan (any status) implies enrolment, and
        # the registry measures no child of an exited family.
        if family["enrolled_on"] is None:
            return
        history = [
            Measurement(r["measured_on"], r["weight_kg"])
            for r in await conn.fetch(
                "select measured_on, weight_kg from aid_growth where member_id = $1 order by stream_version",
                measured.member_id,
            )
        ]
        flagged: list[date] = [
            r["flagged_on"]
            for r in await conn.fetch(
                "select flagged_on from home_visits_view where member_id = $1", measured.member_id
            )
        ]
        due = flags_due(history, Measurement(measured.measured_on, measured.weight_kg), flagged)
        if not due:
            return
        plan_id = await conn.fetchval("select plan_id from plans_view where family_id = $1", measured.family_id)
        for no_gain in due:
            command = FlagHomeVisit(
                plan_id=plan_id,
                family_id=measured.family_id,
                kelurahan_code=measured.kelurahan_code,
                member_id=measured.member_id,
                no_gain=no_gain,
            )
            if await self.visits.execute(conn, command.flag_id, command, meta):
                log.info("home_visit_flagged", flag_id=str(command.flag_id), flagged_on=str(no_gain.flagged_on))


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def visit_body(r: asyncpg.Record) -> dict[str, Any]:
    """Pseudonymous: ids, the kelurahan, days and weights; the note only for the staff who may list it."""
    return {
        "flag_id": str(r["flag_id"]),
        "plan_id": str(r["plan_id"]) if r["plan_id"] else None,
        "family_id": str(r["family_id"]),
        "member_id": str(r["member_id"]),
        "kelurahan_code": r["kelurahan_code"],
        "flagged_on": _iso(r["flagged_on"]),
        "since": _iso(r["since"]),
        "weight_then_kg": r["weight_then_kg"],
        "weight_now_kg": r["weight_now_kg"],
        "status": r["status"],
        "visited_on": _iso(r["visited_on"]),
        "note": r["note"],
        "visited_by": r["visited_by"],
    }
