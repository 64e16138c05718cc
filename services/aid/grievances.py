"""Aid's grievances: filing, answering, the SLA clock step, and the reads. Each command runs in the
caller's transaction: load the grievance, decide (domain/grievance.py), append with its inline view.

Visibility: the tracking code (a random bearer secret, never on the bus) shows only the status and
dates; the description, contact and resolution (sealed private parts) only to admin and the staff
of the grievance's kelurahan.
"""

from __future__ import annotations

import secrets
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from fastapi import FastAPI

from services.aid.domain.grievance import (
    EscalateGrievance,
    FileGrievance,
    Grievance,
    ResolveGrievance,
    decide,
)
from services.aid.grievance_keys import GrievanceCipher
from services.aid.schedule import recorded_through
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, NotFound
from shared.eventstore import Metadata
from shared.messaging import Envelope
from shared.outbox import committing
from shared.periodic import every
from shared.reads import json_row, page
from shared.repository import Fact, Repository

log = structlog.get_logger()

TRACKING_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read over the phone


def tracking_code() -> str:
    """12 characters from 31 (about 59 bits): not guessable, short enough to write on paper."""
    text = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(12))
    return f"{text[:4]}-{text[4:8]}-{text[8:]}"


async def grievance_view(conn: asyncpg.Connection, g: Grievance, _: Sequence[Fact], __: Sequence[Envelope]) -> None:
    await conn.execute(
        "insert into grievances_view (grievance_id, kelurahan_code, category, status, family_id, plan_id,"
        " filed_on, due_on, escalated_on, resolved_on, version) values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"
        " on conflict (grievance_id) do update set status = excluded.status, escalated_on = excluded.escalated_on,"
        " resolved_on = excluded.resolved_on, version = excluded.version",
        g.grievance_id,
        g.kelurahan_code,
        g.category,
        g.status,
        g.family_id,
        g.plan_id,
        g.filed_on,
        g.due_on,
        g.escalated_on,
        g.resolved_on,
        g.version,
    )


@dataclass
class Grievances:
    repository: Repository[Grievance]
    sla_days: int
    programme_start: date

    async def file(
        self, conn: asyncpg.Connection, cmd: FileGrievance, code: str, meta: Metadata
    ) -> tuple[Grievance, str]:
        """The family (if named) is recorded before the first event is sealed, under its key."""
        plan_id = None
        if cmd.family_id is not None and cmd.category == "missed_delivery":
            # The family's plan with a recorded gap, if any: the grievance is linked to it.
            plan_id = await conn.fetchval(
                "select plan_id from plans_view where family_id = $1 and jsonb_array_length(gaps) > 0"
                " order by start_date desc limit 1",
                cmd.family_id,
            )
        cmd = FileGrievance(**{**cmd.__dict__, "plan_id": plan_id})
        await conn.execute(
            "insert into grievance_tracking (tracking_code, grievance_id, family_id) values ($1, $2, $3)",
            code,
            cmd.grievance_id,
            cmd.family_id,
        )
        after, _ = await self.repository.execute(conn, cmd.grievance_id, lambda g: decide(g, cmd), meta)
        return after.state, code

    async def resolve(
        self, conn: asyncpg.Connection, cmd: ResolveGrievance, actor: Principal, meta: Metadata
    ) -> Grievance:
        """The lurah of the grievance's kelurahan, or admin: the role is asked before anything is
        looked up, so another caller learns nothing about the grievance (not even that it exists)."""
        actor.require("admin", "lurah")
        loaded = await self.repository.load(conn, cmd.grievance_id, private=False, lock=True)
        if loaded.state.grievance_id is None:
            raise NotFound(f"Grievance {cmd.grievance_id} is not filed.")
        assert loaded.state.kelurahan_code is not None
        if not (actor.role == "admin" or (actor.role == "lurah" and actor.kelurahan == loaded.state.kelurahan_code)):
            raise Forbidden("only the lurah of the grievance's kelurahan, or admin, answers it")
        after = await self.repository.save(conn, loaded, decide(loaded.state, cmd), meta)
        return after.state

    async def erase(self, conn: asyncpg.Connection, grievance_id: UUID, actor: Principal) -> None:
        """Erase the personal data of a grievance naming no family (one naming a family is erased
        with the family, by the registry). Status, dates and category stay: the counts do not move.
        Admin only, asked before the grievance is looked up."""
        actor.require("admin")
        found = await conn.fetchrow(
            "select family_id from grievance_tracking where grievance_id = $1 for update", grievance_id
        )
        if found is None:
            raise NotFound(f"Grievance {grievance_id} is not filed.")
        if found["family_id"] is not None:
            raise Conflict(
                "This grievance names a family: its texts are sealed under the family's key, "
                "erased with the family's personal data in the registry."
            )
        cipher = self.repository.cipher
        assert isinstance(cipher, GrievanceCipher)
        await cipher.erase(conn, grievance_id)

    async def escalate_due(self, pool: asyncpg.Pool, today: date) -> int:
        """The clock step: every grievance still open after its due day is escalated, as it would
        have been on the day after (late entry holds). Bound by the records, as plan endings are:
        only once aid's records (grievances among them) have reached past the due day."""
        through = await _records_through(pool)
        if through is None:
            return 0
        due = await pool.fetch(
            "select grievance_id, due_on from grievances_view where status = 'open' and due_on < $1 order by due_on",
            min(today, through),
        )
        for row in due:
            meta = Metadata.of_clock()
            command = EscalateGrievance(row["grievance_id"], row["due_on"] + timedelta(days=1))
            async with committing(pool) as conn:
                await self.repository.execute(conn, row["grievance_id"], partial(_decide, command=command), meta)
            log.info("grievance_escalated", grievance_id=str(row["grievance_id"]))
        return len(due)


