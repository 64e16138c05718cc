"""The event store on a real PostgreSQL: optimistic concurrency, and the outbox in the same transaction."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg
import pytest
from kernel_support import STORE, ThingHappened, append_things, thing_subject

from shared.errors import ConcurrencyConflict
from shared.eventstore import Metadata, NewEvent
from shared.messaging import Envelope
from shared.testing import wait_until

pytestmark = pytest.mark.integration


def things(thing_id: UUID, *notes: str) -> list[NewEvent]:
    return [NewEvent(ThingHappened(thing_id=thing_id, note=note)) for note in notes]


def meta() -> Metadata:
    return Metadata(occurred_at=datetime.now(UTC), correlation_id=uuid4())


async def written(pool: asyncpg.Pool) -> tuple[list[tuple[UUID, int]], list[UUID]]:
    """(stream_id, version) of every event, and the event id of every outbox row."""
    events = await pool.fetch("select stream_id, stream_version from events order by global_position")
    outbox = await pool.fetch("select event_id from outbox order by id")
    return [(r["stream_id"], r["stream_version"]) for r in events], [r["event_id"] for r in outbox]


async def test_a_stale_expected_version_is_refused_and_writes_nothing(pool: asyncpg.Pool) -> None:
    thing = uuid4()
    await append_things(pool, thing, 0, count=2)
    before = await written(pool)

    with pytest.raises(ConcurrencyConflict) as refused:
        async with pool.acquire() as conn, conn.transaction():
            await STORE.append(conn, thing, 1, things(thing, "late"), meta())

    assert refused.value.stream_id == thing and refused.value.expected_version == 1
    assert await written(pool) == before
    assert len(before[0]) == len(before[1]) == 2


async def test_an_expected_version_beyond_the_stream_is_refused(pool: asyncpg.Pool) -> None:
    thing, empty = uuid4(), uuid4()
    await append_things(pool, thing, 0, count=2)
    before = await written(pool)

    for stream, expected in [(thing, 3), (thing, 7), (empty, 1)]:
        with pytest.raises(ConcurrencyConflict):
            async with pool.acquire() as conn, conn.transaction():
                await STORE.append(conn, stream, expected, things(stream, "from the future"), meta())

    assert await written(pool) == before


async def test_of_two_interleaved_appends_at_one_version_the_second_is_refused(pool: asyncpg.Pool) -> None:
    """B checks the version while A's append is still uncommitted, so only the unique key can stop it."""
    thing = uuid4()
    first = await append_things(pool, thing, 0)
    async with pool.acquire() as a, pool.acquire() as b:
        tx_a = a.transaction()
        await tx_a.start()
        winner = await STORE.append(a, thing, 1, things(thing, "A"), meta())

        async def append_b() -> list[Envelope]:
            async with b.transaction():
                return await STORE.append(b, thing, 1, things(thing, "B"), meta())

        loser = asyncio.create_task(append_b())
        b_pid = b.get_server_pid()
        await wait_until(  # B passed the version check and now waits on A's row in the unique index
            lambda: pool.fetchval("select wait_event_type = 'Lock' from pg_stat_activity where pid = $1", b_pid),
            message="B blocked by A",
        )
        await tx_a.commit()
        with pytest.raises(ConcurrencyConflict):
            await loser

    rows = await pool.fetch("select event_id, data->>'note' as note from events where stream_version = 2")
    assert [(r["event_id"], r["note"]) for r in rows] == [(winner[0].event_id, "A")]
    assert (await written(pool))[1] == [first[0].event_id, winner[0].event_id]


async def test_of_many_concurrent_appends_at_one_version_exactly_one_wins(pool: asyncpg.Pool) -> None:
    thing = uuid4()

    async def attempt(n: int) -> list[Envelope]:
        async with pool.acquire() as conn, conn.transaction():
            return await STORE.append(conn, thing, 0, things(thing, f"writer {n}", "and a second"), meta())

    results = await asyncio.gather(*(attempt(n) for n in range(8)), return_exceptions=True)

    won = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, ConcurrencyConflict)]
    assert len(won) == 1 and len(refused) == 7, results
    events, outbox = await written(pool)
    assert events == [(thing, 1), (thing, 2)]
    assert outbox == [e.event_id for e in won[0]]


async def test_a_rolled_back_command_leaves_neither_events_nor_outbox_rows(pool: asyncpg.Pool) -> None:
    thing = uuid4()
    with pytest.raises(RuntimeError, match="handler failed after appending"):
        async with pool.acquire() as conn, conn.transaction():
            await STORE.append(conn, thing, 0, things(thing, "a", "b"), meta())
            raise RuntimeError("handler failed after appending")

    assert await written(pool) == ([], [])
    async with pool.acquire() as conn:
        assert await STORE.load(conn, thing) == []


async def test_outbox_rows_carry_exactly_the_appended_envelopes_in_order(pool: asyncpg.Pool) -> None:
    one, two = uuid4(), uuid4()
    appended = [
        *await append_things(pool, one, 0, count=2),
        *await append_things(pool, two, 0),
        *await append_things(pool, one, 2, count=3),
        *await append_things(pool, two, 1),
    ]

    rows = await pool.fetch("select event_id, subject, payload, published_at from outbox order by id")
    assert [Envelope.from_bytes(r["payload"]) for r in rows] == appended
    assert [r["event_id"] for r in rows] == [e.event_id for e in appended]
    assert [r["subject"] for r in rows] == [thing_subject(e.stream_id) for e in appended]
    assert all(r["published_at"] is None for r in rows)
    events, _ = await written(pool)
    assert [v for s, v in events if s == one] == [1, 2, 3, 4, 5]
    assert [v for s, v in events if s == two] == [1, 2]
    assert events == [(e.stream_id, e.stream_version) for e in appended]


async def test_load_returns_only_the_streams_events_in_version_order(pool: asyncpg.Pool) -> None:
    one, two = uuid4(), uuid4()
    mine: list[Envelope] = []
    for version in range(0, 6, 2):
        mine += await append_things(pool, one, version, count=2)
        await append_things(pool, two, version // 2)

    async with pool.acquire() as conn:
        loaded = await STORE.load(conn, one)
        assert await STORE.load(conn, uuid4()) == []

    assert [e.stream_version for e in loaded] == [1, 2, 3, 4, 5, 6]
    assert [e.envelope() for e in loaded] == mine
    assert {e.stream_id for e in loaded} == {one}
    assert [ThingHappened.model_validate(e.data).note for e in loaded] == [f"v{v}" for v in range(1, 7)]
