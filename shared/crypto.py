"""Ciphers for the repository's private parts: AES-GCM with the stream id bound in as associated
data (a blob copied onto another stream does not open).

- `DerivedKeyCipher`: one key for the service, derived from its root key (data that needs no
  erasure of its own).
- `WrappedKeyCipher`: a key per stream, stored wrapped under a key derived from the root key;
  destroying it (crypto-shredding) makes that stream's private parts unreadable for good, while
  the event history stays intact.
"""

from __future__ import annotations

import json
import os
from typing import Any
from uuid import UUID

import asyncpg
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


def derive_key(root: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(root)


class AeadStreamCipher:
    """Seals one stream's values under one key."""

    def __init__(self, key: bytes, stream_id: UUID) -> None:
        self._aead = AESGCM(key)
        self._aad = stream_id.bytes

    def seal(self, value: dict[str, Any]) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        plain = json.dumps(value, separators=(",", ":"), default=str).encode()
        return nonce + self._aead.encrypt(nonce, plain, self._aad)

    def open(self, blob: bytes) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], self._aad))
        return value


class DerivedKeyCipher:
    """One service-wide key derived from the root key for `purpose`."""

    def __init__(self, root_key: bytes, purpose: bytes) -> None:
        self._key = derive_key(root_key, purpose)

    async def for_stream(self, conn: asyncpg.Connection, stream_id: UUID, *, create: bool) -> AeadStreamCipher:
        return AeadStreamCipher(self._key, stream_id)


class WrappedKeyCipher:
    """A random key per stream in `table (stream_id uuid primary key, wrapped_key bytea)`, wrapped
    under a key derived from the root key. `destroy` is the erasure."""

    def __init__(self, root_key: bytes, purpose: bytes, table: str, id_column: str = "stream_id") -> None:
        self._kek = AESGCM(derive_key(root_key, purpose))
        self._table = table
        self._id = id_column

    async def for_stream(self, conn: asyncpg.Connection, stream_id: UUID, *, create: bool) -> AeadStreamCipher | None:
        key = await self.key(conn, stream_id)
        if key is None and create:
            key = await self.create(conn, stream_id)
        return None if key is None else AeadStreamCipher(key, stream_id)

    async def create(self, conn: asyncpg.Connection, stream_id: UUID) -> bytes:
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(NONCE_BYTES)
        wrapped = nonce + self._kek.encrypt(nonce, key, stream_id.bytes)
        await conn.execute(f"insert into {self._table} ({self._id}, wrapped_key) values ($1, $2)", stream_id, wrapped)
        return key

    async def key(self, conn: asyncpg.Connection | asyncpg.Pool, stream_id: UUID) -> bytes | None:
        wrapped = await conn.fetchval(f"select wrapped_key from {self._table} where {self._id} = $1", stream_id)
        return None if wrapped is None else self._unwrap(stream_id, wrapped)

    async def keys(self, conn: asyncpg.Connection | asyncpg.Pool, stream_ids: list[UUID]) -> dict[UUID, bytes]:
        rows = await conn.fetch(
            f"select {self._id} as id, wrapped_key from {self._table} where {self._id} = any($1::uuid[])", stream_ids
        )
        return {r["id"]: self._unwrap(r["id"], r["wrapped_key"]) for r in rows}

    async def destroy(self, conn: asyncpg.Connection, stream_id: UUID) -> None:
        await conn.execute(f"delete from {self._table} where {self._id} = $1", stream_id)

    def _unwrap(self, stream_id: UUID, wrapped: bytes) -> bytes:
        return self._kek.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], stream_id.bytes)
