"""Helpers for aid's tests: tokens, a fake clock, upstream events published as registry and
funding would publish them, and reading what aid put on the bus."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
from nats.js import JetStreamContext

from shared.contracts.base import Event
from shared.contracts.funding import FamilySponsored, SponsorshipDrawn, SponsorshipReleased
from shared.contracts.registry import (
    GrowthMeasured,
    MemberSummary,
    Role,
)
from shared.messaging import Envelope
from shared.testing import bearer, facts, wait_until
from shared.testing.apps import InProcess
from shared.testing.bus import Publisher, declare_streams, stream_messages

MEDONO = "33.75.01.1002"
KAUMAN = "33.75.02.1004"
TODAY = date(2026, 3, 2)
MINIMUM = 2_700_000
EARLIER, MIDDLE = date(2026, 1, 2), date(2026, 2, 2)  # monthly weighings before TODAY
COUNTS: dict[Role, int] = {"pregnant_mother": 0, "breastfeeding_mother": 1, "baduta": 1, "other": 0}


def token(role: str, kelurahan: str | None = None, sub: str | None = None) -> dict[str, str]:
    return bearer(role, sub=sub, kelurahan=kelurahan, donor_id="d-1" if role == "donor" else None)


@dataclass
class FakeClock:
    """`app.state.clock`: today is whatever the test says."""

    today: date = TODAY

    def __call__(self) -> date:
        return self.today

    def advance(self, days: int) -> None:
        self.today += timedelta(days=days)


@dataclass
class Aid(InProcess):
    """The aid app under test, with its HTTP client, fake clock and the upstream publisher."""

    clock: FakeClock
    upstream: Upstream
    js: JetStreamContext


async def declare_upstream_streams(js: JetStreamContext) -> None:
    """What the registry and funding do at their start: declare the streams they own."""
    await declare_streams(js, "registry", "funding")


def _of(s: FamilySponsored) -> dict[str, Any]:
    """Whose money a sponsorship's later events name."""
    return {
        "sponsorship_id": s.sponsorship_id,
        "donor_id": s.donor_id,
        "donor_type": "individual",
        "family_id": s.family_id,
    }


@dataclass
class Upstream(Publisher):
    """Publishes registry and funding events the way their outbox relays do (shared.testing.bus)."""

    def enrolment(self, family_id: UUID, kelurahan: str = MEDONO, on: date = TODAY) -> list[Event]:
        """The registry's history of an enrolled family: registered, verified, enrolled (v1..v3)."""
        members = [
            MemberSummary(member_id=uuid4(), role="breastfeeding_mother", sex="F", age_months=300),
            MemberSummary(member_id=uuid4(), role="baduta", sex="M", age_months=6),
        ]
        return facts.enrolment(family_id, on, members, COUNTS, kelurahan=kelurahan)

    async def enrol(self, family_id: UUID, kelurahan: str = MEDONO, on: date = TODAY) -> None:
        for event in self.enrolment(family_id, kelurahan, on):
            await self.emit(event)

    def sponsorship(
        self,
        family_id: UUID,
        amount_rp: int = MINIMUM,
        start: date = TODAY,
        kelurahan: str = MEDONO,
        sponsorship_id: UUID | None = None,
    ) -> FamilySponsored:
        return facts.sponsored(family_id, amount_rp, start, kelurahan=kelurahan, sponsorship_id=sponsorship_id)

    async def sponsor(
        self, family_id: UUID, amount_rp: int = MINIMUM, start: date = TODAY, kelurahan: str = MEDONO
    ) -> FamilySponsored:
        event = self.sponsorship(family_id, amount_rp, start, kelurahan)
        await self.emit(event)
        return event

    async def draw(self, s: FamilySponsored, amount_rp: int, plan_id: UUID) -> None:
        drawn = {"amount_rp": amount_rp, "delivery_id": uuid4(), "plan_id": plan_id, "drawn_on": TODAY}
        await self.emit(SponsorshipDrawn.model_validate(_of(s) | drawn | {"remaining_rp": s.amount_rp - amount_rp}))

    async def release(self, s: FamilySponsored, amount_rp: int) -> None:
        released = {"amount_rp": amount_rp, "reason": "family_exited", "released_on": TODAY}
        await self.emit(SponsorshipReleased.model_validate(_of(s) | released))

    def measurement(
        self, family_id: UUID, child: UUID, on: date, weight_kg: float, kelurahan: str = MEDONO
    ) -> GrowthMeasured:
        """A weighing as the registry publishes it (the z-scores do not matter to aid)."""
        return GrowthMeasured(
            family_id=family_id,
            measurement_id=uuid4(),
            member_id=child,
            kelurahan_code=kelurahan,
            measured_on=on,
            age_months=8,
            weight_kg=weight_kg,
            length_cm=68.0,
            position="recumbent",
            haz=-1.5,
            waz=-1.0,
            stunted=False,
            severely_stunted=False,
            measured_by="kader-test",
        )

    async def measure(
        self, family_id: UUID, child: UUID, on: date, weight_kg: float, kelurahan: str = MEDONO
    ) -> Envelope:
        return await self.emit(self.measurement(family_id, child, on, weight_kg, kelurahan))

    async def exit(self, family_id: UUID, kelurahan: str = MEDONO, on: date = TODAY) -> None:
        await self.emit(facts.exit_of(family_id, on, kelurahan=kelurahan, by="kader-test"))


