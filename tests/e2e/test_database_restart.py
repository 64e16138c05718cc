"""A service through a PostgreSQL crash: 503 + Retry-After on every kind of route while the
database is away (never 500, nothing changed), ready again by itself once it is back, and a
client that sends through the outage with one Idempotency-Key gets one effect.

This module runs its own PostgreSQL (it SIGKILLs the postmaster), not the session's."""

from __future__ import annotations

import asyncio
import importlib
import time
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest

from genting.client import Client, RetryPolicy
from genting.embedded import EmbeddedPostgres
from shared.auth import issue_token
from shared.db import wait_for_database
from shared.testing import TEST_DATA_KEY, TEST_JWKS_FILE, TEST_SIGNING_KEY, postgres_crash, wait_until
from shared.testing.postgres_crash import crash, restart
from shared.testing.registry_examples import family_body

pytestmark = pytest.mark.e2e

MEDONO = "33.75.01.1002"


# The PostgreSQL this module crashes, and the one its services and pools use.
own_postgres = postgres_crash.own_postgres
pg_server_url = postgres_crash.own_postgres_url


def bearer(role: str, kelurahan: str | None = None) -> dict[str, str]:
    jwt = issue_token(TEST_SIGNING_KEY, role=role, sub=f"{role}-crash", kelurahan=kelurahan)
    return {"Authorization": f"Bearer {jwt}"}


async def families_in(database_url: str) -> int:
    conn = await asyncpg.connect(database_url, timeout=10)
    try:
        return int(await conn.fetchval("select count(*) from events where event_type = 'FamilyRegistered'"))
    finally:
        await conn.close()


async def test_every_route_answers_503_while_the_database_is_away_and_the_service_recovers_alone(
    service_process: Any, own_postgres: EmbeddedPostgres
) -> None:
    registry = await service_process("registry")
    today = date.today()
    async with httpx.AsyncClient(base_url=registry.url, timeout=15) as http:
        first = await http.post("/families", json=family_body(1, today, MEDONO), headers=bearer("kader", MEDONO))
        assert first.status_code == 201, first.text
        family_id = first.json()["family_id"]

        crash(own_postgres)
        try:
            key = {"Idempotency-Key": "during-the-outage"}
            answers = {
                "command": await http.post(
                    "/families", json=family_body(2, today, MEDONO), headers=bearer("kader", MEDONO) | key
                ),
                "command without key": await http.post(
                    "/families", json=family_body(3, today, MEDONO), headers=bearer("kader", MEDONO)
                ),
                "read one": await http.get(f"/families/{family_id}", headers=bearer("admin")),
                "list": await http.get("/families", headers=bearer("admin")),
                "readiness": await http.get("/health/ready"),
            }
            for route, answer in answers.items():
                assert answer.status_code == 503, (route, answer.status_code, answer.text)
                assert int(answer.headers["Retry-After"]) >= 1, route
                assert answer.headers["content-type"] == "application/problem+json", route
            assert answers["command"].json()["type"].endswith("/database-unavailable")
            # What needs no database still answers: liveness (no restart by the orchestrator), metrics.
            assert (await http.get("/health/live")).status_code == 200
            metrics = await http.get("/metrics")
            assert metrics.status_code == 200 and "genting_database_up 0.0" in metrics.text
        finally:
            await restart(own_postgres)

        async def ready() -> bool:
            return (await http.get("/health/ready")).status_code == 200

        await wait_until(ready, 60, interval=0.2, message="registry ready again after the restart")
        assert registry.proc.poll() is None, "the service itself was not restarted"
        listing = await http.get("/families", headers=bearer("admin"))
        assert listing.status_code == 200 and listing.json()["total"] == 1  # the refused commands changed nothing
        again = await http.post("/families", json=family_body(4, today, MEDONO), headers=bearer("kader", MEDONO))
        assert again.status_code == 201, again.text
    assert "Internal error" not in registry.output()
    assert await families_in(registry.database_url) == 2


async def test_a_client_retries_through_the_restart_with_one_key_and_one_effect(
    service_process: Any, own_postgres: EmbeddedPostgres, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = await service_process("registry")
    today = date.today()
    crash(own_postgres)
    down_for = 3.0

    async def back_later() -> None:
        await asyncio.sleep(down_for)
        await restart(own_postgres)

    returning = asyncio.create_task(back_later())
    started = time.monotonic()
    async with Client(base_url=registry.url, timeout=15, policy=RetryPolicy(total=90)) as client:
        response = await client.post(
            "/families", json=family_body(5, today, MEDONO), headers=bearer("kader", MEDONO), idempotency_key="one-key"
        )
        waited = time.monotonic() - started
        await returning
        assert response.status_code == 201, response.text
        assert "Idempotent-Replayed" not in response.headers
        assert client.counts.retries >= 1
        assert any("503" in reason for reason in client.counts.retried_because)
        # The same key once more: the stored answer, no second family.
        replay = await client.post(
            "/families", json=family_body(5, today, MEDONO), headers=bearer("kader", MEDONO), idempotency_key="one-key"
        )
        assert replay.headers.get("Idempotent-Replayed") == "true"
        assert replay.json() == response.json()
    assert await families_in(registry.database_url) == 1
    said = capsys.readouterr().err
    assert "waiting for" in said and "503" in said  # the client said what it waited for
    assert "answered again after" in said
    print(f"client waited {waited:.1f} s through a {down_for:g} s outage, {client.counts.retries} retries")


async def test_a_service_starting_while_its_database_restarts_waits_for_it_instead_of_exiting(
    own_postgres: EmbeddedPostgres, capsys: pytest.CaptureFixture[str]
) -> None:
    """What a service's startup does first (shared/service.py's lifespan): wait, bounded."""
    crash(own_postgres)

    async def back_later() -> None:
        await asyncio.sleep(3.0)
        await restart(own_postgres)

    returning = asyncio.create_task(back_later())
    started = time.monotonic()
    try:
        await wait_for_database(own_postgres.url, timeout=90)
    finally:
        await returning
    assert time.monotonic() - started >= 3.0
    said = capsys.readouterr()
    assert "waiting_for_database" in said.out + said.err


@pytest.mark.parametrize("service", ["registry", "aid", "funding", "reporting"])
def test_the_openapi_documents_the_503_on_every_route(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENTING_JWKS_FILE", TEST_JWKS_FILE)
    monkeypatch.setenv("GENTING_DATA_KEY", TEST_DATA_KEY)
    monkeypatch.setenv("GENTING_SERVICE", service)
    schema = importlib.import_module(f"services.{service}.app").create_app().openapi()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            answer = operation["responses"].get("503")
            assert answer is not None, f"{method.upper()} {path}"
            assert "Retry-After" in answer["headers"]
