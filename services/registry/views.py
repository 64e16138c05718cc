"""The registry's inline views, written in the command's transaction after its facts are appended
(the repository runs them in this order):

- `Claims`: one active family per KK number, one active member per NIK — unique keyed hashes that
  span families, so a clash (`AlreadyActive`) rolls the whole command back;
- `FamiliesView`: the `families_view` row the queries read, with the personal snapshot sealed
  under the family's key;
- `Erasure`: on PersonalDataErased, the import ledger's rows (derived from personal data) and the
  family's key go: crypto-shredding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from services.registry.domain import (
    AlreadyActive,
    Family,
    MemberPersonal,
    RegistrationPersonal,
    aging_out_on,
    member_counts,
)
from services.registry.lookup_hashes import LookupHash
from shared.crypto import WrappedKeyCipher
from shared.messaging import Envelope
from shared.repository import Fact

_RELEASING = ("FamilyRejected", "FamilyExited", "PersonalDataErased")


@dataclass(frozen=True)
class Claims:
    """One active family per KK, one active member per NIK: unique keys, same transaction."""

    lookup: LookupHash

    async def __call__(
        self, conn: asyncpg.Connection, state: Family, facts: Sequence[Fact], _: Sequence[Envelope]
    ) -> None:
        assert state.family_id is not None
        for fact in facts:
            personal = fact.private
            match fact.event.event_type:
                case "FamilyRegistered":
                    assert isinstance(personal, RegistrationPersonal)
                    await self._claim_kk(conn, personal.kk_number, state.family_id)
                    niks = [(m.nik, m.member_id, f"members[{i}].nik") for i, m in enumerate(personal.members) if m.nik]
                    await self._claim_niks(conn, state.family_id, niks)
                case "MemberAdded":
                    assert isinstance(personal, MemberPersonal)
                    if personal.nik:
                        await self._claim_niks(conn, state.family_id, [(personal.nik, personal.member_id, "nik")])
                case event_type if event_type in _RELEASING:
                    await conn.execute("delete from active_kk where family_id = $1", state.family_id)
                    await conn.execute("delete from active_nik where family_id = $1", state.family_id)

    async def _claim_kk(self, conn: asyncpg.Connection, kk_number: str, family_id: UUID) -> None:
        status = await conn.execute(
            "insert into active_kk (kk_hash, family_id) values ($1, $2) on conflict do nothing",
            self.lookup("kk", kk_number),
            family_id,
        )
        if status.endswith(" 0"):
            raise AlreadyActive("kk_number", "KK number")

    async def _claim_niks(self, conn: asyncpg.Connection, family_id: UUID, niks: list[tuple[str, UUID, str]]) -> None:
        """All of a command's NIKs in one statement; the first one already held names the field."""
        if not niks:
            return
        hashes = [self.lookup("nik", nik) for nik, _, _ in niks]
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


def personal_snapshot(state: Family) -> dict[str, Any]:
    return {
        "kk_number": state.kk_number,
        "head_name": state.head_name,
        "address": state.address,
        "members": {str(m.member_id): m.personal.model_dump(mode="json") for m in state.members if m.personal},
    }


# The effective date each kind of the programme's records carries. The clock's ChildAgedOut and an
# erasure (dated the day it is done) are not records of the programme's days.
RECORD_DATES = {
    "FamilyRegistered": "registered_on",
    "MemberAdded": "added_on",
    "FamilyVerified": "verified_on",
    "FamilyEnrolled": "enrolled_on",
    "FamilyRejected": "rejected_on",
    "GrowthMeasured": "measured_on",
    "FamilyExited": "exited_on",
    "MotherGaveBirth": "born_on",
}


def recorded_on(facts: Sequence[Fact]) -> date | None:
    """The latest effective date among these facts' records, if any is one."""
    dates = [getattr(f.event, RECORD_DATES[f.event.event_type]) for f in facts if f.event.event_type in RECORD_DATES]
    return max(dates, default=None)


@dataclass(frozen=True)
class FamiliesView:
    """Upserts the family's `families_view` row. The personal snapshot is sealed again only when a
    fact brought a personal part (otherwise the stored one stands); erased, it is dropped."""

    keys: WrappedKeyCipher

    async def __call__(
        self, conn: asyncpg.Connection, state: Family, facts: Sequence[Fact], _: Sequence[Envelope] = ()
    ) -> None:
        assert state.family_id is not None and state.registered_on is not None
        sealed = None
        if not state.erased and any(f.private is not None for f in facts):
            cipher = await self.keys.for_stream(conn, state.family_id, create=False)
            sealed = cipher.seal(personal_snapshot(state)) if cipher else None
        members = [
            {
                "member_id": str(m.member_id),
                "role": m.role,
                "sex": m.sex,
                "age_months_at_registration": m.age_months_at_registration,
            }
            for m in state.members
        ]
        await conn.execute(
            """
            insert into families_view (family_id, version, status, kelurahan_code, kecamatan_code,
                member_counts, members, risk_factors, registered_on, enrolled_on, exited_on, exit_reason,
                personal_erased, personal, ages_out_on, registered_by, recorded_on, updated_at)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, now())
            on conflict (family_id) do update set version = excluded.version, status = excluded.status,
                member_counts = excluded.member_counts, members = excluded.members,
                risk_factors = excluded.risk_factors, enrolled_on = excluded.enrolled_on,
                exited_on = excluded.exited_on, exit_reason = excluded.exit_reason,
                personal_erased = excluded.personal_erased, ages_out_on = excluded.ages_out_on,
                recorded_on = greatest(families_view.recorded_on, excluded.recorded_on),
                -- nothing sealed: the personal snapshot did not change (only facts with a personal part change it)
                personal = case when excluded.personal_erased then null
                                else coalesce(excluded.personal, families_view.personal) end,
                updated_at = now()
            where families_view.version < excluded.version
            """,
            state.family_id,
            state.version,
            state.status,
            state.kelurahan_code,
            state.kecamatan_code,
            dict(member_counts(state)),
            members,
            list(state.risk_factors),
            state.registered_on,
            state.enrolled_on,
            state.exited_on,
            state.exit_reason,
            state.erased,
            sealed,
            min((d for m in state.members if (d := aging_out_on(m)) is not None), default=None),
            state.registered_by,
            recorded_on(facts),
        )


@dataclass(frozen=True)
class Erasure:
    """What goes with a family's personal data: the import ledger's rows (their hash is derived from
    personal data) and the family's key, after which its sealed history can never be read again."""

    keys: WrappedKeyCipher

    async def __call__(
        self, conn: asyncpg.Connection, state: Family, facts: Sequence[Fact], _: Sequence[Envelope]
    ) -> None:
        if any(f.event.event_type == "PersonalDataErased" for f in facts):
            assert state.family_id is not None
            await conn.execute("delete from import_rows where family_id = $1", state.family_id)
            await self.keys.destroy(conn, state.family_id)
