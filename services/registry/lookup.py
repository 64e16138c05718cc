"""Keyed lookup hashes: the KK/NIK claims and the import ledger find a number or a row by its hash,
never by the number itself. Keyed (HMAC under a key derived from the data key), so the index
cannot be reversed by hashing every possible NIK."""

from __future__ import annotations

import hashlib
import hmac

from shared.crypto import derive_key

# Part of the key: changing it would orphan every claim and ledger row recorded so far.
LOOKUP_PURPOSE = b"genting-registry-lookup"


class LookupHash:
    def __init__(self, root_key: bytes) -> None:
        self._key = derive_key(root_key, LOOKUP_PURPOSE)

    def __call__(self, kind: str, value: str) -> bytes:
        return hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).digest()
