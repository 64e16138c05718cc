"""The registry's reads: `families_view` rows rendered as the API answers them, with the personal
fields opened (with the family's key) only for callers who may see them."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from shared.crypto import AeadStreamCipher, WrappedKeyCipher
from shared.programme import Programme
from shared.reads import Page, page


async def family_row(pool: asyncpg.Pool, family_id: UUID) -> asyncpg.Record | None:
    return await pool.fetchrow("select * from families_view where family_id = $1", family_id)


async def family_rows(
    pool: asyncpg.Pool,
    kelurahan_code: str | None,
    status: str | None,
    limit: int,
    offset: int,
    registered_by: str | None = None,
) -> Page:
    """One page of families, oldest registration first, and how many match in all (`registered_by`:
    only those one principal registered)."""
    filters = {"kelurahan_code = $": kelurahan_code, "status = $": status, "registered_by = $": registered_by}
    return await page(pool, "families_view", filters, order_by="registered_on, family_id", limit=limit, offset=offset)


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


async def family_views(
    pool: asyncpg.Pool,
    keys: WrappedKeyCipher,
    programme: Programme,
    rows: list[asyncpg.Record],
    show_personal: dict[UUID, bool],
) -> list[dict[str, Any]]:
    """Render rows; personal fields only where `show_personal` says so and the key still exists."""
    wanted = [r["family_id"] for r in rows if show_personal.get(r["family_id"]) and r["personal"]]
    opened = await keys.keys(pool, wanted) if wanted else {}
    out = []
    for r in rows:
        fid = r["family_id"]
        k = programme.kelurahan(r["kelurahan_code"])
        body: dict[str, Any] = {
            "family_id": str(fid),
            "status": r["status"],
            "version": r["version"],
            "kelurahan_code": r["kelurahan_code"],
            "kelurahan": k.name if k else None,
            "kecamatan_code": r["kecamatan_code"],
            "kecamatan": k.kecamatan_name if k else None,
            "member_counts": r["member_counts"],
            "risk_factors": list(r["risk_factors"]),
            "registered_on": _iso(r["registered_on"]),
            "enrolled_on": _iso(r["enrolled_on"]),
            "exited_on": _iso(r["exited_on"]),
            "exit_reason": r["exit_reason"],
            "personal_data_erased": r["personal_erased"],
            "members": [dict(m) for m in r["members"]],
        }
        if fid in opened:
            personal = AeadStreamCipher(opened[fid], fid).open(r["personal"])
            body.update(kk_number=personal["kk_number"], head_name=personal["head_name"], address=personal["address"])
            for m in body["members"]:
                m.update({k2: v for k2, v in personal["members"].get(m["member_id"], {}).items() if k2 != "member_id"})
        out.append(body)
    return out
