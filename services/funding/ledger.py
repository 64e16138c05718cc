"""The ledger's reactions to aid and registry facts: pay deliveries from sponsorships, oldest first,
and release what is left to the donors. Each runs inside the projection runner's batch transaction,
so the funding events it appends commit together with the upstream version gate: exactly once."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from uuid import UUID

import asyncpg
import structlog

from services.funding import repository as repo
from services.funding.domain import donor as donors
from services.funding.domain import sponsorship as sponsorships
from shared.contracts.aid import AidDelivered
from shared.contracts.funding import ReleaseReason
from shared.eventstore import Metadata

log = structlog.get_logger()


@dataclass
class LedgerStats:
    """Counted since the process started; the durable record is the funding_deliveries table."""

    deliveries: int = 0
    duplicate_deliveries: int = 0
    shortfalls: int = 0
    shortfall_rp: int = 0
    releases: int = 0


async def draw_delivery(conn: asyncpg.Connection, delivered: AidDelivered, meta: Metadata, stats: LedgerStats) -> int:
    """Pay a delivery from the family's sponsorships, oldest first; returns the shortfall.

    Aid checks its budget before it records a delivery, so a shortfall means funding released or
    never held the money (e.g. the family's exit was handled before a delivery made earlier).
    Food already delivered cannot be refused: what can be drawn is drawn, the rest is recorded
    in funding_deliveries.shortfall_rp, logged and counted, for the programme office to settle.
    """
    await repo.lock_or_create_family(conn, delivered.family_id)
    states = [s for s in await repo.family_sponsorships(conn, delivered.family_id) if s.is_open]
    draws, shortfall = sponsorships.split_delivery(
        [(s.sponsorship_id, s.remaining_rp) for s in states if s.sponsorship_id], delivered.value_rp
    )
    # Recorded before anything is drawn: the same delivery again (a re-publish under a new version)
    # finds its row and draws nothing; the plan is noted too, if this is the first funding hears of it.
    claimed = await conn.execute(
        "with plan as (insert into funding_plans (plan_id, family_id, status) values ($2, $3, 'open')"
        "  on conflict do nothing)"
        " insert into funding_deliveries (delivery_id, plan_id, family_id, value_rp, drawn_rp, shortfall_rp,"
        " delivered_on) values ($1, $2, $3, $4, $5, $6, $7) on conflict (delivery_id) do nothing",
        delivered.delivery_id,
        delivered.plan_id,
        delivered.family_id,
        delivered.value_rp,
        delivered.value_rp - shortfall,
        shortfall,
        delivered.delivered_on,
    )
    if claimed.endswith(" 0"):
        stats.duplicate_deliveries += 1
        log.info("duplicate_ignored", delivery_id=str(delivered.delivery_id))
        return 0
    by_id = {s.sponsorship_id: s for s in states}
    for sponsorship_id, amount in draws:
        state = by_id[sponsorship_id]
        events = sponsorships.decide(
            state,
            sponsorships.Draw(
                sponsorship_id=sponsorship_id,
                delivery_id=delivered.delivery_id,
                plan_id=delivered.plan_id,
                amount_rp=amount,
                drawn_on=delivered.delivered_on,
            ),
        )
        await repo.save(conn, repo.SPONSORSHIPS, sponsorship_id, state.version, events, meta)
    stats.deliveries += 1
    if shortfall:
        stats.shortfalls += 1
        stats.shortfall_rp += shortfall
        log.warning(
            "delivery_shortfall",
            delivery_id=str(delivered.delivery_id),
            plan_id=str(delivered.plan_id),
            family_id=str(delivered.family_id),
            value_rp=delivered.value_rp,
            shortfall_rp=shortfall,
        )
    return shortfall


async def release_family(
    conn: asyncpg.Connection,
    family_id: UUID,
    reason: ReleaseReason,
    plan_id: UUID | None,
    on: date,
    meta: Metadata,
    stats: LedgerStats,
) -> int:
    """Release the unspent rest of every sponsorship of the family to its donor; returns the total.

    A sponsorship is released once: whichever of a plan's closing and the family's exit comes
    second finds nothing left. The donors' side (FundsReturned) is appended in donor-id order so
    that two releases sharing donors cannot deadlock.
    """
    await repo.lock_or_create_family(conn, family_id)
    returned: dict[UUID, list[tuple[UUID, int]]] = defaultdict(list)
    for state in await repo.family_sponsorships(conn, family_id):
        assert state.sponsorship_id is not None and state.donor_id is not None
        events = sponsorships.decide(
            state, sponsorships.Release(sponsorship_id=state.sponsorship_id, reason=reason, plan_id=plan_id, on=on)
        )
        if events:
            await repo.save(conn, repo.SPONSORSHIPS, state.sponsorship_id, state.version, events, meta)
            returned[state.donor_id].append((state.sponsorship_id, events[0].amount_rp))
    total = 0
    for donor_id in sorted(returned):
        donor = await repo.load_donor(conn, donor_id)
        facts = []
        for sponsorship_id, amount in returned[donor_id]:
            facts += donors.decide(
                donor,
                donors.ReturnFunds(
                    donor_id=donor_id, sponsorship_id=sponsorship_id, amount_rp=amount, reason=reason, on=on
                ),
            )
            total += amount
        await repo.save(conn, repo.DONORS, donor_id, donor.version, facts, meta)
    if total:
        stats.releases += 1
        log.info("sponsorships_released", family_id=str(family_id), reason=reason, amount_rp=total)
    return total


async def _ensure_plan(conn: asyncpg.Connection, plan_id: UUID, family_id: UUID) -> None:
    await conn.execute(
        "insert into funding_plans (plan_id, family_id, status) values ($1, $2, 'open') on conflict do nothing",
        plan_id,
        family_id,
    )


async def plan_opened(conn: asyncpg.Connection, plan_id: UUID, family_id: UUID) -> None:
    await repo.lock_or_create_family(conn, family_id)  # ordered against an exit of the same family
    await _ensure_plan(conn, plan_id, family_id)


async def plan_closed(conn: asyncpg.Connection, plan_id: UUID, family_id: UUID, on: date) -> None:
    await repo.lock_or_create_family(conn, family_id)
    await conn.execute(
        "insert into funding_plans (plan_id, family_id, status, closed_on) values ($1, $2, 'closed', $3)"
        " on conflict (plan_id) do update set status = 'closed', closed_on = excluded.closed_on",
        plan_id,
        family_id,
        on,
    )


async def has_open_plan(conn: asyncpg.Connection, family_id: UUID) -> bool:
    return bool(
        await conn.fetchval(
            "select exists (select 1 from funding_plans where family_id = $1 and status = 'open')", family_id
        )
    )
