"""The aid app in-process (real PostgreSQL and nats-server) with a fake clock, driven over HTTP
with httpx, fed by registry and funding events that the tests publish as those services would."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aid_support import Aid, FakeClock, Upstream, declare_upstream_streams
from nats.aio.client import Client

from services.aid.app import create_app
from services.aid.settings import AidSettings
from shared.testing.apps import serving, settings_for


def aid_settings(database_url: str, nats_url: str, **overrides: object) -> AidSettings:
    # The step is driven by the tests through run_step with the fake clock, not by time.
    return settings_for(AidSettings, database_url, nats_url, clock_interval_seconds=3600.0, **overrides)


@pytest.fixture
async def aid(database_url: str, nc: Client, js_clean: str) -> AsyncIterator[Aid]:
    js = nc.jetstream()
    await declare_upstream_streams(js)  # so aid's consumers bind at once, as in a running system
    app = create_app(aid_settings(database_url, js_clean))
    clock = FakeClock()
    app.state.clock = clock
    async with serving(app, "aid") as http:
        yield Aid(http, app, clock, Upstream(js), js)
