"""Funding's read model: donors_view, contributions_view and sponsorships_view. The repositories in
app.py are configured with `inline_view`, so each append updates them in the command's transaction;
`rebuild` refolds them from the event store (replay).

Every change is additive per stream and applied in stream order, so applying the donor streams
and the sponsorship streams in any interleaving gives the same tables (what a rebuild relies on).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from shared.contracts.base import Event
from shared.contracts.funding import (
    ContributionReceived,
    DeliveryUnfunded,
    DonorRegistered,
    FamilySponsored,
    FundsAllocated,
    FundsReturned,
    PledgeMade,
    SponsorshipDrawn,
    SponsorshipReleased,
)
from shared.messaging import Envelope
from shared.repository import Fact, Repository

VIEW_TABLES = ("donors_view", "contributions_view", "sponsorships_view")
PAGE = 1000


async def inline_view(
    conn: asyncpg.Connection, _state: Any, facts: Sequence[Fact], envelopes: Sequence[Envelope]
) -> None:
    """The repositories' inline view: every appended fact, at its stream version."""
    for fact, envelope in zip(facts, envelopes, strict=True):
        await apply(conn, fact.event, envelope.stream_version)


async def rebuild(conn: asyncpg.Connection, repositories: Sequence[Repository[Any]]) -> int:
    """Truncate and re-project every event of the given streams, in the caller's transaction
    (readers see the old model or the new one). Returns the number of events applied."""
    await conn.execute(f"truncate {', '.join(VIEW_TABLES)}")
    count = 0
    for repository in repositories:
        position = 0
        while stored := await repository.store.read_all(conn, position, PAGE):
            for e in stored:
                await apply(conn, repository.catalog.parse(e.event_type, e.schema_version, e.data), e.stream_version)
            position = stored[-1].global_position
            count += len(stored)
    return count


async def apply(conn: asyncpg.Connection, event: Event, version: int) -> None:
    """Apply one of funding's own events to the read model."""
    match event:
        case DonorRegistered():
            await conn.execute(
                "insert into donors_view (donor_id, donor_type, registered_on, version) values ($1, $2, $3, $4)",
                event.donor_id,
                event.donor_type,
                event.registered_on,
                version,
            )
        case PledgeMade() | FundsAllocated() | FundsReturned():
            await _donor_add(conn, event.donor_id, version, donor_changes(event))
        case ContributionReceived():
            await _donor_add(conn, event.donor_id, version, donor_changes(event))
            await conn.execute(
                "insert into contributions_view (contribution_id, donor_id, amount_rp, received_on, method)"
                " values ($1, $2, $3, $4, $5)",
                event.contribution_id,
                event.donor_id,
                event.amount_rp,
                event.received_on,
                event.method,
            )
        case FamilySponsored():
            await conn.execute(
                "insert into sponsorships_view (sponsorship_id, donor_id, donor_type, family_id, kelurahan_code,"
                " version, amount_rp, start_date, sponsored_on) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                event.sponsorship_id,
                event.donor_id,
                event.donor_type,
                event.family_id,
                event.kelurahan_code,
                version,
                event.amount_rp,
                event.start_date,
                event.sponsored_on,
            )
        case SponsorshipDrawn():
            await conn.execute(
                "update sponsorships_view set drawn_rp = drawn_rp + $2,"
                " drawn_distribution_rp = drawn_distribution_rp + $4, version = $3 where sponsorship_id = $1",
                event.sponsorship_id,
                event.amount_rp,
                version,
                event.distribution_rp,
            )
        case SponsorshipReleased():
            await conn.execute(
                "update sponsorships_view set released_rp = released_rp + $2, released_reason = $3, version = $4"
                " where sponsorship_id = $1",
                event.sponsorship_id,
                event.amount_rp,
                event.reason,
                version,
            )
        case DeliveryUnfunded():
            pass  # funding's own record of it is funding_deliveries.shortfall_rp
        case _:
            raise AssertionError(f"funding does not project {event.event_type}")


def donor_changes(event: PledgeMade | ContributionReceived | FundsAllocated | FundsReturned) -> dict[str, int]:
    """What one of a donor's events adds to its donors_view figures. `allocated_rp` is net of
    releases (the meaning reporting uses): returned money leaves it as it enters `returned_rp`, so
    received = available + allocated holds at every step."""
    match event:
        case PledgeMade():
            return {"pledged_rp": event.amount_rp}
        case ContributionReceived():
            return {"received_rp": event.amount_rp}
        case FundsAllocated():
            return {"allocated_rp": event.amount_rp}
        case FundsReturned():
            return {"allocated_rp": -event.amount_rp, "returned_rp": event.amount_rp}


async def _donor_add(conn: asyncpg.Connection, donor_id: UUID, version: int, changes: dict[str, int]) -> None:
    # The column names are donor_changes' own, never input.
    sets = ", ".join(f"{column} = {column} + ${n}" for n, column in enumerate(changes, start=3))
    await conn.execute(
        f"update donors_view set {sets}, version = $2 where donor_id = $1", donor_id, version, *changes.values()
    )
