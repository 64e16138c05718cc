"""Reporting in-process (real PostgreSQL and nats-server), driven over HTTP with httpx; the
upstream streams are declared first, as their owners would have."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from reporting_support import declare_upstreams

from services.reporting.app import create_app
from services.reporting.settings import ReportingSettings
from shared.testing import TEST_JWKS_FILE
from shared.testing.apps import serving


@pytest.fixture
async def js(nc: Client) -> JetStreamContext:
    js = nc.jetstream()
    await declare_upstreams(js)
    return js


@pytest.fixture
def settings(database_url: str, js_clean: str) -> ReportingSettings:
    return ReportingSettings(
        database_url=database_url,
        nats_url=js_clean,
        jwks_file=TEST_JWKS_FILE,
        relay_poll_seconds=0.2,
        snapshot_interval_seconds=0.3,
    )


@pytest.fixture
async def reporting(settings: ReportingSettings, js: JetStreamContext) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with serving(app, "reporting") as client:
        client.app = app  # type: ignore[attr-defined]
        yield client
