"""Aid's reactions to other services' events (the process manager): a registry or funding event
is recorded in aid's own knowledge of families (lookups.py) and becomes the command that follows
(open a plan or raise its budget, close it on exit, flag a child for a home visit), run by the
handlers.

Each `apply` runs inside the projection runner's batch transaction, so a plan event appended
here commits (or not) together with the version gate: exactly once under redelivery. An
enrolment and a sponsorship arrive on two consumers in two transactions; both lock the family's
row before deciding, so whichever commits second sees both facts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from uuid import UUID

import asyncpg
import structlog

from services.aid import lookups
from services.aid.domain import (
    CloseForExit,
    FlagHomeVisit,
    Measurement,
    PlanRules,
    ReviewFunding,
    flags_due,
    plan_id_for,
)
from services.aid.handlers import Handlers
from shared.contracts import funding, registry
from shared.eventstore import Metadata
from shared.messaging import Envelope, stream_name

log = structlog.get_logger()


class Families:
    """What both policies do once their own fact is stored: lock the family, then review its plan."""

    def __init__(self, handlers: Handlers, rules: PlanRules, today: Callable[[], date]) -> None:
        self.handlers = handlers
        self.rules = rules
        self.today = today

    async def lock(self, conn: asyncpg.Connection, family_id: UUID) -> asyncpg.Record:
        return await lookups.lock_family(conn, family_id)

    async def review(self, conn: asyncpg.Connection, family: asyncpg.Record, envelope: Envelope) -> None:
        family_id: UUID = family["family_id"]
        command = ReviewFunding(
            plan_id=plan_id_for(family_id),
            family_id=family_id,
            kelurahan_code=family["kelurahan_code"] or "",
            enrolled_on=family["enrolled_on"],
            exited=family["exited_on"] is not None,
            sponsorships=await lookups.open_sponsorships(conn, family_id),
            rules=self.rules,
            today=self.today(),
            eligible=family["eligible"],
            plan_until=family["plan_until"],
        )
        for fact in await self.handlers.review_funding(conn, command, Metadata.caused_by(envelope)):
            log.info("plan_funding_reviewed", plan_id=str(command.plan_id), event_type=fact.event.event_type)


class RegistryPolicy:
    """FamilyEnrolled, FamilyExited, FamilyEligibilityChanged, GrowthMeasured and PersonalDataErased.
    Every event of a family stream is consumed (the version gate needs each version); the other
    types are ignored."""

    name = "aid-registry"
    stream = stream_name("registry")
    filter_subjects: Sequence[str] = ("genting.registry.family.>",)
    tables: Sequence[str] = ("aid_families", "aid_growth")

    def __init__(self, families: Families) -> None:
        self.families = families
        self.handlers = families.handlers

    async def apply(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        if envelope.event_type == registry.FamilyEnrolled.event_type:
            enrolled = registry.CATALOG.parse(envelope.event_type, envelope.schema_version, envelope.data)
            assert isinstance(enrolled, registry.FamilyEnrolled)
            await self.families.lock(conn, enrolled.family_id)
            family = await lookups.family_enrolled(conn, enrolled)
            await self.families.review(conn, family, envelope)
        elif envelope.event_type == registry.FamilyExited.event_type:
            exited = registry.CATALOG.parse(envelope.event_type, envelope.schema_version, envelope.data)
            assert isinstance(exited, registry.FamilyExited)
            await self.families.lock(conn, exited.family_id)
            await lookups.family_exited(conn, exited.family_id, exited.kelurahan_code, exited.exited_on, exited.reason)
            plan_id = plan_id_for(exited.family_id)
            if await self.handlers.close_for_exit(
                conn,
                CloseForExit(plan_id, exited.exited_on, self.families.rules.grace_days),
                Metadata.caused_by(envelope),
            ):
                log.info("plan_closed_for_exit", plan_id=str(plan_id))
        elif envelope.event_type == registry.FamilyEligibilityChanged.event_type:
            changed = registry.CATALOG.parse(envelope.event_type, envelope.schema_version, envelope.data)
            assert isinstance(changed, registry.FamilyEligibilityChanged)
            await self.families.lock(conn, changed.family_id)
            family = await conn.fetchrow(
                "update aid_families set eligible = $2, plan_until = $3 where family_id = $1 returning *",
                changed.family_id,
                changed.eligible,
                changed.plan_until,
            )
            await self.families.review(conn, family, envelope)  # eligible again: a plan may open now
        elif envelope.event_type == registry.PersonalDataErased.event_type:
            erased = registry.CATALOG.parse(envelope.event_type, envelope.schema_version, envelope.data)
            assert isinstance(erased, registry.PersonalDataErased)
            await self.families.lock(conn, erased.family_id)
            await self.handlers.erase_family(conn, erased.family_id)
            log.info("family_key_destroyed", family_id=str(erased.family_id))
        elif envelope.event_type == registry.GrowthMeasured.event_type:
            measured = registry.CATALOG.parse(envelope.event_type, envelope.schema_version, envelope.data)
            assert isinstance(measured, registry.GrowthMeasured)
            family = await self.families.lock(conn, measured.family_id)
            await self.judge_growth(conn, family, measured, envelope.stream_version, Metadata.caused_by(envelope))

    async def judge_growth(
        self,
        conn: asyncpg.Connection,
        family: asyncpg.Record,
        measured: registry.GrowthMeasured,
        stream_version: int,
        meta: Metadata,
    ) -> None:
        """Keeps each child's weights and flags no gain (README, Home visits). `family` is aid's
        row of the family, locked: a plan opening in the funding policy waits, so the plan id read
        here is the one that exists."""
        await lookups.measured(
            conn,
            measured.measurement_id,
            measured.family_id,
            measured.member_id,
            measured.measured_on,
            measured.weight_kg,
            stream_version,
        )
        # Enrolment as the family's own stream told it before this measurement: a replay of that
        # stream judges exactly as the first pass did. A plan (any status) implies enrolment, and
        # the registry measures no child of an exited family.
        if family["enrolled_on"] is None:
            return
        history = await lookups.weights(conn, measured.member_id)
        flagged = await lookups.flagged_days(conn, measured.member_id)
        due = flags_due(history, Measurement(measured.measured_on, measured.weight_kg), flagged)
        if not due:
            return
        plan_id = await lookups.plan_of(conn, measured.family_id)
        for no_gain in due:
            command = FlagHomeVisit(
                plan_id=plan_id,
                family_id=measured.family_id,
                kelurahan_code=measured.kelurahan_code,
                member_id=measured.member_id,
                no_gain=no_gain,
            )
            if await self.handlers.flag_home_visit(conn, command, meta):
                log.info("home_visit_flagged", flag_id=str(command.flag_id), flagged_on=str(no_gain.flagged_on))


class FundingPolicy:
    """FamilySponsored and SponsorshipReleased; SponsorshipDrawn (funding's answer to our
    deliveries) and anything newer on a sponsorship stream are ignored."""

    name = "aid-funding"
    stream = stream_name("funding")
    filter_subjects: Sequence[str] = ("genting.funding.sponsorship.>",)
    tables: Sequence[str] = ("aid_sponsorships",)

    def __init__(self, families: Families) -> None:
        self.families = families

    async def apply(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        if envelope.event_type == funding.FamilySponsored.event_type:
            sponsored = funding.CATALOG.parse(envelope.event_type, envelope.schema_version, envelope.data)
            assert isinstance(sponsored, funding.FamilySponsored)
            await lookups.sponsored(
                conn,
                sponsored.sponsorship_id,
                sponsored.family_id,
                sponsored.amount_rp,
                sponsored.start_date,
                sponsored.sponsored_on,
            )
            family = await self.families.lock(conn, sponsored.family_id)
            await self.families.review(conn, family, envelope)
        elif envelope.event_type == funding.SponsorshipReleased.event_type:
            released = funding.CATALOG.parse(envelope.event_type, envelope.schema_version, envelope.data)
            assert isinstance(released, funding.SponsorshipReleased)
            await lookups.released(conn, released.sponsorship_id, released.amount_rp)
