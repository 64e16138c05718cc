"""Where a grievance's private parts (description, contact, resolution) are sealed: under the
family's own key when the grievance names a family (so the registry's erasure of the family
erases them too), else under a key of the grievance's own in `grievance_keys`, destroyed by
`DELETE /grievances/{id}/personal-data` (a tombstone in `erased_grievances` keeps it destroyed)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.aid.family_keys import FamilyKeyCipher
from shared.crypto import AeadStreamCipher, Keyring, WrappedKeyCipher
from shared.repository import StreamCipher

GRIEVANCE_KEY_PURPOSE = b"genting-aid-grievance-keys-v1"


class GrievanceCipher:
    def __init__(self, root_key: bytes | Keyring, families: FamilyKeyCipher) -> None:
        self.own = WrappedKeyCipher(root_key, GRIEVANCE_KEY_PURPOSE, "grievance_keys", "grievance_id")
        self.families = families

    async def for_stream(self, conn: asyncpg.Connection, stream_id: UUID, *, create: bool) -> StreamCipher | None:
        # The family is recorded beside the stream before its first (sealed) event is appended.
        family_id = await conn.fetchval("select family_id from grievance_tracking where grievance_id = $1", stream_id)
        if family_id is None:
            if create and await conn.fetchval("select 1 from erased_grievances where grievance_id = $1", stream_id):
                create = False  # erased: an answer given afterwards is not kept either
            return await self.own.for_stream(conn, stream_id, create=create)
        keys = self.families.keys
        key = await keys.key(conn, family_id)
        if key is None:
            if not create or await conn.fetchval("select 1 from erased_families where family_id = $1", family_id):
                return None  # erased: what was sealed stays closed, and nothing new is kept
            await conn.execute("select pg_advisory_xact_lock(hashtextextended($1, 0))", str(family_id))
            key = await keys.key(conn, family_id) or await keys.create(conn, family_id)
        return AeadStreamCipher(key, stream_id)

    async def erase(self, conn: asyncpg.Connection, grievance_id: UUID) -> None:
        """Destroy the grievance's own key: its sealed texts become unreadable for good."""
        await conn.execute(
            "insert into erased_grievances (grievance_id) values ($1) on conflict do nothing", grievance_id
        )
        await self.own.destroy(conn, grievance_id)
