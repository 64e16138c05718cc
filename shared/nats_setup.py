"""NATS connection and JetStream topology. The migration step (genting/nats_topology.py, with an
admin connection) creates the streams; a running service only looks its stream up, and applies
its own durable consumers' settings by their exact names. Every connection replies and receives
pull batches under its own user's inbox prefix, where no other user may subscribe."""

from __future__ import annotations

import contextlib
import os
import ssl
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

import nats
import structlog
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from shared.messaging import context_subjects, dlq_stream_name, dlq_subject, stream_name

log = structlog.get_logger()

DUPLICATE_WINDOW_SECONDS = 120


def tls_context() -> ssl.SSLContext | None:
    """GENTING_NATS_CA names the CA file that signed NATS's certificate (Kubernetes: the cluster's
    own CA, deploy/k8s/base/nats-tls.yaml). Without it, tls:// URLs trust the system's CAs."""
    ca_file = os.environ.get("GENTING_NATS_CA")
    return ssl.create_default_context(cafile=ca_file) if ca_file else None


def inbox_prefix(user: str) -> str:
    """A user's own inbox prefix: genting/nats_accounts.py lets only that user subscribe there."""
    return f"_INBOX_{user}"


def inbox_prefix_for(url: str) -> str:
    """The inbox prefix of the user named in a `nats://user:password@host` URL (nats-py's default
    `_INBOX` for a URL without one: an open server, which has no per-user permissions)."""
    rest = url.split("://", 1)[-1]
    if "@" not in rest:
        return "_INBOX"
    user = unquote(rest.rsplit("@", 1)[0].split(":", 1)[0])
    return inbox_prefix(user) if user else "_INBOX"


def admin_url(fallback: str) -> str:
    """GENTING_NATS_ADMIN_URL, for the one-off tools that reset consumers (`genting replay`): a
    service's own user may not delete or create one. Without it, `fallback` (an open server)."""
    return os.environ.get("GENTING_NATS_ADMIN_URL") or fallback


@contextlib.asynccontextmanager
async def admin_jetstream(nats_url: str, name: str) -> AsyncIterator[JetStreamContext]:
    """JetStream as the admin (`admin_url`), for a one-off tool that reads a stream through a
    consumer of its own (`genting replay`); the connection is closed when the tool is done."""
    nc = await connect(admin_url(nats_url), name=name)
    try:
        yield nc.jetstream()
    finally:
        await nc.close()


async def connect(url: str, name: str) -> Client:
    """Reconnect forever: the nats-py default gives up after about two minutes."""

    async def on_disconnect() -> None:
        log.warning("nats_disconnected")

    async def on_reconnect() -> None:
        log.info("nats_reconnected")

    async def on_error(exc: Exception) -> None:
        log.warning("nats_error", error=str(exc))

    return await nats.connect(
        url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
        error_cb=on_error,
        tls=tls_context(),
        inbox_prefix=inbox_prefix_for(url),
    )


def _file_stream(name: str, subject: str, replicas: int, **more: Any) -> StreamConfig:
    """What every stream of ours is: kept on file, limits retention, 2-minute duplicate window."""
    return StreamConfig(
        name=name,
        subjects=[subject],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        num_replicas=replicas,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        **more,
    )


def owned_stream_config(context: str, replicas: int = 1) -> StreamConfig:
    """The event log of one context, kept for ever (max_age 0)."""
    return _file_stream(stream_name(context), context_subjects(context), replicas, max_age=0)


def dlq_stream_config(service: str, replicas: int = 1) -> StreamConfig:
    return _file_stream(dlq_stream_name(service), dlq_subject(service), replicas)


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    """Create the stream, or bring an existing one to this config. Only the migration step (an
    admin connection) calls this: no service's user may create or change a stream."""
    try:
        await js.add_stream(config)
    except BadRequestError as exc:
        if exc.err_code != 10058:  # "stream name already in use with a different configuration"
            raise
        await js.update_stream(config)
        log.info("stream_updated", stream=config.name)


class StreamMissing(RuntimeError):
    """A service's stream is not there: the migration step has not run against this server."""


async def require_stream(js: JetStreamContext, name: str) -> None:
    """A service looks its stream up and stops, saying why, when it is missing."""
    try:
        await js.stream_info(name)
    except NotFoundError:
        raise StreamMissing(
            f"NATS stream {name} does not exist: run `genting migrate` with GENTING_NATS_ADMIN_URL"
            " (or `genting up`), which creates the streams"
        ) from None


async def stream_exists(js: JetStreamContext, name: str) -> bool:
    """Consumers bind to streams they do not own; they never create or change them."""
    try:
        await js.stream_info(name)
    except NotFoundError:
        return False
    return True


async def ensure_consumer(js: JetStreamContext, stream: str, config: ConsumerConfig) -> None:
    """Apply the full consumer config: `pull_subscribe` silently keeps an old one. Only an admin
    connection (the migration step, tests, an open server) may: a service's user may not."""
    await js.add_consumer(stream, config)


PROJECTION_BATCH = 200  # shared/settings.py's defaults, which the migration step applies too
PROJECTION_MAX_DELIVER = 8
PROJECTION_ACK_WAIT = 30.0


def durable_config(
    name: str,
    filter_subjects: list[str],
    *,
    batch: int = PROJECTION_BATCH,
    max_deliver: int = PROJECTION_MAX_DELIVER,
    ack_wait: float = PROJECTION_ACK_WAIT,
) -> ConsumerConfig:
    """A projection's durable pull consumer, from the first event on: what the migration step
    creates and a runner expects (a service's user may not create or change it)."""
    return ConsumerConfig(
        durable_name=name,
        name=name,  # so the create subject carries the name (the admin may use no other)
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=ack_wait,
        max_deliver=max_deliver,
        max_ack_pending=batch * 5,
        filter_subjects=filter_subjects,
    )


def config_differs(have: ConsumerConfig, want: ConsumerConfig) -> bool:
    """The settings a runner relies on, compared (the server reports one filter as filter_subject)."""

    def filters(c: ConsumerConfig) -> list[str]:
        return sorted(c.filter_subjects or ([c.filter_subject] if c.filter_subject else []))

    return (
        filters(have) != filters(want)
        or have.max_deliver != want.max_deliver
        or have.max_ack_pending != want.max_ack_pending
        or abs((have.ack_wait or 0) - (want.ack_wait or 0)) > 0.001
    )


async def create_durable(js: JetStreamContext, stream: str, config: ConsumerConfig) -> bool:
    """Create a durable, or bring an existing one to these settings (it keeps its position). True
    if it was created."""
    try:
        await js.consumer_info(stream, config.durable_name or "")
        created = False
    except NotFoundError:
        created = True
    await js.add_consumer(stream, config)
    return created
