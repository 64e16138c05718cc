"""A Maluku deployment across the four services as real processes, over HTTP and NATS only
(DOMAIN.md: Rp20,000 of food + Rp5,000 of distribution a day, both configuration): the plan opens
only once the sponsorships pay both for every day, a delivery's distribution is computed beside
the food it records, funding draws both, and every figure shows the distribution apart."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from shared.auth import issue_token
from shared.testing import TEST_SIGNING_KEY, wait_until
from shared.testing.registry_examples import family_body

pytestmark = pytest.mark.e2e

MEDONO = "33.75.01.1002"
SERVICES = ("registry", "funding", "aid", "reporting")
MALUKU = {"GENTING_DAILY_MINIMUM_RP": "20000", "GENTING_DISTRIBUTION_COST_RP": "5000", "GENTING_PLAN_DAYS": "180"}
MINIMUM = (20_000 + 5_000) * 180  # Rp4,500,000


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Jakarta")).date()


def bearer(role: str, kelurahan: str | None = None) -> dict[str, str]:
    token = issue_token(TEST_SIGNING_KEY, role=role, sub=f"{role}-distribution-e2e", kelurahan=kelurahan)
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer("admin")


@pytest.fixture
async def urls(service_process: Any) -> dict[str, str]:
    env = {"GENTING_PROGRAMME_START": (today() - timedelta(days=30)).isoformat(), **MALUKU}
    started = await asyncio.gather(*(service_process(name, env=env) for name in SERVICES))
    return {svc.name: svc.url for svc in started}


async def test_a_maluku_plan_pays_food_and_distribution_and_every_figure_shows_them_apart(
    urls: dict[str, str],
) -> None:
    kader, lurah = bearer("kader", MEDONO), bearer("lurah", MEDONO)
    day = today()
    registry, funding, aid, reporting = (urls[name] for name in SERVICES)
    async with httpx.AsyncClient(timeout=15) as http:
        registered = await http.post(f"{registry}/families", json=family_body(5005, day, MEDONO), headers=kader)
        assert registered.status_code == 201, registered.text
        family_id = registered.json()["family_id"]
        verified = await http.post(
            f"{registry}/families/{family_id}/verification", json={"decision": "approve"}, headers=lurah
        )
        assert verified.json()["status"] == "enrolled"

        created = await http.post(
            f"{funding}/donors", json={"name": "PT Laut Banda", "donor_type": "csr", "contact": None}, headers=ADMIN
        )
        donor_id = created.json()["donor_id"]
        given = await http.post(
            f"{funding}/donors/{donor_id}/contributions",
            headers=bearer("treasurer"),
            json={"amount_rp": 5_000_000, "received_on": day.isoformat(), "method": "transfer", "reference": "TRF-1"},
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

        # Enough for 180 days of food alone (Rp3,600,000), not for its distribution too.
        await wait_until(lambda: sponsor(4_000_000), 20, interval=0.1, message="funding knows the family")

        async def gap_known() -> dict[str, Any] | None:
            body: dict[str, Any] = (await http.get(f"{reporting}/funding")).json()
            return body if body["funding_gap_rp"] == MINIMUM - 4_000_000 else None

        money = await wait_until(gap_known, 30, interval=0.2, message="reporting measures the gap with distribution")
        assert (money["family_minimum_rp"], money["families_short"]) == (MINIMUM, 1)
        plans = f"{aid}/plans"
        assert (await http.get(plans, params={"family_id": family_id}, headers=ADMIN)).json()["items"] == []

        assert await sponsor(MINIMUM - 4_000_000)

        async def plan() -> dict[str, Any] | None:
            items = (await http.get(plans, params={"family_id": family_id}, headers=ADMIN)).json()["items"]
            return items[0] if items else None

        opened = await wait_until(plan, 20, interval=0.1, message="aid opens the plan at food + distribution")
        assert (opened["budget_rp"], opened["daily_minimum_rp"], opened["distribution_daily_rp"]) == (
            MINIMUM,
            20_000,
            5_000,
        )
        start = date.fromisoformat(opened["start_date"])

        def five_days(value: int) -> dict[str, Any]:
            return {
                "period_from": start.isoformat(),
                "period_to": (start + timedelta(days=4)).isoformat(),
                "value_rp": value,
                "items": [{"name": "telur ayam", "quantity": 30.0, "unit": "butir"}],
                "delivered_on": day.isoformat(),
            }

        deliveries = f"{aid}/plans/{opened['plan_id']}/deliveries"
        short = await http.post(deliveries, json=five_days(99_999), headers=kader)  # under the food minimum
        assert short.status_code == 422 and short.json()["errors"][0]["field"] == "value_rp"
        recorded = await http.post(deliveries, json=five_days(100_000), headers=kader)
        assert recorded.status_code == 201, recorded.text
        answer = recorded.json()
        assert (answer["delivered_rp"], answer["distribution_rp"], answer["remaining_rp"]) == (
            100_000,
            25_000,
            MINIMUM - 125_000,
        )

        detail = (await http.get(f"{plans}/{opened['plan_id']}", headers=ADMIN)).json()
        assert (detail["delivered_rp"], detail["distribution_rp"], detail["remaining_rp"]) == (
            100_000,
            25_000,
            MINIMUM - 125_000,
        )
        [delivery] = detail["deliveries"]
        assert (delivery["value_rp"], delivery["distribution_rp"]) == (100_000, 25_000)

        # Funding draws the food and its distribution, and says which is which.
        async def drawn() -> dict[str, Any] | None:
            body: dict[str, Any] = (await http.get(f"{funding}/families/{family_id}/funding", headers=ADMIN)).json()
            return body if body["drawn_rp"] == 125_000 else None

        funded = await wait_until(drawn, 20, interval=0.1, message="funding draws food and distribution")
        assert (funded["drawn_distribution_rp"], funded["remaining_rp"]) == (25_000, MINIMUM - 125_000)
        statement = (await http.get(f"{funding}/donors/{donor_id}", headers=ADMIN)).json()
        assert (statement["drawn_rp"], statement["drawn_food_rp"], statement["drawn_distribution_rp"]) == (
            125_000,
            100_000,
            25_000,
        )

        # Reporting, from events only: the food and its distribution apart, and every rupiah drawn.
        async def reported() -> tuple[dict[str, Any], dict[str, Any]] | None:
            given = (await http.get(f"{reporting}/aid")).json()
            money = (await http.get(f"{reporting}/funding")).json()
            done = given["deliveries"] == 1 and given["drawn_rp"] == 125_000 and money["drawn_rp"] == 125_000
            return (given, money) if done else None

        given, money = await wait_until(reported, 30, interval=0.2, message="reporting catches up")
        assert (given["delivered_rp"], given["distribution_rp"], given["drawn_distribution_rp"]) == (
            100_000,
            25_000,
            25_000,
        )
        assert given["delivered_rp"] + given["distribution_rp"] == given["drawn_rp"] + given["unfunded_rp"]
        assert (money["drawn_distribution_rp"], money["funding_gap_rp"]) == (25_000, 0)
        dashboard = (await http.get(f"{reporting}/")).text
        assert 'data-metric="aid.distribution_rp" data-value="25000"' in dashboard
        assert 'data-metric="funding.drawn_distribution_rp" data-value="25000"' in dashboard
