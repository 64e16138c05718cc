"""A programme whose plans run until the child is 23 months (GENTING_PLAN_UNTIL_CHILD_MONTHS=23 on
the registry), across the four services as real processes, over HTTP and NATS only: the family's
minimum is its days from enrolment to its youngest baduta's 23-month birthday, the fixed days'
minimum opens no plan, the plan ends the day before that birthday, and reporting's funding gap is
that family's own minimum until it is sponsored."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.registry.domain.validation import add_months
from shared.auth import issue_token
from shared.testing import TEST_SIGNING_KEY, wait_until
from shared.testing.registry_examples import family_body

pytestmark = pytest.mark.e2e

MEDONO = "33.75.01.1002"
SERVICES = ("registry", "funding", "aid", "reporting")
FIXED_MINIMUM_RP = 180 * 15_000


def bearer(role: str, kelurahan: str | None = None) -> dict[str, str]:
    token = issue_token(TEST_SIGNING_KEY, role=role, sub=f"{role}-plan-until-e2e", kelurahan=kelurahan)
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer("admin")


@pytest.fixture
async def urls(service_process: Any) -> dict[str, str]:
    today = datetime.now(ZoneInfo("Asia/Jakarta")).date()
    common = {"GENTING_PROGRAMME_START": (today - timedelta(days=30)).isoformat()}
    env = {name: common for name in SERVICES} | {"registry": {**common, "GENTING_PLAN_UNTIL_CHILD_MONTHS": "23"}}
    started = await asyncio.gather(*(service_process(name, env=env[name]) for name in SERVICES))
    return {svc.name: svc.url for svc in started}


async def test_a_family_is_planned_until_its_baduta_is_23_months(urls: dict[str, str]) -> None:
    registry, funding, aid, reporting = (urls[name] for name in SERVICES)
    day = datetime.now(ZoneInfo("Asia/Jakarta")).date()
    body = family_body(4343, day, MEDONO)
    born = date.fromisoformat(body["members"][1]["birth_date"])
    plan_until = add_months(born, 23)
    days = (plan_until - day).days  # enrolled today
    minimum = days * 15_000
    assert minimum > FIXED_MINIMUM_RP
    async with httpx.AsyncClient(timeout=15) as http:
        registered = await http.post(f"{registry}/families", json=body, headers=bearer("kader", MEDONO))
        assert registered.status_code == 201, registered.text
        family_id = registered.json()["family_id"]
        verified = await http.post(
            f"{registry}/families/{family_id}/verification",
            json={"decision": "approve"},
            headers=bearer("lurah", MEDONO),
        )
        assert verified.json()["status"] == "enrolled"

        async def gap() -> dict[str, Any] | None:
            money: dict[str, Any] = (await http.get(f"{reporting}/funding")).json()
            return money if money["families_short"] == 1 else None

        money = await wait_until(gap, 20, interval=0.2, message="reporting reads the enrolment")
        assert (money["funding_gap_rp"], money["family_minimum_rp"]) == (minimum, FIXED_MINIMUM_RP)

        created = await http.post(
            f"{funding}/donors", json={"name": "PT Batik", "donor_type": "csr", "contact": None}, headers=ADMIN
        )
        donor_id = created.json()["donor_id"]
        given = await http.post(
            f"{funding}/donors/{donor_id}/contributions",
            headers=bearer("treasurer"),
            json={"amount_rp": minimum, "received_on": day.isoformat(), "method": "transfer", "reference": "TRF-1"},
        )
        assert given.status_code == 201, given.text

        async def sponsor(amount: int) -> bool:  # 409 until funding has read the enrolment
            response = await http.post(
                f"{funding}/sponsorships",
                headers=ADMIN,
                json={"donor_id": donor_id, "family_id": family_id, "amount_rp": amount, "start_date": day.isoformat()},
            )
            assert response.status_code in (201, 409), response.text
            return response.status_code == 201

        await wait_until(lambda: sponsor(FIXED_MINIMUM_RP), 20, interval=0.1, message="funding knows the family")

        async def plans() -> list[dict[str, Any]]:
            found = await http.get(f"{aid}/plans", params={"family_id": family_id}, headers=ADMIN)
            items: list[dict[str, Any]] = found.json()["items"]
            return items

        async def sponsored_seen() -> bool:
            money = (await http.get(f"{reporting}/funding")).json()
            return bool(money["funding_gap_rp"] == minimum - FIXED_MINIMUM_RP)

        # The fixed days' minimum is not this family's: no plan opens from it.
        await wait_until(sponsored_seen, 20, interval=0.2, message="reporting reads the sponsorship")
        assert await plans() == []

        assert await sponsor(minimum - FIXED_MINIMUM_RP)

        async def opened() -> dict[str, Any] | None:
            items = await plans()
            return items[0] if items else None

        plan = await wait_until(opened, 20, interval=0.1, message="aid opens the family's plan")
        assert (plan["start_date"], plan["end_date"], plan["days"]) == (
            day.isoformat(),
            (plan_until - timedelta(days=1)).isoformat(),
            days,
        )
        assert plan["budget_rp"] == minimum

        async def no_gap() -> bool:
            money = (await http.get(f"{reporting}/funding")).json()
            return bool(money["funding_gap_rp"] == 0 and money["families_short"] == 0)

        await wait_until(no_gap, 20, interval=0.2, message="reporting counts the family funded")
