"""Loads and saves funding's aggregates. A save appends in the caller's transaction (events, outbox)
and applies the events to the inline read model in that same transaction; the lookups that span
aggregates (a bank reference per donor, a family's sponsorships) are unique keys written alongside."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast
from uuid import UUID

import asyncpg

from services.funding.domain import donor as donors
from services.funding.domain import sponsorship as sponsorships
from services.funding.read_model import project
from shared.contracts.funding import CATALOG, DonorStreamEvent, SponsorshipStreamEvent
from shared.errors import Conflict, FieldError
from shared.eventstore import EventStore, Metadata, NewEvent
from shared.messaging import Envelope

DONORS = EventStore("donor")
SPONSORSHIPS = EventStore("sponsorship")


class DuplicateContribution(Conflict):
    """This donor already has a contribution with this bank reference: it was recorded before."""

    title = "Contribution already recorded"

    def __init__(self, donor_id: UUID, reference: str) -> None:
        super().__init__(f"Donor {donor_id} already has a contribution with reference {reference!r}.")
        self.errors = [FieldError("reference", "already recorded for this donor")]


async def load_donor(conn: asyncpg.Connection, donor_id: UUID) -> donors.Donor:
    stored = await DONORS.load(conn, donor_id)
    return donors.fold(cast(DonorStreamEvent, CATALOG.parse(e.event_type, e.schema_version, e.data)) for e in stored)


async def load_sponsorship(conn: asyncpg.Connection, sponsorship_id: UUID) -> sponsorships.Sponsorship:
    stored = await SPONSORSHIPS.load(conn, sponsorship_id)
    return sponsorships.fold(
        cast(SponsorshipStreamEvent, CATALOG.parse(e.event_type, e.schema_version, e.data)) for e in stored
    )


async def save(
    conn: asyncpg.Connection,
    store: EventStore,
    stream_id: UUID,
    expected_version: int,
    events: Sequence[DonorStreamEvent | SponsorshipStreamEvent],
    meta: Metadata,
) -> list[Envelope]:
    """Append with the expected version (ConcurrencyConflict if stale), then project inline."""
    envelopes = await store.append(conn, stream_id, expected_version, [NewEvent(e) for e in events], meta)
    for envelope in envelopes:
        await project(conn, envelope)
    return envelopes


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


async def lock_family(conn: asyncpg.Connection, family_id: UUID) -> asyncpg.Record | None:
    """Serialises everything that touches one family's sponsorships (a new sponsorship, a draw, a
    release): without it an exit could release the sponsorships it saw while a new one commits."""
    return await conn.fetchrow(
        "select status, kelurahan_code from funding_families where family_id = $1 for update", family_id
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


async def add_family_sponsorship(
    conn: asyncpg.Connection, sponsorship_id: UUID, family_id: UUID, donor_id: UUID
) -> None:
    await conn.execute(
        "insert into family_sponsorships (sponsorship_id, family_id, donor_id) values ($1, $2, $3)",
        sponsorship_id,
        family_id,
        donor_id,
    )


async def family_sponsorships(conn: asyncpg.Connection, family_id: UUID) -> list[sponsorships.Sponsorship]:
    """The family's sponsorships, oldest first (the order deliveries are paid in), in one query."""
    rows = await conn.fetch(
        "select e.stream_id, e.event_type, e.schema_version, e.data from family_sponsorships f"
        " join events e on e.stream_id = f.sponsorship_id where f.family_id = $1"
        " order by f.seq, e.stream_version",
        family_id,
    )
    streams: dict[UUID, list[SponsorshipStreamEvent]] = {}
    for r in rows:
        event = CATALOG.parse(r["event_type"], r["schema_version"], r["data"])
        streams.setdefault(r["stream_id"], []).append(cast(SponsorshipStreamEvent, event))
    return [sponsorships.fold(events) for events in streams.values()]
