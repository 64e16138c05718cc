"""Funding's read model: donors_view, contributions_view and sponsorships_view, written inline with
each append (same transaction) and rebuilt from the event store by replay. Queries for the API.

Every change is additive per stream and applied in stream order, so applying the donor streams
and the sponsorship streams in any interleaving gives the same tables (what replay relies on).
"""

from __future__ import annotations

from typing import Any, TypeAlias
from uuid import UUID

import asyncpg

from shared.contracts.funding import (
    CATALOG,
    ContributionReceived,
    DonorRegistered,
    FamilySponsored,
    FundsAllocated,
    FundsReturned,
    PledgeMade,
    SponsorshipDrawn,
    SponsorshipReleased,
)
from shared.messaging import Envelope

VIEW_TABLES = ("donors_view", "contributions_view", "sponsorships_view")

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool


async def project(conn: asyncpg.Connection, envelope: Envelope) -> None:
    """Apply one of funding's own events to the read model."""
    event = CATALOG.parse(envelope.event_type, envelope.schema_version, envelope.data)
    v = envelope.stream_version
    match event:
        case DonorRegistered():
            await conn.execute(
                "insert into donors_view (donor_id, donor_type, registered_on, version) values ($1, $2, $3, $4)",
                event.donor_id,
                event.donor_type,
                event.registered_on,
                v,
            )
        case PledgeMade():
            await _donor_add(conn, event.donor_id, v, "pledged_rp", event.amount_rp)
        case ContributionReceived():
            await _donor_add(conn, event.donor_id, v, "received_rp", event.amount_rp)
            await conn.execute(
                "insert into contributions_view (contribution_id, donor_id, amount_rp, received_on, method)"
                " values ($1, $2, $3, $4, $5)",
                event.contribution_id,
                event.donor_id,
                event.amount_rp,
                event.received_on,
                event.method,
            )
        case FundsAllocated():
            await _donor_add(conn, event.donor_id, v, "allocated_rp", event.amount_rp)
        case FundsReturned():
            await _donor_add(conn, event.donor_id, v, "returned_rp", event.amount_rp)
        case FamilySponsored():
            await conn.execute(
                "insert into sponsorships_view (sponsorship_id, donor_id, donor_type, family_id, kelurahan_code,"
                " version, amount_rp, start_date, sponsored_on) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                event.sponsorship_id,
                event.donor_id,
                event.donor_type,
                event.family_id,
                event.kelurahan_code,
                v,
                event.amount_rp,
                event.start_date,
                event.sponsored_on,
            )
        case SponsorshipDrawn():
            await conn.execute(
                "update sponsorships_view set drawn_rp = drawn_rp + $2, version = $3 where sponsorship_id = $1",
                event.sponsorship_id,
                event.amount_rp,
                v,
            )
        case SponsorshipReleased():
            await conn.execute(
                "update sponsorships_view set released_rp = released_rp + $2, released_reason = $3, version = $4"
                " where sponsorship_id = $1",
                event.sponsorship_id,
                event.amount_rp,
                event.reason,
                v,
            )
        case _:
            raise AssertionError(f"funding does not project {envelope.event_type}")


async def _donor_add(conn: asyncpg.Connection, donor_id: UUID, version: int, column: str, amount: int) -> None:
    await conn.execute(
        f"update donors_view set {column} = {column} + $2, version = $3 where donor_id = $1", donor_id, amount, version
    )


# -- queries ----------------------------------------------------------------------------------

_SPONSORSHIP_COLUMNS = (
    "sponsorship_id, donor_id, family_id, kelurahan_code, amount_rp, drawn_rp, released_rp,"
    " amount_rp - drawn_rp - released_rp as remaining_rp, released_reason, start_date, sponsored_on"
)


def _json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        k: (str(v) if isinstance(v, UUID) else v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in dict(row).items()
    }


