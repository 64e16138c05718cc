"""Ciphers for the repository's private parts: AES-GCM with the stream id bound in as associated
data (a blob copied onto another stream does not open).

- `DerivedKeyCipher`: one key for the service, derived from its root key (data that needs no
  erasure of its own).
- `WrappedKeyCipher`: a key per stream, stored wrapped under a key derived from the root key;
  destroying it (crypto-shredding) makes that stream's private parts unreadable for good, while
  the event history stays intact.

Root keys rotate (deploy/README.md, "Rotating a data key"): a `Keyring` holds the current root and
the previous ones, each known by its key id (`key_id`: 8 bytes of SHA-256 over a key derived from
the root, never the root itself). Whatever is made under a root records its id, so it opens with
whichever root the id names; new blobs are made under the current root only.

Formats (`HEADER` = version byte 1 + key id, 9 bytes; it is also part of the AEAD's associated
data, so an id cannot be swapped):

- a wrapped key: `HEADER + nonce(12) + AES-GCM(kek, key(32), aad=HEADER + stream id)`, 69 bytes.
  Before key ids it was `nonce(12) + AES-GCM(kek, key, aad=stream id)`, always exactly 60 bytes:
  the length tells the two apart, and a legacy one opens with whichever root authenticates it.
- a blob sealed directly under a derived key: `HEADER + nonce + AES-GCM(...)`. A legacy one
  (`nonce + ciphertext`) has no fixed length, and its random nonce may begin with any byte, so
  it is recognised by authentication: a blob opens as versioned when its header names a known
  root and its tag verifies under that root, else as legacy under whichever root verifies it
  (a legacy blob passing as versioned would need a forged 128-bit GCM tag).

Per-stream keys themselves are random and never rotate: rotating the root re-wraps them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
KEY_ID_BYTES = 8
VERSION = 1
HEADER_BYTES = 1 + KEY_ID_BYTES
LEGACY_WRAPPED_BYTES = NONCE_BYTES + 32 + 16  # nonce + a 32-byte key + the GCM tag
WRAPPED_BYTES = HEADER_BYTES + LEGACY_WRAPPED_BYTES
KEY_ID_PURPOSE = b"genting-key-id"


def derive_key(root: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(root)


def key_id(root: bytes) -> bytes:
    """Names a root key without revealing it (a hash of a derived key, not of the root)."""
    return hashlib.sha256(derive_key(root, KEY_ID_PURPOSE)).digest()[:KEY_ID_BYTES]


class UnknownKeyId(InvalidTag, ValueError):
    """A blob made under a root key this process was not given: it does not open (an InvalidTag, as
    under a wrong key), and the message names the key id to look for."""

    def __init__(self, kid: bytes) -> None:
        super().__init__(
            f"sealed under root key id {kid.hex()}, which is neither GENTING_DATA_KEY nor in GENTING_DATA_KEYS_PREVIOUS"
        )
        self.kid = kid


class Keyring:
    """The current root key (everything new is made under it) and the previous ones (still opened)."""

    def __init__(self, current: bytes, previous: Sequence[bytes] = ()) -> None:
        self.current_id = key_id(current)
        self.roots: dict[bytes, bytes] = {key_id(k): k for k in previous}
        self.roots.pop(self.current_id, None)
        # current first: legacy blobs are tried in this order
        self.roots = {self.current_id: current, **self.roots}

    @classmethod
    def of(cls, root: bytes | Keyring) -> Keyring:
        return root if isinstance(root, Keyring) else cls(root)

    def derived(self, purpose: bytes) -> dict[bytes, bytes]:
        """Key id -> the key derived for `purpose` from that root, current first."""
        return {kid: derive_key(root, purpose) for kid, root in self.roots.items()}


def _header(kid: bytes) -> bytes:
    return bytes([VERSION]) + kid


class AeadStreamCipher:
    """Seals one stream's values under one key (a per-stream key: random, it never rotates)."""

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


class VersionedStreamCipher:
    """Seals one stream's values under the current root's derived key, with its key id in front;
    opens what any known root sealed, and legacy blobs (no id) too."""

    def __init__(self, keys: dict[bytes, bytes], current_id: bytes, stream_id: UUID) -> None:
        self._keys = keys
        self._current_id = current_id
        self._stream = stream_id.bytes

    def seal(self, value: dict[str, Any]) -> bytes:
        header = _header(self._current_id)
        nonce = os.urandom(NONCE_BYTES)
        plain = json.dumps(value, separators=(",", ":"), default=str).encode()
        return header + nonce + AESGCM(self._keys[self._current_id]).encrypt(nonce, plain, header + self._stream)

    def open(self, blob: bytes) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.open_bytes(blob)[1])
        return value

    def open_bytes(self, blob: bytes) -> tuple[bytes | None, bytes]:
        """(the key id it was sealed under, None for a legacy blob; the plaintext)."""
        kid = blob[1:HEADER_BYTES]
        if blob[:1] == bytes([VERSION]) and kid in self._keys:
            body = blob[HEADER_BYTES:]
            try:
                return kid, AESGCM(self._keys[kid]).decrypt(
                    body[:NONCE_BYTES], body[NONCE_BYTES:], blob[:HEADER_BYTES] + self._stream
                )
            except InvalidTag:
                pass  # a legacy blob whose random nonce happens to begin like a header
        for key in self._keys.values():
            try:
                return None, AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], self._stream)
            except InvalidTag:
                continue
        raise InvalidTag

    def is_current(self, blob: bytes) -> bool:
        try:
            return self.open_bytes(blob)[0] == self._current_id
        except InvalidTag:
            return False


