"""The rows funding keeps beside its event streams for what spans aggregates, written in the
command's (or the reaction's) transaction by the handlers:

- `contribution_references`: one bank reference per donor (a unique key: the same money twice is refused);
- `family_sponsorships`: a family's sponsorships in the order they are paid from;
- `funding_families`: what the registry said about a family, and the row every command and
  reaction touching the family's sponsorships locks first;
- `funding_plans` and `funding_deliveries`: aid's plans and the deliveries already paid (once each).

These are decision input, not read models: a replay never truncates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

import asyncpg

from services.funding.domain import DuplicateContribution, Sponsorship
from shared.repository import Aggregate, Repository

# -- contributions ----------------------------------------------------------------------------


async def claim_reference(conn: asyncpg.Connection, donor_id: UUID, reference: str, contribution_id: UUID) -> None:
    """The same bank reference twice for one donor is the same money: refuse the second."""
    status = await conn.execute(
        "insert into contribution_references (donor_id, reference_key, reference, contribution_id)"
        " values ($1, $2, $3, $4) on conflict (donor_id, reference_key) do nothing",
        donor_id,
        reference.strip().upper(),
        reference.strip(),
        contribution_id,
    )
    if status.endswith(" 0"):
        raise DuplicateContribution(donor_id, reference.strip())


# -- families -----------------------------------------------------------------------------------


async def lock_family(conn: asyncpg.Connection, family_id: UUID) -> asyncpg.Record | None:
    """Serialises everything that touches one family's sponsorships (a new sponsorship, a draw, a
    release): without it an exit could release the sponsorships it saw while a new one commits."""
    return await conn.fetchrow(
        "select status, kelurahan_code, enrolled_on, eligible, eligibility_on from funding_families"
        " where family_id = $1 for update",
        family_id,
    )


async def lock_or_create_family(conn: asyncpg.Connection, family_id: UUID) -> asyncpg.Record:
    """lock_family for a reaction, which may hear of a family (from aid) before its enrolment:
    one upsert, which takes the row lock whether it inserts or not."""
    row = await conn.fetchrow(
        "insert into funding_families (family_id, status) values ($1, 'unknown') on conflict (family_id)"
        " do update set status = funding_families.status returning status, kelurahan_code",
        family_id,
    )
    assert row is not None
    return row


async def family_erased(conn: asyncpg.Connection, family_id: UUID) -> bool:
    """The registry erased the family's personal data (a tombstone in `erased_families`)."""
    return bool(await conn.fetchval("select exists (select 1 from erased_families where family_id = $1)", family_id))


async def family_enrolled(
    conn: asyncpg.Connection, family_id: UUID, kelurahan_code: str, on: date, plan_until: date | None
) -> None:
    """An exit heard before the enrolment (redelivery) stays an exit."""
    await conn.execute(
        "insert into funding_families (family_id, status, kelurahan_code, enrolled_on, plan_until)"
        " values ($1, 'enrolled', $2, $3, $4) on conflict (family_id) do update set"
        " status = case when funding_families.status = 'exited' then 'exited' else 'enrolled' end,"
        " kelurahan_code = excluded.kelurahan_code, enrolled_on = excluded.enrolled_on,"
        " plan_until = excluded.plan_until",
        family_id,
        kelurahan_code,
        on,
        plan_until,
    )


async def family_exited(conn: asyncpg.Connection, family_id: UUID, kelurahan_code: str, on: date) -> None:
    await conn.execute(
        "insert into funding_families (family_id, status, kelurahan_code, exited_on)"
        " values ($1, 'exited', $2, $3) on conflict (family_id) do update set"
        " status = 'exited', exited_on = excluded.exited_on",
        family_id,
        kelurahan_code,
        on,
    )


async def family_eligibility(
    conn: asyncpg.Connection, family_id: UUID, kelurahan_code: str, eligible: bool, on: date, plan_until: date | None
) -> None:
    """The registry's latest word on whether the family is a programme target, and on its
    plan_until. A family heard of here first keeps status 'unknown' until its enrolment."""
    await conn.execute(
        "insert into funding_families (family_id, status, kelurahan_code, eligible, eligibility_on, plan_until)"
        " values ($1, 'unknown', $2, $3, $4, $5) on conflict (family_id) do update set"
        " eligible = excluded.eligible, eligibility_on = excluded.eligibility_on,"
        " plan_until = excluded.plan_until,"
        " kelurahan_code = coalesce(funding_families.kelurahan_code, excluded.kelurahan_code)",
        family_id,
        kelurahan_code,
        eligible,
        on,
        plan_until,
    )


