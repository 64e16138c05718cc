"""The registry as a real process over HTTP and NATS: a kader's day, and a crash."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
import pytest

from shared.auth import issue_token
from shared.testing import TEST_SIGNING_KEY, wait_until
from shared.testing.bus import messages_at, messages_when
from shared.testing.registry_examples import family_body

pytestmark = pytest.mark.e2e

MEDONO = "33.75.01.1002"
KAUMAN = "33.75.02.1004"


def bearer(role: str, kelurahan: str | None = None) -> dict[str, str]:
    jwt = issue_token(TEST_SIGNING_KEY, role=role, sub=f"{role}-e2e", kelurahan=kelurahan)
    return {"Authorization": f"Bearer {jwt}"}


async def registry_events(nats_url: str) -> list[dict[str, Any]]:
    """What any subscriber to GENTING_REGISTRY can read right now."""
    return await messages_at(nats_url, "GENTING_REGISTRY")


async def test_a_kader_registers_a_family_and_its_event_is_on_the_bus_without_personal_data(
    service_process: Any, nats_url: str
) -> None:
    registry = await service_process("registry")
    today = date.today()
    body = family_body(1, today, MEDONO)
    async with httpx.AsyncClient(base_url=registry.url, timeout=10) as http:
        response = await http.post("/families", json=body, headers=bearer("kader", MEDONO))
        assert response.status_code == 201, response.text
        family_id = response.json()["family_id"]

        async def registered() -> list[dict[str, Any]]:
            return [e for e in await registry_events(nats_url) if e["event_type"] == "FamilyRegistered"]

        [event] = await wait_until(registered, 15, message="FamilyRegistered on GENTING_REGISTRY")
        assert event["subject"] == f"genting.registry.family.{family_id}.FamilyRegistered"
        assert event["msg_id"] == event["event_id"]
        assert event["data"]["kelurahan_code"] == MEDONO and event["stream_version"] == 1
        wire = json.dumps(event)
        for value in (
            body["kk_number"],
            body["head_name"],
            body["address"],
            body["members"][0]["nik"],
            body["members"][0]["name"],
            body["members"][0]["birth_date"],
        ):
            assert value not in wire
        # The process's log lines never carry the personal fields either.
        assert body["members"][0]["nik"] not in registry.output()
        assert body["head_name"] not in registry.output()


async def test_refusals_change_nothing(service_process: Any, nats_url: str) -> None:
    registry = await service_process("registry")
    today = date.today()
    async with httpx.AsyncClient(base_url=registry.url, timeout=10) as http:
        other = await http.post("/families", json=family_body(2, today, MEDONO), headers=bearer("kader", KAUMAN))
        assert other.status_code == 403
        bad = family_body(3, today, MEDONO)
        bad["members"][0]["nik"] = "0000000000000000"
        invalid = await http.post("/families", json=bad, headers=bearer("kader", MEDONO))
        assert invalid.status_code == 422
        assert invalid.headers["content-type"] == "application/problem+json"
        assert "members[0].nik" in [e["field"] for e in invalid.json()["errors"]]
        listing = (await http.get("/families", headers=bearer("admin"))).json()
        assert listing["total"] == 0
    assert await registry_events(nats_url) == []


async def test_a_killed_registry_comes_back_with_its_data_and_publishes_everything_once(
    service_process: Any, nats_url: str
) -> None:
    registry = await service_process("registry")
    today = date.today()
    async with httpx.AsyncClient(base_url=registry.url, timeout=10) as http:
        ids = [
            (await http.post("/families", json=family_body(s, today, MEDONO), headers=bearer("admin"))).json()[
                "family_id"
            ]
            for s in range(10, 30)
        ]
    registry.kill()  # SIGKILL: no shutdown hooks; some events may be committed but not yet published
    registry = await service_process("registry")
    async with httpx.AsyncClient(base_url=registry.url, timeout=10) as http:
        listing = (await http.get("/families", headers=bearer("admin"), params={"limit": 100})).json()
        assert sorted(i["family_id"] for i in listing["items"]) == sorted(ids)

    events = await messages_when(nats_url, "GENTING_REGISTRY", lambda es: len(es) >= len(ids))
    assert sorted(e["data"]["family_id"] for e in events) == sorted(ids)  # each exactly once
