"""What the end-to-end tests of a whole programme share: the four services started side by side
as real processes, the services' own day, and the staff's tokens."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from shared.testing import bearer

MEDONO = "33.75.01.1002"
SERVICES = ("registry", "funding", "aid", "reporting")


def today() -> date:
    """The services' own clock: the city's calendar day."""
    return datetime.now(ZoneInfo("Asia/Jakarta")).date()


def staff(role: str, kelurahan: str | None = None, *, test: str) -> dict[str, str]:
    """A staff member's Authorization header, its subject naming the test (`kader-<test>`)."""
    return bearer(role, sub=f"{role}-{test}", kelurahan=kelurahan)


async def start_all(service_process: Any, env: Mapping[str, str], **own: Mapping[str, str]) -> dict[str, str]:
    """The four services started together with the settings `env`, and a service's `own` besides
    (`registry={...}`): name -> URL."""
    started = await asyncio.gather(*(service_process(name, env={**env, **own.get(name, {})}) for name in SERVICES))
    return {svc.name: svc.url for svc in started}


async def enrolled_family(
    http: httpx.AsyncClient, registry: str, body: dict[str, Any], kader: dict[str, str], lurah: dict[str, str]
) -> str:
    """A family the kader registers and the lurah approves, enrolled there and then: its id."""
    registered = await http.post(f"{registry}/families", json=body, headers=kader)
    assert registered.status_code == 201, registered.text
    family_id: str = registered.json()["family_id"]
    verified = await http.post(
        f"{registry}/families/{family_id}/verification", json={"decision": "approve"}, headers=lurah
    )
    assert verified.json()["status"] == "enrolled", verified.text
    return family_id
