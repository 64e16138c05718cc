"""The outbox relay against a real PostgreSQL and nats-server: nothing lost, nothing doubled, in order."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from uuid import UUID, uuid4

import asyncpg
import pytest
from kernel_support import (
    REGISTRY,
    SERVICE,
    STORE,
    Background,
    ThingHappened,
    ThingsView,
    append_things,
    stream_messages,
    view,
    wait_drained,
)
from nats.js import JetStreamContext
from nats.js.api import PubAck

from genting.embedded import EmbeddedNats
from shared import outbox as outbox_module
from shared.eventstore import Metadata, NewEvent
from shared.messaging import MSG_ID_HEADER, Envelope
from shared.nats_setup import connect, ensure_stream, owned_stream_config
from shared.outbox import OutboxRelay, leader_lock_key
from shared.projection import ProjectionRunner
from shared.testing import free_port, wait_until

pytestmark = pytest.mark.integration

META = Metadata(datetime.now(UTC))


class RecordingJetStream:
    """The real JetStream context, keeping every PubAck it got (to see what JetStream reported)."""

    def __init__(self, js: JetStreamContext) -> None:
        self._js = js
        self.acks: list[PubAck] = []

    async def publish(self, *args: Any, **kwargs: Any) -> PubAck:
        ack = await self._js.publish(*args, **kwargs)
        self.acks.append(ack)
        return ack


def relay(database_url: str, js: JetStreamContext | RecordingJetStream, **kwargs: Any) -> OutboxRelay:
    return OutboxRelay(
        database_url, cast(JetStreamContext, js), service=SERVICE, stream=REGISTRY, poll_seconds=0.2, **kwargs
    )


async def all_published(pool: asyncpg.Pool) -> bool:
    return await OutboxRelay.pending(pool) == 0


async def commands(pool: asyncpg.Pool, streams: int, per_stream: int) -> list[Envelope]:
    """`per_stream` commands on each of `streams` new things, interleaved, one or two events each."""
    things = [uuid4() for _ in range(streams)]
    versions = dict.fromkeys(things, 0)
    appended: list[Envelope] = []
    for n in range(per_stream):
        for thing in things:
            count = 1 + (n + things.index(thing)) % 2
            appended += await append_things(pool, thing, versions[thing], count)
            versions[thing] += count
    return appended


async def relay_session(pool: asyncpg.Pool) -> int | None:
    """The backend pid holding the relay's leader lock: a new pid means the relay let go and came back."""
    pid: int | None = await pool.fetchval(
        "select pid from pg_locks where locktype = 'advisory' and granted and objid = $1::bigint::oid",
        leader_lock_key(SERVICE),
    )
    return pid


async def test_events_accepted_while_nats_is_down_reach_the_stream_exactly_once(
    pool: asyncpg.Pool, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox_module, "PUBLISH_TIMEOUT_SECONDS", 1.0)  # give up on a PubAck sooner
    store, port = tmp_path / "nats", free_port()
    server = EmbeddedNats(store, port)
    try:
        nc = await connect(server.url, "relay-outage-test")
        try:
            js = nc.jetstream()
            await ensure_stream(js, owned_stream_config("registry"))
            outbox = relay(database_url, js)
            async with Background() as bg:
                bg.start(outbox.run())
                before = await append_things(pool, uuid4(), 0, count=2)
                await wait_until(lambda: all_published(pool), message="published before the outage")
                session = await relay_session(pool)
                assert session is not None

                server.stop()
                await wait_until(lambda: not nc.is_connected, message="client saw NATS go")
                during = await commands(pool, streams=4, per_stream=3)  # every command commits
                assert await OutboxRelay.pending(pool) == len(during)

                async def relay_retried() -> bool:
                    return await relay_session(pool) not in (None, session)

                # The relay timed out on the PubAcks, let go, and leads again to retry the rows.
                await wait_until(relay_retried, timeout=15, message="relay retried")
                assert await OutboxRelay.pending(pool) == len(during)

                server = EmbeddedNats(store, port)  # same port and store: the stream survives
                await wait_until(lambda: all_published(pool), timeout=20, message="published after the outage")

            messages = await stream_messages(js, REGISTRY)
        finally:
            with contextlib.suppress(ConnectionError):
                await nc.close()
    finally:
        server.stop()

    sent = before + during
    assert sorted(m.msg_id or "" for m in messages) == sorted(str(e.event_id) for e in sent)
    assert [m.seq for m in messages] == list(range(1, len(sent) + 1))  # no copy stored
    by_id = {str(e.event_id): e for e in sent}
    assert all(Envelope.from_bytes(m.data) == by_id[m.msg_id or ""] for m in messages)
    assert await pool.fetchval("select count(*) from outbox where published_at is null") == 0


