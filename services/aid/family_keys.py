"""Per-family keys for aid's private parts: a plan's or a home visit's sealed notes
are sealed under a key of the family's own, in aid's `family_keys` table, wrapped under a key
derived from aid's root key. `PersonalDataErased` destroys it: the notes stay in the event store,
unreadable for good. Education sessions (several families; the facilitator is staff, not family
data) keep the service-wide key."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import asyncpg

from shared import eventstore
from shared.crypto import AeadStreamCipher, DerivedKeyCipher, Keyring, WrappedKeyCipher
from shared.repository import StreamCipher

FAMILY_KEY_PURPOSE = b"genting-aid-family-keys-v1"


def without_family_key(*, erased: bool, create: bool, sealed_before: bool) -> Literal["closed", "legacy", "new"]:
    """What a stream of a family that has no key is sealed and opened with. An erased family's
    stays closed for good, whatever is asked (the tombstone: no key is ever made for it again, so
    nothing written later is readable either); a stream sealed before per-family keys existed
    opens with the old service-wide key; otherwise the family gets its key now."""
    if erased:
        return "closed"
    if sealed_before and not create:
        return "legacy"
    return "new"


class FamilyKeyCipher:
    """The repository's `Cipher` for plan and home-visit streams: the stream's family is read
    from its first event (every plan and home-visit event names it, and the first has no private
    part, so it exists before anything is sealed). Streams sealed before per-family keys existed
    (no family key, but sealed parts) open with the old service-wide key, `legacy`."""

    def __init__(self, root_key: bytes | Keyring, legacy: DerivedKeyCipher) -> None:
        self.keys = WrappedKeyCipher(root_key, FAMILY_KEY_PURPOSE, "family_keys", "family_id")
        self.legacy = legacy

    async def family_of(self, conn: asyncpg.Connection, stream_id: UUID) -> UUID | None:
        found = await eventstore.first_data_field(conn, stream_id, "family_id")
        return None if found is None else UUID(str(found))

    async def for_stream(self, conn: asyncpg.Connection, stream_id: UUID, *, create: bool) -> StreamCipher | None:
        family_id = await self.family_of(conn, stream_id)
        if family_id is None:
            return None
        key = await self.keys.key(conn, family_id)
        if key is None:
            erased = await self._erased(conn, family_id)
            sealed_before = not erased and not create and await self._sealed_before(conn, stream_id)
            match without_family_key(erased=erased, create=create, sealed_before=sealed_before):
                case "closed":
                    return None
                case "legacy":
                    return await self.legacy.for_stream(conn, stream_id, create=False)
                case "new":
                    # Two streams of one family may be sealed concurrently: the first insert wins.
                    await conn.execute("select pg_advisory_xact_lock(hashtextextended($1, 0))", str(family_id))
                    key = await self.keys.key(conn, family_id) or await self.keys.create(conn, family_id)
        return AeadStreamCipher(key, stream_id)

    async def destroy(self, conn: asyncpg.Connection, family_id: UUID) -> None:
        """The erasure: the key goes, and a tombstone so no new key is ever made for the family.
        Parts sealed under the old service-wide key (before 0003) have no family key to destroy:
        those are cleared from the store itself."""
        await self.keys.destroy(conn, family_id)
        await eventstore.shred_sealed(conn, ("plan", "homevisit"), "family_id", str(family_id))
        # Confirmations recorded before photos were stored carry the photo reference in their public data
        # (plan_store.py reads it): strip it, so it is gone from the store and from any replay.
        await eventstore.strip_public_field(conn, "plan", "DeliveryConfirmed", "photo_ref", "family_id", str(family_id))
        await conn.execute("insert into erased_families (family_id) values ($1) on conflict do nothing", family_id)

    async def _erased(self, conn: asyncpg.Connection, family_id: UUID) -> bool:
        return bool(
            await conn.fetchval("select exists (select 1 from erased_families where family_id = $1)", family_id)
        )

    async def _sealed_before(self, conn: asyncpg.Connection, stream_id: UUID) -> bool:
        """Sealed parts but no family key: written under the service-wide key, before 0003."""
        return await eventstore.has_sealed_parts(conn, stream_id)
