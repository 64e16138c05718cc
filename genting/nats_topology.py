"""The migration step's half on NATS: it creates the streams and the services' durable consumers
(with an admin connection), because no service's user may create or change a stream, nor create
a consumer where none is. `genting up` runs it after starting its server; `genting migrate`
runs it when GENTING_NATS_ADMIN_URL is set, and fills the subscriber's account too when
GENTING_SUBSCRIBER_NATS_URL is set."""

from __future__ import annotations

import os

import nats
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig

from genting.nats_accounts import CONSUMER_FILTERS, CONSUMES, SERVICES, SUBSCRIBER_FILTERS, dlq_stream, stream
from shared.nats_setup import (
    DUPLICATE_WINDOW_SECONDS,
    PROJECTION_BATCH,
    PROJECTION_MAX_DELIVER,
    create_durable,
    dlq_stream_config,
    durable_config,
    ensure_stream,
    inbox_prefix_for,
    owned_stream_config,
    stream_exists,
    tls_context,
)


async def create_streams(js: JetStreamContext, replicas: int = 1) -> list[str]:
    """Every context's event stream and every service's dead-letter stream, at their settings."""
    for context in SERVICES:
        await ensure_stream(js, owned_stream_config(context, replicas))
        await ensure_stream(js, dlq_stream_config(context, replicas))
    return [n for s in SERVICES for n in (stream(s), dlq_stream(s))]


async def create_durables(js: JetStreamContext) -> list[str]:
    """Each service's durable pull consumers, with the settings its runners use (GENTING_PROJECTION_
    BATCH and GENTING_PROJECTION_MAX_DELIVER, as the services read them): created where missing,
    brought to those settings where not (keeping their position). Returns those it created."""
    batch = int(os.environ.get("GENTING_PROJECTION_BATCH") or PROJECTION_BATCH)
    max_deliver = int(os.environ.get("GENTING_PROJECTION_MAX_DELIVER") or PROJECTION_MAX_DELIVER)
    created = []
    for service, upstreams in CONSUMES.items():
        for upstream in upstreams:
            name = f"{service}-{upstream}"
            if not await stream_exists(js, stream(upstream)):
                continue  # only in tests that set up part of the topology; create_streams makes all
            config = durable_config(name, list(CONSUMER_FILTERS[name]), batch=batch, max_deliver=max_deliver)
            if await create_durable(js, stream(upstream), config):
                created.append(name)
    return created


def subscriber_stream_configs(replicas: int = 1) -> list[StreamConfig]:
    """The subscriber's own streams: the same names as GENTING's, holding only the subjects its
    account imports (nats_accounts.SUBSCRIBER_FILTERS)."""
    return [
        StreamConfig(
            name=stream(context),
            subjects=list(filters),
            storage=StorageType.FILE,
            retention=RetentionPolicy.LIMITS,
            num_replicas=replicas,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
        )
        for context, filters in SUBSCRIBER_FILTERS.items()
    ]


async def create_subscriber_streams(js: JetStreamContext, replicas: int = 1) -> None:
    for config in subscriber_stream_configs(replicas):
        await ensure_stream(js, config)


async def apply(admin_url: str, subscriber_url: str | None = None, replicas: int = 1) -> list[str]:
    """Streams, then durables, then (given its URL) the subscriber's streams. Returns what it did."""
    done: list[str] = []
    if subscriber_url:
        # First: the subscriber keeps only what arrives while its streams exist.
        nc = await nats.connect(
            subscriber_url, inbox_prefix=inbox_prefix_for(subscriber_url), connect_timeout=5, tls=tls_context()
        )
        try:
            await create_subscriber_streams(nc.jetstream(timeout=10), replicas)
            done.append("subscriber streams")
        finally:
            await nc.close()
    nc = await nats.connect(admin_url, inbox_prefix=inbox_prefix_for(admin_url), connect_timeout=5, tls=tls_context())
    try:
        js = nc.jetstream(timeout=10)
        done += await create_streams(js, replicas)
        done += await create_durables(js)
    finally:
        await nc.close()
    return done
