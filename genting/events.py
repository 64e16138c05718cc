"""`genting events CONTEXT`: print the events a context has published, as a subscriber sees them."""

from __future__ import annotations

import asyncio
import json

import nats
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import ConsumerConfig, DeliverPolicy

from shared.messaging import stream_name
from shared.nats_setup import inbox_prefix_for


async def print_events(nats_url: str, context: str, *, follow: bool, last: int | None) -> int:
    nc = await nats.connect(nats_url, inbox_prefix=inbox_prefix_for(nats_url))
    try:
        js = nc.jetstream()
        stream = stream_name(context)
        try:
            info = await js.stream_info(stream)
        except nats.js.errors.NotFoundError:
            print(f"no stream {stream} yet: nothing has been published by {context}")
            return 0
        state = info.state
        if last is not None and state.messages:
            start = max(state.first_seq, state.last_seq - last + 1)
            sub = await js.subscribe(
                f"genting.{context}.>",
                stream=stream,
                ordered_consumer=True,
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                config=ConsumerConfig(opt_start_seq=start),
            )
            remaining = state.last_seq - start + 1
        else:
            sub = await js.subscribe(
                f"genting.{context}.>", stream=stream, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
            )
            remaining = state.messages
        while remaining > 0 or follow:
            try:
                msg = await sub.next_msg(timeout=1.0 if not follow else 3600)
            except (TimeoutError, NatsTimeout):
                if follow:
                    continue
                break
            remaining -= 1
            print(
                json.dumps(
                    {"subject": msg.subject, "seq": msg.metadata.sequence.stream, "event": json.loads(msg.data)},
                    ensure_ascii=False,
                ),
                flush=True,
            )
        return 0
    finally:
        await nc.close()


def run(nats_url: str, context: str, follow: bool, last: int | None) -> int:
    try:
        return asyncio.run(print_events(nats_url, context, follow=follow, last=last))
    except KeyboardInterrupt:
        return 0
