"""`genting rotate-keys` on a real event store (aid's shape): family keys are re-wrapped, blobs
sealed directly under the service-wide derived key are re-sealed under the new root, blobs under a
family key are left alone, and afterwards the new root alone reads everything."""

from __future__ import annotations

from functools import partial
from uuid import uuid4

import asyncpg
import pytest
from test_repository import decide, meta, repository

from genting.keys import reseal
from shared.crypto import DerivedKeyCipher, Keyring, WrappedKeyCipher, key_id

pytestmark = pytest.mark.integration

OLD, NEW = bytes(range(40, 72)), bytes(range(80, 112))


async def test_rotation_reseals_derived_key_blobs_rewraps_family_keys_and_leaves_the_rest(pool: asyncpg.Pool) -> None:
    await pool.execute("create table thing_keys (stream_id uuid primary key, wrapped_key bytea not null)")
    shared_stream, family_stream = uuid4(), uuid4()
    old_derived, old_wrapped = DerivedKeyCipher(OLD, b"test-private"), WrappedKeyCipher(OLD, b"test-wrap", "thing_keys")
    async with pool.acquire() as conn, conn.transaction():
        for i in range(3):
            await repository(old_derived).execute(
                conn, shared_stream, partial(decide, note="n", secret=f"fasilitator {i}"), meta()
            )
        await repository(old_wrapped).execute(conn, family_stream, lambda s: decide(s, "n", "catatan keluarga"), meta())
    family_blob = await pool.fetchval("select sealed from events where stream_id = $1", family_stream)

    ring = Keyring(NEW, [OLD])
    derived, wrapped = DerivedKeyCipher(ring, b"test-private"), WrappedKeyCipher(ring, b"test-wrap", "thing_keys")
    async with pool.acquire() as conn:
        assert await reseal(conn, derived, batch=2) == 3
        assert await reseal(conn, derived, batch=2) == 0  # again: nothing to do
        assert await wrapped.rewrap(conn, 10) == 1 and await wrapped.left_under_old_keys(conn) == 0
    assert await pool.fetchval("select sealed from events where stream_id = $1", family_stream) == family_blob
    headers = {
        bytes(b[1:9])
        for b in await pool.fetchval("select array_agg(sealed) from events where stream_id = $1", shared_stream)
    }
    assert headers == {key_id(NEW)}

    only_new_derived = DerivedKeyCipher(NEW, b"test-private")
    only_new_wrapped = WrappedKeyCipher(NEW, b"test-wrap", "thing_keys")
    async with pool.acquire() as conn:
        shared = await repository(only_new_derived).load(conn, shared_stream)
        family = await repository(only_new_wrapped).load(conn, family_stream)
    assert shared.state.secrets == ("fasilitator 0", "fasilitator 1", "fasilitator 2")
    assert family.state.secrets == ("catatan keluarga",)