class DerivedKeyCipher:
    """One service-wide key derived from the root key for `purpose` (one per root in the keyring)."""

    def __init__(self, root_key: bytes | Keyring, purpose: bytes) -> None:
        ring = Keyring.of(root_key)
        self._keys = ring.derived(purpose)
        self.current_id = ring.current_id

    def stream(self, stream_id: UUID) -> VersionedStreamCipher:
        return VersionedStreamCipher(self._keys, self.current_id, stream_id)

    async def for_stream(self, conn: asyncpg.Connection, stream_id: UUID, *, create: bool) -> VersionedStreamCipher:
        return self.stream(stream_id)


class WrappedKeyCipher:
    """A random key per stream in `table (stream_id uuid primary key, wrapped_key bytea)`, wrapped
    under a key derived from the root key. `destroy` is the erasure; `rewrap` the rotation."""

    def __init__(self, root_key: bytes | Keyring, purpose: bytes, table: str, id_column: str = "stream_id") -> None:
        ring = Keyring.of(root_key)
        self._keks = {kid: AESGCM(key) for kid, key in ring.derived(purpose).items()}
        self.current_id = ring.current_id
        self._table = table
        self._id = id_column

    async def for_stream(self, conn: asyncpg.Connection, stream_id: UUID, *, create: bool) -> AeadStreamCipher | None:
        key = await self.key(conn, stream_id)
        if key is None and create:
            key = await self.create(conn, stream_id)
        return None if key is None else AeadStreamCipher(key, stream_id)

    async def create(self, conn: asyncpg.Connection, stream_id: UUID) -> bytes:
        key = AESGCM.generate_key(bit_length=256)
        wrapped = self.wrap(stream_id, key)
        await conn.execute(f"insert into {self._table} ({self._id}, wrapped_key) values ($1, $2)", stream_id, wrapped)
        return key

    async def key(self, conn: asyncpg.Connection | asyncpg.Pool, stream_id: UUID) -> bytes | None:
        wrapped = await conn.fetchval(f"select wrapped_key from {self._table} where {self._id} = $1", stream_id)
        return None if wrapped is None else self.unwrap(stream_id, wrapped)

    async def keys(self, conn: asyncpg.Connection | asyncpg.Pool, stream_ids: list[UUID]) -> dict[UUID, bytes]:
        rows = await conn.fetch(
            f"select {self._id} as id, wrapped_key from {self._table} where {self._id} = any($1::uuid[])", stream_ids
        )
        return {r["id"]: self.unwrap(r["id"], r["wrapped_key"]) for r in rows}

    async def destroy(self, conn: asyncpg.Connection, stream_id: UUID) -> None:
        await conn.execute(f"delete from {self._table} where {self._id} = $1", stream_id)

    def wrap(self, stream_id: UUID, key: bytes) -> bytes:
        header = _header(self.current_id)
        nonce = os.urandom(NONCE_BYTES)
        return header + nonce + self._keks[self.current_id].encrypt(nonce, key, header + stream_id.bytes)

    def unwrap(self, stream_id: UUID, wrapped: bytes) -> bytes:
        if len(wrapped) == LEGACY_WRAPPED_BYTES:  # made before key ids: whichever root authenticates it
            for kek in self._keks.values():
                try:
                    return kek.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], stream_id.bytes)
                except InvalidTag:
                    continue
            raise InvalidTag
        if len(wrapped) != WRAPPED_BYTES or wrapped[0] != VERSION:
            raise ValueError(f"{self._table}: a wrapped key of {len(wrapped)} bytes is in no known format")
        kid = wrapped[1:HEADER_BYTES]
        if kid not in self._keks:
            raise UnknownKeyId(kid)
        body = wrapped[HEADER_BYTES:]
        return self._keks[kid].decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], wrapped[:HEADER_BYTES] + stream_id.bytes)

    # -- rotation -----------------------------------------------------------------------------

    async def rewrap(self, conn: asyncpg.Connection, batch: int) -> int:
        """Re-wrap up to `batch` keys not yet under the current root, in one transaction; how many.
        Safe beside a running service: rows it is using are skipped (next batch), a key erased
        meanwhile is not brought back (the update names the old wrapping)."""
        current = _header(self.current_id)
        async with conn.transaction():
            rows = await conn.fetch(
                f"select {self._id} as id, wrapped_key from {self._table}"
                f" where substring(wrapped_key from 1 for {HEADER_BYTES}) <> $1"
                " limit $2 for update skip locked",
                current,
                batch,
            )
            for r in rows:
                await conn.execute(
                    f"update {self._table} set wrapped_key = $2 where {self._id} = $1 and wrapped_key = $3",
                    r["id"],
                    self.wrap(r["id"], self.unwrap(r["id"], r["wrapped_key"])),
                    r["wrapped_key"],
                )
        return len(rows)

    async def left_under_old_keys(self, conn: asyncpg.Connection) -> int:
        """Keys still wrapped under another root than the current (0: the previous ones can go)."""
        count: int = await conn.fetchval(
            f"select count(*) from {self._table} where substring(wrapped_key from 1 for {HEADER_BYTES}) <> $1",
            _header(self.current_id),
        )
        return count
