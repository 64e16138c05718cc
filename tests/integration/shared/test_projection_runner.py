"""The projection runner on real JetStream and PostgreSQL: each event applied once, in version order."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from kernel_support import (
    DLQ,
    REGISTRY,
    SERVICE,
    Background,
    ThingsView,
    dead_letters,
    envelope,
    publish,
    run_until_drained,
    stream_messages,
    thing_subject,
    view,
    wait_drained,
)
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from shared.messaging import MSG_ID_HEADER, dlq_subject
from shared.nats_setup import ensure_stream, owned_stream_config
from shared.projection import Outcome, ProjectionRunner, gate, rebuild
from shared.testing import wait_until

pytestmark = pytest.mark.integration


def runner(pool: asyncpg.Pool, js: JetStreamContext, things: ThingsView, **kwargs: Any) -> ProjectionRunner:
    kwargs.setdefault("fetch_timeout", 0.5)
    return ProjectionRunner(pool, js, things, service=SERVICE, **kwargs)


async def applied(pool: asyncpg.Pool, expected: dict[UUID, list[int]]) -> bool:
    return await view(pool) == expected


class TestRedelivery:
    async def test_a_delivery_already_applied_that_comes_back_is_not_applied_again(
        self, pool: asyncpg.Pool, js: JetStreamContext
    ) -> None:
        """A replica commits the apply but its ack never arrives: the message is delivered again."""
        thing, things = uuid4(), ThingsView()
        projector = runner(pool, js, things)
        await projector.setup()
        await publish(js, envelope(thing, 1))

        replica = await js.pull_subscribe_bind(durable=things.name, stream=REGISTRY)
        [msg] = await replica.fetch(1, timeout=5)
        async with pool.acquire() as conn, conn.transaction():
            assert await gate(conn, things.name, [(thing, 1)]) == [Outcome.APPLY]
            await things.apply(conn, envelope(thing, 1))
        await msg.nak()  # the ack is lost: JetStream hands the message out again

        await run_until_drained(projector, js, things)

        assert await view(pool) == {thing: [1]}
        assert (projector.stats.applied, projector.stats.duplicates) == (0, 1)

    async def test_an_event_that_failed_once_comes_back_and_is_applied_once_in_order(
        self, pool: asyncpg.Pool, js: JetStreamContext
    ) -> None:
        thing, other = uuid4(), uuid4()
        things = ThingsView(fail_on={(thing, 2)}, fail_times=1)
        for version in (1, 2, 3):
            await publish(js, envelope(thing, version))
        await publish(js, envelope(other, 1))

        async with Background() as bg:
            bg.start(runner(pool, js, things).run())
            await wait_drained(js, things)

        assert things.failures == 1
        assert await view(pool) == {thing: [1, 2, 3], other: [1]}


class TestDuplicates:
    async def test_one_event_published_twice_in_one_batch_is_applied_once(
        self, pool: asyncpg.Pool, js: JetStreamContext
    ) -> None:
        thing, things = uuid4(), ThingsView()
        first, second = envelope(thing, 1), envelope(thing, 2)
        for env, msg_id in [(first, None), (second, None), (first, "again"), (second, "and again")]:
            await publish(js, env, msg_id=msg_id and f"{env.event_id}:{msg_id}")
        projector = runner(pool, js, things)

        await run_until_drained(projector, js, things)

        assert await view(pool) == {thing: [1, 2]}
        assert (projector.stats.applied, projector.stats.duplicates) == (2, 2)

    async def test_one_event_published_again_later_is_applied_once(
        self, pool: asyncpg.Pool, js: JetStreamContext
    ) -> None:
        thing, things = uuid4(), ThingsView()
        first = envelope(thing, 1)
        await publish(js, first)
        projector = runner(pool, js, things)

        async with Background() as bg:
            bg.start(projector.run())
            await wait_drained(js, things)
            await publish(js, first, msg_id=f"{first.event_id}:republished")
            await publish(js, envelope(thing, 2))
            await wait_drained(js, things)

        assert await view(pool) == {thing: [1, 2]}
        assert (projector.stats.applied, projector.stats.duplicates) == (2, 1)


class TestOrder:
    async def test_versions_arriving_out_of_order_in_one_batch_are_applied_in_version_order(
        self, pool: asyncpg.Pool, js: JetStreamContext
    ) -> None:
        one, two = uuid4(), uuid4()
        for thing, version in [(one, 2), (two, 3), (one, 1), (two, 1), (two, 2)]:
            await publish(js, envelope(thing, version))
        things = ThingsView()
        projector = runner(pool, js, things)

        await run_until_drained(projector, js, things)

        assert await view(pool) == {one: [1, 2], two: [1, 2, 3]}
        assert projector.stats.gaps == 0  # settled within the batch, no redelivery needed

    async def test_versions_arriving_out_of_order_across_batches_are_applied_in_version_order(
        self, pool: asyncpg.Pool, js: JetStreamContext
    ) -> None:
        thing = uuid4()
        for version in (3, 1, 2):
            await publish(js, envelope(thing, version))
        things = ThingsView()
        projector = runner(pool, js, things, batch=1)

        await run_until_drained(projector, js, things)

        assert await view(pool) == {thing: [1, 2, 3]}
        assert projector.stats.gaps >= 1 and projector.stats.applied == 3

    async def test_an_earlier_version_published_after_a_later_one_is_applied_first(
        self, pool: asyncpg.Pool, js: JetStreamContext
    ) -> None:
        thing, things = uuid4(), ThingsView()
        projector = runner(pool, js, things)

        async with Background() as bg:
            bg.start(projector.run())
            await publish(js, envelope(thing, 2))
            await wait_until(lambda: projector.stats.gaps >= 1, message="v2 held back as a gap")
            assert await view(pool) == {}
            await publish(js, envelope(thing, 1))
            await wait_drained(js, things)

        assert await view(pool) == {thing: [1, 2]}


async def waiting_behind_the_first(pool: asyncpg.Pool, *, commit: bool) -> tuple[UUID, list[Outcome]]:
    """Transaction A gates version 1 of a stream and holds it; B gates the same version and waits
    on A's row lock; A then commits (or rolls back). Returns the stream and what B's gate decided."""
    thing = uuid4()
    async with pool.acquire() as a, pool.acquire() as b:
        tx_a = a.transaction()
        await tx_a.start()
        assert await gate(a, "p", [(thing, 1)]) == [Outcome.APPLY]

        async def in_b() -> list[Outcome]:
            async with b.transaction():
                return await gate(b, "p", [(thing, 1)])

        second = asyncio.create_task(in_b())
        b_pid = b.get_server_pid()
        await wait_until(
            lambda: pool.fetchval("select wait_event_type = 'Lock' from pg_stat_activity where pid = $1", b_pid),
            message="B waits for A",
        )
        await (tx_a.commit() if commit else tx_a.rollback())
        return thing, await second


class TestGate:
    async def test_of_two_concurrent_transactions_on_one_version_exactly_one_applies(self, pool: asyncpg.Pool) -> None:
        thing, second = await waiting_behind_the_first(pool, commit=True)
        assert second == [Outcome.DUPLICATE]

        assert await pool.fetchval("select version from projection_versions where stream_id = $1", thing) == 1

    async def test_when_the_applying_transaction_rolls_back_the_waiting_one_applies(self, pool: asyncpg.Pool) -> None:
        _, second = await waiting_behind_the_first(pool, commit=False)
        assert second == [Outcome.APPLY]

    async def test_of_many_racing_transactions_exactly_one_applies_each_version(self, pool: asyncpg.Pool) -> None:
        one, two = uuid4(), uuid4()
        batch = [(two, 2), (one, 1), (two, 1), (one, 2), (one, 3)]

        async def attempt() -> list[Outcome]:
            async with pool.acquire() as conn, conn.transaction():
                return await gate(conn, "p", batch)

        results = await asyncio.gather(*(attempt() for _ in range(6)))

        assert sorted(results, key=lambda r: r[0].value) == [
            [Outcome.APPLY] * 5,
            *[[Outcome.DUPLICATE] * 5] * 5,
        ]

    async def test_a_version_repeated_within_one_batch_is_applied_once(self, pool: asyncpg.Pool) -> None:
        thing = uuid4()
        async with pool.acquire() as conn, conn.transaction():
            outcomes = await gate(conn, "p", [(thing, 2), (thing, 1), (thing, 2), (thing, 1), (thing, 4)])
        assert outcomes == [Outcome.APPLY, Outcome.APPLY, Outcome.DUPLICATE, Outcome.DUPLICATE, Outcome.GAP]


class TestDeadLetters:
    async def test_an_event_the_projection_always_fails_on_is_dead_lettered_and_the_rest_applied(
        self, pool: asyncpg.Pool, js: JetStreamContext
    ) -> None:
        good, bad, later = uuid4(), uuid4(), uuid4()
        things = ThingsView(fail_on={(bad, 1)})
        poison = envelope(bad, 1)
        for env in [envelope(good, 1), poison, envelope(later, 1), envelope(good, 2), envelope(later, 2)]:
            await publish(js, env)
        projector = runner(pool, js, things, max_deliver=3)

        async with Background() as bg:
            bg.start(projector.run())
            await wait_drained(js, things)  # the poison event too: dead-lettered, then terminated

        [letter] = await dead_letters(js)
        assert await view(pool) == {good: [1, 2], later: [1, 2]}
        assert things.failures >= 3  # at least once per delivery, max_deliver=3
        assert letter["num_delivered"] == 3
        assert "projection failed 3 times" in letter["reason"] and "Boom" in letter["reason"]
        assert letter["payload"] == poison.to_bytes().decode()
        assert (letter["subject"], letter["stream_seq"], letter["projection"]) == (thing_subject(bad), 2, things.name)
        [stored] = await stream_messages(js, DLQ)
        assert stored.subject == dlq_subject(SERVICE)

    async def test_a_message_that_is_not_an_envelope_is_dead_lettered_at_once(
        self, pool: asyncpg.Pool, js: JetStreamContext
    ) -> None:
        thing, things = uuid4(), ThingsView()
        bodies = [b"this is not json", json.dumps({"event_id": "nope"}).encode()]
        await publish(js, envelope(thing, 1))
        for n, body in enumerate(bodies):
            await js.publish(thing_subject(thing), body, stream=REGISTRY, headers={MSG_ID_HEADER: f"poison-{n}"})
        await publish(js, envelope(thing, 2))
        projector = runner(pool, js, things, max_deliver=3)

        await run_until_drained(projector, js, things)

        assert await view(pool) == {thing: [1, 2]}
        letters = await dead_letters(js)
        assert [letter["payload"].encode() for letter in letters] == bodies
        assert [letter["stream_seq"] for letter in letters] == [2, 3]
        assert all(letter["num_delivered"] == 1 for letter in letters)  # no retries: it can never parse
        assert all(letter["reason"].startswith("poison") for letter in letters)

    async def test_a_version_gap_that_never_fills_is_dead_lettered_after_max_deliver(
        self, pool: asyncpg.Pool, js: JetStreamContext
    ) -> None:
        thing, things = uuid4(), ThingsView()
        orphan = envelope(thing, 3)  # v2 is never published
        await publish(js, envelope(thing, 1))
        await publish(js, orphan)
        projector = runner(pool, js, things, max_deliver=3)

        await run_until_drained(projector, js, things)

        [letter] = await dead_letters(js)
        assert await view(pool) == {thing: [1]}
        assert "version gap" in letter["reason"] and letter["num_delivered"] == 3
        assert letter["payload"] == orphan.to_bytes().decode()
        assert projector.stats.gaps == 3


async def test_one_event_on_an_idle_runner_is_applied_well_before_the_fetch_timeout(
    pool: asyncpg.Pool, js: JetStreamContext
) -> None:
    thing, things = uuid4(), ThingsView()
    projector = runner(pool, js, things, fetch_timeout=5)

    async with Background() as bg:
        bg.start(projector.run())

        async def waiting() -> bool:  # the runner's pull request is parked on the server
            try:
                return bool((await js.consumer_info(REGISTRY, things.name)).num_waiting >= 1)
            except NotFoundError:
                return False

        await wait_until(waiting, message="runner idle in a fetch")
        started = time.monotonic()
        await publish(js, envelope(thing, 1))
        await wait_until(lambda: applied(pool, {thing: [1]}), timeout=2, message="applied within 2 s")
        assert time.monotonic() - started < 2


class TestRebuild:
    async def publish_history(self, js: JetStreamContext) -> list[UUID]:
        things = [uuid4() for _ in range(3)]
        for version in (1, 2, 3):
            for thing in things:
                await publish(js, envelope(thing, version))
        repeat = envelope(things[0], 4)
        await publish(js, repeat)
        await publish(js, repeat, msg_id=f"{repeat.event_id}:again")
        return things

    async def test_a_rebuilt_read_model_equals_the_live_one(self, pool: asyncpg.Pool, js: JetStreamContext) -> None:
        ids, things = await self.publish_history(js), ThingsView()
        async with Background() as bg:
            live_runner = bg.start(runner(pool, js, things).run())
            await wait_drained(js, things)
            live = await view(pool)
            await bg.stop(live_runner)
        assert live == {ids[0]: [1, 2, 3, 4], ids[1]: [1, 2, 3], ids[2]: [1, 2, 3]}

        await rebuild(pool, js, things)
        assert await view(pool) == {}
        assert await pool.fetchval("select count(*) from projection_versions") == 0
        # The durable is there again at once (a service may not create one), from the first event.
        info = await js.consumer_info(REGISTRY, things.name)
        assert (info.delivered.stream_seq, info.num_pending) == (0, len(await stream_messages(js, REGISTRY)))

        replay = runner(pool, js, things)
        await run_until_drained(replay, js, things)

        assert await view(pool) == live
        last = len(await stream_messages(js, REGISTRY))
        assert (replay.stats.applied, replay.stats.duplicates, replay.stats.last_seq) == (10, 1, last)
        checkpoint = await pool.fetchval(
            "select stream_seq from projection_checkpoints where projection = $1", things.name
        )
        assert checkpoint == last

    async def test_a_runner_left_running_through_a_rebuild_replays_from_the_start(
        self, pool: asyncpg.Pool, js: JetStreamContext
    ) -> None:
        ids, things = await self.publish_history(js), ThingsView()
        projector = runner(pool, js, things)
        async with Background() as bg:
            bg.start(projector.run())
            await wait_drained(js, things)
            live = await view(pool)

            await rebuild(pool, js, things)
            await wait_until(lambda: applied(pool, live), timeout=10, message="replayed into an equal table")
            await wait_drained(js, things)

        assert await view(pool) == live == {ids[0]: [1, 2, 3, 4], ids[1]: [1, 2, 3], ids[2]: [1, 2, 3]}
        assert projector.stats.applied == 2 * 10  # everything once live, everything once more on replay


class TestProvenance:
    """An event applies only when it came from its producer's stream, on the subject
    its envelope names (and, for a type this code knows, on that type's aggregate). Anything else:
    dead letter, once. A type this code does not know is a newer producer's, not a forgery: it is
    skipped by the projection and the version gate advances (reporting's TestArrival checks that)."""

    async def test_an_event_whose_subject_or_stream_does_not_match_its_envelope_is_dead_lettered(
        self, pool: asyncpg.Pool, js: JetStreamContext
    ) -> None:
        thing, other, things = uuid4(), uuid4(), ThingsView()
        await publish(js, envelope(thing, 1))
        # A genuine-looking v2, but on another thing's subject: it must not become thing's v2.
        forged = envelope(thing, 2, note="forged")
        await js.publish(thing_subject(other), forged.to_bytes(), stream=REGISTRY, headers={MSG_ID_HEADER: "f1"})
        # The subject's event type differs from the envelope's.
        renamed = thing_subject(thing).replace("ThingHappened", "ThingVanished")
        await js.publish(renamed, envelope(thing, 2).to_bytes(), stream=REGISTRY, headers={MSG_ID_HEADER: "f2"})
        # A known type of another aggregate (WidgetMade belongs to `widget`) on a thing's subject.
        misplaced = thing_subject(thing).replace("ThingHappened", "WidgetMade")
        widget = envelope(thing, 2).model_copy(update={"event_type": "WidgetMade"})
        await js.publish(misplaced, widget.to_bytes(), stream=REGISTRY, headers={MSG_ID_HEADER: "f3"})
        genuine = envelope(thing, 2, note="genuine")
        await publish(js, genuine)
        projector = runner(pool, js, things, max_deliver=3)

        await run_until_drained(projector, js, things)

        # The genuine v2 applied (not displaced by the forged one), and only it.
        assert await view(pool) == {thing: [1, 2]}
        letters = await dead_letters(js)
        assert [letter["stream_seq"] for letter in letters] == [2, 3, 4]
        assert all(letter["kind"] == "provenance" and letter["num_delivered"] == 1 for letter in letters)
        assert "does not match its envelope" in letters[0]["reason"]
        assert "does not match its envelope" in letters[1]["reason"]
        assert "not on thing" in letters[2]["reason"]
        assert projector.stats.dead_letters == {"provenance": 3}

    async def test_an_event_delivered_from_another_contexts_stream_is_dead_lettered(
        self, pool: asyncpg.Pool, js: JetStreamContext
    ) -> None:
        """A consumer on the aid stream receives a registry-subject event (a stream misconfigured,
        or one mirrored/sourced by an admin): the registry's events come only from GENTING_REGISTRY."""
        thing = uuid4()
        aid = owned_stream_config("aid")
        aid.subjects = ["genting.aid.>", "genting.registry.thing.>"]  # only an admin could do this
        await js.delete_stream(REGISTRY)  # the registry's stream would claim the subject too
        await ensure_stream(js, aid)
        things = ThingsView(stream="GENTING_AID")
        await js.publish(thing_subject(thing), envelope(thing, 1).to_bytes(), stream="GENTING_AID")
        projector = runner(pool, js, things, max_deliver=3)

        await run_until_drained(projector, js, things)

        assert await view(pool) == {}
        [letter] = await dead_letters(js)
        assert letter["kind"] == "provenance" and "not from its producer's stream GENTING_REGISTRY" in letter["reason"]

    async def test_a_dead_letter_sent_back_for_retry_is_checked_for_provenance_again(
        self, pool: asyncpg.Pool, js: JetStreamContext
    ) -> None:
        """An operator's `genting dlq retry` re-reads the message from the stream: a forged event
        is refused there too, however often it is retried, and the genuine version stays."""
        thing, other, things = uuid4(), uuid4(), ThingsView()
        await publish(js, envelope(thing, 1))
        forged = envelope(thing, 2, note="forged")
        ack = await js.publish(thing_subject(other), forged.to_bytes(), stream=REGISTRY, headers={MSG_ID_HEADER: "f1"})
        projector = runner(pool, js, things, max_deliver=3)
        await run_until_drained(projector, js, things)
        assert await view(pool) == {thing: [1]}

        for _ in range(2):
            with pytest.raises(ValueError, match=r"provenance: .*does not match its envelope"):
                await projector.retry(ack.seq)
        assert await view(pool) == {thing: [1]}
        # A genuine v2 still applies afterwards: the refused retry moved no version.
        genuine = await publish(js, envelope(thing, 2, note="genuine"))
        assert await projector.retry(genuine) is Outcome.APPLY
        assert await view(pool) == {thing: [1, 2]}
