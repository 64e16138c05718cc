"""The import ledger (`import_rows`): which family each imported row became.

A row is known by a keyed hash of its normalised content (import_identity.py, lookup_hashes.py),
never by the content itself, so a row seen before is recognised in whatever file, chunk or line it
comes back, and registers nothing twice. A row whose KK number an active family already holds is
the same row when that family's content is the row's (registered by hand, say): the ledger then
remembers that family for it. The ledger's rows go with the family's personal data (views.Erasure).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from services.registry.bodies import RegisterFamilyIn
from services.registry.domain import Family
from services.registry.import_identity import content_key, row_content, same_family
from services.registry.lookup_hashes import LookupHash
from shared.repository import Repository


@dataclass(frozen=True)
class ImportLedger:
    lookup: LookupHash
    families: Repository[Family]

    def row_hash(self, body: RegisterFamilyIn) -> bytes:
        """The keyed hash a row is known by: the same for the same family however it is spelt."""
        return self.lookup("import-row", content_key(row_content(body)))

    async def family_of(self, conn: asyncpg.Connection, row_hash: bytes) -> UUID | None:
        """The family the row became, if it was imported before."""
        family_id: UUID | None = await conn.fetchval("select family_id from import_rows where row_hash = $1", row_hash)
        return family_id

    async def families_of(self, conn: asyncpg.Connection, row_hashes: Sequence[bytes]) -> dict[bytes, UUID]:
        """Of a batch of rows, those imported before and the family each became, in one query: a file
        sent again is answered by this one read, not a lookup per row."""
        if not row_hashes:
            return {}
        found = await conn.fetch(
            "select row_hash, family_id from import_rows where row_hash = any($1::bytea[])", list(set(row_hashes))
        )
        return {bytes(r["row_hash"]): r["family_id"] for r in found}

    async def record(self, conn: asyncpg.Connection, row_hash: bytes, family_id: UUID, imported_by: str) -> None:
        """In the registration's transaction, so a row and its family commit together. A row recorded
        meanwhile by another import raises asyncpg.UniqueViolationError (roll back, then ask
        `family_of`)."""
        await conn.execute(
            "insert into import_rows (row_hash, family_id, imported_by) values ($1, $2, $3)",
            row_hash,
            family_id,
            imported_by,
        )

    async def remember(self, conn: asyncpg.Connection, row_hash: bytes, family_id: UUID, imported_by: str) -> None:
        """A row found to be a family registered otherwise: known from now on, without a second look."""
        await conn.execute(
            "insert into import_rows (row_hash, family_id, imported_by) values ($1, $2, $3) on conflict do nothing",
            row_hash,
            family_id,
            imported_by,
        )

    async def same_family(self, conn: asyncpg.Connection, body: RegisterFamilyIn) -> UUID | None:
        """The active family holding the row's KK number, if its content is the row's."""
        family_id: UUID | None = await conn.fetchval(
            "select family_id from active_kk where kk_hash = $1", self.lookup("kk", body.kk_number)
        )
        if family_id is None:
            return None
        family = await self.families.load(conn, family_id)
        return family_id if same_family(family.state, body) else None
