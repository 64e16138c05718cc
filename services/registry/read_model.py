"""The registry's inline read model (`families_view`): written with each command, read by queries."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from services.registry.domain import Family, member_counts
from services.registry.reference import kelurahan
from services.registry.vault import KeyVault


def personal_snapshot(state: Family) -> dict[str, Any]:
    return {
        "kk_number": state.kk_number,
        "head_name": state.head_name,
        "address": state.address,
        "members": {str(m.member_id): m.personal.model_dump(mode="json") for m in state.members if m.personal},
    }


async def write_view(conn: asyncpg.Connection, vault: KeyVault, state: Family, key: bytes | None) -> None:
    """Upsert the family's row; `key` is needed only when its personal data changed."""
    assert state.family_id is not None and state.registered_on is not None
    sealed = None
    if key is not None and not state.erased:
        sealed = vault.seal(key, state.family_id, personal_snapshot(state))
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
            personal_erased, personal, updated_at)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, now())
        on conflict (family_id) do update set version = excluded.version, status = excluded.status,
            member_counts = excluded.member_counts, members = excluded.members,
            risk_factors = excluded.risk_factors, enrolled_on = excluded.enrolled_on,
            exited_on = excluded.exited_on, exit_reason = excluded.exit_reason,
            personal_erased = excluded.personal_erased,
            -- no key given: the personal snapshot did not change (only facts with a personal part change it)
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
    )


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


async def family_views(
    pool: asyncpg.Pool,
    vault: KeyVault,
    rows: list[asyncpg.Record],
    show_personal: dict[UUID, bool],
) -> list[dict[str, Any]]:
    """Render rows; personal fields only where `show_personal` says so and the key still exists."""
    wanted = [r["family_id"] for r in rows if show_personal.get(r["family_id"]) and r["personal"]]
    keys = await vault.keys_for(pool, wanted) if wanted else {}
    out = []
    for r in rows:
        fid = r["family_id"]
        k = kelurahan(r["kelurahan_code"])
        body: dict[str, Any] = {
            "family_id": str(fid),
            "status": r["status"],
            "version": r["version"],
            "kelurahan_code": r["kelurahan_code"],
            "kelurahan": k.name if k else None,
            "kecamatan_code": r["kecamatan_code"],
            "kecamatan": k.kecamatan.name if k else None,
            "member_counts": r["member_counts"],
            "risk_factors": list(r["risk_factors"]),
            "registered_on": _iso(r["registered_on"]),
            "enrolled_on": _iso(r["enrolled_on"]),
            "exited_on": _iso(r["exited_on"]),
            "exit_reason": r["exit_reason"],
            "personal_data_erased": r["personal_erased"],
            "members": [dict(m) for m in r["members"]],
        }
        if fid in keys:
            personal = vault.open(keys[fid], fid, r["personal"])
            body.update(kk_number=personal["kk_number"], head_name=personal["head_name"], address=personal["address"])
            for m in body["members"]:
                m.update({k2: v for k2, v in personal["members"].get(m["member_id"], {}).items() if k2 != "member_id"})
        out.append(body)
    return out
