"""Keyed lookup hashes: the KK/NIK claims and the import ledger find a number or a row by its hash,
never by the number itself. Keyed (HMAC), so the index cannot be reversed by hashing every
possible NIK.

The key does not rotate with the root key. Rotating GENTING_DATA_KEY re-wraps the family keys
(`genting rotate-keys`); the lookup hashes cannot be recomputed the same way (the import ledger's
are of whole imported rows, which are kept nowhere), and two keys at once would mean every claim
checking both. So the lookup key is a setting of its own, GENTING_LOOKUP_KEY; unset, it is derived
from GENTING_DATA_KEY, as it always was. Before the registry's first rotation, pin it:
`genting rotate-keys registry --lookup-key` prints the key in use, and GENTING_LOOKUP_KEY keeps it
(it is a derived key: it opens nothing but these hashes). A registry given previous roots and no
pinned lookup key refuses to start: its claims would silently stop matching."""

from __future__ import annotations

import base64
import hashlib
import hmac

from shared.crypto import derive_key
from shared.settings import Settings, decode_key

# Part of the key: changing it would orphan every claim and ledger row recorded so far.
LOOKUP_PURPOSE = b"genting-registry-lookup"


class LookupKeyNotPinned(ValueError):
    def __init__(self) -> None:
        super().__init__(
            "GENTING_DATA_KEYS_PREVIOUS is set but GENTING_LOOKUP_KEY is not: the KK/NIK lookup hashes would "
            "change with the root key. Set GENTING_LOOKUP_KEY to what `genting rotate-keys registry --lookup-key` "
            "printed under the old GENTING_DATA_KEY (deploy/README.md, Rotating a data key)"
        )


def lookup_key(settings: Settings) -> bytes:
    """GENTING_LOOKUP_KEY, or (never rotated yet) the key derived from GENTING_DATA_KEY."""
    if raw := settings.lookup_key.get_secret_value():
        return decode_key("GENTING_LOOKUP_KEY", raw)
    if settings.previous_data_keys():
        raise LookupKeyNotPinned
    return derive_key(settings.data_key_bytes(), LOOKUP_PURPOSE)


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


class LookupHash:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, kind: str, value: str) -> bytes:
        return hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).digest()
