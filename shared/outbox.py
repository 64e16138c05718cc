"""The outbox relay: publishes committed events to JetStream in order, marks them after the PubAck."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import structlog
from nats.js import JetStreamContext

from shared.eventstore import appended
from shared.messaging import MSG_ID_HEADER

log = structlog.get_logger()

PUBLISH_TIMEOUT_SECONDS = 5.0
PRUNE_AFTER = "7 days"

# Called with the outbox ids that JetStream acknowledged, before they are marked (tests kill it here).
AfterPublish = Callable[[list[int]], Awaitable[None]]


async def wake_relay(conn: asyncpg.Connection) -> None:
    """Tell the relay (in whichever replica leads) that committed rows wait, right after a commit.

    Not a trigger inside the command's transaction: PostgreSQL holds one database-wide lock from a
    notifying transaction's pre-commit until its commit is flushed, which serialises every command
    behind one WAL fsync at a time. Outside the transaction the notify commits nothing to flush.
    A missed wake-up costs at most the relay's poll interval, never an event.
    """
    await conn.execute("select pg_notify('outbox', '')")


@contextlib.asynccontextmanager
async def committing(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection inside a transaction for a write that may append events; once it has
    committed events, the relay is woken. A rollback, or a commit that appended nothing (most
    projection batches), wakes nobody: a NOTIFY round trip saved."""
    marker = [False]
    token = appended.set(marker)
    try:
        async with pool.acquire() as conn:
            async with conn.transaction():
                yield conn
            if marker[0]:
                await wake_relay(conn)
    finally:
        appended.reset(token)


def leader_lock_key(service: str) -> int:
    """One active relay per service: replicas compete for this advisory lock."""
    return zlib.crc32(f"genting-outbox-{service}".encode())


RELAY_APP_PREFIX = "genting-relay"


def relay_application_name(service: str) -> str:
    """What the relay's connection calls itself, so that `genting status` can name the process
    holding the leader lock (pg_locks joined with pg_stat_activity): `genting-relay aid 4242@host`.
    PostgreSQL keeps 63 bytes of it."""
    return f"{RELAY_APP_PREFIX} {service} {os.getpid()}@{socket.gethostname()}"[:63]


async def relay_leader(conn: asyncpg.Connection, service: str) -> str | None:
    """`pid@host` of the process whose relay holds the service's leader lock, None when none does."""
    name = await conn.fetchval(
        "select a.application_name from pg_locks l join pg_stat_activity a on a.pid = l.pid"
        " where l.locktype = 'advisory' and l.granted and l.classid = 0 and l.objid = $1::bigint::oid"
        " and l.objsubid = 1 and l.database = (select oid from pg_database where datname = current_database())",
        leader_lock_key(service),
    )
    if name is None:
        return None
    return str(name).split(" ", 2)[-1] if str(name).startswith(RELAY_APP_PREFIX) else f"backend {name or '?'}"


async def outbox_backlog(conn: asyncpg.Connection | asyncpg.Pool) -> tuple[int, float]:
    """Unpublished rows and the age in seconds of the oldest one (0 when there are none)."""
    row = await conn.fetchrow(
        "select count(*) as n, coalesce(extract(epoch from now() - min(created_at)), 0) as age"
        " from outbox where published_at is null"
    )
    assert row is not None
    return int(row["n"]), float(row["age"])


class OutboxRelay:
    """Leader-locked, woken by LISTEN/NOTIFY, polling as a fallback; at-least-once, in outbox order."""

    def __init__(
        self,
        dsn: str,
        js: JetStreamContext,
        *,
        service: str,
        stream: str,
        batch: int = 500,
        poll_seconds: float = 1.0,
        after_publish: AfterPublish | None = None,
    ) -> None:
        self.dsn = dsn
        self.js = js
        self.service = service
        self.stream = stream
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.after_publish = after_publish
        self.is_leader = False
        self.published = 0
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Until cancelled: hold leadership, drain, wait for a NOTIFY or the poll interval."""
        failures = 0
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(
                    self.dsn, server_settings={"application_name": relay_application_name(self.service)}
                )
                if not await conn.fetchval("select pg_try_advisory_lock($1)", leader_lock_key(self.service)):
                    await conn.close()
                    conn = None
                    await asyncio.sleep(self.poll_seconds * 3)  # standby replica
                    continue
                self.is_leader = True
                log.info("outbox_relay_leading", stream=self.stream)
                await conn.add_listener("outbox", self._notified)
                while True:
                    sent = await self.relay_once(conn)
                    failures = 0
                    if sent < self.batch:
                        await self._wait_for_work()
            except Exception as exc:  # NATS or PostgreSQL away: back off, keep the rows
                failures += 1
                delay = min(0.2 * 2**failures, 5.0)
                log.warning("outbox_relay_retrying", error=repr(exc), retry_in=delay)
                await asyncio.sleep(delay)
            finally:
                self.is_leader = False
                if conn is not None and not conn.is_closed():
                    await conn.close()  # closing releases the advisory lock

    def _notified(self, *_: object) -> None:
        self._wake.set()

    async def _wait_for_work(self) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
        except TimeoutError:
            pass
        self._wake.clear()

    async def relay_once(self, conn: asyncpg.Connection) -> int:
        """Publish one batch of unpublished rows; returns how many were acknowledged and marked."""
        rows = await conn.fetch(
            "select id, event_id, subject, payload from outbox where published_at is null order by id limit $1",
            self.batch,
        )
        if not rows:
            return 0
        # Pipelined: every publish is written in outbox order before any ack is awaited.
        results = await asyncio.gather(
            *(
                self.js.publish(
                    r["subject"],
                    r["payload"],
                    stream=self.stream,
                    timeout=PUBLISH_TIMEOUT_SECONDS,
                    headers={MSG_ID_HEADER: str(r["event_id"])},
                )
                for r in rows
            ),
            return_exceptions=True,
        )
        acked = [r["id"] for r, res in zip(rows, results, strict=True) if not isinstance(res, BaseException)]
        failed = len(rows) - len(acked)
        if self.after_publish is not None:
            await self.after_publish(acked)
        if acked:
            await conn.execute("update outbox set published_at = now() where id = any($1::bigint[])", acked)
            self.published += len(acked)
        if failed:
            first = next(res for res in results if isinstance(res, BaseException))
            raise RuntimeError(f"{failed} of {len(rows)} publishes failed: {first!r}")
        return len(acked)

    @staticmethod
    async def pending(pool: asyncpg.Pool) -> int:
        return int(await pool.fetchval("select count(*) from outbox where published_at is null"))

    @staticmethod
    async def prune(pool: asyncpg.Pool) -> int:
        """Published rows are kept a week for diagnosis, then deleted."""
        status = await pool.execute(f"delete from outbox where published_at < now() - interval '{PRUNE_AFTER}'")
        return int(status.split()[-1])
