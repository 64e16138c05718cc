"""Idempotency records: the first response to a POST with an `Idempotency-Key`, stored in the
command's own transaction, so a retry returns it and has no second effect.

Keyed by principal and route (method + path); the request is fingerprinted with a keyed hash
(HMAC-SHA256 under a key derived from the service's secret), because a plain hash of a body that
holds a NIK could be reversed by hashing candidates; and records expire after a TTL (default 7 days).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg

from shared.errors import FieldError, InvalidCommand

HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any


class KeyReused(InvalidCommand):
    """The key was already used by this principal on this route for a different request."""


class Idempotency:
    def __init__(self, secret: bytes, ttl: timedelta = timedelta(days=7)) -> None:
        self._secret = hashlib.sha256(b"genting-idempotency:" + secret).digest()
        self.ttl = ttl

    def fingerprint(self, method: str, path: str, body: bytes) -> str:
        mac = hmac.new(self._secret, digestmod=hashlib.sha256)
        for part in (method.encode(), b"\0", path.encode(), b"\0", body):
            mac.update(part)
        return mac.hexdigest()

    async def stored(
        self, db: asyncpg.Connection | asyncpg.Pool, principal: str, method: str, path: str, key: str, fingerprint: str
    ) -> StoredResponse | None:
        """The live record for this key on this route, if any; KeyReused if it was another request."""
        row = await db.fetchrow(
            "select request_hash, status, response from idempotency_keys"
            " where principal = $1 and method = $2 and path = $3 and key = $4 and created_at > now() - $5::interval",
            principal,
            method,
            path,
            key,
            self.ttl,
        )
        if row is None:
            return None
        if not hmac.compare_digest(row["request_hash"], fingerprint):
            raise KeyReused([FieldError(f"header.{HEADER}", "was already used for a different request")])
        return StoredResponse(row["status"], row["response"])

    async def record(
        self,
        conn: asyncpg.Connection,
        principal: str,
        method: str,
        path: str,
        key: str,
        fingerprint: str,
        status: int,
        body: Any,
    ) -> bool:
        """In the command's transaction. False when a live record exists already (a concurrent retry
        committed first): the caller must roll back and answer with that one."""
        status_text = await conn.execute(
            "insert into idempotency_keys (principal, key, method, path, request_hash, status, response)"
            " values ($1, $2, $3, $4, $5, $6, $7)"
            " on conflict (principal, method, path, key) do update set request_hash = excluded.request_hash,"
            " status = excluded.status, response = excluded.response, created_at = now()"
            " where idempotency_keys.created_at <= now() - $8::interval",
            principal,
            key,
            method,
            path,
            fingerprint,
            status,
            body,
            self.ttl,
        )
        return bool(status_text == "INSERT 0 1")

    async def purge(self, db: asyncpg.Connection | asyncpg.Pool) -> int:
        """Deletes expired records; returns how many."""
        status = await db.execute("delete from idempotency_keys where created_at <= now() - $1::interval", self.ttl)
        return int(status.split()[-1])
