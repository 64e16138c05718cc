"""Helpers for funding's integration tests: tokens, HTTP shortcuts, and an upstream that publishes
registry and aid envelopes to JetStream as those services would (aid may not exist yet)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import httpx
from fastapi import FastAPI
from nats.js import JetStreamContext

from shared.contracts import Event, aid, registry
from shared.contracts.aid import (
    AidDelivered,
    AidPlanClosed,
    AidPlanCompleted,
    AidPlanOpened,
    DeliveredItem,
    PlanOutcome,
)
from shared.contracts.registry import FamilyEnrolled, FamilyExited
from shared.messaging import MSG_ID_HEADER, Envelope, stream_name
from shared.testing import bearer, facts, wait_until
from shared.testing.apps import InProcess
from shared.testing.bus import envelope_of
from shared.testing.facts import enrolled, exit_of, plan_opened

MEDONO = "33.75.01.1002"
TODAY = date(2025, 7, 1)


def token(role: str, donor_id: UUID | str | None = None, sub: str | None = None) -> dict[str, str]:
    return bearer(role, sub=sub, donor_id=str(donor_id) if donor_id else None)


ADMIN = token("admin")


@dataclass
class Upstream:
    """Publishes other services' facts with consecutive versions per stream, counting what JetStream
    took (a duplicate Nats-Msg-Id is dropped by the stream and never reaches a consumer)."""

    js: JetStreamContext
    versions: dict[UUID, int] = field(default_factory=lambda: defaultdict(int))
    published: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    plans: dict[UUID, UUID] = field(default_factory=dict)  # plan -> family

    def envelope(self, event: Event, version: int | None = None) -> Envelope:
        """The next envelope of the event's stream (or the given version), not yet published."""
        stream_id = event.aggregate_id()
        if version is None:
            self.versions[stream_id] += 1
            version = self.versions[stream_id]
        return envelope_of(event, version, correlation_id=uuid4())

    async def publish(self, envelope: Envelope, msg_id: str | None = None) -> bool:
        """True when JetStream stored it (False: dropped as a duplicate within its window)."""
        cls = aid.CATALOG.classes.get(envelope.event_type) or registry.CATALOG.classes[envelope.event_type]
        context = cls.context
        subject = f"genting.{context}.{cls.aggregate}.{envelope.stream_id}.{envelope.event_type}"
        ack = await self.js.publish(
            subject,
            envelope.to_bytes(),
            stream=stream_name(context),
            timeout=5.0,
            headers={MSG_ID_HEADER: msg_id or str(envelope.event_id)},
        )
        if not ack.duplicate:
            self.published[stream_name(context)] += 1
        return not ack.duplicate

    async def send(self, event: Event) -> Envelope:
        envelope = self.envelope(event)
        await self.publish(envelope)
        return envelope

    # -- the facts funding consumes -------------------------------------------------------------

    def enrolled(self, family_id: UUID, on: date = TODAY, plan_until: date | None = None) -> FamilyEnrolled:
        return enrolled(family_id, on, kelurahan=MEDONO, plan_until=plan_until)

    async def enrol(self, family_id: UUID | None = None, on: date = TODAY, plan_until: date | None = None) -> UUID:
        family_id = family_id or uuid4()
        await self.send(self.enrolled(family_id, on, plan_until))
        return family_id

    def exited(self, family_id: UUID, on: date = TODAY) -> FamilyExited:
        return exit_of(family_id, on, kelurahan=MEDONO)

    def opened(self, family_id: UUID, plan_id: UUID | None = None, budget_rp: int = 2_700_000) -> AidPlanOpened:
        plan_id = plan_id or uuid4()
        self.plans[plan_id] = family_id
        return plan_opened(plan_id, family_id, TODAY, budget_rp=budget_rp, kelurahan=MEDONO)

    def delivered(self, plan_id: UUID, value_rp: int, days: int = 7, delivery_id: UUID | None = None) -> AidDelivered:
        eggs = DeliveredItem(name="telur", quantity=30, unit="butir")
        family = self.plans[plan_id]
        return facts.delivered(plan_id, family, TODAY, days, value_rp, delivery_id=delivery_id, items=[eggs])

    def completed(self, plan_id: UUID) -> AidPlanCompleted:
        return AidPlanCompleted(
            plan_id=plan_id,
            family_id=self.plans[plan_id],
            kelurahan_code=MEDONO,
            completed_on=TODAY,
            delivered_rp=0,
            days_covered=180,
        )

    def closed(self, plan_id: UUID, outcome: PlanOutcome = "completed") -> AidPlanClosed:
        return AidPlanClosed(
            plan_id=plan_id,
            family_id=self.plans[plan_id],
            kelurahan_code=MEDONO,
            outcome=outcome,
            closed_on=TODAY,
            delivered_rp=0,
            unspent_rp=0,
            days_covered=0,
        )

    async def settled(self, app: FastAPI, timeout: float = 15.0) -> None:
        """Every message published so far has been handled by funding's feeds (applied or a duplicate)."""

        def done() -> bool:
            for runner in app.state.runners:
                s = runner.stats
                if s.applied + s.duplicates + s.dead_lettered < self.published[runner.projection.stream]:
                    return False
            return True

        await wait_until(done, timeout, interval=0.002, message="funding's feeds caught up")


