"""`genting republish`: a lost stream is rebuilt from the producer's event store (the system of
record), and consumers rebuilt from it hold the same read models; a second run publishes nothing,
judged by what the stream holds, not by the duplicate window."""

from __future__ import annotations

import json

import pytest
from nats.aio.client import Client
from recovery_support import erase, published, register, registry_settings, running_registry, table_rows

from genting import services as catalogue
from genting.recovery import event_ids_on, republish
from services.reporting.projections import PROJECTIONS
from services.reporting.replay import rebuild as rebuild_reporting
from shared.db import connect, create_pool, migrate
from shared.messaging import stream_name

pytestmark = pytest.mark.integration

REPORTING = [p for p in PROJECTIONS if p.name == "reporting-registry"]
REPORTING_TABLES = [t for p in REPORTING for t in p.tables]


async def test_a_deleted_stream_is_republished_and_a_replay_gives_the_same_read_models(
    database_url: str, other_database_url: str, js_clean: str, nc: Client
) -> None:
    async with running_registry(registry_settings(database_url, js_clean)) as registry:
        families = [(await register(registry, serial))[0] for serial in range(1, 5)]
        await erase(registry, families[0])
        await published(registry)

    js = nc.jetstream()
    await migrate(other_database_url, catalogue.migrations(catalogue.get("reporting")))
    reporting = await create_pool(other_database_url)
    conn = await connect(database_url)
    try:
        await rebuild_reporting(reporting, js, REPORTING)
        before = await table_rows(reporting, REPORTING_TABLES)
        assert len(before["families_view"]) == 4
        stored = await conn.fetchval("select count(*) from events")
        assert (await js.stream_info(stream_name("registry"))).state.messages == stored

        await js.delete_stream(stream_name("registry"))  # the stream is lost
        first = await republish(conn, js, "registry")
        assert (first.stored, first.present, first.published) == (stored, 0, stored)

        await rebuild_reporting(reporting, js, REPORTING)  # `genting replay reporting`
        assert await table_rows(reporting, REPORTING_TABLES) == before

        # Twice changes nothing: each event once on the stream, in the store's order.
        second = await republish(conn, js, "registry")
        assert (second.present, second.published) == (stored, 0)
        assert (await js.stream_info(stream_name("registry"))).state.messages == stored
        on_stream = await event_ids_on(js, "registry")
        assert on_stream == {r["event_id"] for r in await conn.fetch("select event_id from events")}
        first_msg = await js.get_msg(stream_name("registry"), 1)
        assert first_msg.data is not None
        assert json.loads(first_msg.data)["event_type"] == "FamilyRegistered"
    finally:
        await conn.close()
        await reporting.close()
