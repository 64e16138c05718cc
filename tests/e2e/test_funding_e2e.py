"""Funding as a real process over HTTP and NATS: donors give, sponsor a family the registry enrolled,
aid delivers and closes the plan (their envelopes published here, as those services would), and
every donor's statement adds up to the rupiah, across a crash of the funding process."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import nats
import pytest

from shared.auth import issue_token
from shared.contracts import Event
from shared.contracts.aid import AidDelivered, AidPlanClosed
from shared.contracts.registry import (
    MemberSummary,
    Role,
)
from shared.nats_setup import ensure_stream, owned_stream_config
from shared.testing import TEST_SIGNING_KEY, facts, wait_until
from shared.testing.bus import Publisher, messages_when
from shared.testing.funding_http import new_donor, sponsor

pytestmark = pytest.mark.e2e

MEDONO = "33.75.01.1002"
TODAY = date.today()
# The first family's plan ran and closed before today: its unspent money was back before the
# second sponsorship, which is dated today (money counts from the day it is returned).
START = TODAY - timedelta(days=200)


def bearer(role: str, donor_id: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(TEST_SIGNING_KEY, role=role, sub=f'{role}-e2e', donor_id=donor_id)}"}


ADMIN = bearer("admin")


class Bus:
    """Publishes the registry's and aid's facts with consecutive versions per stream."""

    def __init__(self, nats_url: str) -> None:
        self.nats_url = nats_url
        self.versions: dict[UUID, int] = defaultdict(int)

    async def publish(self, *events: Event) -> None:
        nc = await nats.connect(self.nats_url)
        try:
            publisher = Publisher(nc.jetstream(), versions=self.versions)
            for event in events:
                await publisher.emit(event)
        finally:
            await nc.close()

    def enrolment(self, family_id: UUID) -> list[Event]:
        """What the registry publishes from registration to enrolment (funding needs only the last)."""
        baby = MemberSummary(member_id=uuid4(), role="baduta", sex="F", age_months=4)
        counts: dict[Role, int] = {"pregnant_mother": 0, "breastfeeding_mother": 0, "baduta": 1, "other": 0}
        return facts.enrolment(family_id, START, [baby], counts, kelurahan=MEDONO, staff="e2e")


def delivery(plan_id: UUID, family_id: UUID, start: int, days: int, value_rp: int) -> AidDelivered:
    """Food for `days` days handed over on the programme's day `start`."""
    return facts.delivered(plan_id, family_id, START + timedelta(days=start), days, value_rp, kelurahan=MEDONO)


