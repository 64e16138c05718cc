"""`genting replay aid`: rebuild the inline views from aid's event store, and make the policies
rebuild aid's knowledge of families by consuming registry and funding again from the start.
Rebuilds read models only: the schema is the service's start's (`shared.db.migrate`)."""

from __future__ import annotations

import asyncio
from functools import reduce
from typing import TypeVar, cast

import asyncpg
import nats
from nats.js import JetStreamContext

from services.aid.app import Repositories, repositories
from services.aid.policies import FundingPolicy, RegistryPolicy
from services.aid.settings import load_settings
from services.aid.views import VIEWS
from shared.db import create_pool
from shared.nats_setup import admin_url, inbox_prefix_for
from shared.projection import Projection
from shared.projection import rebuild as rebuild_projection
from shared.repository import Repository

S = TypeVar("S")


async def rebuild(pool: asyncpg.Pool, repos: Repositories) -> tuple[int, int, int]:
    """Truncate and refold every plan, session and home visit through their repositories' inline
    views, in one transaction: readers see the old model or the new one. Returns (plans, sessions,
    home visits)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"truncate {', '.join(VIEWS)}, grievances_view")
        counts = (
            await _refold(conn, repos.plans),
            await _refold(conn, repos.sessions),
            await _refold(conn, repos.visits),
        )
        await _refold(conn, repos.grievances)  # grievances_view too (its tracking codes stay beside it)
        return counts


async def _refold(conn: asyncpg.Connection, repo: Repository[S]) -> int:
    """Every stream of the repository, private parts open, through its inline views."""
    stream_ids = await repo.stream_ids(conn)
    for stream_id in stream_ids:
        facts = await repo.facts(conn, stream_id, await repo.store.load(conn, stream_id))
        state = reduce(repo.evolve, facts, repo.initial())
        for view in repo.views:
            await view(conn, state, facts, ())
    return len(stream_ids)


async def reset_policies(pool: asyncpg.Pool, js: JetStreamContext) -> None:
    """Forget aid_families, aid_growth and aid_sponsorships and both consumers' positions: the
    service (now, or at its next start) consumes registry and funding again from sequence 1. Plan
    ids derive from family ids and budgets follow the sponsorship total, and home visit ids from
    the child and the day, so the replayed policies find what they recorded and record nothing twice."""
    for policy in (RegistryPolicy, FundingPolicy):
        # Only the class-level name, stream and tables are read: no instance (and no clock) needed.
        await rebuild_projection(pool, js, cast(Projection, policy))


async def main() -> None:
    settings = load_settings()
    pool = await create_pool(settings.database_url)
    # The admin's connection: resetting a durable means deleting and creating it again.
    url = admin_url(settings.nats_url)
    nc = await nats.connect(url, name="genting-aid-replay", inbox_prefix=inbox_prefix_for(url))  # a one-off
    try:
        plan_count, session_count, visit_count = await rebuild(pool, repositories(settings))
        await reset_policies(pool, nc.jetstream())
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
