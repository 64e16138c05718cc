"""NATS connection and JetStream topology: owners declare their streams, consumers are applied."""

from __future__ import annotations

import os
import ssl

import nats
import structlog
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from shared.messaging import context_subjects, dlq_stream_name, dlq_subject, stream_name

log = structlog.get_logger()

DUPLICATE_WINDOW_SECONDS = 120


def tls_context() -> ssl.SSLContext | None:
    """GENTING_NATS_CA names the CA file that signed NATS's certificate (Kubernetes: the cluster's
    own CA, deploy/k8s/base/nats-tls.yaml). Without it, tls:// URLs trust the system's CAs."""
    ca_file = os.environ.get("GENTING_NATS_CA")
    return ssl.create_default_context(cafile=ca_file) if ca_file else None


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
    )


def owned_stream_config(context: str, replicas: int = 1) -> StreamConfig:
    """The event log of one context: file storage, limits retention, 2-minute duplicate window."""
    return StreamConfig(
        name=stream_name(context),
        subjects=[context_subjects(context)],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        num_replicas=replicas,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        max_age=0,
    )


def dlq_stream_config(service: str, replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=dlq_stream_name(service),
        subjects=[dlq_subject(service)],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        num_replicas=replicas,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
    )


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    """Create the stream, or bring an existing one to this config. Only its owner calls this."""
    try:
        await js.add_stream(config)
    except BadRequestError as exc:
        if exc.err_code != 10058:  # "stream name already in use with a different configuration"
            raise
        await js.update_stream(config)
        log.info("stream_updated", stream=config.name)


async def stream_exists(js: JetStreamContext, name: str) -> bool:
    """Consumers bind to streams they do not own; they never create or change them."""
    try:
        await js.stream_info(name)
    except NotFoundError:
        return False
    return True


async def ensure_consumer(js: JetStreamContext, stream: str, config: ConsumerConfig) -> None:
    """Apply the full consumer config at start: `pull_subscribe` silently keeps an old one."""
    await js.add_consumer(stream, config)
