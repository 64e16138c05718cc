"""A sponsorship's note: free text that may describe the family, so it is sealed under a key of
the family's own (funding's `family_keys`, wrapped under the root key), not the donor's. It is
`FamilySponsored`'s private part in the event store; the registry's `PersonalDataErased`
destroys the family's key and clears the parts, and a tombstone (`erased_families`) keeps a key
from ever being made for the family again.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import structlog
from cryptography.exceptions import InvalidTag

from services.funding.domain.private import SponsorshipNote
from shared import eventstore
from shared.contracts.funding import FamilySponsored
from shared.crypto import AeadStreamCipher, WrappedKeyCipher
from shared.repository import Repository

log = structlog.get_logger()


class FamilyNoteCipher:
    """The sponsorship repository's `Cipher`: a sponsorship stream's parts are sealed under its
    family's key (bound to the sponsorship's id, as every stream's are). The family is read from
    `family_sponsorships`, written before the sponsorship's first event is sealed."""

    def __init__(self, keys: WrappedKeyCipher | None) -> None:
        self.keys = keys  # None without a data key: nothing family-bound is kept

    async def family_of(self, conn: asyncpg.Connection | asyncpg.Pool, sponsorship_id: UUID) -> UUID | None:
        family: UUID | None = await conn.fetchval(
            "select family_id from family_sponsorships where sponsorship_id = $1", sponsorship_id
        )
        return family

    async def for_stream(self, conn: asyncpg.Connection, stream_id: UUID, *, create: bool) -> AeadStreamCipher | None:
        if self.keys is None or (family_id := await self.family_of(conn, stream_id)) is None:
            return None
        key = await self.keys.key(conn, family_id)
        # The family's row lock (held by every sponsorship command) orders two first notes.
        if key is None and create and not await erased(conn, family_id):
            key = await self.keys.create(conn, family_id)
        return None if key is None else AeadStreamCipher(key, stream_id)

    async def destroy(self, conn: asyncpg.Connection, family_id: UUID) -> None:
        """The erasure: the key, the sealed parts themselves, any note still in the old side table."""
        if self.keys is not None:
            await self.keys.destroy(conn, family_id)
        await eventstore.shred_sealed(conn, ("sponsorship",), "family_id", str(family_id))
        await conn.execute("delete from sponsorship_notes where family_id = $1", family_id)


async def erased(conn: asyncpg.Connection, family_id: UUID) -> bool:
    return bool(await conn.fetchval("select exists (select 1 from erased_families where family_id = $1)", family_id))


async def notes(db: asyncpg.Pool, sponsorships: Repository[Any], family_id: UUID) -> dict[str, str]:
    """The family's sponsorship notes (sponsorship id -> note), opened through the repository's
    cipher: none once the family's key is destroyed."""
    ids = [
        r["sponsorship_id"]
        for r in await db.fetch("select sponsorship_id from family_sponsorships where family_id = $1", family_id)
    ]
    stored = await eventstore.sealed_events(db, ids, [FamilySponsored.event_type])
    if not stored:
        return {}
    assert sponsorships.cipher is not None
    found: dict[str, str] = {}
    async with db.acquire() as conn:
        for event in stored:
            cipher = await sponsorships.cipher.for_stream(conn, event.stream_id, create=False)
            part = sponsorships.fact(event, cipher).private
            if isinstance(part, SponsorshipNote):
                found[str(event.stream_id)] = part.note
    return found


async def move_side_notes(pool: asyncpg.Pool, cipher: FamilyNoteCipher) -> int:
    """Notes an older release sealed into `sponsorship_notes` (under the family's key, bound to the
    family id) become their `FamilySponsored` events' private parts, re-sealed bound to the
    sponsorship. Run at start-up; each row moves in its own transaction, so it is idempotent.
    How many moved."""
    if cipher.keys is None:
        return 0
    moved = 0
    async with pool.acquire() as conn:
        for row in await conn.fetch("select sponsorship_id, family_id, sealed from sponsorship_notes"):
            async with conn.transaction():
                key = await cipher.keys.key(conn, row["family_id"])
                target = await cipher.for_stream(conn, row["sponsorship_id"], create=False)
                if key is None or target is None:  # erased meanwhile: nothing to keep
                    await conn.execute("delete from sponsorship_notes where sponsorship_id = $1", row["sponsorship_id"])
                    continue
                try:
                    note = AeadStreamCipher(key, row["family_id"]).open(row["sealed"])["note"]
                except InvalidTag:
                    log.warning("sponsorship_note_unreadable", sponsorship_id=str(row["sponsorship_id"]))
                    continue
                sealed = target.seal(SponsorshipNote(note=note).model_dump(mode="json"))
                if await eventstore.seal_unsealed(conn, row["sponsorship_id"], FamilySponsored.event_type, sealed):
                    moved += 1
                else:  # no such event, or it has its part already: the row is left for a person to see
                    log.warning("sponsorship_note_not_moved", sponsorship_id=str(row["sponsorship_id"]))
                    continue
                await conn.execute("delete from sponsorship_notes where sponsorship_id = $1", row["sponsorship_id"])
    return moved
