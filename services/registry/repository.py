"""Loads and saves Family aggregates. One save writes, in the caller's transaction: the events
(personal parts sealed with the family key), the outbox, the KK/NIK uniqueness lookups (and, on
erasure, the import ledger's rows) and the inline read model."""

from __future__ import annotations

from functools import reduce
from uuid import UUID

import asyncpg

from services.registry.domain import (
    PERSONAL_PARTS,
    Fact,
    Family,
    MemberPersonal,
    RegistrationPersonal,
    evolve,
    fold,
)
from services.registry.read_model import write_view
from services.registry.vault import KeyVault
from shared.contracts.registry import CATALOG
from shared.errors import Conflict, FieldError
from shared.eventstore import EventStore, Metadata, NewEvent, StoredEvent
from shared.messaging import Envelope


class AlreadyActive(Conflict):
    """A KK number or NIK already belongs to another active family."""

    title = "Already registered in an active family"

    def __init__(self, field: str, what: str) -> None:
        super().__init__(f"this {what} already belongs to an active family")
        self.errors = [FieldError(field, f"this {what} already belongs to an active family")]


class FamilyRepository:
    def __init__(self, vault: KeyVault) -> None:
        self.vault = vault
        self.store = EventStore("family")

    async def load(self, conn: asyncpg.Connection, family_id: UUID) -> Family:
        stored = await self.store.load(conn, family_id)
        if not stored:
            return Family()
        key = await self.vault.key_for(conn, family_id)
        return fold(self._fact(e, key) for e in stored)

    def _fact(self, stored: StoredEvent, key: bytes | None) -> Fact:
        event = CATALOG.parse(stored.event_type, stored.schema_version, stored.data)
        personal = None
        part = PERSONAL_PARTS.get(stored.event_type)
        if part is not None and stored.sealed is not None and key is not None:
            personal = part.model_validate(self.vault.open(key, stored.stream_id, stored.sealed))
        return Fact(event, personal)  # type: ignore[arg-type]

    async def save(
        self,
        conn: asyncpg.Connection,
        state: Family,
        facts: list[Fact],
        meta: Metadata,
        field_prefix: str = "members",
    ) -> tuple[Family, list[Envelope]]:
        family_id = facts[0].event.aggregate_id()
        if state.version == 0:
            key: bytes | None = await self.vault.create_key(conn, family_id)
        elif any(f.personal is not None for f in facts):
            key = await self.vault.key_for(conn, family_id)
        else:
            key = None
        await self._maintain_lookups(conn, family_id, facts, field_prefix)
        new_events = [
            NewEvent(
                f.event,
                None
                if f.personal is None or key is None
                else self.vault.seal(key, family_id, f.personal.model_dump(mode="json")),
            )
            for f in facts
        ]
        envelopes = await self.store.append(conn, family_id, state.version, new_events, meta)
        after = reduce(evolve, facts, state)
        if any(f.event.event_type == "PersonalDataErased" for f in facts):
            await self.vault.destroy(conn, family_id)
            key = None
        await write_view(conn, self.vault, after, key)
        return after, envelopes

    async def _maintain_lookups(
        self, conn: asyncpg.Connection, family_id: UUID, facts: list[Fact], field_prefix: str
    ) -> None:
        """One active family per KK, one active member per NIK: unique keys, same transaction."""
        for fact in facts:
            personal = fact.personal
            match fact.event.event_type:
                case "FamilyRegistered":
                    assert isinstance(personal, RegistrationPersonal)
                    await self._claim_kk(conn, personal.kk_number, family_id)
                    await self._claim_niks(
                        conn,
                        family_id,
                        [
                            (m.nik, m.member_id, f"{field_prefix}[{i}].nik")
                            for i, m in enumerate(personal.members)
                            if m.nik
                        ],
                    )
                case "MemberAdded":
                    assert isinstance(personal, MemberPersonal)
                    if personal.nik:
                        await self._claim_niks(conn, family_id, [(personal.nik, personal.member_id, "nik")])
                case "FamilyRejected" | "FamilyExited" | "PersonalDataErased":
                    await conn.execute("delete from active_kk where family_id = $1", family_id)
                    await conn.execute("delete from active_nik where family_id = $1", family_id)
            if fact.event.event_type == "PersonalDataErased":
                # The import ledger's row hash is derived from personal data: it goes with the key.
                await conn.execute("delete from import_rows where family_id = $1", family_id)

    async def _claim_kk(self, conn: asyncpg.Connection, kk_number: str, family_id: UUID) -> None:
        status = await conn.execute(
            "insert into active_kk (kk_hash, family_id) values ($1, $2) on conflict do nothing",
            self.vault.lookup_hash("kk", kk_number),
            family_id,
        )
        if status.endswith(" 0"):
            raise AlreadyActive("kk_number", "KK number")

    async def _claim_niks(self, conn: asyncpg.Connection, family_id: UUID, niks: list[tuple[str, UUID, str]]) -> None:
        """All of a command's NIKs in one statement; the first one already held names the field."""
        if not niks:
            return
        hashes = [self.vault.lookup_hash("nik", nik) for nik, _, _ in niks]
        claimed = {
            r["nik_hash"]
            for r in await conn.fetch(
                "insert into active_nik (nik_hash, family_id, member_id)"
                " select h, $2, m from unnest($1::bytea[], $3::uuid[]) as t(h, m)"
                " on conflict do nothing returning nik_hash",
                hashes,
                family_id,
                [member_id for _, member_id, _ in niks],
            )
        }
        for digest, (_, _, field) in zip(hashes, niks, strict=True):
            if digest not in claimed:
                raise AlreadyActive(field, "NIK")
