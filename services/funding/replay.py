"""`genting replay funding`: rebuild the read model (donors, contributions, sponsorships views) from
funding's own event store, and the donors' families view (family_aid.py) from aid's stream. What the
policies learned (families, plans, deliveries paid) is decision input from other services and is
left alone: replaying never pays or releases anything again.
The schema is the app's startup's business (shared.db.migrate), not this module's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import UUID

import asyncpg
from nats.js import JetStreamContext

from services.funding import family_aid, views
from services.funding.app import repositories
from services.funding.policies import AidPolicy
from services.funding.settings import FundingSettings
from shared.contracts import aid
from shared.db import create_pool
from shared.messaging import Envelope
from shared.nats_setup import admin_jetstream
from shared.stream_reader import last_sequence, read_through

FETCH = 1000
FAMILY_AID_TABLES = ("family_aid_deliveries", "family_aid_plans")
FAMILY_AID_EVENTS = frozenset(
    {"AidPlanOpened", "AidDelivered", "DeliveryConfirmed", "AidPlanCompleted", "AidPlanClosed"}
)


async def rebuild(pool: asyncpg.Pool, js: JetStreamContext | None = None) -> int:
    """Truncate and re-project every event in one transaction: readers see the old or the new model.

    Donor streams first, then sponsorship streams: each stream in version order, and the
    projection is additive per stream, so this equals the live model however commits interleaved.
    With `js`, the donors' families view is rebuilt from aid's stream in the same transaction.
    """
    async with pool.acquire() as conn, conn.transaction():
        count = await views.rebuild(conn, repositories())
        if js is not None:
            await rebuild_family_aid(conn, js)
        return count


async def rebuild_family_aid(conn: asyncpg.Connection, js: JetStreamContext) -> int:
    """Empty family_aid_plans and family_aid_deliveries and record aid's plan facts again, each plan
    stream in version order (as the live `funding-aid` consumer's version gate applies them), a
    redelivered duplicate once. Returns the number of events recorded."""
    latest: dict[tuple[UUID, int], Envelope] = {}
    async for env in _aid_plan_envelopes(js):
        if env.event_type in FAMILY_AID_EVENTS:
            latest[(env.stream_id, env.stream_version)] = env
    for table in FAMILY_AID_TABLES:
        await conn.execute(f"delete from {table}")  # not truncate: readers keep the old rows until commit
    ordered = sorted(latest.values(), key=lambda e: (str(e.stream_id), e.stream_version))
    for env in ordered:
        await family_aid.record(conn, aid.CATALOG.parse(env.event_type, env.schema_version, env.data))
    return len(ordered)


async def _aid_plan_envelopes(js: JetStreamContext) -> AsyncIterator[Envelope]:
    """Every plan fact on aid's stream now, read once by an ephemeral pull consumer without acks."""
    stream = AidPolicy.stream
    last_seq = await last_sequence(js, stream)  # 0: aid has never published, no plans to show
    async for msg in read_through(js, stream, AidPolicy.filter_subjects[:1], last_seq, fetch=FETCH):
        yield Envelope.from_bytes(msg.data)


async def main() -> None:
    settings = FundingSettings.from_env()
    pool = await create_pool(settings.database_url)
    try:  # the rebuild reads aid's stream through a consumer of its own
        async with admin_jetstream(settings.nats_url, "genting-funding-replay") as js:
            count = await rebuild(pool, js)
    finally:
        await pool.close()
    print(f"funding: read model rebuilt from the event store ({count} events) and the families view from aid's")


if __name__ == "__main__":
    asyncio.run(main())
