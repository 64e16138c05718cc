"""JetStream streams for the benchmark: fresh ones per part, the producer's own, and counting them."""

from __future__ import annotations

import contextlib

from nats.js import JetStreamContext
from nats.js.api import (
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError
from processes import (  # bench/processes.py: servers, services as processes, CPU accounting
    Servers,
)

from shared.messaging import stream_name
from shared.nats_setup import DUPLICATE_WINDOW_SECONDS, ensure_stream, owned_stream_config


def stream_config(name: str, subjects: str) -> StreamConfig:
    """As `owned_stream_config`: file storage, limits retention, R1, 2-minute duplicate window."""
    return StreamConfig(
        name=name,
        subjects=[subjects],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        num_replicas=1,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        max_age=0,
    )


async def delete_stream(js: JetStreamContext, name: str) -> None:
    with contextlib.suppress(NotFoundError):
        await js.delete_stream(name)


async def fresh_stream(servers: Servers, js: JetStreamContext, part: str) -> tuple[str, str]:
    """A new stream of our own: (name, subject prefix)."""
    name = f"BENCH_{servers.run_id.upper()}_{part.upper()}"
    prefix = f"bench.{servers.run_id}.{part}"
    await delete_stream(js, name)
    await ensure_stream(js, stream_config(name, f"{prefix}.>"))
    servers.streams.append(name)
    return name, prefix


async def producer_stream(servers: Servers, js: JetStreamContext) -> tuple[str, str]:
    """The registry's own stream, emptied: the projection runner applies only events delivered from
    their producer's stream on `genting.<context>.…` subjects (provenance), so its bench needs those."""
    name = stream_name("registry")
    await delete_stream(js, name)
    await ensure_stream(js, owned_stream_config("registry"))
    servers.streams.append(name)
    return name, "genting.registry"


async def stream_messages(js: JetStreamContext, name: str) -> int:
    return int((await js.stream_info(name)).state.messages)
