"""Fixtures for the recovery tools' tests: the registry in-process (the producer whose store is
the system of record), a second database for a consumer, and a JetStream context (admin, as the
operator's maintenance connection). Helpers: recovery_support.py."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from nats.aio.client import Client

from genting.embedded import ensure_database
from shared.nats_setup import connect


@pytest.fixture
async def other_database_url(pg_server_url: str) -> AsyncIterator[str]:
    """A second fresh database for this test (a consumer's, beside the producer's)."""
    name = f"t_{uuid.uuid4().hex}"
    url = await ensure_database(pg_server_url, name)
    try:
        yield url
    finally:
        conn = await asyncpg.connect(pg_server_url, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture
async def nc(js_clean: str) -> AsyncIterator[Client]:
    client = await connect(js_clean, "recovery-tests")
    try:
        yield client
    finally:
        await client.close()
