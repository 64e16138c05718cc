"""The fixture ladder gives every test real, isolated servers."""

from __future__ import annotations

import asyncpg
import nats
import pytest

from genting.nats_accounts import SERVICES, dlq_stream, stream

pytestmark = pytest.mark.integration

seen_databases: list[str] = []


async def test_postgres_round_trips_a_row(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)")
        await conn.execute("INSERT INTO notes VALUES ($1, $2)", 1, "halo")
        assert await conn.fetchval("SELECT body FROM notes WHERE id = 1") == "halo"
    finally:
        await conn.close()


async def test_jetstream_acknowledges_a_publish(js_clean: str) -> None:
    nc = await nats.connect(js_clean)
    try:
        js = nc.jetstream()
        await js.add_stream(name="GENTING_FIXTURE", subjects=["genting.fixture.>"])
        ack = await js.publish("genting.fixture.x", b"{}", headers={"Nats-Msg-Id": "m-1"})
        assert (ack.stream, ack.seq) == ("GENTING_FIXTURE", 1)
    finally:
        await nc.close()


async def test_js_clean_removes_streams_left_by_an_earlier_test(js_clean: str) -> None:
    """Only the migration step's streams are there, and empty (genting/nats_topology.py)."""
    nc = await nats.connect(js_clean)
    try:
        infos = await nc.jetstream().streams_info()
        found = {info.config.name: info.state.messages for info in infos if info.config.name}
        genting = {name: n for name, n in found.items() if name.startswith("GENTING_")}
        assert "GENTING_FIXTURE" not in genting
        assert set(genting) == {s for c in SERVICES for s in (stream(c), dlq_stream(c))}
        assert not any(genting.values())
    finally:
        await nc.close()


@pytest.mark.parametrize("run", [1, 2])
async def test_each_test_gets_its_own_empty_database(database_url: str, run: int) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        name = await conn.fetchval("SELECT current_database()")
        tables = await conn.fetchval("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
    finally:
        await conn.close()
    assert tables == 0
    assert name not in seen_databases
    seen_databases.append(name)
