"""Donors' own personal data: name and contact, pledge notes and bank references. They are the
donor stream's private parts (domain/private.py), sealed by the repository into the event store's
never-published `sealed` column under a key per donor (`DonorKeyCipher`: `donor_keys`, the donor's
id is its stream's id), so never on the bus. Reads open them through the same cipher. Erasure
(`DELETE /donors/{id}/personal-data`) destroys the donor's key and clears the sealed parts, and
leaves a tombstone so that nothing creates a new key for that donor afterwards. The money (events'
public data, donors_view, sponsorships) stays: it names no one.

Older releases kept these beside the stream (`donor_personal` in plaintext, then `donor_sealed`,
`pledge_notes`, `contribution_receipts.sealed_reference`): `move_to_events` moves them in at start-up.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from typing import Any, TypeAlias
from uuid import UUID

import asyncpg
import structlog
from cryptography.exceptions import InvalidTag
from pydantic import BaseModel

from services.funding.domain import Donor
from services.funding.domain.private import BankReference, DonorDetails, PledgeNote
from shared import eventstore
from shared.contracts.funding import ContributionReceived, DonorRegistered, PledgeMade
from shared.crypto import AeadStreamCipher, WrappedKeyCipher
from shared.errors import Conflict, FieldError, InvalidCommand
from shared.eventstore import StoredEvent
from shared.repository import Repository

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


async def erased(conn: Db, donor_id: UUID) -> bool:
    return bool(await conn.fetchval("select exists (select 1 from donor_erasures where donor_id = $1)", donor_id))


class DonorKeyCipher:
    """The donor repository's `Cipher`: a random key per donor, wrapped under the root key. A key is
    made with the donor's first event and never again once the donor was erased (the tombstone)."""

    def __init__(self, keys: WrappedKeyCipher | None) -> None:
        self.keys = keys  # None without a data key: nothing personal is kept

    async def for_stream(self, conn: asyncpg.Connection, stream_id: UUID, *, create: bool) -> AeadStreamCipher | None:
        if self.keys is None:
            return None
        key = await self.keys.key(conn, stream_id)
        if key is None and create and not await erased(conn, stream_id):
            key = await self.keys.create(conn, stream_id)
        return None if key is None else AeadStreamCipher(key, stream_id)

    async def streams(self, db: Db, donor_ids: Sequence[UUID]) -> dict[UUID, AeadStreamCipher]:
        """The ciphers of several donors in one query: the erased ones have none."""
        keys = await self.keys.keys(db, list(donor_ids)) if self.keys is not None and donor_ids else {}
        return {donor_id: AeadStreamCipher(key, donor_id) for donor_id, key in keys.items()}


