"""Aid as a real process over HTTP and NATS: one family from enrolment and sponsorship to a
completed plan, and a crash between a delivery's commit and its publication."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import nats
import pytest
from nats.js import JetStreamContext

from services.aid.settings import AidSettings
from shared.auth import issue_token
from shared.contracts.registry import MemberSummary, Role
from shared.nats_setup import ensure_stream, owned_stream_config
from shared.testing import TEST_SIGNING_KEY, bus, facts, wait_until

pytestmark = pytest.mark.e2e

MEDONO = "33.75.01.1002"
COUNTS: dict[Role, int] = {"pregnant_mother": 1, "breastfeeding_mother": 0, "baduta": 0, "other": 1}


def today() -> date:
    """The service's own clock: the city's calendar day, from the kernel's time zone setting."""
    return AidSettings().clock()()


def bearer(role: str, kelurahan: str | None = None, sub: str | None = None) -> dict[str, str]:
    jwt = issue_token(TEST_SIGNING_KEY, role=role, sub=sub or f"{role}-e2e", kelurahan=kelurahan)
    return {"Authorization": f"Bearer {jwt}"}


class Publisher(bus.Publisher):
    """Registry and funding facts, published as their relays publish them."""

    async def enrol(self, family_id: UUID, on: date) -> None:
        members = [
            MemberSummary(member_id=uuid4(), role="pregnant_mother", sex="F", age_months=290),
            MemberSummary(member_id=uuid4(), role="other", sex="M", age_months=330),
        ]
        for event in facts.enrolment(family_id, on, members, COUNTS, kelurahan=MEDONO, staff="e2e"):
            await self.emit(event)

    async def sponsor(self, family_id: UUID, amount_rp: int, start: date) -> None:
        await self.emit(facts.sponsored(family_id, amount_rp, start, kelurahan=MEDONO, donor_type="csr"))


async def bus_events(js: JetStreamContext) -> list[dict[str, Any]]:
    """What any subscriber to GENTING_AID can read right now."""
    return await bus.stream_messages(js, "GENTING_AID")


async def plan_of(http: httpx.AsyncClient, family_id: UUID, **expect: Any) -> dict[str, Any]:
    async def found() -> Any:
        items = (await http.get("/plans", params={"family_id": str(family_id)}, headers=bearer("admin"))).json()
        plan = items["items"][0] if items["items"] else None
        return plan if plan and all(plan[k] == v for k, v in expect.items()) else None

    plan: dict[str, Any] = await wait_until(found, 20, message=f"plan of {family_id} {expect}")
    return plan


def delivery(first: date, days: int, value_rp: int | None = None, delivered_on: date | None = None) -> dict[str, Any]:
    """Food for `days` days from `first`, handed over on `delivered_on` (default: on `first`)."""
    return {
        "period_from": first.isoformat(),
        "period_to": (first + timedelta(days=days - 1)).isoformat(),
        "value_rp": 15_000 * days if value_rp is None else value_rp,
        "items": [{"name": "telur", "quantity": 30, "unit": "butir"}],
        "delivered_on": (delivered_on or first).isoformat(),
    }


@pytest.fixture
async def js(nats_url: str, js_clean: str) -> Any:
    nc = await nats.connect(js_clean)
    try:
        js = nc.jetstream()
        for context in ("registry", "funding"):  # as their owners declare them at start
            await ensure_stream(js, owned_stream_config(context))
        yield js
    finally:
        await nc.close()


