"""The system measured: the outbox relay and the projection runner in this process, the
registry as a real process under POST /families, and the command → read-model latency."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
import time
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import httpx
from corpus import Bodies, Ev, publish_windowed
from figures import BENCH_SERVICE, PROJECTION_BATCH, REGISTRY_STREAM, RELAY_BATCH, percentile, running, wait_for
from load_generators import http_client, post_families, refused
from nats.js import JetStreamContext
from processes import (  # bench/processes.py: servers, services as processes, CPU accounting
    BenchFailure,
    Servers,
    Service,
    measured,
    note,
    start_service,
)
from raw_probes import VIEW_DDL, VIEW_UPSERT, check_view
from streams import delete_stream, fresh_stream, producer_stream, stream_messages

from genting import nats_topology
from shared.auth import issue_token
from shared.db import create_pool, migrate
from shared.messaging import Envelope
from shared.outbox import OutboxRelay
from shared.projection import ProjectionRunner


async def system_relay(servers: Servers, js: JetStreamContext, rep: int, corpus: Sequence[Ev]) -> float:
    """N committed outbox rows, relay stopped; then OutboxRelay.run() until every row is marked."""
    db = await servers.fresh_db(f"relay{rep}")
    await migrate(db)
    stream, prefix = await fresh_stream(servers, js, f"relay{rep}")
    conn = await asyncpg.connect(db)
    try:
        await conn.copy_records_to_table(
            "outbox",
            columns=["event_id", "subject", "payload"],
            records=[(ev.event_id, ev.subject(prefix), ev.payload) for ev in corpus],
        )
        await conn.execute("analyze outbox")  # as autovacuum's analyze would after a burst
        relay = OutboxRelay(db, js, service=f"bench-relay-{rep}", stream=stream, batch=RELAY_BATCH)
        started = time.perf_counter()
        async with running(relay.run()) as task:
            with measured(servers, "relay"):  # ends before the relay's connection closes
                await wait_for(lambda: relay.published >= len(corpus) or task.done(), 120, "relay")
                elapsed = time.perf_counter() - started
        pending = await conn.fetchval("select count(*) from outbox where published_at is null")
        if pending or relay.published != len(corpus):
            raise BenchFailure(f"relay: {pending} rows still pending, {relay.published} published")
        if (got := await stream_messages(js, stream)) != len(corpus):
            raise BenchFailure(f"relay: {got} of {len(corpus)} messages in {stream}")
    finally:
        await conn.close()
    await delete_stream(js, stream)
    return len(corpus) / elapsed


class UpsertProjection:
    """The simplest read model: one row per stream, upserted once per event."""

    tables: Sequence[str] = ("bench_view",)

    def __init__(self, name: str, stream: str, subjects: str) -> None:
        self.name = name
        self.stream = stream
        self.filter_subjects: Sequence[str] = [subjects]
        self._upsert = VIEW_UPSERT.format(table="bench_view")

    async def apply(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        await conn.execute(self._upsert, envelope.stream_id, envelope.stream_version, envelope.event_type)

    async def apply_many(self, conn: asyncpg.Connection, envelopes: Sequence[Envelope]) -> None:
        """The runner's batch path: one executemany for the batch, like the raw baseline."""
        await conn.executemany(self._upsert, [(e.stream_id, e.stream_version, e.event_type) for e in envelopes])


async def system_projection(servers: Servers, js: JetStreamContext, rep: int, corpus: Sequence[Ev]) -> float:
    """N envelopes already in a fresh stream; then ProjectionRunner.run() until all are applied."""
    db = await servers.fresh_db(f"projection{rep}")
    await migrate(db)
    stream, prefix = await producer_stream(servers, js)
    await publish_windowed(js, stream, prefix, corpus)
    pool = await create_pool(db)
    try:
        await pool.execute(VIEW_DDL.format(table="bench_view"))
        projection = UpsertProjection(f"bench-projection-{rep}", stream, f"{prefix}.>")
        runner = ProjectionRunner(pool, js, projection, service=BENCH_SERVICE, batch=PROJECTION_BATCH)
        started = time.perf_counter()
        async with running(runner.run()):
            with measured(servers, "projection"):
                await wait_for(
                    lambda: runner.stats.applied >= len(corpus) or runner.stats.errors > 0, 300, "projection"
                )
                elapsed = time.perf_counter() - started
        s = runner.stats
        if s.errors or s.gaps or s.dead_lettered or s.applied != len(corpus):
            raise BenchFailure(f"projection: {s}")
        await check_view(pool, "bench_view", len(corpus), "projection")
    finally:
        await pool.close()
    await delete_stream(js, stream)
    return len(corpus) / elapsed


async def start_registry(servers: Servers, js: JetStreamContext, part: str) -> Service:
    """`uvicorn --factory services.registry.app:create_app` on a fresh database and a fresh stream."""
    await producer_stream(servers, js)  # emptied and made as the migration step does: a service makes none
    # The rest as `genting migrate` makes them before any service starts (a service only checks
    # that its stream and durables exist).
    await nats_topology.create_streams(js)
    await nats_topology.create_durables(js)
    secret = secrets.token_urlsafe(32)
    env = {
        "GENTING_SERVICE": "registry",
        "GENTING_DATABASE_URL": await servers.fresh_db(part),
        "GENTING_NATS_URL": servers.nats_url,
        "GENTING_JWT_ALGORITHM": "HS256",  # the development option: a benchmark mints its own tokens
        "GENTING_JWT_SECRET": secret,
        "GENTING_DATA_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "GENTING_LOG_LEVEL": "warning",
        "GENTING_DATA_DIR": str(servers.workdir / part),
    }
    return await start_service(
        servers,
        f"registry-{part}",
        "services.registry.app:create_app",
        env,
        issue_token(secret, role="admin", sub="bench-admin"),
        "/families",
    )