class DonorData:
    """The reads, checks and erasure of donors' private parts, over the donor repository."""

    def __init__(self, donors: Repository[Donor], cipher: DonorKeyCipher, receipt_key: bytes) -> None:
        self.donors = donors
        self.cipher = cipher
        self.receipt_key = receipt_key

    @property
    def keys(self) -> WrappedKeyCipher | None:
        """The wrapped donor keys (`genting rotate-keys funding` re-wraps them)."""
        return self.cipher.keys

    async def require_keepable(self, conn: asyncpg.Connection, donor_id: UUID, field: str) -> None:
        """Before a command whose event has a private part: refused without a data key (422 naming
        the field) or once the donor was erased (409): nothing personal is kept for it again."""
        if self.cipher.keys is None:
            raise InvalidCommand([FieldError(field, "personal data cannot be kept: no data key is configured")])
        if await erased(conn, donor_id):
            raise Conflict(f"Donor {donor_id}'s personal data was erased; nothing personal is kept for it again.")

    async def keep_receipt_code(self, conn: asyncpg.Connection, donor_id: UUID, contribution_id: UUID) -> str:
        """A contribution's verification code, kept for `GET /receipts/verify/{code}` (not personal)."""
        code = verification_code(self.receipt_key, contribution_id)
        await conn.execute(
            "insert into contribution_receipts (contribution_id, donor_id, verification_code)"
            " values ($1, $2, $3) on conflict (contribution_id) do nothing",
            contribution_id,
            donor_id,
            code,
        )
        return code

    async def _parts(
        self,
        db: Db,
        donor_ids: Sequence[UUID],
        event_types: Sequence[str],
        field: str | None = None,
        value: str | None = None,
    ) -> list[tuple[StoredEvent, BaseModel]]:
        """(event, its opened private part) of such events, through the repository and its cipher."""
        stored = await eventstore.sealed_events(db, donor_ids, event_types, field, value)
        ciphers = await self.cipher.streams(db, sorted({e.stream_id for e in stored}))
        parts = []
        for event in stored:
            private = self.donors.fact(event, ciphers.get(event.stream_id)).private
            if private is not None:  # an erased donor's stay closed
                parts.append((event, private))
        return parts

    async def personal(self, db: Db, donor_id: UUID) -> dict[str, Any]:
        """What the statement shows of the donor's private parts: {name, contact, pledge_notes
        ([{pledge_id, note}], oldest first)}; None, None and [] once erased."""
        found: dict[str, Any] = {"name": None, "contact": None, "pledge_notes": []}
        for event, part in await self._parts(db, [donor_id], [DonorRegistered.event_type, PledgeMade.event_type]):
            if isinstance(part, DonorDetails):
                found.update(name=part.name, contact=part.contact)
            elif isinstance(part, PledgeNote):
                found["pledge_notes"].append({"pledge_id": event.data["pledge_id"], "note": part.note})
        return found

    async def reference(self, db: Db, donor_id: UUID, contribution_id: UUID) -> str | None:
        """The bank reference of one contribution: None once erased."""
        parts = await self._parts(
            db, [donor_id], [ContributionReceived.event_type], "contribution_id", str(contribution_id)
        )
        for _, part in parts:
            assert isinstance(part, BankReference)
            return part.reference
        return None

    async def public_names(self, db: Db) -> list[dict[str, str]]:
        """The donors that agreed to be named publicly, with their type (and only those)."""
        rows = await db.fetch("select donor_id, donor_type from donors_view order by registered_on, donor_id")
        types = {r["donor_id"]: r["donor_type"] for r in rows}
        details = {e.stream_id: p for e, p in await self._parts(db, list(types), [DonorRegistered.event_type])}
        names = []
        for donor_id, donor_type in types.items():
            part = details.get(donor_id)
            if isinstance(part, DonorDetails) and part.public_name_consent:
                names.append({"donor_type": donor_type, "name": part.name})
        return names

    async def erase(self, conn: asyncpg.Connection, donor_id: UUID) -> None:
        """Crypto-shredding plus deletion: the key, the sealed parts of the donor's stream, whatever an
        older release kept beside it, the plaintext bank reference kept for duplicate checks
        (replaced by the contribution id), and a tombstone."""
        if self.cipher.keys is not None:
            await self.cipher.keys.destroy(conn, donor_id)
        await eventstore.shred_sealed(conn, ("donor",), "donor_id", str(donor_id))
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

    # -- what older releases kept beside the stream ------------------------------------------

    async def move_to_events(self, pool: asyncpg.Pool) -> int:
        """Move what older releases kept beside the stream into the events' private parts, sealed
        by the repository's cipher: plaintext `donor_personal` and `pledge_notes.note`, and the
        sealed `donor_sealed`, `pledge_notes.sealed`, `contribution_receipts.sealed_reference`.
        Each row in its own transaction, deleted (or its blob cleared) as it moves: idempotent, and
        a row whose event is missing or already has its part stays. How many moved."""
        if self.cipher.keys is None:
            return 0
        moved = 0
        async with pool.acquire() as conn:
            for row in await conn.fetch(
                "select p.donor_id, p.name, p.contact, null::bytea as sealed, false as public_name_consent"
                " from donor_personal p union all"
                " select donor_id, null, null, sealed, public_name_consent from donor_sealed"
            ):
                async with conn.transaction():
                    opened = await self._open_legacy(conn, row["donor_id"], row["sealed"], create=True)
                    if opened is None:
                        continue
                    plain = row["sealed"] is None
                    part = DonorDetails(
                        name=row["name"] if plain else opened["name"],
                        contact=row["contact"] if plain else opened.get("contact"),
                        public_name_consent=row["public_name_consent"],
                    )
                    if await self._seal_into(conn, row["donor_id"], DonorRegistered.event_type, part):
                        moved += 1
                        table = "donor_personal" if plain else "donor_sealed"
                        await conn.execute(f"delete from {table} where donor_id = $1", row["donor_id"])
            for row in await conn.fetch(
                "select pledge_id, donor_id, note, sealed from pledge_notes"
                " where note is not null or sealed is not null"
            ):
                async with conn.transaction():
                    opened = await self._open_legacy(conn, row["donor_id"], row["sealed"], create=True)
                    if opened is None:
                        continue
                    note = PledgeNote(note=row["note"] if row["sealed"] is None else opened["note"])
                    donor_id, pledge_id = row["donor_id"], row["pledge_id"]
                    if await self._seal_into(conn, donor_id, PledgeMade.event_type, note, "pledge_id", pledge_id):
                        moved += 1
                        await conn.execute("delete from pledge_notes where pledge_id = $1", row["pledge_id"])
            for row in await conn.fetch(
                "select contribution_id, donor_id, sealed_reference from contribution_receipts"
                " where sealed_reference is not null"
            ):
                async with conn.transaction():
                    opened = await self._open_legacy(conn, row["donor_id"], row["sealed_reference"], create=False)
                    if opened is None:
                        continue
                    reference = BankReference(reference=opened["reference"])
                    donor_id, contribution_id = row["donor_id"], row["contribution_id"]
                    event_type = ContributionReceived.event_type
                    if await self._seal_into(conn, donor_id, event_type, reference, "contribution_id", contribution_id):
                        moved += 1
                        await conn.execute(
                            "update contribution_receipts set sealed_reference = null where contribution_id = $1",
                            contribution_id,
                        )
        return moved

    async def _open_legacy(
        self, conn: asyncpg.Connection, donor_id: UUID, sealed: bytes | None, *, create: bool
    ) -> dict[str, str] | None:
        """A side row's content ({} for a plaintext one, which needs no key but may need one made),
        or None when it cannot be opened (the donor was erased: the row is left for erase to clear)."""
        cipher = await self.cipher.for_stream(conn, donor_id, create=create and sealed is None)
        if cipher is None:
            return None
        if sealed is None:
            return {}
        try:
            opened: dict[str, str] = cipher.open(sealed)  # sealed under the same key, bound to the donor's id
        except InvalidTag:
            log.warning("donor_side_row_unreadable", donor_id=str(donor_id))
            return None
        return opened

    async def _seal_into(
        self,
        conn: asyncpg.Connection,
        donor_id: UUID,
        event_type: str,
        part: BaseModel,
        field: str | None = None,
        value: UUID | None = None,
    ) -> bool:
        cipher = await self.cipher.for_stream(conn, donor_id, create=False)
        assert cipher is not None
        sealed = cipher.seal(part.model_dump(mode="json"))
        moved = await eventstore.seal_unsealed(conn, donor_id, event_type, sealed, field, str(value) if value else None)
        if not moved:
            log.warning("donor_side_row_not_moved", donor_id=str(donor_id), event_type=event_type)
        return moved
