"""Helpers for aid's tests: tokens, a fake clock, upstream events published as registry and
funding would publish them, and reading what aid put on the bus."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
from fastapi import FastAPI
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from shared.auth import issue_token
from shared.contracts.base import Event
from shared.contracts.funding import FamilySponsored, SponsorshipDrawn, SponsorshipReleased
from shared.contracts.registry import (
    FamilyEnrolled,
    FamilyExited,
    FamilyRegistered,
    FamilyVerified,
    GrowthMeasured,
    MemberSummary,
    Role,
)
from shared.messaging import MSG_ID_HEADER, Envelope, stream_name
from shared.nats_setup import ensure_stream, owned_stream_config
from shared.testing import TEST_SIGNING_KEY, wait_until

MEDONO = "33.75.01.1002"
KAUMAN = "33.75.02.1004"
TODAY = date(2026, 3, 2)
MINIMUM = 2_700_000
COUNTS: dict[Role, int] = {"pregnant_mother": 0, "breastfeeding_mother": 1, "baduta": 1, "other": 0}


def token(role: str, kelurahan: str | None = None, sub: str | None = None) -> dict[str, str]:
    jwt = issue_token(
        TEST_SIGNING_KEY,
        role=role,
        sub=sub or f"{role}-test",
        kelurahan=kelurahan,
        donor_id="d-1" if role == "donor" else None,
    )
    return {"Authorization": f"Bearer {jwt}"}


@dataclass
class FakeClock:
    """`app.state.clock`: today is whatever the test says."""

    today: date = TODAY

    def __call__(self) -> date:
        return self.today

    def advance(self, days: int) -> None:
        self.today += timedelta(days=days)


@dataclass
class Aid:
    """The aid app under test, with its HTTP client, fake clock and the upstream publisher."""

    http: httpx.AsyncClient
    app: FastAPI
    clock: FakeClock
    upstream: Upstream
    js: JetStreamContext

    @property
    def pool(self) -> asyncpg.Pool:
        pool: asyncpg.Pool = self.app.state.pool
        return pool


async def declare_upstream_streams(js: JetStreamContext) -> None:
    """What the registry and funding do at their start: declare the streams they own."""
    for context in ("registry", "funding"):
        await ensure_stream(js, owned_stream_config(context))


@dataclass
class Upstream:
    """Publishes registry and funding events the way their outbox relays do: subject from the
    event, `Nats-Msg-Id` = event id, consecutive versions per stream."""

    js: JetStreamContext
    versions: dict[UUID, int] = field(default_factory=lambda: defaultdict(int))

    def envelope(self, event: Event) -> Envelope:
        stream_id = event.aggregate_id()
        self.versions[stream_id] += 1
        return Envelope(
            event_id=uuid4(),
            event_type=event.event_type,
            schema_version=event.schema_version,
            stream_id=stream_id,
            stream_version=self.versions[stream_id],
            occurred_at=datetime.now(UTC),
            correlation_id=uuid4(),
            data=event.model_dump(mode="json"),
        )

    async def publish(self, env: Envelope, subject: str, msg_id: str | None = None) -> None:
        context = subject.split(".")[1]
        await self.js.publish(
            subject,
            env.to_bytes(),
            stream=stream_name(context),
            timeout=5.0,
            headers={MSG_ID_HEADER: msg_id or str(env.event_id)},
        )

    async def emit(self, event: Event) -> Envelope:
        env = self.envelope(event)
        await self.publish(env, event.subject())
        return env

    def enrolment(self, family_id: UUID, kelurahan: str = MEDONO, on: date = TODAY) -> list[Event]:
        """The registry's history of an enrolled family: registered, verified, enrolled (v1..v3)."""
        members = [
            MemberSummary(member_id=uuid4(), role="breastfeeding_mother", sex="F", age_months=300),
            MemberSummary(member_id=uuid4(), role="baduta", sex="M", age_months=6),
        ]
        return [
            FamilyRegistered(
                family_id=family_id,
                kelurahan_code=kelurahan,
                kecamatan_code=kelurahan[:8],
                members=members,
                member_counts=COUNTS,
                risk_factors=["poor"],
                registered_on=on,
                registered_by="kader-test",
            ),
            FamilyVerified(family_id=family_id, kelurahan_code=kelurahan, verified_on=on, verified_by="lurah-test"),
            FamilyEnrolled(
                family_id=family_id,
                kelurahan_code=kelurahan,
                kecamatan_code=kelurahan[:8],
                member_counts=COUNTS,
                risk_factors=["poor"],
                enrolled_on=on,
            ),
        ]

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
        return FamilySponsored(
            sponsorship_id=sponsorship_id or uuid4(),
            donor_id=uuid4(),
            donor_type="individual",
            family_id=family_id,
            amount_rp=amount_rp,
            start_date=start,
            kelurahan_code=kelurahan,
            sponsored_on=start,
        )

    async def sponsor(
        self, family_id: UUID, amount_rp: int = MINIMUM, start: date = TODAY, kelurahan: str = MEDONO
    ) -> FamilySponsored:
        event = self.sponsorship(family_id, amount_rp, start, kelurahan)
        await self.emit(event)
        return event

    async def draw(self, s: FamilySponsored, amount_rp: int, plan_id: UUID) -> None:
        await self.emit(
            SponsorshipDrawn(
                sponsorship_id=s.sponsorship_id,
                donor_id=s.donor_id,
                donor_type="individual",
                family_id=s.family_id,
                amount_rp=amount_rp,
                delivery_id=uuid4(),
                plan_id=plan_id,
                drawn_on=TODAY,
                remaining_rp=s.amount_rp - amount_rp,
            )
        )

    async def release(self, s: FamilySponsored, amount_rp: int) -> None:
        await self.emit(
            SponsorshipReleased(
                sponsorship_id=s.sponsorship_id,
                donor_id=s.donor_id,
                donor_type="individual",
                family_id=s.family_id,
                amount_rp=amount_rp,
                reason="family_exited",
                released_on=TODAY,
            )
        )

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
        await self.emit(
            FamilyExited(
                family_id=family_id,
                kelurahan_code=kelurahan,
                reason="moved_away",
                exited_on=on,
                previous_status="enrolled",
                exited_by="kader-test",
            )
        )


async def aid_events(js: JetStreamContext) -> list[dict[str, Any]]:
    """Every message now in GENTING_AID, by sequence, with its subject and Nats-Msg-Id."""
    try:
        state = (await js.stream_info("GENTING_AID")).state
    except NotFoundError:
        return []
    out = []
    for seq in range(state.first_seq, state.last_seq + 1) if state.messages else ():
        msg = await js.get_msg("GENTING_AID", seq)
        out.append(
            {"subject": msg.subject, "msg_id": (msg.headers or {}).get(MSG_ID_HEADER), **json.loads(msg.data or b"{}")}
        )
    return out


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
