"""`genting replay aid`: rebuild the inline views from aid's event store, and make the reactions
rebuild aid's knowledge of families by consuming registry and funding again from the start."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import cast

import asyncpg
import nats
from nats.js import JetStreamContext

from services.aid.domain import plan as plans
from services.aid.home_visits import project_visit
from services.aid.private import Sealer
from services.aid.reactions import FundingReactions, RegistryReactions
from services.aid.read_model import VIEWS, project, write_plan
from services.aid.repository import FactStore
from services.aid.settings import load_settings
from shared.db import create_pool, migrate
from shared.projection import Projection
from shared.projection import rebuild as rebuild_projection

MIGRATIONS = Path(__file__).parent / "migrations"


async def rebuild(pool: asyncpg.Pool, sealer: Sealer) -> tuple[int, int, int]:
    """Truncate and refold every plan, session and home visit, in one transaction: readers see
    the old model or the new one. Returns (plans, sessions, home visits)."""
    plan_store, session_store = FactStore("plan", sealer), FactStore("session", sealer)
    visit_store = FactStore("homevisit", sealer)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"truncate {', '.join(VIEWS)}")
        plan_ids = await plan_store.stream_ids(conn)
        for plan_id in plan_ids:
            facts = await plan_store.load(conn, plan_id)
            for fact in facts:
                await project(conn, fact)
            await write_plan(conn, plans.fold(facts))
        session_ids = await session_store.stream_ids(conn)
        for session_id in session_ids:
            for fact in await session_store.load(conn, session_id):
                await project(conn, fact)
        visit_ids = await visit_store.stream_ids(conn)
        for flag_id in visit_ids:
            for fact in await visit_store.load(conn, flag_id):
                await project_visit(conn, fact)
    return len(plan_ids), len(session_ids), len(visit_ids)


async def reset_reactions(pool: asyncpg.Pool, js: JetStreamContext) -> None:
    """Forget aid_families, aid_growth and aid_sponsorships and both consumers' positions: the
    service (now, or at its next start) consumes registry and funding again from sequence 1. Plan
    ids derive from family ids and budgets follow the sponsorship total, and home visit ids from
    the child and the day, so the replayed reactions find what they recorded and record nothing twice."""
    for reactions in (RegistryReactions, FundingReactions):
        # Only the class-level name, stream and tables are read: no instance (and no clock) needed.
        await rebuild_projection(pool, js, cast(Projection, reactions))


async def main() -> None:
    settings = load_settings()
    await migrate(settings.database_url, MIGRATIONS)
    pool = await create_pool(settings.database_url)
    nc = await nats.connect(settings.nats_url, name="genting-aid-replay")  # a one-off: no reconnect logging
    try:
        plan_count, session_count, visit_count = await rebuild(pool, Sealer(settings.data_key_bytes()))
        await reset_reactions(pool, nc.jetstream())
    finally:
        await nc.close()
        await pool.close()
    print(
        f"aid: views rebuilt from the event store ({plan_count} plans, {session_count} sessions,"
        f" {visit_count} home visits);"
        " registry and funding are consumed again from the start to rebuild aid's families"
    )


if __name__ == "__main__":
    asyncio.run(main())
