"""Rotating the registry's root key on a real PostgreSQL (deploy/README.md, "Rotating a data key"):
families registered under the old root stay readable while both roots are given, `genting
rotate-keys` moves every family key onto the new root, and once the old root is removed everything
still reads, the KK/NIK claims still hold (the same KK again is 409) and an erasure still works."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from registry_support import MEDONO, TODAY, token

from genting import keys
from services.registry.app import KEY_WRAPPING_PURPOSE, create_app
from services.registry.lookup_hashes import LookupKeyNotPinned
from services.registry.settings import RegistrySettings
from shared.crypto import NONCE_BYTES, WrappedKeyCipher, derive_key, key_id
from shared.testing.apps import serving, settings_for
from shared.testing.registry_examples import family_body

OLD = bytes(range(40, 72))
NEW = bytes(range(80, 112))


def b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


@asynccontextmanager
async def running(settings: RegistrySettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    app.state.clock = lambda: TODAY
    async with serving(app, "registry") as client:
        yield client


async def personal(client: httpx.AsyncClient, family_id: str) -> dict[str, Any]:
    response = await client.get(f"/families/{family_id}", headers=token("admin"))
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def wrapped_key_ids(database_url: str) -> list[bytes]:
    conn = await asyncpg.connect(database_url)
    try:
        return [bytes(r["w"][1:9]) for r in await conn.fetch("select wrapped_key as w from family_keys")]
    finally:
        await conn.close()


async def make_legacy(database_url: str, family_id: str) -> None:
    """Rewrite one family's key in the format from before key ids (as every deployment has them)."""
    fid = UUID(family_id)
    conn = await asyncpg.connect(database_url)
    try:
        key = await WrappedKeyCipher(OLD, KEY_WRAPPING_PURPOSE, "family_keys", "family_id").key(conn, fid)
        assert key is not None
        nonce = os.urandom(NONCE_BYTES)
        legacy = nonce + AESGCM(derive_key(OLD, KEY_WRAPPING_PURPOSE)).encrypt(nonce, key, fid.bytes)
        await conn.execute("update family_keys set wrapped_key = $2 where family_id = $1", fid, legacy)
    finally:
        await conn.close()


async def test_a_rotated_registry_reads_everything_keeps_its_claims_and_still_erases(
    database_url: str, js_clean: str
) -> None:
    def settings(**kw: str) -> RegistrySettings:
        return settings_for(RegistrySettings, database_url, js_clean, **kw)

    before = settings(data_key=b64(OLD))
    a, b, c = family_body(1, TODAY, MEDONO), family_body(2, TODAY, MEDONO), family_body(3, TODAY, MEDONO)
    async with running(before) as registry:
        ids = [
            (await registry.post("/families", json=body, headers=token("admin"))).json()["family_id"] for body in (a, b)
        ]
    await make_legacy(database_url, ids[1])
    pinned = keys.lookup_key_text(before)  # step 1 of the procedure, under the old root

    # Both roots given, the new one current: an old-format key, an old-root key and a new one all read.
    with pytest.raises(LookupKeyNotPinned):
        create_app(settings(data_key=b64(NEW), data_keys_previous=b64(OLD)))
    during = settings(data_key=b64(NEW), data_keys_previous=b64(OLD), lookup_key=pinned)
    async with running(during) as registry:
        for family_id, body in zip(ids, (a, b), strict=True):
            assert (await personal(registry, family_id))["kk_number"] == body["kk_number"]
        ids.append((await registry.post("/families", json=c, headers=token("admin"))).json()["family_id"])
        assert (
            await registry.post(
                "/families", json=family_body(4, TODAY, MEDONO) | {"kk_number": a["kk_number"]}, headers=token("admin")
            )
        ).status_code == 409
        assert sorted(await wrapped_key_ids(database_url)).count(key_id(NEW)) == 1

        rotated = await keys.rotate("registry", during, batch=1)  # while the service runs
        assert (rotated.rewrapped, rotated.left) == (2, 0)
        again = await keys.rotate("registry", during)
        assert (again.rewrapped, again.left) == (0, 0)
    assert await wrapped_key_ids(database_url) == [key_id(NEW)] * 3

    # The old root removed.
    after = settings(data_key=b64(NEW), lookup_key=pinned)
    async with running(after) as registry:
        for family_id, body in zip(ids, (a, b, c), strict=True):
            detail = await personal(registry, family_id)
            assert (detail["kk_number"], detail["head_name"]) == (body["kk_number"], body["head_name"])
            assert detail["members"][0]["nik"] == body["members"][0]["nik"]
        same_kk = family_body(5, TODAY, MEDONO) | {"kk_number": a["kk_number"]}
        refused = await registry.post("/families", json=same_kk, headers=token("admin"))
        assert refused.status_code == 409 and [e["field"] for e in refused.json()["errors"]] == ["kk_number"]
        same_nik = family_body(6, TODAY, MEDONO)
        same_nik["members"][0].update(nik=b["members"][0]["nik"], birth_date=b["members"][0]["birth_date"])
        refused = await registry.post("/families", json=same_nik, headers=token("admin"))
        assert refused.status_code == 409 and [e["field"] for e in refused.json()["errors"]] == ["members[0].nik"]

        erased = await registry.delete(f"/families/{ids[0]}/personal-data", headers=token("admin"))
        assert erased.status_code == 200
        gone = await personal(registry, ids[0])
        assert gone["personal_data_erased"] is True and "kk_number" not in gone
        assert (await registry.post("/families", json=same_kk, headers=token("admin"))).status_code == 201
    assert len(await wrapped_key_ids(database_url)) == 3  # a's key gone, the new family's made