async def test_a_family_from_sponsorship_to_a_completed_plan(service_process: Any, js: JetStreamContext) -> None:
    aid = await service_process("aid")
    publisher, family = Publisher(js), uuid4()
    # A programme entered late, in order: the real clock cannot move, so the family was
    # enrolled and sponsored 190 days ago and each delivery is recorded with its own day. The clock
    # step (every minute) must not end the plan while the records have not passed its last day.
    start = today() - timedelta(days=190)
    await publisher.enrol(family, start)
    await publisher.sponsor(family, 1_500_000, start)
    await publisher.sponsor(family, 1_500_000, start)
    kader, lurah = bearer("kader", MEDONO), bearer("lurah", MEDONO, sub="lurah-medono")

    async with httpx.AsyncClient(base_url=aid.url, timeout=10) as http:
        plan = await plan_of(http, family)
        assert (plan["status"], plan["budget_rp"], plan["start_date"]) == ("active", 3_000_000, start.isoformat())
        deliveries = f"/plans/{plan['plan_id']}/deliveries"

        def day(n: int) -> date:
            return start + timedelta(days=n - 1)

        under = await http.post(deliveries, json=delivery(day(1), 7, value_rp=104_999), headers=kader)
        assert under.status_code == 422 and under.json()["errors"][0]["field"] == "value_rp"
        first = await http.post(deliveries, json=delivery(day(1), 14), headers=kader)
        assert first.status_code == 201, first.text
        overlap = await http.post(deliveries, json=delivery(day(14), 7), headers=kader)
        assert overlap.status_code == 409
        after_gap = await http.post(deliveries, json=delivery(day(25), 14), headers=kader)
        assert after_gap.status_code == 201
        assert (await plan_of(http, family))["gaps"] == [{"from": day(15).isoformat(), "to": day(24).isoformat()}]

        confirmed = await http.post(
            f"/deliveries/{first.json()['delivery_id']}/confirmation",
            json={"photo_ref": "minio://proof/medono/first.jpg", "confirmed_on": day(2).isoformat()},
            headers=lurah,
        )
        assert confirmed.status_code == 200, confirmed.text
        late = await http.post(deliveries, json=delivery(day(15), 10), headers=kader)  # recorded late
        assert late.status_code == 201
        fortnights = range(39, 181, 14)  # the rest, a fortnight at a time: days 39-180
        for first_day in fortnights:
            last = await http.post(deliveries, json=delivery(day(first_day), min(14, 181 - first_day)), headers=kader)
            assert last.status_code == 201, last.text
        assert last.json()["plan_status"] == "completed"
        done = await plan_of(http, family, status="completed")
        assert (done["days_covered"], done["delivered_rp"], done["unspent_rp"], done["gaps"]) == (
            180,
            2_700_000,
            300_000,
            [],
        )

    events = await bus.messages_when(
        js, "GENTING_AID", lambda es: bool(es) and es[-1]["event_type"] == "AidPlanClosed", 20
    )
    assert [e["event_type"] for e in events] == [
        "AidPlanOpened",
        "AidDelivered",
        "CoverageGapDetected",
        "AidDelivered",
        "DeliveryConfirmed",
        "AidDelivered",
        *["AidDelivered"] * len(fortnights),
        "AidPlanCompleted",
        "AidPlanClosed",
    ]
    assert [e["stream_version"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["msg_id"] == e["event_id"] for e in events)
    assert events[-1]["data"]["outcome"] == "completed" and events[-1]["data"]["unspent_rp"] == 300_000
    assert "kader-e2e" not in json.dumps(events)  # who recorded the deliveries stays in aid


async def test_a_delivery_committed_but_unpublished_when_aid_is_killed_is_published_once_and_drawn(
    service_process: Any, js: JetStreamContext
) -> None:
    """Relay off: the delivery is committed and held in the outbox; SIGKILL; restart with the
    relay on. The event reaches the bus exactly once, and funding draws it exactly once."""
    funding = await service_process("funding")
    aid = await service_process("aid", env={"GENTING_RELAY_ENABLED": "false"})
    publisher, family, admin = Publisher(js), uuid4(), bearer("admin")
    await publisher.enrol(family, today())

    async with httpx.AsyncClient(base_url=funding.url, timeout=10, headers=admin) as money:
        donor = (await money.post("/donors", json={"name": "PT Batik Sejahtera", "donor_type": "csr"})).json()
        received = await money.post(
            f"/donors/{donor['donor_id']}/contributions",
            json={
                "amount_rp": 3_000_000,
                "received_on": today().isoformat(),
                "method": "transfer",
                "reference": "TRF-1",
            },
        )
        assert received.status_code == 201, received.text
        sponsorship = {
            "donor_id": donor["donor_id"],
            "family_id": str(family),
            "amount_rp": 2_700_000,
            "start_date": today().isoformat(),
        }

        async def sponsored() -> bool:  # 409 until funding has consumed the enrolment
            return (await money.post("/sponsorships", json=sponsorship)).status_code == 201

        await wait_until(sponsored, 20, interval=0.2, message="funding sponsors the enrolled family")

    async with httpx.AsyncClient(base_url=aid.url, timeout=10) as http:
        plan = await plan_of(http, family)
        response = await http.post(
            f"/plans/{plan['plan_id']}/deliveries", json=delivery(today(), 7), headers=bearer("kader", MEDONO)
        )
        assert response.status_code == 201, response.text
        delivery_id = response.json()["delivery_id"]

    conn = await asyncpg.connect(aid.database_url)
    try:
        held = await conn.fetch("select subject from outbox where published_at is null order by id")
        assert [r["subject"].rsplit(".", 1)[1] for r in held] == ["AidPlanOpened", "AidDelivered"]
    finally:
        await conn.close()
    assert await bus_events(js) == []

    aid.kill()  # SIGKILL: committed, not published
    aid = await service_process("aid")

    async def drawn() -> dict[str, Any] | None:
        async with httpx.AsyncClient(base_url=funding.url, timeout=10) as money:
            body = (await money.get(f"/families/{family}/funding", headers=admin)).json()
        return body if body.get("drawn_rp") else None

    funded = await wait_until(drawn, 20, message="funding drew the delivery")
    assert (funded["drawn_rp"], funded["remaining_rp"]) == (105_000, 2_700_000 - 105_000)
    events = await bus_events(js)
    assert [e["event_type"] for e in events] == ["AidPlanOpened", "AidDelivered"]
    assert events[1]["data"]["delivery_id"] == delivery_id
    conn = await asyncpg.connect(aid.database_url)
    try:
        assert await conn.fetchval("select count(*) from outbox where published_at is null") == 0
    finally:
        await conn.close()