async def test_a_relay_killed_between_puback_and_mark_republishes_and_each_event_counts_once(
    pool: asyncpg.Pool, database_url: str, js: JetStreamContext
) -> None:
    appended = await commands(pool, streams=3, per_stream=2)
    outbox_ids = [r["id"] for r in await pool.fetch("select id from outbox order by id")]
    acked: list[int] = []

    async def killed(ids: list[int]) -> None:
        acked.extend(ids)
        raise asyncio.CancelledError  # the process dies after the PubAcks, before the UPDATE

    async with Background() as bg:
        first = bg.start(relay(database_url, js, after_publish=killed).run())
        await wait_until(first.done, message="first relay killed")
        assert first.cancelled()
        assert acked == outbox_ids
        assert await OutboxRelay.pending(pool) == len(appended)  # nothing marked
        assert len(await stream_messages(js, REGISTRY)) == len(appended)

        spy = RecordingJetStream(js)
        bg.start(relay(database_url, spy).run())
        await wait_until(lambda: all_published(pool), message="fresh relay marked the rows")

        assert len(spy.acks) == len(appended)
        assert all(ack.duplicate for ack in spy.acks), spy.acks  # JetStream dropped every copy
        messages = await stream_messages(js, REGISTRY)
        assert [Envelope.from_bytes(m.data) for m in messages] == appended

        things = ThingsView()
        runner = ProjectionRunner(pool, js, things, service=SERVICE)
        bg.start(runner.run())
        await wait_drained(js, things)

    assert await view(pool) == expected_view(appended)
    assert runner.stats.applied == len(appended) and runner.stats.duplicates == 0


def expected_view(appended: list[Envelope]) -> dict[UUID, list[int]]:
    versions: dict[UUID, list[int]] = defaultdict(list)
    for e in appended:
        versions[e.stream_id].append(e.stream_version)
    return dict(versions)


async def test_an_event_republished_after_the_duplicate_window_is_stored_twice_but_applied_once(
    pool: asyncpg.Pool, database_url: str, js: JetStreamContext
) -> None:
    appended = await commands(pool, streams=2, per_stream=2)
    things = ThingsView()
    async with Background() as bg:
        bg.start(relay(database_url, js).run())
        await wait_until(lambda: all_published(pool))
        runner = ProjectionRunner(pool, js, things, service=SERVICE)
        bg.start(runner.run())
        await wait_drained(js, things)
        assert await view(pool) == expected_view(appended)

        # Past the window JetStream no longer knows the Nats-Msg-Id: a republish is stored again.
        rows = await pool.fetch("select event_id, subject, payload from outbox order by id")
        for row in rows[:3]:
            ack = await js.publish(
                row["subject"], row["payload"], stream=REGISTRY, headers={MSG_ID_HEADER: f"{row['event_id']}:late"}
            )
            assert not ack.duplicate
        assert len(await stream_messages(js, REGISTRY)) == len(appended) + 3
        await wait_drained(js, things)

    assert await view(pool) == expected_view(appended)
    assert runner.stats.duplicates == 3


async def test_of_two_relays_exactly_one_leads_and_it_publishes_in_outbox_order(
    pool: asyncpg.Pool, database_url: str, js: JetStreamContext
) -> None:
    a, b = relay(database_url, js, batch=7), relay(database_url, js, batch=7)
    appended: list[Envelope] = []
    async with Background() as bg:
        tasks = {id(a): bg.start(a.run()), id(b): bg.start(b.run())}
        await wait_until(lambda: a.is_leader or b.is_leader, message="a leader")
        leader, standby = (a, b) if a.is_leader else (b, a)

        async def published_with_one_leader() -> bool:
            assert (a.is_leader, b.is_leader) == (leader is a, leader is b), "leadership moved or was shared"
            return await all_published(pool)

        for _ in range(3):
            appended += await commands(pool, streams=3, per_stream=4)
            await wait_until(published_with_one_leader, message="leader published the round")
        assert (leader.published, standby.published) == (len(appended), 0)

        await bg.stop(tasks[id(leader)])  # the leader's process ends: its lock goes with its session
        await wait_until(lambda: standby.is_leader, message="standby took over")
        later = await commands(pool, streams=2, per_stream=3)
        await wait_until(lambda: all_published(pool), message="new leader published")
        assert standby.published == len(later)
        appended += later

    messages = await stream_messages(js, REGISTRY)
    published = [Envelope.from_bytes(m.data) for m in messages]
    outbox = [r["event_id"] for r in await pool.fetch("select event_id from outbox order by id")]
    assert [e.event_id for e in published] == outbox == [e.event_id for e in appended]
    by_stream: dict[UUID, list[int]] = defaultdict(list)
    for e in published:
        by_stream[e.stream_id].append(e.stream_version)
    assert all(versions == list(range(1, len(versions) + 1)) for versions in by_stream.values())


async def test_a_commit_wakes_the_relay_only_when_it_appended_events(pool: asyncpg.Pool, database_url: str) -> None:
    """The relay listens for `outbox` notifications: a commit with events sends one (the relay
    publishes at once, not at its next poll); one without events, or a rollback, sends none."""
    woken: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(database_url)
    try:
        await listener.add_listener("outbox", lambda *args: woken.put_nowait(args[2]))

        async def notified() -> bool:
            try:
                await asyncio.wait_for(woken.get(), timeout=0.5)
            except TimeoutError:
                return False
            return True

        async with outbox_module.committing(pool) as conn:
            await conn.fetchval("select 1")  # a projection batch that appended nothing
        assert not await notified()

        with contextlib.suppress(RuntimeError):
            async with outbox_module.committing(pool) as conn:
                await STORE.append(conn, uuid4(), 0, [NewEvent(ThingHappened(thing_id=uuid4(), note="x"))], META)
                raise RuntimeError("refused after the append: rolled back")
        assert not await notified()

        thing = uuid4()
        async with outbox_module.committing(pool) as conn:
            await STORE.append(conn, thing, 0, [NewEvent(ThingHappened(thing_id=thing, note="v1"))], META)
        assert await notified()
    finally:
        await listener.close()
