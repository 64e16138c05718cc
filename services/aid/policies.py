"""Aid's reactions to other services' events (the process manager): registry and funding events
into aid's own knowledge of families (`aid_families`, `aid_sponsorships`, `aid_growth`), and the
commands that follow (open a plan or raise its budget, close it on exit, flag a child for a home
visit), run by the handlers.

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

from services.aid.domain import (
    CloseForExit,
    FlagHomeVisit,
    Measurement,
    PlanRules,
    ReviewFunding,
    Sponsorship,
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

    def __init__(self, handlers: Handlers, policy: PlanRules, today: Callable[[], date]) -> None:
        self.handlers = handlers
        self.policy = policy
        self.today = today

    async def lock(self, conn: asyncpg.Connection, family_id: UUID) -> asyncpg.Record:
        await conn.execute("insert into aid_families (family_id) values ($1) on conflict do nothing", family_id)
        row: asyncpg.Record = await conn.fetchrow(
            "select * from aid_families where family_id = $1 for update", family_id
        )
        return row

    async def review(self, conn: asyncpg.Connection, family: asyncpg.Record, envelope: Envelope) -> None:
        family_id: UUID = family["family_id"]
        rows = await conn.fetch(
            "select sponsorship_id, amount_rp - released_rp as left_rp, start_date, sponsored_on from aid_sponsorships"
            " where family_id = $1 and amount_rp > released_rp",
            family_id,
        )
        command = ReviewFunding(
            plan_id=plan_id_for(family_id),
            family_id=family_id,
            kelurahan_code=family["kelurahan_code"] or "",
            enrolled_on=family["enrolled_on"],
            exited=family["exited_on"] is not None,
            sponsorships=tuple(
                Sponsorship(r["sponsorship_id"], r["left_rp"], r["start_date"], r["sponsored_on"]) for r in rows
            ),
            policy=self.policy,
            today=self.today(),
            eligible=family["eligible"],
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
            family = await conn.fetchrow(
                "update aid_families set kelurahan_code = $2, enrolled_on = $3, member_counts = $4"
                " where family_id = $1 returning *",
                enrolled.family_id,
                enrolled.kelurahan_code,
                enrolled.enrolled_on,
                dict(enrolled.member_counts),
            )
            await self.families.review(conn, family, envelope)
        elif envelope.event_type == registry.FamilyExited.event_type:
            exited = registry.CATALOG.parse(envelope.event_type, envelope.schema_version, envelope.data)
            assert isinstance(exited, registry.FamilyExited)
            await self.families.lock(conn, exited.family_id)
            await conn.execute(
                "update aid_families set kelurahan_code = coalesce(kelurahan_code, $2), exited_on = $3,"
                " exit_reason = $4 where family_id = $1",
                exited.family_id,
                exited.kelurahan_code,
                exited.exited_on,
                exited.reason,
            )
            plan_id = plan_id_for(exited.family_id)
            if await self.handlers.close_for_exit(
                conn, CloseForExit(plan_id, exited.exited_on), Metadata.caused_by(envelope)
            ):
                log.info("plan_closed_for_exit", plan_id=str(plan_id))
        elif envelope.event_type == registry.FamilyEligibilityChanged.event_type:
            changed = registry.CATALOG.parse(envelope.event_type, envelope.schema_version, envelope.data)
            assert isinstance(changed, registry.FamilyEligibilityChanged)
            await self.families.lock(conn, changed.family_id)
            family = await conn.fetchrow(
                "update aid_families set eligible = $2 where family_id = $1 returning *",
                changed.family_id,
                changed.eligible,
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
        await conn.execute(
            "insert into aid_growth (measurement_id, family_id, member_id, measured_on, weight_kg, stream_version)"
            " values ($1, $2, $3, $4, $5, $6) on conflict do nothing",
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
        history = [
            Measurement(r["measured_on"], r["weight_kg"])
            for r in await conn.fetch(
                "select measured_on, weight_kg from aid_growth where member_id = $1 order by stream_version",
                measured.member_id,
            )
        ]
        flagged: list[date] = [
            r["flagged_on"]
            for r in await conn.fetch(
                "select flagged_on from home_visits_view where member_id = $1", measured.member_id
            )
        ]
        due = flags_due(history, Measurement(measured.measured_on, measured.weight_kg), flagged)
        if not due:
            return
        plan_id = await conn.fetchval("select plan_id from plans_view where family_id = $1", measured.family_id)
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
            await conn.execute(
                "insert into aid_sponsorships (sponsorship_id, family_id, amount_rp, start_date, sponsored_on)"
                " values ($1, $2, $3, $4, $5) on conflict do nothing",
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
            # Released money no longer counts towards opening a plan; an open plan keeps its budget.
            await conn.execute(
                "update aid_sponsorships set released_rp = least(amount_rp, released_rp + $2)"
                " where sponsorship_id = $1",
                released.sponsorship_id,
                released.amount_rp,
            )
