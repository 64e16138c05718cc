"""`genting replay reporting`: rebuild every read model from the upstream streams.

The whole rebuild is one PostgreSQL transaction: readers (the dashboard, the snapshot publisher)
see the old model until the new one commits, never a half-built one, so no ProgressSnapshot
shows the counts dropping. The live consumers keep their durable position: the rebuild locks
the version gate, so a live batch waits for the commit and then finds the rebuilt versions
(what the rebuild applied is a duplicate to it; anything newer applies as usual).

Migrations are not run here: the schema is the service's to create (`shared.db.migrate`, at the
app's startup or `genting migrate`); a database without it is refused with a one-line reason.

Events are read with an ephemeral pull consumer without acks, gated per stream in memory (a
duplicate is skipped; a version that arrives before its predecessor waits for it), and merged
per row, so each table is written with one executemany per flush instead of one upsert per event.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg
from nats.js import JetStreamContext

from services.reporting.projections import PROJECTIONS, ReportingProjection
from services.reporting.settings import ReportingSettings
from services.reporting.tables import MergedChanges
from shared.db import create_pool
from shared.messaging import Envelope
from shared.nats_setup import admin_jetstream
from shared.projection import GateCounts
from shared.stream_reader import last_sequence, read_through

FETCH = 1000
FLUSH_EVERY = 20_000  # merged changes kept in memory before they are written


class ReplayGate:
    """The version gate of a rebuild, in memory: every stream starts at version 0."""

    def __init__(self) -> None:
        self.versions: dict[UUID, int] = {}
        self.waiting: dict[UUID, dict[int, Envelope]] = {}
        self.duplicates = 0

    def offer(self, env: Envelope) -> list[Envelope]:
        """The events that may apply now, in version order (none, this one, or a run of them)."""
        sid, v = env.stream_id, env.stream_version
        current = self.versions.get(sid, 0)
        waiting = self.waiting.get(sid)
        if v <= current or (waiting is not None and v in waiting):
            self.duplicates += 1
            return []
        if v != current + 1:
            self.waiting.setdefault(sid, {})[v] = env
            return []
        ready, current = [env], v
        while waiting and current + 1 in waiting:  # the gap this event filled releases its successors
            current += 1
            ready.append(waiting.pop(current))
        self.versions[sid] = current
        if waiting is not None and not waiting:
            del self.waiting[sid]
        return ready

    @property
    def gaps(self) -> int:
        """Events still waiting for a predecessor that never came (live, they end in the DLQ)."""
        return sum(len(w) for w in self.waiting.values())


@dataclass
class ReplayStats(GateCounts):
    read: int = 0
    seconds: float = 0.0
    per_projection: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0


async def rebuild(
    pool: asyncpg.Pool, js: JetStreamContext, projections: Sequence[ReportingProjection] = PROJECTIONS
) -> ReplayStats:
    stats = ReplayStats()
    started = time.perf_counter()
    async with pool.acquire() as conn, conn.transaction():
        # Blocks the live runners' gate (they wait for our commit); plain reads go on.
        await conn.execute("lock table projection_versions in exclusive mode")
        for p in projections:
            for table in p.tables:
                await conn.execute(f"delete from {table}")  # not truncate: readers keep the old rows
            await conn.execute("delete from projection_versions where projection = $1", p.name)
        for p in projections:
            await _replay(conn, js, p, stats)
    stats.seconds = time.perf_counter() - started
    return stats


async def _replay(conn: asyncpg.Connection, js: JetStreamContext, p: ReportingProjection, stats: ReplayStats) -> None:
    # Read after the lock: whatever a live batch applied before it is at or below this sequence.
    last_seq = await last_sequence(js, p.stream)  # 0: the upstream has never published, an empty model
    gate, merged, seq, applied = ReplayGate(), MergedChanges(), 0, 0
    async for msg in read_through(js, p.stream, p.filter_subjects, last_seq, fetch=FETCH):
        seq = msg.metadata.sequence.stream
        stats.read += 1
        for env in gate.offer(Envelope.from_bytes(msg.data)):
            merged.add(p.translate(env))
            applied += 1
        if merged.merged >= FLUSH_EVERY:
            await merged.flush(conn)
    await merged.flush(conn)
    await conn.executemany(
        "insert into projection_versions (projection, stream_id, version) values ($1, $2, $3)",
        [(p.name, sid, v) for sid, v in gate.versions.items()],
    )
    await conn.execute(
        "insert into projection_checkpoints (projection, stream_seq) values ($1, $2) on conflict (projection)"
        " do update set stream_seq = excluded.stream_seq, updated_at = now()",
        p.name,
        min(seq, last_seq),
    )
    stats.applied += applied
    stats.duplicates += gate.duplicates
    stats.gaps += gate.gaps
    stats.per_projection[p.name] = applied


async def missing_tables(pool: asyncpg.Pool, projections: Sequence[ReportingProjection] = PROJECTIONS) -> list[str]:
    """The tables a rebuild writes that the database does not have (it was never migrated, or not
    to this version of reporting)."""
    tables = ["projection_versions", "projection_checkpoints", *(t for p in projections for t in p.tables)]
    found = await pool.fetch("select t from unnest($1::text[]) as t where to_regclass(t) is null", tables)
    return [r["t"] for r in found]


async def main() -> int:
    settings = ReportingSettings.from_env(service="reporting")
    pool = await create_pool(settings.database_url)
    if missing := await missing_tables(pool):
        await pool.close()
        print(
            f"reporting: the database lacks {', '.join(missing)}: start reporting once (it migrates), then replay",
            file=sys.stderr,
        )
        return 1
    try:  # the replay reads each upstream through a consumer of its own
        async with admin_jetstream(settings.nats_url, "genting-reporting-replay") as js:
            stats = await rebuild(pool, js)
    finally:
        await pool.close()
    print(
        f"reporting: read models rebuilt from the streams: {stats.read} events read, {stats.applied} applied,"
        f" {stats.duplicates} duplicates skipped, {stats.gaps} waiting for a missing version,"
        f" {stats.seconds:.2f} s ({stats.rate:,.0f} events/s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
