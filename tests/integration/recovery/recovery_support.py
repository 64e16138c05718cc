"""The registry in-process for the recovery tests, and what they compare."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from shared.outbox import outbox_backlog
from shared.testing import bearer, wait_until
from shared.testing.apps import serving, settings_for
from shared.testing.registry_examples import family_body

MEDONO = "33.75.01.1002"
TODAY = date(2026, 11, 28)


def token(role: str, kelurahan: str | None = None) -> dict[str, str]:
    return bearer(role, kelurahan=kelurahan)


def registry_settings(database_url: str, nats_url: str) -> RegistrySettings:
    return settings_for(RegistrySettings, database_url, nats_url, service="registry")


@contextlib.asynccontextmanager
async def running_registry(settings: RegistrySettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    app.state.clock = lambda: TODAY
    async with serving(app, "registry") as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


async def register(registry: httpx.AsyncClient, serial: int) -> tuple[UUID, dict[str, Any]]:
    body = family_body(serial, TODAY, MEDONO)
    answer = await registry.post("/families", json=body, headers=token("kader", MEDONO))
    assert answer.status_code == 201, answer.text
    return UUID(answer.json()["family_id"]), body


async def erase(registry: httpx.AsyncClient, family_id: UUID) -> None:
    answer = await registry.delete(f"/families/{family_id}/personal-data", headers=token("admin"))
    assert answer.status_code == 200, answer.text


async def family(registry: httpx.AsyncClient, family_id: UUID) -> httpx.Response:
    return await registry.get(f"/families/{family_id}", headers=token("admin"))


async def published(registry: httpx.AsyncClient) -> None:
    """Every committed event of the registry is on its stream."""
    pool: asyncpg.Pool = registry.app.state.pool  # type: ignore[attr-defined]

    async def drained() -> bool:
        return (await outbox_backlog(pool))[0] == 0

    await wait_until(drained, timeout=15.0, message="the registry's outbox drained")


async def table_rows(pool: asyncpg.Pool, tables: list[str]) -> dict[str, list[str]]:
    """Each table's rows as sorted text: what a read model shows, to compare two builds of it."""
    found = {}
    for table in tables:
        rows = await pool.fetch(f"select r::text as row from {table} r")
        found[table] = sorted(r["row"] for r in rows)
    return found
