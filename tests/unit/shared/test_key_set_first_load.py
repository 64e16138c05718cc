"""Concurrent first requests all wait for the key set's first load: none is answered 401 from a
set still empty (a fresh replica under load refused a simulation's first commands so)."""

from __future__ import annotations

import asyncio
import json

from shared.auth import KeySet
from shared.testing import TEST_JWKS_FILE


async def test_requests_arriving_during_the_first_load_get_the_key() -> None:
    kid = json.loads(open(TEST_JWKS_FILE).read())["keys"][0]["kid"]  # noqa: ASYNC230 (a small test file)
    keys = KeySet(file=TEST_JWKS_FILE)
    found = await asyncio.gather(*(keys.key_for(kid, "ES256") for _ in range(8)))
    assert all(key is not None for key in found)
    assert keys.loads == 1
