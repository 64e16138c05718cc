"""Events on the bus in tests, as the services' outbox relays put them there: one envelope per
event, consecutive versions per stream, `Nats-Msg-Id` = the event id; and every message a stream
holds, read back by sequence."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import nats
from nats.js import JetStreamContext
from nats.js.api import PubAck
from nats.js.errors import NotFoundError

from shared.clock import now
from shared.contracts.base import Event
from shared.messaging import MSG_ID_HEADER, Envelope, stream_name
from shared.nats_setup import ensure_stream, owned_stream_config
from shared.testing import wait_until


def envelope_of(
    event: Event, version: int, *, stream_id: UUID | None = None, correlation_id: UUID | None = None
) -> Envelope:
    """The envelope the producer's event store writes for `event` at `version` of its stream."""
    return Envelope(
        event_id=uuid4(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=stream_id or event.aggregate_id(),
        stream_version=version,
        occurred_at=now(),
        correlation_id=correlation_id,
        data=event.model_dump(mode="json"),
    )


@dataclass
class Publisher:
    """Publishes other services' events as their relays do, with consecutive versions per stream."""

    js: JetStreamContext
    timeout: float = 5.0
    versions: dict[UUID, int] = field(default_factory=lambda: defaultdict(int))

    def envelope(self, event: Event) -> Envelope:
        """The next envelope of the event's stream, not yet published."""
        stream_id = event.aggregate_id()
        self.versions[stream_id] += 1
        return envelope_of(event, self.versions[stream_id], correlation_id=uuid4())

    async def publish(self, env: Envelope, subject: str, msg_id: str | None = None) -> PubAck:
        """To the stream of the subject's producer (`genting.<context>.…`)."""
        return await self.js.publish(
            subject,
            env.to_bytes(),
            stream=stream_name(subject.split(".")[1]),
            timeout=self.timeout,
            headers={MSG_ID_HEADER: msg_id or str(env.event_id)},
        )

    async def emit(self, event: Event) -> Envelope:
        env = self.envelope(event)
        await self.publish(env, event.subject())
        return env


async def stream_messages(js: JetStreamContext, stream: str) -> list[dict[str, Any]]:
    """Every message now in `stream`, by sequence: its JSON body with its `subject` and `msg_id`."""
    try:
        state = (await js.stream_info(stream)).state
    except NotFoundError:
        return []
    out = []
    for seq in range(state.first_seq, state.last_seq + 1) if state.messages else ():
        msg = await js.get_msg(stream, seq)
        out.append(
            {"subject": msg.subject, "msg_id": (msg.headers or {}).get(MSG_ID_HEADER), **json.loads(msg.data or b"{}")}
        )
    return out


async def messages_at(nats_url: str, stream: str) -> list[dict[str, Any]]:
    """`stream_messages` through a connection of its own to the server at `nats_url`."""
    nc = await nats.connect(nats_url)
    try:
        return await stream_messages(nc.jetstream(), stream)
    finally:
        await nc.close()


async def messages_when(
    source: JetStreamContext | str, stream: str, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 15.0
) -> list[dict[str, Any]]:
    """The stream's messages once `done(messages)` holds, read again until then (a relay publishes
    after its commit); `source` is a JetStream context or a server's URL. TimeoutError after `timeout`."""

    async def read() -> list[dict[str, Any]]:
        if isinstance(source, str):
            messages = await messages_at(source, stream)
        else:
            messages = await stream_messages(source, stream)
        return messages if done(messages) else []

    return await wait_until(read, timeout, message=f"the messages expected on {stream}")


async def declare_streams(js: JetStreamContext, *contexts: str) -> JetStreamContext:
    """The streams these producers own, declared as each would at its start (for a consumer under
    test whose producers do not run)."""
    for context in contexts:
        await ensure_stream(js, owned_stream_config(context))
    return js


async def stream_names(js: JetStreamContext) -> list[str]:
    """Every stream on the server, page by page."""
    names: list[str] = []
    while page := await js.streams_info(offset=len(names)):
        names += [info.config.name for info in page if info.config.name]
        if len(page) < 256:  # the server's page size
            break
    return names