@dataclass(frozen=True)
class PlanTerms:
    """What decides the family's minimum and whether a plan may still open for it."""

    enrolled_on: date | None
    plan_until: date | None
    eligible: bool


async def plan_terms(conn: asyncpg.Connection, family_id: UUID) -> PlanTerms:
    """The family's enrolment, plan_until and eligibility as the registry told funding (a family
    not heard of yet: eligible, fixed days)."""
    row = await conn.fetchrow(
        "select enrolled_on, plan_until, eligible from funding_families where family_id = $1", family_id
    )
    if row is None:
        return PlanTerms(None, None, True)
    return PlanTerms(row["enrolled_on"], row["plan_until"], row["eligible"])


async def add_family_sponsorship(
    conn: asyncpg.Connection, sponsorship_id: UUID, family_id: UUID, donor_id: UUID
) -> None:
    await conn.execute(
        "insert into family_sponsorships (sponsorship_id, family_id, donor_id) values ($1, $2, $3)",
        sponsorship_id,
        family_id,
        donor_id,
    )


async def family_sponsorships(
    conn: asyncpg.Connection, repository: Repository[Sponsorship], family_id: UUID
) -> list[Aggregate[Sponsorship]]:
    """The family's sponsorships, oldest first (the order deliveries are paid in), loaded in one
    query instead of one per stream, and folded by the repository's own evolve."""
    rows = await conn.fetch(
        "select sponsorship_id from family_sponsorships where family_id = $1 order by seq", family_id
    )
    return await repository.load_many(conn, [r["sponsorship_id"] for r in rows])


# -- plans and deliveries ---------------------------------------------------------------------


async def plan_opened(
    conn: asyncpg.Connection,
    plan_id: UUID,
    family_id: UUID,
    start_date: date | None = None,
    end_date: date | None = None,
) -> None:
    """The plan and its days; a plan first heard of by its delivery or closing gets its days here
    (the upsert keeps the status those gave it)."""
    await conn.execute(
        "insert into funding_plans (plan_id, family_id, status, start_date, end_date) values ($1, $2, 'open', $3, $4)"
        " on conflict (plan_id) do update set start_date = coalesce(funding_plans.start_date, excluded.start_date),"
        " end_date = coalesce(funding_plans.end_date, excluded.end_date)",
        plan_id,
        family_id,
        start_date,
        end_date,
    )


async def plan_closed(conn: asyncpg.Connection, plan_id: UUID, family_id: UUID, on: date) -> None:
    await conn.execute(
        "insert into funding_plans (plan_id, family_id, status, closed_on) values ($1, $2, 'closed', $3)"
        " on conflict (plan_id) do update set status = 'closed', closed_on = excluded.closed_on",
        plan_id,
        family_id,
        on,
    )


async def plan_start(conn: asyncpg.Connection, family_id: UUID) -> date | None:
    """The first day of the family's plan (one per family), as aid opened it; None if unknown."""
    found: date | None = await conn.fetchval(
        "select min(start_date) from funding_plans where family_id = $1", family_id
    )
    return found


async def plan_last_day(conn: asyncpg.Connection, family_id: UUID) -> date | None:
    """The last day of the family's plan (one per family), as aid opened it; None if unknown."""
    found: date | None = await conn.fetchval("select max(end_date) from funding_plans where family_id = $1", family_id)
    return found


async def plan_statuses(conn: asyncpg.Connection, family_id: UUID) -> set[str]:
    """The statuses of the family's plans (`open`, `closed`): domain/plans.py says what follows."""
    rows = await conn.fetch("select distinct status from funding_plans where family_id = $1", family_id)
    return {r["status"] for r in rows}


async def claim_delivery(
    conn: asyncpg.Connection,
    delivery_id: UUID,
    plan_id: UUID,
    family_id: UUID,
    value_rp: int,
    shortfall_rp: int,
    delivered_on: date,
    distribution_rp: int = 0,
) -> bool:
    """Record a delivery before anything is drawn for it; False if it was recorded before (the same
    delivery again, re-published under a new version). The plan is noted too, if this is the
    first funding hears of it."""
    status = await conn.execute(
        "with plan as (insert into funding_plans (plan_id, family_id, status) values ($2, $3, 'open')"
        "  on conflict do nothing)"
        " insert into funding_deliveries (delivery_id, plan_id, family_id, value_rp, drawn_rp, shortfall_rp,"
        " delivered_on, distribution_rp) values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (delivery_id) do nothing",
        delivery_id,
        plan_id,
        family_id,
        value_rp,
        value_rp + distribution_rp - shortfall_rp,
        shortfall_rp,
        delivered_on,
        distribution_rp,
    )
    return not status.endswith(" 0")
