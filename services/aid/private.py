"""Seals the private part of an aid event (who recorded it, a facilitator's name, a description)
into the event store's never-published `sealed` column, encrypted at rest with aid's own key."""

from __future__ import annotations

import json
import os
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


class Sealer:
    """AES-GCM with a key derived from GENTING_DATA_KEY; the stream id is bound in as associated
    data, so a blob copied onto another stream does not open."""

    def __init__(self, data_key: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"genting-aid-private-v1").derive(data_key)
        self._aead = AESGCM(key)

    def seal(self, stream_id: UUID, value: dict[str, Any]) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, json.dumps(value).encode(), stream_id.bytes)

    def open(self, stream_id: UUID, blob: bytes) -> dict[str, Any]:
        plain = self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], stream_id.bytes)
        value: dict[str, Any] = json.loads(plain)
        return value
