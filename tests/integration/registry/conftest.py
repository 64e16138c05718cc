"""The registry app in-process (real PostgreSQL and nats-server), driven over HTTP with httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from registry_support import TODAY

from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from shared.testing import TEST_DATA_KEY, TEST_JWKS_FILE


@pytest.fixture
async def registry(database_url: str, js_clean: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = RegistrySettings(
        service="registry",
        database_url=database_url,
        nats_url=js_clean,
        jwks_file=TEST_JWKS_FILE,
        data_key=SecretStr(TEST_DATA_KEY),
        relay_poll_seconds=0.2,
    )
    app = create_app(settings)
    app.state.clock = lambda: TODAY
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client
