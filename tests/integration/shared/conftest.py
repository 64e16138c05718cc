"""Fixtures for the kernel's integration tests: a migrated database with a pool (and the
`things_view` table), a JetStream context with GENTING_REGISTRY declared. Helpers: kernel_support.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from kernel_support import CREATE_THINGS_VIEW, SERVICE
from nats.aio.client import Client
from nats.js import JetStreamContext

from shared.db import create_pool, migrate
from shared.nats_setup import dlq_stream_config, ensure_stream, owned_stream_config


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """The kernel's tables migrated into this test's database, plus `things_view`."""
    await migrate(database_url)
    pool = await create_pool(database_url)
    try:
        await pool.execute(CREATE_THINGS_VIEW)
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def js(nc: Client) -> JetStreamContext:
    """JetStream with the registry's stream and the test service's dead-letter stream, as the
    migration step creates them (genting/nats_topology.py) before any service starts."""
    js = nc.jetstream()
    await ensure_stream(js, owned_stream_config("registry"))
    await ensure_stream(js, dlq_stream_config(SERVICE))
    return js
