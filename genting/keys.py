"""`genting rotate-keys SERVICE` (or `all`): after a service was given a new root key
(GENTING_DATA_KEY) with the old one in GENTING_DATA_KEYS_PREVIOUS, move everything still made under
an old root onto the new one, so the old root can be removed (deploy/README.md, "Rotating a data key").

- Every wrapped per-family key is re-wrapped under the current root (registry, aid, funding), in
  batches of short transactions: safe while the service runs (its replicas read both roots).
  The family keys themselves do not change, so nothing sealed under them is touched.
- Aid's blobs sealed directly under its service-wide derived key (sessions, and plan and
  home-visit notes from before per-family keys) are re-sealed under the current root's derived
  key. Cheap: one pass over aid's sealed events, in batches; blobs under family keys do not open
  with the derived keys and are left alone.
- The registry's lookup hashes do not change: their key is pinned (services/registry/lookup_hashes.py);
  `--lookup-key` prints it.
- Reporting keeps nothing under its root key.

Running it again changes nothing. It reports how much is left under old key ids: 0, and the
previous root can go."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

import asyncpg
from cryptography.exceptions import InvalidTag

from shared import eventstore
from shared.crypto import HEADER_BYTES, VERSION, DerivedKeyCipher, WrappedKeyCipher
from shared.settings import Settings

ROTATABLE = ("registry", "aid", "funding", "reporting")


@dataclass
class Ciphers:
    wrapped: list[WrappedKeyCipher] = field(default_factory=list)
    derived: list[DerivedKeyCipher] = field(default_factory=list)  # sealed directly into `events.sealed`


@dataclass(frozen=True)
class Rotated:
    service: str
    rewrapped: int
    resealed: int
    left: int  # still under an old root: the previous root must stay until this is 0


def service_settings(service: str, **overrides: str) -> Settings:
    """The service's own settings class, from GENTING_* variables; `overrides` win."""
    if service == "registry":
        from services.registry.settings import RegistrySettings

        return RegistrySettings(service=service, **overrides)  # type: ignore[arg-type]
    if service == "aid":
        from services.aid.settings import AidSettings

        return AidSettings(service=service, **overrides)  # type: ignore[arg-type]
    if service == "funding":
        from services.funding.settings import FundingSettings

        return FundingSettings(service=service, **overrides)  # type: ignore[arg-type]
    return Settings(service=service, **overrides)  # type: ignore[arg-type]


def service_ciphers(service: str, settings: Settings) -> Ciphers:
    """The service's own wiring (its app module), so the purposes and tables are the ones it uses."""
    if service == "registry":
        from services.registry.app import registry

        return Ciphers(wrapped=[registry(settings).keys])
    if service == "aid":
        from services.aid.app import repositories

        family = repositories(settings).family_keys
        return Ciphers(wrapped=[family.keys], derived=[family.legacy])
    if service == "funding":
        from services.funding.app import handlers
        from services.funding.settings import FundingSettings

        assert isinstance(settings, FundingSettings)
        service_handlers = handlers(settings)
        keys = service_handlers.family_keys.keys  # sponsorships' notes
        donor_keys = service_handlers.donor_data.keys  # donors' own personal data
        return Ciphers(wrapped=[k for k in (keys, donor_keys) if k is not None])
    if service == "reporting":
        return Ciphers()
    raise KeyError(service)


async def reseal(conn: asyncpg.Connection, cipher: DerivedKeyCipher, batch: int) -> int:
    """Re-seal the events sealed under an old root's derived key (or before key ids); how many.
    One pass in global order, a batch per transaction; each update names the old blob, so an
    erasure that cleared it meanwhile wins."""
    current = bytes([VERSION]) + cipher.current_id
    resealed, position = 0, 0
    while True:
        async with conn.transaction():
            rows = await eventstore.sealed_page(conn, position, HEADER_BYTES, current, batch)
            if not rows:
                return resealed
            for global_position, stream_id, sealed in rows:
                stream = cipher.stream(stream_id)
                try:
                    _, plain = stream.open_bytes(sealed)
                except InvalidTag:
                    continue  # sealed under a family key (or under a root not given): not ours to move
                resealed += await eventstore.replace_sealed(
                    conn, global_position, sealed, stream.seal(json.loads(plain))
                )
            position = rows[-1][0]


async def rotate(service: str, settings: Settings, *, batch: int = 500) -> Rotated:
    ciphers = service_ciphers(service, settings)
    conn = await asyncpg.connect(settings.database_url)
    try:
        rewrapped = left = resealed = 0
        for wrapped in ciphers.wrapped:
            while moved := await wrapped.rewrap(conn, batch):
                rewrapped += moved
            left += await wrapped.left_under_old_keys(conn)
        for derived in ciphers.derived:
            resealed += await reseal(conn, derived, batch)
        return Rotated(service, rewrapped, resealed, left)
    finally:
        await conn.close()


def report(result: Rotated, out: TextIO = sys.stdout) -> None:
    print(
        f"{result.service}: {result.rewrapped} family keys re-wrapped, {result.resealed} sealed parts re-sealed;"
        f" {result.left} keys left under old key ids",
        file=out,
    )


def lookup_key_text(settings: Settings) -> str:
    """The registry's lookup key in use now, to pin as GENTING_LOOKUP_KEY before the first rotation."""
    from services.registry.lookup_hashes import encode_key, lookup_key

    return encode_key(lookup_key(settings))


def settings_for(services: list[str], stack: dict[str, Any] | None, data_keys: dict[str, str]) -> dict[str, Settings]:
    """Each service's settings: on an embedded stack its database and root key come from the
    stack's record and secrets.json (GENTING_DATA_KEY, when set, wins for one service); in a
    deployment, from the service's own GENTING_* variables."""
    out: dict[str, Settings] = {}
    for name in services:
        overrides: dict[str, str] = {}
        if stack is not None:
            overrides["database_url"] = stack["databases"][name]
            env_key = os.environ.get("GENTING_DATA_KEY") if len(services) == 1 else None
            overrides["data_key"] = env_key or data_keys[name]
        out[name] = service_settings(name, **overrides)
    return out