async def aid_events(js: JetStreamContext) -> list[dict[str, Any]]:
    """Every message now in GENTING_AID, by sequence, with its subject and Nats-Msg-Id."""
    return await stream_messages(js, "GENTING_AID")


async def wait_events(
    js: JetStreamContext,
    event_type: str,
    count: int = 1,
    timeout: float = 10.0,
) -> list[dict[str, Any]]:
    """Wait until GENTING_AID holds at least `count` events of this type; returns them."""

    async def enough() -> list[dict[str, Any]]:
        found = [e for e in await aid_events(js) if e["event_type"] == event_type]
        return found if len(found) >= count else []

    found: list[dict[str, Any]] = await wait_until(enough, timeout, message=f"{count} × {event_type} on GENTING_AID")
    return found


async def wait_plan(http: httpx.AsyncClient, family_id: UUID, timeout: float = 10.0, **expect: Any) -> dict[str, Any]:
    """Poll GET /plans?family_id= until the family's plan is there (and matches `expect`)."""

    async def ready() -> Any:
        items = (await http.get("/plans", params={"family_id": str(family_id)}, headers=token("admin"))).json()["items"]
        if items and all(items[0][k] == v for k, v in expect.items()):
            return dict(items[0])
        return None

    plan: dict[str, Any] = await wait_until(ready, timeout, message=f"plan of {family_id} {expect or ''}")
    return plan


def delivery(first: date, days: int, value_rp: int | None = None, delivered_on: date = TODAY) -> dict[str, Any]:
    """A delivery body covering `days` days from `first`, worth the minimum unless told."""
    return {
        "period_from": first.isoformat(),
        "period_to": (first + timedelta(days=days - 1)).isoformat(),
        "value_rp": value_rp if value_rp is not None else 15_000 * days,
        "items": [
            {"name": "telur ayam", "quantity": 30, "unit": "butir"},
            {"name": "beras", "quantity": 2.5, "unit": "kg"},
        ],
        "delivered_on": delivered_on.isoformat(),
    }


async def a_family_not_gaining(aid: Aid) -> tuple[UUID, UUID, dict[str, Any]]:
    """(family, child, plan): enrolled and sponsored since EARLIER, its child weighed monthly and
    gaining nothing for two months, so flagged for a home visit on TODAY."""
    family, child = uuid4(), uuid4()
    await aid.upstream.enrol(family, on=EARLIER)
    await aid.upstream.sponsor(family, start=EARLIER)
    plan = await wait_plan(aid.http, family)
    for on, kg in ((EARLIER, 7.5), (MIDDLE, 7.5), (TODAY, 7.4)):
        await aid.upstream.measure(family, child, on, kg)
    return family, child, plan
