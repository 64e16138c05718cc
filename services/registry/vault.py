"""Per-family data keys (crypto-shredding) and keyed lookup hashes for KK/NIK uniqueness.

Each family's personal data is sealed with its own key; the key is stored wrapped under a key
derived from the service's root key. Erasure deletes the family's key: the sealed history stays
in the event store but can never be read again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any
from uuid import UUID

import asyncpg
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


def _derive(root: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(root)


class KeyVault:
    def __init__(self, root_key: bytes) -> None:
        self._kek = AESGCM(_derive(root_key, b"genting-registry-key-wrapping"))
        self._lookup_key = _derive(root_key, b"genting-registry-lookup")

    async def create_key(self, conn: asyncpg.Connection, family_id: UUID) -> bytes:
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(NONCE_BYTES)
        wrapped = nonce + self._kek.encrypt(nonce, key, family_id.bytes)
        await conn.execute("insert into family_keys (family_id, wrapped_key) values ($1, $2)", family_id, wrapped)
        return key

    async def key_for(self, conn: asyncpg.Connection | asyncpg.Pool, family_id: UUID) -> bytes | None:
        wrapped = await conn.fetchval("select wrapped_key from family_keys where family_id = $1", family_id)
        return None if wrapped is None else self._unwrap(family_id, wrapped)

    async def keys_for(self, conn: asyncpg.Connection | asyncpg.Pool, family_ids: list[UUID]) -> dict[UUID, bytes]:
        rows = await conn.fetch(
            "select family_id, wrapped_key from family_keys where family_id = any($1::uuid[])", family_ids
        )
        return {r["family_id"]: self._unwrap(r["family_id"], r["wrapped_key"]) for r in rows}

    async def destroy(self, conn: asyncpg.Connection, family_id: UUID) -> None:
        await conn.execute("delete from family_keys where family_id = $1", family_id)

    def _unwrap(self, family_id: UUID, wrapped: bytes) -> bytes:
        return self._kek.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], family_id.bytes)

    @staticmethod
    def seal(key: bytes, family_id: UUID, value: dict[str, Any]) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        plain = json.dumps(value, separators=(",", ":"), default=str).encode()
        return nonce + AESGCM(key).encrypt(nonce, plain, family_id.bytes)

    @staticmethod
    def open(key: bytes, family_id: UUID, blob: bytes) -> dict[str, Any]:
        plain = AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], family_id.bytes)
        value: dict[str, Any] = json.loads(plain)
        return value

    def lookup_hash(self, kind: str, value: str) -> bytes:
        """Keyed, so the index cannot be reversed by hashing every possible NIK."""
        return hmac.new(self._lookup_key, f"{kind}:{value}".encode(), hashlib.sha256).digest()