def _decide(state: Grievance, command: EscalateGrievance) -> list[Fact]:
    return decide(state, command)


async def _records_through(db: asyncpg.Pool) -> date | None:
    async with db.acquire() as conn:
        others = await recorded_through(conn)
        own: date | None = await conn.fetchval("select greatest(max(filed_on), max(resolved_on)) from grievances_view")
    found = [d for d in (others, own) if d is not None]
    return max(found) if found else None


# -- reads ------------------------------------------------------------------------------------

_COLUMNS = (
    "grievance_id, kelurahan_code, category, status, family_id, plan_id, filed_on, due_on, escalated_on, resolved_on"
)


async def track(db: asyncpg.Pool, code: str) -> dict[str, Any] | None:
    row = await db.fetchrow(
        "select g.status, g.filed_on, g.due_on, g.resolved_on from grievance_tracking t"
        " join grievances_view g using (grievance_id) where t.tracking_code = $1",
        code,
    )
    return None if row is None else json_row(row)


async def listing(
    db: asyncpg.Pool,
    repository: Repository[Grievance],
    kelurahan_code: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    found = await page(
        db,
        "grievances_view",
        {"kelurahan_code = $": kelurahan_code, "status = $": status},
        order_by="filed_on desc, grievance_id",
        limit=limit,
        offset=offset,
        columns=_COLUMNS,
    )
    items = []
    async with db.acquire() as conn:
        for row in found.rows:
            item = json_row(row)
            item.update(await _texts(conn, repository, row["grievance_id"]))
            items.append(item)
    return found.answer(items)


async def _texts(conn: asyncpg.Connection, repository: Repository[Grievance], grievance_id: UUID) -> dict[str, Any]:
    """The sealed texts, opened (None once the family's personal data is erased)."""
    texts: dict[str, Any] = {"description": None, "contact": None, "resolution": None}
    stored = await repository.store.load(conn, grievance_id)
    for fact in await repository.facts(conn, grievance_id, stored, private=True):
        if fact.private is not None:
            texts.update({k: v for k, v in fact.private.model_dump().items() if k in texts})
    return texts


async def run_step(app: FastAPI) -> int:
    """The escalation step with the app's own clock (tests call this directly)."""
    service: Grievances = app.state.grievances
    return await service.escalate_due(app.state.pool, app.state.clock())


def grievance_clock_tasks(app: FastAPI) -> list[Coroutine[Any, Any, None]]:
    return [every(app.state.settings.clock_interval_seconds, lambda: run_step(app), name="grievance_clock")]
