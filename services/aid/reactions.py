"""The process manager: registry and funding events into aid's own knowledge of families, and
the plan decisions they lead to (open, raise the budget, close on exit); children's weights into
home visits (`home_visits.GrowthWatch`).

Each `apply` runs inside the projection runner's batch transaction, so a plan event appended
here commits (or not) together with the version gate: exactly once under redelivery. An
enrolment and a sponsorship arrive on two consumers in two transactions; both lock the family's
row before deciding, so whichever commits second sees both facts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from uuid import UUID

import asyncpg
import structlog

from services.aid.domain.plan_model import CloseForExit, Policy, ReviewFunding, Sponsorship, plan_id_for
from services.aid.home_visits import GrowthWatch
from services.aid.repository import PlanRepository
from shared.contracts import funding, registry
from shared.eventstore import Metadata
from shared.messaging import Envelope, stream_name

log = structlog.get_logger()


def _meta(envelope: Envelope) -> Metadata:
    """A reaction's events are caused by the upstream event and keep its correlation."""
    return Metadata(
        occurred_at=datetime.now(UTC),
        correlation_id=envelope.correlation_id or envelope.event_id,
        causation_id=envelope.event_id,
    )


class FamilyDecisions:
    """What both reactions do once their own fact is stored: lock the family, then decide."""

    def __init__(self, plans: PlanRepository, policy: Policy, today: Callable[[], date]) -> None:
        self.plans = plans
        self.policy = policy
        self.today = today

    async def lock_family(self, conn: asyncpg.Connection, family_id: UUID) -> asyncpg.Record:
        await conn.execute("insert into aid_families (family_id) values ($1) on conflict do nothing", family_id)
        row: asyncpg.Record = await conn.fetchrow(
            "select * from aid_families where family_id = $1 for update", family_id
        )
        return row

    async def review(self, conn: asyncpg.Connection, family: asyncpg.Record, envelope: Envelope) -> None:
        family_id: UUID = family["family_id"]
        rows = await conn.fetch(
            "select sponsorship_id, amount_rp - released_rp as left_rp, start_date from aid_sponsorships"
            " where family_id = $1 and amount_rp > released_rp",
            family_id,
        )
        command = ReviewFunding(
            plan_id=plan_id_for(family_id),
            family_id=family_id,
            kelurahan_code=family["kelurahan_code"] or "",
            enrolled_on=family["enrolled_on"],
            exited=family["exited_on"] is not None,
            sponsorships=tuple(Sponsorship(r["sponsorship_id"], r["left_rp"], r["start_date"]) for r in rows),
            policy=self.policy,
            today=self.today(),
        )
        _, facts = await self.plans.execute(conn, command.plan_id, command, _meta(envelope))
        for fact in facts:
            log.info("plan_funding_reviewed", plan_id=str(command.plan_id), event_type=fact.event.event_type)


class RegistryReactions:
    """FamilyEnrolled, FamilyExited and GrowthMeasured. Every event of a family stream is consumed
    (the version gate needs each version); the other types are ignored."""

    name = "aid-registry"
    stream = stream_name("registry")
    filter_subjects: Sequence[str] = ("genting.registry.family.>",)
    tables: Sequence[str] = ("aid_families", "aid_growth")

    def __init__(self, decisions: FamilyDecisions, growth: GrowthWatch) -> None:
        self.decisions = decisions
        self.growth = growth

    async def apply(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        if envelope.event_type == registry.FamilyEnrolled.event_type:
            enrolled = registry.CATALOG.parse(envelope.event_type, envelope.schema_version, envelope.data)
            assert isinstance(enrolled, registry.FamilyEnrolled)
            await self.decisions.lock_family(conn, enrolled.family_id)
            family = await conn.fetchrow(
                "update aid_families set kelurahan_code = $2, enrolled_on = $3, member_counts = $4"
                " where family_id = $1 returning *",
                enrolled.family_id,
                enrolled.kelurahan_code,
                enrolled.enrolled_on,
                dict(enrolled.member_counts),
            )
            await self.decisions.review(conn, family, envelope)
        elif envelope.event_type == registry.FamilyExited.event_type:
            exited = registry.CATALOG.parse(envelope.event_type, envelope.schema_version, envelope.data)
            assert isinstance(exited, registry.FamilyExited)
            await self.decisions.lock_family(conn, exited.family_id)
            await conn.execute(
                "update aid_families set kelurahan_code = coalesce(kelurahan_code, $2), exited_on = $3,"
                " exit_reason = $4 where family_id = $1",
                exited.family_id,
                exited.kelurahan_code,
                exited.exited_on,
                exited.reason,
            )
            plan_id = plan_id_for(exited.family_id)
            _, facts = await self.decisions.plans.execute(
                conn, plan_id, CloseForExit(plan_id, exited.exited_on), _meta(envelope)
            )
            if facts:
                log.info("plan_closed_for_exit", plan_id=str(plan_id))
        elif envelope.event_type == registry.GrowthMeasured.event_type:
            measured = registry.CATALOG.parse(envelope.event_type, envelope.schema_version, envelope.data)
            assert isinstance(measured, registry.GrowthMeasured)
            family = await self.decisions.lock_family(conn, measured.family_id)
            await self.growth.judge(conn, family, measured, envelope.stream_version, _meta(envelope))


class FundingReactions:
    """FamilySponsored and SponsorshipReleased; SponsorshipDrawn (funding's answer to our
    deliveries) and anything newer on a sponsorship stream are ignored."""

    name = "aid-funding"
    stream = stream_name("funding")
    filter_subjects: Sequence[str] = ("genting.funding.sponsorship.>",)
    tables: Sequence[str] = ("aid_sponsorships",)

    def __init__(self, decisions: FamilyDecisions) -> None:
        self.decisions = decisions

    async def apply(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        if envelope.event_type == funding.FamilySponsored.event_type:
            sponsored = funding.CATALOG.parse(envelope.event_type, envelope.schema_version, envelope.data)
            assert isinstance(sponsored, funding.FamilySponsored)
            await conn.execute(
                "insert into aid_sponsorships (sponsorship_id, family_id, amount_rp, start_date, sponsored_on)"
                " values ($1, $2, $3, $4, $5) on conflict do nothing",
                sponsored.sponsorship_id,
                sponsored.family_id,
                sponsored.amount_rp,
                sponsored.start_date,
                sponsored.sponsored_on,
            )
            family = await self.decisions.lock_family(conn, sponsored.family_id)
            await self.decisions.review(conn, family, envelope)
        elif envelope.event_type == funding.SponsorshipReleased.event_type:
            released = funding.CATALOG.parse(envelope.event_type, envelope.schema_version, envelope.data)
            assert isinstance(released, funding.SponsorshipReleased)
            # Released money no longer counts towards opening a plan; an open plan keeps its budget.
            await conn.execute(
                "update aid_sponsorships set released_rp = least(amount_rp, released_rp + $2)"
                " where sponsorship_id = $1",
                released.sponsorship_id,
                released.amount_rp,
            )
