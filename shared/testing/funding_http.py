"""Funding driven over its HTTP API as the integration and end-to-end tests drive it: a donor with
money received, and a sponsorship, which funding takes only once it has heard of the family."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from shared.testing import wait_until


async def new_donor(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    donor_type: str,
    received_rp: int,
    on: date,
    *,
    name: str = "Donatur",
    contact: str | None = "0812-0000-1111",
    reference: str = "BRI-1",
    recorded_by: dict[str, str] | None = None,
    at: str = "",
) -> str:
    """A donor registered through funding's API, with `received_rp` received on `on` (0: none),
    recorded by `recorded_by` (else `headers`' holder). `at` is funding's URL when the client has
    no base URL of its own."""
    body = {"name": name, "donor_type": donor_type, "contact": contact}
    created = await http.post(f"{at}/donors", json=body, headers=headers)
    assert created.status_code == 201, created.text
    donor_id: str = created.json()["donor_id"]
    if received_rp:
        gift = {"amount_rp": received_rp, "received_on": on.isoformat(), "method": "transfer", "reference": reference}
        given = await http.post(f"{at}/donors/{donor_id}/contributions", headers=recorded_by or headers, json=gift)
        assert given.status_code == 201, given.text
    return donor_id


async def sponsor(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    donor_id: str,
    family: Any,
    amount_rp: int,
    on: date,
    *,
    at: str = "",
    wait: float = 0.0,
) -> bool:
    """True when funding took the sponsorship (201); False on 409 (e.g. the enrolment not heard yet).
    With `wait` seconds, it is sent again until funding has read the family's enrolment from the
    bus (TimeoutError if it never does)."""

    async def send() -> bool:
        body = {"donor_id": donor_id, "family_id": str(family), "amount_rp": amount_rp, "start_date": on.isoformat()}
        response = await http.post(f"{at}/sponsorships", headers=headers, json=body)
        assert response.status_code in (201, 409), response.text
        return response.status_code == 201

    if not wait:
        return await send()
    return await wait_until(send, wait, interval=0.2, message=f"funding heard of family {family}'s enrolment")
