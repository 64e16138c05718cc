"""The funding app in-process (real PostgreSQL and nats-server), driven over HTTP with httpx, fed
registry and aid facts published to JetStream by the test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from funding_support import TODAY, Funding, Upstream

from services.funding.app import create_app
from services.funding.settings import FundingSettings
from shared.nats_setup import connect
from shared.testing.apps import serving, settings_for
from shared.testing.bus import declare_streams


def funding_settings(database_url: str, nats_url: str, **overrides: object) -> FundingSettings:
    return settings_for(FundingSettings, database_url, nats_url, **({"service": "funding"} | overrides))


@pytest.fixture
async def funding(database_url: str, js_clean: str) -> AsyncIterator[Funding]:
    nc = await connect(js_clean, "funding-tests")
    try:
        js = nc.jetstream()
        # The upstream streams exist before funding starts (their owners declare them), so the
        # feeds bind at once instead of retrying every second.
        await declare_streams(js, "registry", "aid")
        app = create_app(funding_settings(database_url, js_clean))
        app.state.clock = lambda: TODAY
        async with serving(app, "funding") as client:
            yield Funding(client, app, Upstream(js))
    finally:
        await nc.close()
