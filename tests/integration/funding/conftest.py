"""The funding app in-process (real PostgreSQL and nats-server), driven over HTTP with httpx, fed
registry and aid facts published to JetStream by the test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from funding_support import TODAY, Funding, Upstream

from services.funding.app import create_app
from services.funding.settings import FundingSettings
from shared.nats_setup import connect, ensure_stream, owned_stream_config
from shared.testing import TEST_DATA_KEY, TEST_JWKS_FILE


def funding_settings(database_url: str, nats_url: str, **overrides: object) -> FundingSettings:
    values: dict[str, object] = {
        "service": "funding",
        "database_url": database_url,
        "nats_url": nats_url,
        "jwks_file": TEST_JWKS_FILE,
        "data_key": TEST_DATA_KEY,
        "relay_poll_seconds": 0.2,
    }
    return FundingSettings.model_validate(values | overrides)


@pytest.fixture
async def funding(database_url: str, js_clean: str) -> AsyncIterator[Funding]:
    nc = await connect(js_clean, "funding-tests")
    try:
        js = nc.jetstream()
        # The upstream streams exist before funding starts (their owners declare them), so the
        # feeds bind at once instead of retrying every second.
        for context in ("registry", "aid"):
            await ensure_stream(js, owned_stream_config(context))
        app = create_app(funding_settings(database_url, js_clean))
        app.state.clock = lambda: TODAY
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://funding") as client:
                yield Funding(client, app, Upstream(js))
    finally:
        await nc.close()
