"""What aid keeps of other services' facts to decide on (`aid_families`, `aid_sponsorships`,
`aid_growth`), written by the policies in the consumer's batch transaction, and the reads of its
own views a reaction needs. These are decision input, not read models: only `genting replay aid`
rebuilds them, by consuming the upstream streams again.

An enrolment and a sponsorship arrive on two consumers in two transactions; both lock the
family's row (`lock_family`) before deciding, so whichever commits second sees both facts.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg

from services.aid.domain import Measurement, Sponsorship
from shared.contracts import registry

# -- families -----------------------------------------------------------------------------------


async def lock_family(conn: asyncpg.Connection, family_id: UUID) -> asyncpg.Record:
    """Aid's row of the family, created if new, locked until the transaction ends."""
    await conn.execute("insert into aid_families (family_id) values ($1) on conflict do nothing", family_id)
    row: asyncpg.Record = await conn.fetchrow("select * from aid_families where family_id = $1 for update", family_id)
    return row


async def family_enrolled(conn: asyncpg.Connection, enrolled: registry.FamilyEnrolled) -> asyncpg.Record:
    """The family's row (locked by the caller) with its enrolment; returned as it is now."""
    row: asyncpg.Record = await conn.fetchrow(
        "update aid_families set kelurahan_code = $2, enrolled_on = $3, member_counts = $4, plan_until = $5"
        " where family_id = $1 returning *",
        enrolled.family_id,
        enrolled.kelurahan_code,
        enrolled.enrolled_on,
        dict(enrolled.member_counts),
        enrolled.plan_until,
    )
    return row


async def family_exited(conn: asyncpg.Connection, family_id: UUID, kelurahan_code: str, on: date, reason: str) -> None:
    await conn.execute(
        "update aid_families set kelurahan_code = coalesce(kelurahan_code, $2), exited_on = $3,"
        " exit_reason = $4 where family_id = $1",
        family_id,
        kelurahan_code,
        on,
        reason,
    )


# -- sponsorships -------------------------------------------------------------------------------


async def sponsored(
    conn: asyncpg.Connection, sponsorship_id: UUID, family_id: UUID, amount_rp: int, start_date: date, on: date
) -> None:
    await conn.execute(
        "insert into aid_sponsorships (sponsorship_id, family_id, amount_rp, start_date, sponsored_on)"
        " values ($1, $2, $3, $4, $5) on conflict do nothing",
        sponsorship_id,
        family_id,
        amount_rp,
        start_date,
        on,
    )


async def released(conn: asyncpg.Connection, sponsorship_id: UUID, amount_rp: int) -> None:
    """Released money no longer counts towards opening a plan; an open plan keeps its budget."""
    await conn.execute(
        "update aid_sponsorships set released_rp = least(amount_rp, released_rp + $2) where sponsorship_id = $1",
        sponsorship_id,
        amount_rp,
    )


async def open_sponsorships(conn: asyncpg.Connection, family_id: UUID) -> tuple[Sponsorship, ...]:
    """The family's sponsorships with money not released, as the plan's funding review reads them."""
    rows = await conn.fetch(
        "select sponsorship_id, amount_rp - released_rp as left_rp, start_date, sponsored_on from aid_sponsorships"
        " where family_id = $1 and amount_rp > released_rp",
        family_id,
    )
    return tuple(Sponsorship(r["sponsorship_id"], r["left_rp"], r["start_date"], r["sponsored_on"]) for r in rows)


# -- growth ---------------------------------------------------------------------------------------


async def measured(
    conn: asyncpg.Connection,
    measurement_id: UUID,
    family_id: UUID,
    member_id: UUID,
    on: date,
    weight_kg: float,
    stream_version: int,
) -> None:
    await conn.execute(
        "insert into aid_growth (measurement_id, family_id, member_id, measured_on, weight_kg, stream_version)"
        " values ($1, $2, $3, $4, $5, $6) on conflict do nothing",
        measurement_id,
        family_id,
        member_id,
        on,
        weight_kg,
        stream_version,
    )


async def weights(conn: asyncpg.Connection, member_id: UUID) -> list[Measurement]:
    """A child's weighings in the order its family's stream recorded them."""
    return [
        Measurement(r["measured_on"], r["weight_kg"])
        for r in await conn.fetch(
            "select measured_on, weight_kg from aid_growth where member_id = $1 order by stream_version", member_id
        )
    ]


async def flagged_days(conn: asyncpg.Connection, member_id: UUID) -> list[date]:
    """The days a child was flagged for a home visit already (aid's home_visits_view)."""
    return [
        r["flagged_on"]
        for r in await conn.fetch("select flagged_on from home_visits_view where member_id = $1", member_id)
    ]


async def plan_of(conn: asyncpg.Connection, family_id: UUID) -> UUID | None:
    """The family's plan (aid's plans_view), if it has one."""
    plan_id: UUID | None = await conn.fetchval("select plan_id from plans_view where family_id = $1", family_id)
    return plan_id
