"""Donors' own personal data: name, contact, pledge notes and bank references, sealed under a key
per donor (shared.crypto.WrappedKeyCipher over `donor_keys`), never in an event, so never on the
bus. Erasure (`DELETE /donors/{id}/personal-data`) deletes the donor's key and everything sealed
under it, and leaves a tombstone so that nothing creates a new key for that donor afterwards. The
money (events, donors_view, sponsorships) stays: it names no one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, TypeAlias
from uuid import UUID

import asyncpg
import structlog

from shared.crypto import AeadStreamCipher, WrappedKeyCipher
from shared.errors import Conflict, FieldError, InvalidCommand

log = structlog.get_logger()
Db: TypeAlias = asyncpg.Connection | asyncpg.Pool

DONOR_KEY_PURPOSE = b"genting/funding/donor-keys"
RECEIPT_CODE_PURPOSE = b"genting/funding/receipt-codes"


def verification_code(key: bytes, contribution_id: UUID) -> str:
    """A receipt's code: a keyed hash of the contribution id (100 bits), so it cannot be guessed
    or made from the id alone; grouped for reading aloud (XXXXX-XXXXX-XXXXX-XXXXX)."""
    digest = hmac.new(key, contribution_id.bytes, hashlib.sha256).digest()
    text = base64.b32encode(digest).decode()[:20]
    return "-".join(text[i : i + 5] for i in range(0, 20, 5))


def normalize_code(code: str) -> str:
    """What a person types: any case, with or without the dashes."""
    text = "".join(c for c in code.upper() if c.isalnum())
    return "-".join(text[i : i + 5] for i in range(0, len(text), 5))


class DonorData:
    def __init__(self, keys: WrappedKeyCipher | None, receipt_key: bytes) -> None:
        self.keys = keys
        self.receipt_key = receipt_key

    async def _cipher(self, conn: asyncpg.Connection, donor_id: UUID, field: str) -> AeadStreamCipher:
        if self.keys is None:
            raise InvalidCommand([FieldError(field, "personal data cannot be kept: no data key is configured")])
        if await conn.fetchval("select 1 from donor_erasures where donor_id = $1", donor_id):
            raise Conflict(f"Donor {donor_id}'s personal data was erased; nothing personal is kept for it again.")
        cipher = await self.keys.for_stream(conn, donor_id, create=True)
        assert cipher is not None
        return cipher

    async def keep(
        self, conn: asyncpg.Connection, donor_id: UUID, name: str, contact: str | None, consent: bool
    ) -> None:
        cipher = await self._cipher(conn, donor_id, "name")
        await conn.execute(
            "insert into donor_sealed (donor_id, sealed, public_name_consent) values ($1, $2, $3)",
            donor_id,
            cipher.seal({"name": name.strip(), "contact": contact.strip() if contact else None}),
            consent,
        )

    async def keep_note(self, conn: asyncpg.Connection, donor_id: UUID, pledge_id: UUID, note: str) -> None:
        cipher = await self._cipher(conn, donor_id, "note")
        await conn.execute(
            "insert into pledge_notes (pledge_id, donor_id, sealed) values ($1, $2, $3)",
            pledge_id,
            donor_id,
            cipher.seal({"note": note.strip()}),
        )

    async def keep_receipt(
        self, conn: asyncpg.Connection, donor_id: UUID, contribution_id: UUID, reference: str
    ) -> str:
        cipher = await self._cipher(conn, donor_id, "reference")
        code = verification_code(self.receipt_key, contribution_id)
        await conn.execute(
            "insert into contribution_receipts (contribution_id, donor_id, verification_code, sealed_reference)"
            " values ($1, $2, $3, $4) on conflict (contribution_id) do nothing",
            contribution_id,
            donor_id,
            code,
            cipher.seal({"reference": reference.strip()}),
        )
        return code

    async def _open(self, db: Db, donor_id: UUID) -> AeadStreamCipher | None:
        key = await self.keys.key(db, donor_id) if self.keys is not None else None
        return None if key is None else AeadStreamCipher(key, donor_id)

    async def personal(self, db: Db, donor_id: UUID) -> dict[str, Any]:
        """{name, contact}: None once erased."""
        cipher = await self._open(db, donor_id)
        sealed = await db.fetchval("select sealed from donor_sealed where donor_id = $1", donor_id)
        if cipher is None or sealed is None:
            return {"name": None, "contact": None}
        opened: dict[str, Any] = cipher.open(sealed)
        return {"name": opened.get("name"), "contact": opened.get("contact")}

    async def reference(self, db: Db, donor_id: UUID, contribution_id: UUID) -> str | None:
        cipher = await self._open(db, donor_id)
        sealed = await db.fetchval(
            "select sealed_reference from contribution_receipts where contribution_id = $1", contribution_id
        )
        if cipher is None or sealed is None:
            return None
        reference: str = cipher.open(sealed)["reference"]
        return reference

    async def public_names(self, db: Db) -> list[dict[str, str]]:
        """The donors that agreed to be named publicly, with their type (and only those)."""
        rows = await db.fetch(
            "select s.donor_id, s.sealed, v.donor_type from donor_sealed s join donors_view v using (donor_id)"
            " where s.public_name_consent order by v.registered_on, s.donor_id"
        )
        keys = await self.keys.keys(db, [r["donor_id"] for r in rows]) if self.keys is not None else {}
        names = []
        for r in rows:
            if r["donor_id"] in keys:  # an erased donor has no key, and so no name
                opened = AeadStreamCipher(keys[r["donor_id"]], r["donor_id"]).open(r["sealed"])
                names.append({"donor_type": r["donor_type"], "name": opened["name"]})
        return names

    async def erase(self, conn: asyncpg.Connection, donor_id: UUID) -> None:
        """Crypto-shredding plus deletion: the key, the sealed rows, the plaintext bank reference
        kept for duplicate checks (replaced by the contribution id), and a tombstone."""
        if self.keys is not None:
            await self.keys.destroy(conn, donor_id)
        await conn.execute("delete from donor_sealed where donor_id = $1", donor_id)
        await conn.execute("delete from donor_personal where donor_id = $1", donor_id)
        await conn.execute("delete from pledge_notes where donor_id = $1", donor_id)
        await conn.execute("update contribution_receipts set sealed_reference = null where donor_id = $1", donor_id)
        await conn.execute(
            "update contribution_references set reference = '', reference_key = 'erased:' || contribution_id::text"
            " where donor_id = $1",
            donor_id,
        )
        await conn.execute("insert into donor_erasures (donor_id) values ($1) on conflict do nothing", donor_id)
        log.info("donor_personal_data_erased", donor_id=str(donor_id))

    async def seal_plaintext(self, pool: asyncpg.Pool) -> int:
        """Seal what older versions kept in plaintext (donor_personal, pledge_notes.note); how many
        donors. Idempotent: each row is sealed and deleted in one transaction."""
        if self.keys is None:
            return 0
        sealed = 0
        async with pool.acquire() as conn:
            for row in await conn.fetch("select donor_id, name, contact from donor_personal"):
                async with conn.transaction():
                    cipher = await self.keys.for_stream(conn, row["donor_id"], create=True)
                    assert cipher is not None
                    await conn.execute(
                        "insert into donor_sealed (donor_id, sealed) values ($1, $2) on conflict do nothing",
                        row["donor_id"],
                        cipher.seal({"name": row["name"], "contact": row["contact"]}),
                    )
                    await conn.execute("delete from donor_personal where donor_id = $1", row["donor_id"])
                    sealed += 1
            for row in await conn.fetch("select pledge_id, donor_id, note from pledge_notes where note is not null"):
                async with conn.transaction():
                    cipher = await self.keys.for_stream(conn, row["donor_id"], create=True)
                    assert cipher is not None
                    await conn.execute(
                        "update pledge_notes set sealed = $2, note = null where pledge_id = $1",
                        row["pledge_id"],
                        cipher.seal({"note": row["note"]}),
                    )
        return sealed
