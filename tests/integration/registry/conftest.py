"""The registry app in-process (real PostgreSQL and nats-server), driven over HTTP with httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from registry_support import TODAY

from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from shared.testing.apps import serving, settings_for


@pytest.fixture
async def registry(database_url: str, js_clean: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings_for(RegistrySettings, database_url, js_clean, service="registry"))
    app.state.clock = lambda: TODAY
    async with serving(app, "registry") as client:
        client.app = app  # type: ignore[attr-defined]
        yield client