@dataclass
class Funding(InProcess):
    """The funding app in-process: its HTTP client, the app, and an upstream to publish facts."""

    upstream: Upstream

    async def count(self, table: str) -> int:
        return int(await self.pool.fetchval(f"select count(*) from {table}"))

    async def donor(self, donor_type: str = "csr", received_rp: int = 0, name: str = "PT Batik Sejahtera") -> UUID:
        response = await self.http.post(
            "/donors", json={"name": name, "donor_type": donor_type, "contact": "csr@batik.example"}, headers=ADMIN
        )
        assert response.status_code == 201, response.text
        donor_id = UUID(response.json()["donor_id"])
        if received_rp:
            assert (await self.contribute(donor_id, received_rp)).status_code == 201
        return donor_id

    async def contribute(
        self, donor_id: UUID, amount: Any, reference: str | None = None, headers: dict[str, str] = ADMIN
    ) -> httpx.Response:
        body = {
            "amount_rp": amount,
            "received_on": TODAY.isoformat(),
            "method": "transfer",
            "reference": reference or f"TRF-{uuid4().hex[:10]}",
        }
        return await self.http.post(f"/donors/{donor_id}/contributions", json=body, headers=headers)

    async def sponsor(self, donor_id: UUID, family_id: UUID, amount: Any, **more: Any) -> httpx.Response:
        """POST /sponsorships starting TODAY; `more` adds or replaces fields (note, dates)."""
        body = {
            "donor_id": str(donor_id),
            "family_id": str(family_id),
            "amount_rp": amount,
            "start_date": TODAY.isoformat(),
        }
        return await self.http.post("/sponsorships", json=body | more, headers=ADMIN)

    async def statement(self, donor_id: UUID) -> dict[str, Any]:
        response = await self.http.get(f"/donors/{donor_id}", headers=ADMIN)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def family(self, family_id: UUID) -> dict[str, Any]:
        response = await self.http.get(f"/families/{family_id}/funding", headers=ADMIN)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


# -- the ledger's invariants, read from the service's own read model ---------------------------------

DONOR_TOTALS = """
select d.donor_id, d.received_rp as received, d.allocated_rp as allocated, d.returned_rp as released,
       d.received_rp - d.allocated_rp as available,
       coalesce(sum(s.drawn_rp), 0)::bigint as drawn,
       coalesce(sum(s.amount_rp - s.drawn_rp - s.released_rp), 0)::bigint as remaining
from donors_view d left join sponsorships_view s on s.donor_id = d.donor_id
where d.donor_id = any($1::uuid[]) group by d.donor_id
"""

FAMILY_TOTALS = """
select family_id, sum(amount_rp)::bigint as sponsored, sum(drawn_rp)::bigint as drawn,
       sum(released_rp)::bigint as released
from sponsorships_view where family_id = any($1::uuid[]) group by family_id
"""

# Every donor and family the service holds, from every example so far: any row here is a broken
# invariant (allocated is net of releases: received = available + allocated; allocated = drawn +
# remaining = sponsored − released, with the donor's side and the sponsorships' side agreeing;
# nothing negative; drawn ≤ sponsored).
VIOLATIONS = """
with s as (select donor_id, sum(amount_rp) as amount, sum(drawn_rp) as drawn, sum(released_rp) as released,
                  min(amount_rp - drawn_rp - released_rp) as least_remaining,
                  min(least(drawn_rp, released_rp)) as least_moved
           from sponsorships_view group by donor_id)
select d.donor_id, 'donor' as kind from donors_view d left join s on s.donor_id = d.donor_id
where d.received_rp - d.allocated_rp < 0
   or d.allocated_rp <> coalesce(s.amount, 0) - coalesce(s.released, 0) or d.returned_rp <> coalesce(s.released, 0)
   or coalesce(s.least_remaining, 0) < 0 or coalesce(s.least_moved, 0) < 0
   or least(d.received_rp, d.allocated_rp, d.returned_rp, d.pledged_rp) < 0
union all
select family_id, 'family' from sponsorships_view group by family_id
having sum(drawn_rp) > sum(amount_rp) or sum(drawn_rp + released_rp) > sum(amount_rp)
"""

# Money still allocated to a family whose plans have all ended: any row is stranded money.
STRANDED = """
select family_id, sum(amount_rp - drawn_rp - released_rp)::bigint as stranded_rp
from sponsorships_view where family_id = any($1::uuid[]) group by family_id
having sum(amount_rp - drawn_rp - released_rp) <> 0
"""
