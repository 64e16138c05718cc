"""What a stream holds now, read once: how a read model's rebuild (the services' replays) and the
operator's recovery tools read a stream. An ephemeral pull consumer without acks delivers every
message on the given subjects up to a sequence taken beforehand (what comes later is the live
consumers'), and is deleted at the end."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError


async def last_sequence(js: JetStreamContext, stream: str) -> int:
    """The stream's last sequence now: 0 when it holds nothing or was never created."""
    try:
        return int((await js.stream_info(stream)).state.last_seq)
    except NotFoundError:
        return 0


async def read_through(
    js: JetStreamContext, stream: str, subjects: Sequence[str], last_seq: int, *, fetch: int = 1000
) -> AsyncIterator[Msg]:
    """Every message of `stream` on `subjects` up to `last_seq`, in order, once (`fetch` a batch)."""
    if not last_seq:
        return
    config = ConsumerConfig(
        ack_policy=AckPolicy.NONE,
        deliver_policy=DeliverPolicy.ALL,
        filter_subjects=list(subjects),
        inactive_threshold=30.0,
    )
    sub = await js.pull_subscribe(subjects[0], stream=stream, config=config)
    try:
        seq = 0
        while seq < last_seq:
            try:
                msgs = await sub.fetch(fetch, timeout=2.0)
            except (TimeoutError, NatsTimeoutError):
                if (await sub.consumer_info()).num_pending == 0:
                    break  # nothing more on these subjects: the last messages are on others
                continue
            for msg in msgs:
                seq = msg.metadata.sequence.stream
                if seq <= last_seq:  # a later one is the live consumers'
                    yield msg
    finally:
        with contextlib.suppress(Exception):
            await js.delete_consumer(stream, (await sub.consumer_info()).name)
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
