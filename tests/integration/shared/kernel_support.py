"""Helpers for the kernel's integration tests: a tiny event, a read model that records every apply,
publishing and reading JetStream, background tasks. The fixtures are in conftest.py.

A module of its own (as `registry_support.py` is), because `from conftest import ...` picks up
whichever directory's conftest pytest loaded last when it is given several test directories.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

import asyncpg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from shared.contracts import Event, EventCatalog
from shared.eventstore import EventStore, Metadata, NewEvent
from shared.messaging import MSG_ID_HEADER, Envelope, dlq_stream_name, stream_name
from shared.projection import ProjectionRunner
from shared.testing import wait_until
from shared.testing.bus import envelope_of

SERVICE = "kerneltest"
REGISTRY = stream_name("registry")
DLQ = dlq_stream_name(SERVICE)


class ThingHappened(Event):
    """The test event: lands on `genting.registry.thing.<id>.ThingHappened`, so in GENTING_REGISTRY."""

    context: ClassVar[str] = "registry"
    aggregate: ClassVar[str] = "thing"
    event_type: ClassVar[str] = "ThingHappened"
    id_field: ClassVar[str] = "thing_id"

    thing_id: UUID
    note: str = ""


class WidgetMade(Event):
    """Another aggregate's event in the same catalog: on a `thing` subject it is misplaced."""

    context: ClassVar[str] = "registry"
    aggregate: ClassVar[str] = "widget"
    event_type: ClassVar[str] = "WidgetMade"
    id_field: ClassVar[str] = "widget_id"

    widget_id: UUID


def thing_subject(thing_id: UUID) -> str:
    return ThingHappened(thing_id=thing_id).subject()


def envelope(thing_id: UUID, version: int, note: str = "") -> Envelope:
    """An envelope as the registry's event store would have written it for version `version`."""
    return envelope_of(ThingHappened(thing_id=thing_id, note=note or f"v{version}"), version)


async def publish(js: JetStreamContext, env: Envelope, msg_id: str | None = None) -> int:
    """Publish straight to JetStream (as the relay would); returns the stream sequence."""
    ack = await js.publish(
        thing_subject(env.stream_id),
        env.to_bytes(),
        stream=REGISTRY,
        timeout=5.0,
        headers={MSG_ID_HEADER: msg_id or str(env.event_id)},
    )
    assert not ack.duplicate
    return ack.seq


STORE = EventStore("thing")


async def append_things(pool: asyncpg.Pool, thing_id: UUID, expected_version: int, count: int = 1) -> list[Envelope]:
    """One committed command: `count` events appended to the thing's stream."""
    events = [NewEvent(ThingHappened(thing_id=thing_id, note=f"v{expected_version + i}")) for i in range(1, count + 1)]
    async with pool.acquire() as conn, conn.transaction():
        return await STORE.append(conn, thing_id, expected_version, events, Metadata(datetime.now(UTC)))


class Boom(RuntimeError):
    """What the failing projection raises."""


@dataclass
class ThingsView:
    """A read model recording every apply: `versions` grows by one per applied event, in apply order.

    `fail_on` holds (thing_id, version) pairs whose apply raises; `fail_times`, when set, limits
    that to the first N attempts (a transient failure), else it raises forever (a poison event).
    """

    name: str = f"{SERVICE}-things"
    stream: str = REGISTRY
    filter_subjects: Sequence[str] = ("genting.registry.thing.>",)
    tables: Sequence[str] = ("things_view",)
    # The producer's events this projection accepts (the runner's provenance check).
    catalog: EventCatalog = field(default_factory=lambda: EventCatalog("registry", [ThingHappened, WidgetMade]))
    fail_on: set[tuple[UUID, int]] = field(default_factory=set)
    fail_times: int | None = None
    failures: int = 0

    async def apply(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        if (envelope.stream_id, envelope.stream_version) in self.fail_on and (
            self.fail_times is None or self.failures < self.fail_times
        ):
            self.failures += 1
            raise Boom(f"cannot apply v{envelope.stream_version} of {envelope.stream_id}")
        await conn.execute(
            "insert into things_view (stream_id, count, versions) values ($1, 1, array[$2::int])"
            " on conflict (stream_id) do update set count = things_view.count + 1,"
            " versions = things_view.versions || $2::int",
            envelope.stream_id,
            envelope.stream_version,
        )


CREATE_THINGS_VIEW = (
    "create table things_view (stream_id uuid primary key, count int not null, versions int[] not null)"
)


async def view(pool: asyncpg.Pool) -> dict[UUID, list[int]]:
    """stream_id -> the versions applied, in apply order (checked against the counter)."""
    rows = await pool.fetch("select stream_id, count, versions from things_view")
    for r in rows:
        assert r["count"] == len(r["versions"])
    return {r["stream_id"]: list(r["versions"]) for r in rows}


@dataclass(frozen=True)
class Stored:
    """One message as the stream holds it."""

    seq: int
    subject: str
    msg_id: str | None
    data: bytes


async def stream_messages(js: JetStreamContext, stream: str) -> list[Stored]:
    """Every message the stream holds, by sequence."""
    state = (await js.stream_info(stream)).state
    if state.messages == 0:
        return []
    stored = []
    for seq in range(state.first_seq, state.last_seq + 1):
        m = await js.get_msg(stream, seq)
        assert m.seq is not None and m.subject is not None
        stored.append(Stored(m.seq, m.subject, (m.headers or {}).get(MSG_ID_HEADER), m.data or b""))
    return stored


async def dead_letters(js: JetStreamContext) -> list[dict[str, Any]]:
    try:
        return [json.loads(m.data) for m in await stream_messages(js, DLQ)]
    except NotFoundError:  # no dead letter yet: the DLQ stream was never declared
        return []


async def wait_drained(js: JetStreamContext, projection: ThingsView, timeout: float = 10.0) -> None:
    """Every message of the stream delivered to the consumer and acked (or terminated)."""

    async def drained() -> bool:
        try:
            info = await js.consumer_info(projection.stream, projection.name)
        except NotFoundError:  # the runner has not set its consumer up yet
            return False
        last = (await js.stream_info(projection.stream)).state.last_seq
        return bool(info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq == last)

    await wait_until(drained, timeout, message=f"{projection.name} drained")


class Background:
    """Tasks a test runs (relays, runners); cancelled and awaited when the block ends."""

    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[Any]] = []

    def start(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self.tasks.append(task)
        return task

    async def stop(self, task: asyncio.Task[Any]) -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def __aenter__(self) -> Background:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self.tasks:
            await self.stop(task)


async def run_until_drained(projector: ProjectionRunner, js: JetStreamContext, projection: ThingsView) -> None:
    """The runner started, left running until its consumer has taken every message, then stopped."""
    async with Background() as bg:
        bg.start(projector.run())
        await wait_drained(js, projection)
