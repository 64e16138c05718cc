"""The aid app in-process (real PostgreSQL and nats-server) with a fake clock, driven over HTTP
with httpx, fed by registry and funding events that the tests publish as those services would."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from aid_support import Aid, FakeClock, Upstream, declare_upstream_streams
from nats.aio.client import Client

from services.aid.app import create_app
from services.aid.settings import AidSettings
from shared.nats_setup import connect
from shared.testing import TEST_DATA_KEY, TEST_JWKS_FILE


def aid_settings(database_url: str, nats_url: str, **overrides: object) -> AidSettings:
    values: dict[str, object] = {
        "database_url": database_url,
        "nats_url": nats_url,
        "jwks_file": TEST_JWKS_FILE,
        "data_key": TEST_DATA_KEY,
        "relay_poll_seconds": 0.2,
        # The step is driven by the tests through run_step with the fake clock, not by time.
        "clock_interval_seconds": 3600.0,
    }
    return AidSettings.model_validate(values | overrides)


@pytest.fixture
async def nc(js_clean: str) -> AsyncIterator[Client]:
    client = await connect(js_clean, "aid-tests")
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def aid(database_url: str, nc: Client, js_clean: str) -> AsyncIterator[Aid]:
    js = nc.jetstream()
    await declare_upstream_streams(js)  # so aid's consumers bind at once, as in a running system
    app = create_app(aid_settings(database_url, js_clean))
    clock = FakeClock()
    app.state.clock = clock
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://aid") as http:
            yield Aid(http, app, clock, Upstream(js), js)
