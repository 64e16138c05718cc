"""A projection runner through a PostgreSQL crash: the events that arrive while the database is
away are held, not nak'd until they are dead-lettered, and are applied once, in order, when it is
back. This module runs its own PostgreSQL (it SIGKILLs the postmaster), not the session's."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import asyncpg
import pytest
from kernel_support import SERVICE, Background, ThingsView, dead_letters, envelope, publish, view, wait_drained
from nats.js import JetStreamContext

from genting.embedded import EmbeddedPostgres
from shared.projection import ProjectionRunner
from shared.testing import postgres_crash
from shared.testing.postgres_crash import crash, restart

pytestmark = pytest.mark.integration

OUTAGE_SECONDS = 6.0  # naks at 0.25, 0.5, 1 s... would spend max_deliver=3 well within it


# The PostgreSQL this module crashes, and the one its services and pools use.
own_postgres = postgres_crash.own_postgres
pg_server_url = postgres_crash.own_postgres_url


async def test_events_arriving_while_the_database_is_away_are_held_then_applied_once_in_order(
    pool: asyncpg.Pool, js: JetStreamContext, own_postgres: EmbeddedPostgres
) -> None:
    thing, things = uuid4(), ThingsView()
    projector = ProjectionRunner(pool, js, things, service=SERVICE, fetch_timeout=0.5, max_deliver=3)
    await publish(js, envelope(thing, 1))
    async with Background() as bg:
        bg.start(projector.run())
        await wait_drained(js, things)

        crash(own_postgres)
        try:
            for version in (2, 3, 4):
                await publish(js, envelope(thing, version))
            await asyncio.sleep(OUTAGE_SECONDS)
            info = await js.consumer_info(things.stream, things.name)
            assert info.num_redelivered == 0, "held messages were sent again: their deliveries are being spent"
        finally:
            await restart(own_postgres)
        await wait_drained(js, things, timeout=60)

    assert await view(pool) == {thing: [1, 2, 3, 4]}
    assert projector.stats.dead_lettered == 0
    assert await dead_letters(js) == []
