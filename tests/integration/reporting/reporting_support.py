"""Helpers for reporting's integration tests: tokens, publishing upstream events as their owners
would, waiting until the three consumers have caught up, reading the reporting stream."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import nats
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from services.reporting.projections import PROJECTIONS
from shared.nats_setup import ensure_stream, owned_stream_config
from shared.testing import bearer, reporting_examples, wait_until
from shared.testing.bus import declare_streams, stream_messages
from shared.testing.reporting_examples import Programme, Published

UPSTREAMS = ("registry", "funding", "aid")


def token(role: str, kelurahan: str | None = None) -> dict[str, str]:
    return bearer(role, kelurahan=kelurahan, donor_id="d-1" if role == "donor" else None)


async def declare_upstreams(js: JetStreamContext) -> None:
    """In production each owner declares its stream; here the test stands in for them."""
    await declare_streams(js, *UPSTREAMS)


async def publish(js: JetStreamContext, items: Sequence[Published], msg_id: str | None = None) -> None:
    """All at once, in order (as the owners' relays publish)."""
    await reporting_examples.publish(js, items, window=max(len(items), 1), msg_id=msg_id)


async def caught_up(js: JetStreamContext) -> bool:
    """Every message of every upstream stream delivered to reporting's consumer and acked."""
    for projection in PROJECTIONS:
        try:
            info = await js.consumer_info(projection.stream, projection.name)
        except NotFoundError:
            return False
        last = (await js.stream_info(projection.stream)).state.last_seq
        if info.num_pending or info.num_ack_pending or info.delivered.stream_seq != last:
            return False
    return True


async def wait_caught_up(js: JetStreamContext, timeout: float = 20.0) -> None:
    await wait_until(lambda: caught_up(js), timeout, interval=0.1, message="reporting consumers caught up")


async def snapshots(js: JetStreamContext) -> list[dict[str, Any]]:
    """Every ProgressSnapshot in GENTING_REPORTING, with its subject and Nats-Msg-Id."""
    return await stream_messages(js, "GENTING_REPORTING")


def without_times(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "as_of"}


async def funding_and_reporting(service_process: Any, nats_url: str) -> tuple[Any, JetStreamContext, Any, Any]:
    """Funding and reporting as real processes on the test's nats-server; the test stands in for
    the registry and aid (it declares their streams and publishes their facts). Returns the NATS
    connection (the caller closes it), its JetStream context and the two processes."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for context in ("registry", "aid"):
        await ensure_stream(js, owned_stream_config(context))
    return nc, js, await service_process("funding"), await service_process("reporting")


async def enrolled_families(js: JetStreamContext, count: int) -> tuple[Programme, list[UUID]]:
    """A programme begun ten days ago whose `count` families of Medono were registered on its first
    day and enrolled on its second, published as the registry would have."""
    p = Programme(start=date.today() - timedelta(days=10))
    families = [p.register("33.75.01.1002", on=0) for _ in range(count)]
    for f in families:
        p.enroll(f, on=1)
    await publish(js, p.published)
    return p, families