async def test_a_donors_statement_adds_up_after_deliveries_a_crash_and_a_release(
    service_process: Any, nats_url: str
) -> None:
    nc = await nats.connect(nats_url)
    for context in ("registry", "aid"):  # their owners declare these streams; here the test stands in
        await ensure_stream(nc.jetstream(), owned_stream_config(context))
    await nc.close()
    bus = Bus(nats_url)
    funding = await service_process("funding")
    family, plan = uuid4(), uuid4()
    async with httpx.AsyncClient(base_url=funding.url, timeout=10) as http:

        async def donor(donor_type: str, name: str, gift: int) -> str:
            # The treasurer records the money, under a bank reference of its own.
            reference, treasurer = f"BRI-{uuid4().hex[:8]}", bearer("treasurer")
            return await new_donor(
                http, ADMIN, donor_type, gift, START, name=name, reference=reference, recorded_by=treasurer
            )

        batik = await donor("csr", "PT Batik Pesisir", 3_000_000)
        siti = await donor("individual", "Siti Rahmawati", 1_500_000)
        await bus.publish(*bus.enrolment(family))
        assert await sponsor(http, ADMIN, batik, family, 2_000_000, START, wait=30)
        assert await sponsor(http, ADMIN, siti, family, 1_000_000, START)

    # Aid's plan runs while funding is down: the feed picks it all up, once, after the restart.
    funding.kill()
    first_run = funding.output()
    await bus.publish(
        facts.plan_opened(plan, family, START, budget_rp=3_000_000, kelurahan=MEDONO),
        delivery(plan, family, 0, 100, 1_500_000),
        delivery(plan, family, 100, 60, 900_000),
        AidPlanClosed(
            plan_id=plan,
            family_id=family,
            kelurahan_code=MEDONO,
            outcome="incomplete",
            closed_on=START + timedelta(days=180),
            delivered_rp=2_400_000,
            unspent_rp=600_000,
            days_covered=160,
        ),
    )
    funding = await service_process("funding")
    async with httpx.AsyncClient(base_url=funding.url, timeout=10) as http:

        async def settled() -> dict[str, Any] | None:
            body: dict[str, Any] = (await http.get(f"/families/{family}/funding", headers=ADMIN)).json()
            return body if body["remaining_rp"] == 0 else None

        funded = await wait_until(settled, 20, interval=0.2, message="plan drawn and closed")
        assert (funded["sponsored_rp"], funded["drawn_rp"], funded["released_rp"]) == (3_000_000, 2_400_000, 600_000)

        # Oldest sponsorship first: Batik's Rp2.000.000 pays the first delivery and half the second.
        statements = {d: (await http.get(f"/donors/{d}", headers=ADMIN)).json() for d in (batik, siti)}
        figures = ("received_rp", "allocated_rp", "drawn_rp", "released_rp", "remaining_rp", "available_rp")
        assert [statements[batik][k] for k in figures] == [3_000_000, 2_000_000, 2_000_000, 0, 0, 1_000_000]
        assert [statements[siti][k] for k in figures] == [1_500_000, 400_000, 400_000, 600_000, 0, 1_100_000]
        for s in statements.values():
            assert s["received_rp"] == s["available_rp"] + s["allocated_rp"]  # allocated: net of releases
            assert s["allocated_rp"] == s["drawn_rp"] + s["remaining_rp"]
            assert s["families_sponsored"] == 1

        # Siti, with her donor token, sees her own statement and family, and nobody else's.
        mine = bearer("donor", siti)
        own = await http.get(f"/donors/{siti}", headers=mine)
        assert own.status_code == 200 and own.json()["name"] == "Siti Rahmawati"
        assert own.json()["sponsorships"][0]["released_reason"] == "plan_closed"
        assert (await http.get(f"/donors/{batik}", headers=mine)).status_code == 403
        assert [
            s["donor_id"] for s in (await http.get(f"/families/{family}/funding", headers=mine)).json()["sponsorships"]
        ] == [siti]

        # Released money sponsors another family, which exits before any plan: all of it comes back.
        other = uuid4()
        await bus.publish(*bus.enrolment(other))
        assert await sponsor(http, ADMIN, siti, other, 1_100_000, TODAY, wait=30)
        await bus.publish(facts.exit_of(other, TODAY, kelurahan=MEDONO, by="lurah-e2e"))

        async def released() -> dict[str, Any] | None:
            body: dict[str, Any] = (await http.get(f"/donors/{siti}", headers=ADMIN)).json()
            return body if body["released_rp"] == 1_700_000 else None

        siti_now = await wait_until(released, 20, interval=0.2, message="exit released the second sponsorship")
        assert (siti_now["available_rp"], siti_now["allocated_rp"], siti_now["drawn_rp"]) == (
            1_100_000,
            400_000,  # 2.1 jt sponsored − 1.7 jt released
            400_000,
        )

    events = await messages_when(
        nats_url, "GENTING_FUNDING", lambda es: sum(e["event_type"] == "SponsorshipReleased" for e in es) == 2
    )
    kinds = [e["event_type"] for e in events]
    assert kinds.count("SponsorshipDrawn") == 3 and kinds.count("FamilySponsored") == 3
    assert all(e["subject"].endswith(e["event_type"]) and e["subject"].startswith("genting.funding.") for e in events)
    wire = json.dumps(events)
    for personal in ("Siti Rahmawati", "PT Batik Pesisir", "0812-0000-1111"):
        assert personal not in wire
        assert personal not in first_run and personal not in funding.output()
