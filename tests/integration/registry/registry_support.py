"""Helpers for the registry's integration tests: tokens, dates, reading the bus."""

from __future__ import annotations

from datetime import date

import nats
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy

from shared.testing import bearer

MEDONO = "33.75.01.1002"
KAUMAN = "33.75.02.1004"
TODAY = date(2026, 11, 28)


def token(role: str, kelurahan: str | None = None, sub: str | None = None) -> dict[str, str]:
    return bearer(role, sub=sub, kelurahan=kelurahan, donor_id="d-1" if role == "donor" else None)


async def stream_messages(nats_url: str, stream: str = "GENTING_REGISTRY") -> list[Msg]:
    """Every message now in the stream, in order (an ordered consumer, as a subscriber would)."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        total = (await js.stream_info(stream)).state.messages
        sub = await js.subscribe(">", stream=stream, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL)
        return [await sub.next_msg(timeout=5) for _ in range(total)]
    finally:
        await nc.close()