async def donor_statement(db: Db, donor_id: UUID) -> dict[str, Any] | None:
    """received = available + allocated − released; allocated = drawn + remaining + released."""
    row = await db.fetchrow(
        "select d.donor_id, d.donor_type, d.registered_on, d.pledged_rp, d.received_rp, d.allocated_rp,"
        " coalesce(s.drawn_rp, 0)::bigint as drawn_rp, d.returned_rp as released_rp,"
        " coalesce(s.remaining_rp, 0)::bigint as remaining_rp,"
        " d.received_rp - d.allocated_rp + d.returned_rp as available_rp,"
        " coalesce(s.families, 0) as families_sponsored, d.version"
        " from donors_view d left join lateral (select sum(drawn_rp) as drawn_rp,"
        "  sum(amount_rp - drawn_rp - released_rp) as remaining_rp, count(distinct family_id) as families"
        "  from sponsorships_view where donor_id = d.donor_id) s on true"
        " where d.donor_id = $1",
        donor_id,
    )
    if row is None:
        return None
    statement = _json(row)
    sponsorships = await db.fetch(
        f"select {_SPONSORSHIP_COLUMNS} from sponsorships_view where donor_id = $1"
        " order by sponsored_on, sponsorship_id",
        donor_id,
    )
    statement["sponsorships"] = [_json(r) for r in sponsorships]
    contributions = await db.fetch(
        "select contribution_id, amount_rp, received_on, method from contributions_view where donor_id = $1"
        " order by received_on, contribution_id",
        donor_id,
    )
    statement["contributions"] = [_json(r) for r in contributions]
    return statement


async def totals_by_type(db: Db) -> list[dict[str, Any]]:
    """De-identified: per donor type, no ids and no names (what an auditor sees)."""
    rows = await db.fetch(
        "select d.donor_type, count(*) as donors, sum(d.pledged_rp)::bigint as pledged_rp,"
        " sum(d.received_rp)::bigint as received_rp, sum(d.allocated_rp)::bigint as allocated_rp,"
        " sum(coalesce(s.drawn_rp, 0))::bigint as drawn_rp, sum(d.returned_rp)::bigint as released_rp,"
        " sum(d.received_rp - d.allocated_rp + d.returned_rp)::bigint as available_rp"
        " from donors_view d left join (select donor_id, sum(drawn_rp) as drawn_rp from sponsorships_view"
        "  group by donor_id) s on s.donor_id = d.donor_id"
        " group by d.donor_type order by d.donor_type"
    )
    return [{k: (int(v) if k != "donor_type" else v) for k, v in dict(r).items()} for r in rows]


async def donor_page(db: Db, limit: int, offset: int, only: UUID | None = None) -> tuple[int, list[UUID]]:
    total = await db.fetchval("select count(*) from donors_view where $1::uuid is null or donor_id = $1", only)
    rows = await db.fetch(
        "select donor_id from donors_view where $3::uuid is null or donor_id = $3"
        " order by registered_on, donor_id limit $1 offset $2",
        limit,
        offset,
        only,
    )
    return int(total), [r["donor_id"] for r in rows]


async def family_funding(db: Db, family_id: UUID) -> dict[str, Any] | None:
    status = await db.fetchval("select status from funding_families where family_id = $1", family_id)
    rows = await db.fetch(
        f"select {_SPONSORSHIP_COLUMNS} from sponsorships_view where family_id = $1"
        " order by sponsored_on, sponsorship_id",
        family_id,
    )
    if status is None and not rows:
        return None
    sponsorships = [_json(r) for r in rows]
    return {
        "family_id": str(family_id),
        "status": status or "unknown",
        "sponsored_rp": sum(s["amount_rp"] for s in sponsorships),
        "drawn_rp": sum(s["drawn_rp"] for s in sponsorships),
        "released_rp": sum(s["released_rp"] for s in sponsorships),
        "remaining_rp": sum(s["remaining_rp"] for s in sponsorships),
        "sponsorships": sponsorships,
    }