async def system_commands(
    servers: Servers, js: JetStreamContext, bodies: Bodies, n: int, reps: int, client: str
) -> list[float]:
    registry = await start_registry(servers, js, "commands")
    try:
        await post_families(registry, bodies.batch(100), client)  # warm-up: connections, caches
        rates = []
        for _ in range(reps):
            payloads = bodies.batch(n)
            with measured(servers, "commands", registry.proc.pid):
                rates.append(await post_families(registry, payloads, client))
        # the relay in the registry publishes everything: check nothing was lost on the way
        expected = 100 + n * reps
        deadline = time.monotonic() + 30
        while True:
            got = await stream_messages(js, REGISTRY_STREAM)
            if got >= expected or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        if got != expected:
            raise BenchFailure(f"commands: {got} of {expected} events reached {REGISTRY_STREAM}")
    finally:
        registry.stop()
    if registry.proc.returncode not in (0, -15):
        note(f"registry exited with {registry.proc.returncode}; log tail:\n{registry.output()[-2000:]}")
    return rates


class LatencyProjection:
    """Records when each family's FamilyRegistered reached the read model (the DB clock)."""

    name = "bench-latency"
    stream = REGISTRY_STREAM
    filter_subjects: Sequence[str] = ("genting.registry.>",)
    tables: Sequence[str] = ("bench_latency",)

    async def apply(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        if envelope.event_type == "FamilyRegistered":
            await conn.execute(
                "insert into bench_latency (family_id, applied_at) values ($1, clock_timestamp())"
                " on conflict do nothing",
                envelope.stream_id,
            )


async def system_latency(
    servers: Servers, js: JetStreamContext, bodies: Bodies, rate: float, seconds: float
) -> dict[str, Any]:
    """Commands at a fixed rate (open loop); latency = POST sent → projection row written."""
    registry = await start_registry(servers, js, "latency")
    db = await servers.fresh_db("latency_projection")
    await migrate(db)
    pool = await create_pool(db)
    await pool.execute("create table bench_latency (family_id uuid primary key, applied_at timestamptz not null)")
    runner = ProjectionRunner(pool, js, LatencyProjection(), service=BENCH_SERVICE, batch=PROJECTION_BATCH)
    task = asyncio.create_task(runner.run())
    sent: dict[uuid.UUID, float] = {}
    answered: list[float] = []
    lag: list[float] = []
    try:
        async with http_client(registry, limits=httpx.Limits(max_connections=64)) as client:

            async def send(body: bytes, due: float) -> uuid.UUID:
                lag.append((time.perf_counter() - due) * 1000)
                t_sent = time.time()
                t0 = time.perf_counter()
                response = await client.post("/families", content=body)
                answered.append((time.perf_counter() - t0) * 1000)
                if response.status_code != 201:
                    raise refused(response.status_code, response.text)
                family_id = uuid.UUID(response.json()["family_id"])
                sent[family_id] = t_sent
                return family_id

            warm = [await send(b, time.perf_counter()) for b in bodies.batch(20)]
            await wait_for(lambda: runner.stats.applied >= len(warm), 30, "latency warm-up")
            for family_id in warm:
                del sent[family_id]
            answered.clear()
            lag.clear()

            total = int(rate * seconds)
            payloads = bodies.batch(total)
            with measured(servers, "latency", registry.proc.pid):
                started = time.perf_counter()
                tasks = []
                for i, body in enumerate(payloads):
                    due = started + i / rate
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    tasks.append(asyncio.create_task(send(body, due)))
                await asyncio.gather(*tasks)
                applied_target = len(warm) + total
                await wait_for(
                    lambda: runner.stats.applied >= applied_target or runner.stats.errors > 0, 60, "latency projection"
                )
        rows = await pool.fetch(
            "select family_id, extract(epoch from applied_at)::float8 as t from bench_latency"
            " where family_id = any($1::uuid[])",
            list(sent),
        )
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await pool.close()
        registry.stop()
    lat = [(r["t"] - sent[r["family_id"]]) * 1000 for r in rows]
    first = min(sent.values(), default=0.0)
    slowest = sorted(((r["t"] - sent[r["family_id"]]) * 1000, sent[r["family_id"]] - first) for r in rows)[-10:]
    if len(lat) != len(sent):
        raise BenchFailure(f"latency: {len(lat)} of {len(sent)} families reached the read model")
    return {
        "rate_per_s": rate,
        "seconds": seconds,
        "n": len(lat),
        "p50_ms": percentile(lat, 50),
        "p99_ms": percentile(lat, 99),
        "max_ms": max(lat),
        "http_p50_ms": percentile(answered, 50),
        "http_p99_ms": percentile(answered, 99),
        "send_lag_p99_ms": percentile(lag, 99),
        "slowest": [{"ms": round(ms, 1), "sent_at_s": round(at, 2)} for ms, at in reversed(slowest)],
        "runner": {"batches": runner.stats.batches, "applied": runner.stats.applied},
    }
