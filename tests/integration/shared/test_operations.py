"""What the operator's tools read and do, on real JetStream and PostgreSQL: the relay leader named
by pid and host, the outbox backlog, and a dead letter sent back to its consumer after a fix."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from kernel_support import (
    REGISTRY,
    SERVICE,
    Background,
    ThingsView,
    append_things,
    envelope,
    publish,
    view,
    wait_drained,
)
from nats.aio.client import Client
from nats.js import JetStreamContext

from genting import dlq
from shared.messaging import Envelope
from shared.outbox import OutboxRelay, outbox_backlog, relay_leader
from shared.projection import ProjectionRunner
from shared.testing import wait_until

pytestmark = pytest.mark.integration


@dataclass
class Counting:
    """A second consumer of the same stream, in memory: it must never see a retried event twice."""

    name: str = f"{SERVICE}-counting"
    stream: str = REGISTRY
    filter_subjects: Sequence[str] = ("genting.registry.thing.>",)
    tables: Sequence[str] = ()
    seen: list[tuple[UUID, int]] = field(default_factory=list)

    async def apply(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        self.seen.append((envelope.stream_id, envelope.stream_version))


def runner(pool: asyncpg.Pool, js: JetStreamContext, projection: Any) -> ProjectionRunner:
    return ProjectionRunner(pool, js, projection, service=SERVICE, max_deliver=2, fetch_timeout=0.5)


async def test_a_dead_letter_retried_after_the_fix_is_applied_once_by_its_consumer_only_and_leaves_the_list(
    pool: asyncpg.Pool, js: JetStreamContext, nc: Client
) -> None:
    good, bad = uuid4(), uuid4()
    things, counting = ThingsView(fail_on={(bad, 1)}), Counting()
    for env in (envelope(good, 1), envelope(bad, 1), envelope(good, 2)):
        await publish(js, env)

    async with Background() as bg:
        bg.start(runner(pool, js, things).run())
        bg.start(runner(pool, js, counting).run())
        await wait_drained(js, things)
        await wait_drained(js, counting)  # type: ignore[arg-type]

        [letter] = await dlq.letters(js, SERVICE)
        assert (letter.projection, letter.stream, letter.stream_seq) == (things.name, REGISTRY, 2)
        assert "projection failed 2 times" in letter.reason and "Boom" in letter.reason
        assert "ThingHappened" in dlq.table([letter])

        # Not fixed yet: the retry fails again and the letter stays.
        why = await dlq.retry(nc, js, SERVICE, letter)
        assert why is not None and why.startswith("failed again") and "Boom" in why
        assert [d.id for d in await dlq.letters(js, SERVICE)] == [letter.id]

        things.fail_on.clear()  # the fix
        assert await dlq.retry(nc, js, SERVICE, letter) is None
        assert await view(pool) == {good: [1, 2], bad: [1]}
        assert await dlq.letters(js, SERVICE) == []
        # The other consumer applied it once, when it first came, and never again.
        assert sorted(counting.seen, key=str) == sorted([(good, 1), (bad, 1), (good, 2)], key=str)

        # Sent once more (two operators at once): a harmless duplicate, nothing changes.
        assert await dlq.retry(nc, js, SERVICE, letter) is None
        assert await view(pool) == {good: [1, 2], bad: [1]}


async def test_a_retry_with_no_consumer_running_says_so_and_keeps_the_letter(
    pool: asyncpg.Pool, js: JetStreamContext, nc: Client
) -> None:
    bad = uuid4()
    things = ThingsView(fail_on={(bad, 1)})
    await publish(js, envelope(bad, 1))
    async with Background() as bg:
        bg.start(runner(pool, js, things).run())
        await wait_drained(js, things)
    [letter] = await dlq.letters(js, SERVICE)
    why = await dlq.retry(nc, js, SERVICE, letter)
    assert why is not None and "no kerneltest-things runner answers" in why
    assert len(await dlq.letters(js, SERVICE)) == 1


async def test_the_relay_leader_is_named_by_pid_and_host_and_the_backlog_drains(
    pool: asyncpg.Pool, js: JetStreamContext, database_url: str
) -> None:
    await append_things(pool, uuid4(), 0, count=3)
    async with pool.acquire() as conn:
        assert await relay_leader(conn, SERVICE) is None
        count, age = await outbox_backlog(conn)
        assert count == 3 and age >= 0

    relay = OutboxRelay(database_url, js, service=SERVICE, stream=REGISTRY, poll_seconds=0.2)
    async with Background() as bg:
        bg.start(relay.run())

        async def leader() -> str | None:
            async with pool.acquire() as conn:
                return await relay_leader(conn, SERVICE)

        assert await wait_until(leader, 10, message="a relay leads") == f"{os.getpid()}@{socket.gethostname()}"

        async def drained() -> bool:
            return (await outbox_backlog(pool))[0] == 0

        await wait_until(drained, 10, message="outbox drained")
    async with pool.acquire() as conn:
        assert await relay_leader(conn, SERVICE) is None  # the lock went with the relay's connection
