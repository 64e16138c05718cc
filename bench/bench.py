"""Genting benchmark: the system's rates beside the raw limits of this machine, measured in one run.

    .venv/bin/python bench/bench.py [--commands 2000] [--events 20000] [--latency-seconds 20] [--rate 100]
                                    [--raw-rows 6000] [--reps 3] [--http-client httpx|sockets]

Uses GENTING_NATS_URL / GENTING_DATABASE_URL (a server URL; its maintenance database must exist)
when set, else starts an embedded nats-server and a durable embedded PostgreSQL in a temporary
directory. Every part gets fresh databases and streams. On an external NATS server the
GENTING_REGISTRY stream is deleted and recreated (as the test fixtures do): point it at a
disposable server only.

What is compared (bench/README.md explains the raw limits):

| system                                        | raw baseline                                         |
|-----------------------------------------------|------------------------------------------------------|
| registry POST /families over HTTP, 8 clients  | asyncpg, 8 connections, one insert per transaction   |
| OutboxRelay draining N outbox rows            | JetStream publish, 1,000 in flight, all acks awaited |
| ProjectionRunner, one upsert per event        | pull fetch(500) + one executemany per batch + acks   |
| command → read-model commit latency, at R/s   | insert → publish → pull → upsert commit, at R/s      |
| (info) registry commands/s                    | the HTTP floor: uvicorn + FastAPI, 1 insert per POST |

The HTTP floor is a one-process FastAPI app (`create_floor_app` below) that parses the same
body and commits one insert: what this server stack and load generator allow before any domain
work. The load generator runs on the same two cores; `--http-client sockets` swaps httpx for a
minimal keep-alive client to show what the service does when the client is nearly free. The
table under the results says how busy each process was (cores) while measuring.

Timings are printed, never asserted. The exit status is non-zero only when something failed
functionally (a command refused, an event missing).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gc
import json
import os
import platform
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import nats
import uvloop
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError
from processes import (  # bench/processes.py: servers, services as processes, CPU accounting
    BENCH_DIR,
    CORE_GROUPS,
    CORES,
    REPO,
    BenchFailure,
    Servers,
    Service,
    measured,
    note,
    start_servers,
    start_service,
)

from genting import nats_topology
from services.registry.domain import Family, NewMember, RegisterFamily, decide
from services.registry.reference import KELURAHAN
from shared.auth import issue_token
from shared.clock import now
from shared.db import create_pool, migrate
from shared.logging import configure_logging
from shared.messaging import MSG_ID_HEADER, Envelope, dlq_stream_name, stream_name
from shared.nats_setup import DUPLICATE_WINDOW_SECONDS, ensure_stream, owned_stream_config
from shared.outbox import OutboxRelay
from shared.projection import ProjectionRunner
from shared.settings import Settings

RESULTS = BENCH_DIR / "results" / "latest.json"
CLIENTS = 8  # concurrent HTTP clients and concurrent raw writers
PUBLISH_WINDOW = 1000  # raw JetStream publishes in flight
RAW_FETCH = 500  # raw pull-consume batch
EVENTS_PER_STREAM = 4  # the corpus: aggregates with consecutive versions 1..4
REGISTRY_STREAM = "GENTING_REGISTRY"
BENCH_SERVICE = "bench"  # the DLQ stream the bench's ProjectionRunners declare
RELAY_BATCH = int(Settings.model_fields["relay_batch"].default)
PROJECTION_BATCH = int(Settings.model_fields["projection_batch"].default)
AIMS = {"commands": 0.25, "relay": 0.50, "projection": 0.50, "latency_p99_ms": 50.0}

T = TypeVar("T")


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


async def wait_for(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.005) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise BenchFailure(f"{what}: not done within {timeout:g} s")
        await asyncio.sleep(interval)


def stream_config(name: str, subjects: str) -> StreamConfig:
    """As `owned_stream_config`: file storage, limits retention, R1, 2-minute duplicate window."""
    return StreamConfig(
        name=name,
        subjects=[subjects],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        num_replicas=1,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        max_age=0,
    )


async def delete_stream(js: JetStreamContext, name: str) -> None:
    with contextlib.suppress(NotFoundError):
        await js.delete_stream(name)


async def fresh_stream(servers: Servers, js: JetStreamContext, part: str) -> tuple[str, str]:
    """A new stream of our own: (name, subject prefix)."""
    name = f"BENCH_{servers.run_id.upper()}_{part.upper()}"
    prefix = f"bench.{servers.run_id}.{part}"
    await delete_stream(js, name)
    await ensure_stream(js, stream_config(name, f"{prefix}.>"))
    servers.streams.append(name)
    return name, prefix


async def producer_stream(servers: Servers, js: JetStreamContext) -> tuple[str, str]:
    """The registry's own stream, emptied: the projection runner applies only events delivered from
    their producer's stream on `genting.<context>.…` subjects (provenance), so its bench needs those."""
    name = stream_name("registry")
    await delete_stream(js, name)
    await ensure_stream(js, owned_stream_config("registry"))
    servers.streams.append(name)
    return name, "genting.registry"


async def stream_messages(js: JetStreamContext, name: str) -> int:
    return int((await js.stream_info(name)).state.messages)


# -- the workload: valid families and FamilyRegistered envelopes ---------------------------------


def _nik(region: str, born: date, sex: str, serial: int) -> str:
    day = born.day + (40 if sex == "F" else 0)
    return f"{region}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def family_request(i: int, today: date) -> dict[str, Any]:
    """Family number `i`: a breastfeeding mother and her baby, with NIKs and a KK no other family has.

    Uniqueness comes from (district, serial) in the NIK/KK region and serial parts: 99 × 9,999.
    """
    serial = i % 9999 + 1
    district = (i // 9999) % 99 + 1
    region = f"3375{district:02d}"
    mother_born = date(1990 + i % 15, 1 + i % 12, 1 + i % 28)
    baby_born = today - timedelta(days=30 + i % 300)
    return {
        "kk_number": f"{region}010120{serial:04d}",
        "head_name": f"Kepala Keluarga {i}",
        "address": f"Jl. Bench No. {i}, RT 01/RW 02",
        "kelurahan_code": KELURAHAN[i % len(KELURAHAN)].code,
        "members": [
            {
                "name": f"Ibu {i}",
                "nik": _nik(region, mother_born, "F", serial),
                "role": "breastfeeding_mother",
                "birth_date": mother_born.isoformat(),
                "sex": "F",
            },
            {
                "name": f"Bayi {i}",
                "nik": _nik(region, baby_born, "M", serial),
                "role": "baduta",
                "birth_date": baby_born.isoformat(),
                "sex": "M",
            },
        ],
        "risk_factors": ["poor", "no_proper_latrine"],
        "consent": True,
    }


class Bodies:
    """Pre-encoded POST /families bodies, handed out once each across all clients."""

    def __init__(self, start: int = 0) -> None:
        self.next = start
        self.today = now().date()

    def take(self) -> bytes:
        body = json.dumps(family_request(self.next, self.today)).encode()
        self.next += 1
        return body

    def batch(self, n: int) -> list[bytes]:
        return [self.take() for _ in range(n)]


@dataclass(frozen=True)
class Ev:
    event_id: uuid.UUID
    stream_id: uuid.UUID
    version: int
    payload: bytes  # Envelope.to_bytes(), as the outbox holds it and the relay publishes it

    def subject(self, prefix: str) -> str:
        return f"{prefix}.family.{self.stream_id}.FamilyRegistered"


def sample_registered_data(today: date) -> dict[str, Any]:
    """The data of a real FamilyRegistered, produced by the domain from a valid request."""
    body = family_request(0, today)
    command = RegisterFamily(
        family_id=uuid.uuid4(),
        today=today,
        registered_by="bench-admin",
        kk_number=body["kk_number"],
        head_name=body["head_name"],
        address=body["address"],
        kelurahan_code=body["kelurahan_code"],
        members=tuple(
            NewMember(
                member_id=uuid.uuid4(),
                name=m["name"],
                nik=m["nik"],
                role=m["role"],
                birth_date=date.fromisoformat(m["birth_date"]),
                sex=m["sex"],
            )
            for m in body["members"]
        ),
        risk_factors=tuple(body["risk_factors"]),
        consent=True,
    )
    return decide(Family(), command)[0].event.model_dump(mode="json")


def make_corpus(n: int) -> list[Ev]:
    """`n` envelopes over n/4 aggregates with versions 1..4; each aggregate's versions are spread
    over the stream (chunks of 100 aggregates, version-major inside a chunk)."""
    data = sample_registered_data(now().date())
    occurred = now()
    streams = [uuid.uuid4() for _ in range(-(-n // EVENTS_PER_STREAM))]
    out: list[Ev] = []
    for start in range(0, len(streams), 100):
        chunk = streams[start : start + 100]
        for version in range(1, EVENTS_PER_STREAM + 1):
            for sid in chunk:
                if len(out) == n:
                    break
                env = Envelope(
                    event_id=uuid.uuid4(),
                    event_type="FamilyRegistered",
                    schema_version=1,
                    stream_id=sid,
                    stream_version=version,
                    occurred_at=occurred,
                    correlation_id=uuid.uuid4(),
                    causation_id=uuid.uuid4(),
                    data=data | {"family_id": str(sid)},
                )
                out.append(Ev(env.event_id, sid, version, env.to_bytes()))
    # every version v of a stream precedes v+1 in the list: the projection never sees a gap
    return out


async def publish_windowed(js: JetStreamContext, stream: str, prefix: str, corpus: Sequence[Ev]) -> None:
    for start in range(0, len(corpus), PUBLISH_WINDOW):
        acks = await asyncio.gather(
            *(
                js.publish(
                    ev.subject(prefix),
                    ev.payload,
                    stream=stream,
                    timeout=10.0,
                    headers={MSG_ID_HEADER: str(ev.event_id)},
                )
                for ev in corpus[start : start + PUBLISH_WINDOW]
            )
        )
        if any(a.duplicate for a in acks):
            raise BenchFailure(f"{stream}: a fresh message was taken for a duplicate")


# -- raw baselines ---------------------------------------------------------------------------------

RAW_EVENTS_DDL = """
create table raw_events (
    global_position bigserial primary key,
    event_id        uuid        not null unique,
    stream_type     text        not null,
    stream_id       uuid        not null,
    stream_version  integer     not null,
    event_type      text        not null,
    schema_version  integer     not null,
    data            jsonb       not null,
    sealed          bytea,
    occurred_at     timestamptz not null,
    correlation_id  uuid,
    causation_id    uuid,
    unique (stream_id, stream_version)
)"""
RAW_INSERT = (
    "insert into raw_events (event_id, stream_type, stream_id, stream_version, event_type, schema_version,"
    " data, occurred_at) values ($1, 'family', $2, $3, 'FamilyRegistered', 1, $4::jsonb, now())"
)
VIEW_DDL = """
create table {table} (
    stream_id  uuid primary key,
    version    integer not null,
    event_type text not null,
    updated_at timestamptz not null
)"""
VIEW_UPSERT = (
    "insert into {table} (stream_id, version, event_type, updated_at) values ($1, $2, $3, now())"
    " on conflict (stream_id) do update set version = excluded.version, event_type = excluded.event_type,"
    " updated_at = excluded.updated_at where {table}.version < excluded.version"
)


async def raw_pg(servers: Servers, rep: int, corpus: Sequence[Ev]) -> float:
    """8 connections, each committing one insert per transaction (BEGIN; INSERT; COMMIT)."""
    db = await servers.fresh_db(f"rawpg{rep}")
    conns = [await asyncpg.connect(db) for _ in range(CLIENTS)]
    try:
        await conns[0].execute(RAW_EVENTS_DDL)
        rows = iter([(ev.event_id, ev.stream_id, ev.version, ev.payload.decode()) for ev in corpus])

        async def writer(conn: asyncpg.Connection) -> None:
            for row in rows:  # one shared iterator: each row is written once
                async with conn.transaction():
                    await conn.execute(RAW_INSERT, *row)

        for conn in conns:  # prepare the statement outside the timing
            await conn.prepare(RAW_INSERT)
        with measured(servers, "raw_pg"):
            started = time.perf_counter()
            await asyncio.gather(*(writer(c) for c in conns))
            elapsed = time.perf_counter() - started
        count = await conns[0].fetchval("select count(*) from raw_events")
        if count != len(corpus):
            raise BenchFailure(f"raw asyncpg: {count} of {len(corpus)} rows")
        return len(corpus) / elapsed
    finally:
        for conn in conns:
            await conn.close()


async def raw_publish_and_consume(
    servers: Servers, js: JetStreamContext, rep: int, corpus: Sequence[Ev]
) -> tuple[float, float]:
    """Windowed publish with acks into a fresh stream; then pull fetch(500) + executemany + acks."""
    stream, prefix = await fresh_stream(servers, js, f"raw{rep}")
    with measured(servers, "raw_publish"):
        started = time.perf_counter()
        await publish_windowed(js, stream, prefix, corpus)
        publish_rate = len(corpus) / (time.perf_counter() - started)
    if (got := await stream_messages(js, stream)) != len(corpus):
        raise BenchFailure(f"raw publish: {got} of {len(corpus)} messages in {stream}")

    db = await servers.fresh_db(f"rawconsume{rep}")
    conn = await asyncpg.connect(db)
    try:
        await conn.execute(VIEW_DDL.format(table="raw_view"))
        upsert = VIEW_UPSERT.format(table="raw_view")
        await conn.prepare(upsert)
        await js.add_consumer(
            stream,
            ConsumerConfig(
                durable_name="raw",
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=30,
                max_ack_pending=RAW_FETCH * 5,
            ),
        )
        sub = await js.pull_subscribe_bind(durable="raw", stream=stream)
        done = 0
        with measured(servers, "raw_consume"):
            started = time.perf_counter()
            while done < len(corpus):
                msgs = await sub.fetch(RAW_FETCH, timeout=5.0)
                rows = []
                for msg in msgs:
                    env = json.loads(msg.data)
                    rows.append((env["stream_id"], env["stream_version"], env["event_type"]))
                async with conn.transaction():
                    await conn.executemany(upsert, rows)
                for msg in msgs:
                    await msg.ack()
                done += len(msgs)
            consume_rate = len(corpus) / (time.perf_counter() - started)
        await sub.unsubscribe()
        applied = await conn.fetchval("select sum(version) from raw_view")
        if applied != len(corpus):
            raise BenchFailure("raw consume: the view does not hold every stream at its last version")
    finally:
        await conn.close()
    await delete_stream(js, stream)
    return publish_rate, consume_rate


async def raw_end_to_end_latency(
    servers: Servers, js: JetStreamContext, rate: float, seconds: float
) -> dict[str, float]:
    """The raw path at the same fixed rate: insert (autocommit) → publish (ack) → pull → upsert
    commit (clock_timestamp()), one handler; latency from just before the insert to that commit."""
    stream, prefix = await fresh_stream(servers, js, "rawe2e")
    db = await servers.fresh_db("rawe2e")
    reader = await asyncpg.connect(db)
    await reader.execute(RAW_EVENTS_DDL)
    await reader.execute("create table raw_latency (stream_id uuid primary key, applied_at timestamptz not null)")
    await js.add_consumer(
        stream,
        ConsumerConfig(
            durable_name="rawe2e",
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=30,
            max_ack_pending=RAW_FETCH * 5,
        ),
    )
    sub = await js.pull_subscribe_bind(durable="rawe2e", stream=stream)
    total = int(rate * seconds)
    corpus = [ev for ev in make_corpus(total * EVENTS_PER_STREAM) if ev.version == 1][:total]
    writers = await asyncpg.create_pool(db, min_size=CLIENTS, max_size=CLIENTS)
    assert writers is not None
    sent: dict[uuid.UUID, float] = {}
    consumed = 0

    async def consume() -> None:
        nonlocal consumed
        while consumed < total:
            try:
                msgs = await sub.fetch(RAW_FETCH, timeout=1.0)
            except (TimeoutError, NatsTimeoutError):
                continue
            rows = [(json.loads(m.data)["stream_id"],) for m in msgs]
            async with reader.transaction():
                await reader.executemany(
                    "insert into raw_latency values ($1, clock_timestamp()) on conflict do nothing", rows
                )
            for m in msgs:
                await m.ack()
            consumed += len(msgs)

    async def send(ev: Ev) -> None:
        sent[ev.stream_id] = time.time()
        await writers.execute(RAW_INSERT, ev.event_id, ev.stream_id, ev.version, ev.payload.decode())
        await js.publish(
            ev.subject(prefix), ev.payload, stream=stream, timeout=10.0, headers={MSG_ID_HEADER: str(ev.event_id)}
        )

    consumer = asyncio.create_task(consume())
    started = time.perf_counter()
    sends = []
    for i, ev in enumerate(corpus):
        await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
        sends.append(asyncio.create_task(send(ev)))
    await asyncio.gather(*sends)
    await asyncio.wait_for(consumer, timeout=30)
    rows = await reader.fetch("select stream_id, extract(epoch from applied_at)::float8 as t from raw_latency")
    await writers.close()
    await reader.close()
    await sub.unsubscribe()
    await delete_stream(js, stream)
    lat = [(r["t"] - sent[r["stream_id"]]) * 1000 for r in rows]
    if len(lat) != total:
        raise BenchFailure(f"raw end to end: {len(lat)} of {total} events reached the table")
    return {"p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99), "max_ms": max(lat), "n": len(lat)}


# -- system: relay and projection in this process ---------------------------------------------------


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
        task = asyncio.create_task(relay.run())
        try:
            with measured(servers, "relay"):  # ends before the relay's connection closes
                await wait_for(lambda: relay.published >= len(corpus) or task.done(), 120, "relay")
                elapsed = time.perf_counter() - started
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
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
        task = asyncio.create_task(runner.run())
        try:
            with measured(servers, "projection"):
                await wait_for(
                    lambda: runner.stats.applied >= len(corpus) or runner.stats.errors > 0, 300, "projection"
                )
                elapsed = time.perf_counter() - started
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        s = runner.stats
        if s.errors or s.gaps or s.dead_lettered or s.applied != len(corpus):
            raise BenchFailure(f"projection: {s}")
        applied = await pool.fetchval("select sum(version) from bench_view")
        if applied != len(corpus):
            raise BenchFailure("projection: the view does not hold every stream at its last version")
    finally:
        await pool.close()
    await delete_stream(js, stream)
    return len(corpus) / elapsed


# -- system: the registry as a real process ----------------------------------------------------------


async def start_registry(servers: Servers, js: JetStreamContext, part: str) -> Service:
    """`uvicorn --factory services.registry.app:create_app` on a fresh database and a fresh stream."""
    await delete_stream(js, REGISTRY_STREAM)
    # Declared again empty as `genting migrate` does before any service starts (a service only
    # checks that its stream and durables exist).
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


def create_floor_app() -> FastAPI:
    """The HTTP floor: the same server stack (uvicorn + FastAPI, one process), an endpoint that
    parses the same JSON body and commits one events-shaped insert. No auth, domain or outbox."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(os.environ["BENCH_FLOOR_DATABASE_URL"], min_size=2, max_size=10)
        await app.state.pool.execute(RAW_EVENTS_DDL.replace("create table", "create table if not exists"))
        yield
        await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/health/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.post("/raw", status_code=201)
    async def raw(request: Request) -> JSONResponse:
        body = await request.body()
        json.loads(body)
        event_id, stream_id = uuid.uuid4(), uuid.uuid4()
        async with request.app.state.pool.acquire() as conn, conn.transaction():
            await conn.execute(RAW_INSERT, event_id, stream_id, 1, body.decode())
        return JSONResponse({"family_id": str(stream_id)}, status_code=201)

    return app


async def start_floor(servers: Servers) -> Service:
    env = {"BENCH_FLOOR_DATABASE_URL": await servers.fresh_db("floor")}
    return await start_service(
        servers, "http-floor", "bench:create_floor_app", env, "unused", "/raw", app_dir=BENCH_DIR
    )


def _client(service: Service, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=service.url,
        timeout=30.0,
        headers={"authorization": f"Bearer {service.token}", "content-type": "application/json"},
        **kwargs,
    )


def _refused(status: int, text: str) -> BenchFailure:
    return BenchFailure(f"POST /families answered {status}: {text[:2000]}")


async def _httpx_loop(service: Service, todo: Iterator[bytes]) -> None:
    async with _client(service) as client:
        for body in todo:
            response = await client.post(service.path, content=body)
            if response.status_code != 201:
                raise _refused(response.status_code, response.text)


async def _socket_loop(service: Service, todo: Iterator[bytes]) -> None:
    """A minimal HTTP/1.1 keep-alive client: what the server can do when the load generator is
    nearly free (httpx costs about a millisecond of CPU per request on this kind of machine)."""
    host, port = service.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = (
        f"POST {service.path} HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {service.token}\r\n"
        "content-type: application/json\r\ncontent-length: "
    ).encode()
    try:
        for body in todo:
            writer.write(head + str(len(body)).encode() + b"\r\n\r\n" + body)
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            text = await reader.readexactly(length)
            if status != 201:
                raise _refused(status, text.decode(errors="replace"))
    finally:
        writer.close()


async def post_families(service: Service, bodies: list[bytes], client: str = "httpx") -> float:
    """8 clients, one request in flight each, until `bodies` are all answered 201; returns 201s/s."""
    todo = iter(bodies)
    loop = _httpx_loop if client == "httpx" else _socket_loop
    started = time.perf_counter()
    await asyncio.gather(*(loop(service, todo) for _ in range(CLIENTS)))
    return len(bodies) / (time.perf_counter() - started)


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


async def http_floor(servers: Servers, bodies: Bodies, n: int, reps: int, client: str) -> list[float]:
    """The same clients against the floor app: how fast this stack answers a one-insert POST."""
    floor = await start_floor(servers)
    try:
        await post_families(floor, bodies.batch(100), client)
        rates = []
        for _ in range(reps):
            payloads = bodies.batch(n)
            with measured(servers, "http_floor", floor.proc.pid):
                rates.append(await post_families(floor, payloads, client))
    finally:
        floor.stop()
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
        async with _client(registry, limits=httpx.Limits(max_connections=64)) as client:

            async def send(body: bytes, due: float) -> uuid.UUID:
                lag.append((time.perf_counter() - due) * 1000)
                t_sent = time.time()
                t0 = time.perf_counter()
                response = await client.post("/families", content=body)
                answered.append((time.perf_counter() - t0) * 1000)
                if response.status_code != 201:
                    raise _refused(response.status_code, response.text)
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


# -- the run ------------------------------------------------------------------------------------------


async def timed(label: str, coro: Awaitable[T]) -> T:
    started = time.perf_counter()
    result = await coro
    note(f"{label} ({time.perf_counter() - started:.1f} s)")
    return result


async def run(args: argparse.Namespace, servers: Servers) -> dict[str, Any]:
    nc = await nats.connect(servers.nats_url, name="genting-bench")
    js = nc.jetstream()
    corpus = make_corpus(args.events)
    raw_rows = make_corpus(args.raw_rows)
    bodies = Bodies()
    per_rep: dict[str, list[float]] = {k: [] for k in ("raw_pg", "raw_publish", "raw_consume", "relay", "projection")}
    try:
        for rep in range(args.reps):
            print(f"repetition {rep + 1}/{args.reps}", flush=True)
            per_rep["raw_pg"].append(await timed("raw asyncpg", raw_pg(servers, rep, raw_rows)))
            pub, con = await timed("raw publish + consume", raw_publish_and_consume(servers, js, rep, corpus))
            per_rep["raw_publish"].append(pub)
            per_rep["raw_consume"].append(con)
            per_rep["relay"].append(await timed("relay", system_relay(servers, js, rep, corpus)))
            per_rep["projection"].append(await timed("projection", system_projection(servers, js, rep, corpus)))
        print(f"over HTTP ({args.http_client} clients)", flush=True)
        per_rep["commands"] = await timed(
            f"registry commands, {args.reps} × {args.commands}",
            system_commands(servers, js, bodies, args.commands, args.reps, args.http_client),
        )
        per_rep["http_floor"] = await timed(
            f"HTTP floor, {args.reps} × {args.commands}",
            http_floor(servers, bodies, args.commands, args.reps, args.http_client),
        )
        gc.collect()
        gc.freeze()  # the corpus stays put: keep the bench's own GC pauses out of the latencies
        latency = await timed(
            f"latency, {args.rate:g}/s for {args.latency_seconds:g} s",
            system_latency(servers, js, bodies, args.rate, args.latency_seconds),
        )
        raw_latency = await timed(
            f"raw end-to-end latency, {args.rate:g}/s",
            raw_end_to_end_latency(servers, js, args.rate, min(args.latency_seconds, 10.0)),
        )
    finally:
        for name in [*servers.streams, REGISTRY_STREAM, dlq_stream_name(BENCH_SERVICE)]:
            with contextlib.suppress(Exception):
                await delete_stream(js, name)
        await nc.close()
    medians = {k: median(v) for k, v in per_rep.items()}
    cores = {
        phase: {g: round(statistics.mean(run.get(g, 0.0) for run in runs), 2) for g in CORE_GROUPS}
        for phase, runs in CORES.items()
    }
    return {
        "per_rep": per_rep,
        "medians": medians,
        "latency": latency,
        "raw_latency": raw_latency,
        "cores_busy": cores,
        "cores_busy_per_run": CORES,
    }


def _num(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def report(args: argparse.Namespace, results: dict[str, Any]) -> list[dict[str, Any]]:
    """Print the table (and the lines under it); return its rows for the JSON file."""
    m, lat, raw_lat = results["medians"], results["latency"], results["raw_latency"]
    table: list[dict[str, Any]] = []

    def row(
        measure: str, system: float, raw: float, raw_what: str, aim: str, met: bool | None, ratio: float | None = None
    ) -> None:
        table.append(
            {
                "measure": measure,
                "system": round(system, 2),
                "raw": round(raw, 2),
                "raw_what": raw_what,
                "ratio": round(ratio if ratio is not None else system / raw, 3),
                "aim": aim,
                "met": met,
            }
        )

    for measure, key, raw_key, raw_what, aim_key in (
        (
            f"registry commands/s, HTTP, {CLIENTS} clients",
            "commands",
            "raw_pg",
            f"asyncpg, 1 insert per txn, {CLIENTS} conns",
            "commands",
        ),
        ("relay events/s", "relay", "raw_publish", f"JetStream publish, {PUBLISH_WINDOW} in flight", "relay"),
        (
            "projection events/s",
            "projection",
            "raw_consume",
            f"pull fetch({RAW_FETCH}) + executemany + ack",
            "projection",
        ),
    ):
        ratio = m[key] / m[raw_key]
        row(measure, m[key], m[raw_key], raw_what, f">= {AIMS[aim_key]:.0%}", ratio >= AIMS[aim_key])
    for key in ("p50_ms", "p99_ms"):
        is_p99 = key == "p99_ms"
        row(
            f"command→read model {key[:3]}, ms @{args.rate:g}/s",
            lat[key],
            raw_lat[key],
            "insert → publish → pull → upsert",
            f"< {AIMS['latency_p99_ms']:g} ms" if is_p99 else "",
            lat[key] < AIMS["latency_p99_ms"] if is_p99 else None,
        )
    row(
        "(info) registry vs HTTP floor, commands/s",
        m["commands"],
        m["http_floor"],
        "uvicorn+FastAPI, 1 insert per POST",
        "",
        None,
    )

    headers = ("measure", "system", "raw baseline", "ratio", "aim", "met?")
    lines = [headers]
    for t in table:
        is_ms = "ms @" in t["measure"]
        lines.append(
            (
                t["measure"],
                _num(t["system"]),
                f"{_num(t['raw'])}  ({t['raw_what']})",
                f"{t['ratio']:.1f}×" if is_ms else f"{t['ratio']:.0%}",
                t["aim"],
                "" if t["met"] is None else ("yes" if t["met"] else "NO"),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]
    align = ("<", ">", "<", ">", "<", "<")
    print()
    print(
        f"Genting benchmark: {os.cpu_count()} CPUs; medians of {args.reps} runs; commands {args.commands}, "
        f"events {args.events}, raw rows {args.raw_rows}; HTTP client: {args.http_client}"
    )
    for i, line in enumerate(lines):
        print(" | ".join(f"{cell:{a}{w}}" for cell, a, w in zip(line, align, widths, strict=True)).rstrip())
        if i == 0:
            print("-+-".join("-" * w for w in widths))
    print()
    verdict = "met" if lat["p99_ms"] < AIMS["latency_p99_ms"] else "NOT met"
    print(
        f"latency at {args.rate:g} commands/s for {args.latency_seconds:g} s ({lat['n']} families): "
        f"p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms, max {lat['max_ms']:.1f} ms; "
        f"aim p99 < {AIMS['latency_p99_ms']:g} ms: {verdict}"
    )
    print(
        f"  the POST alone: p50 {lat['http_p50_ms']:.1f} ms, p99 {lat['http_p99_ms']:.1f} ms; "
        f"raw path: p50 {raw_lat['p50_ms']:.1f} ms, p99 {raw_lat['p99_ms']:.1f} ms, max {raw_lat['max_ms']:.1f} ms"
    )
    print("per run: " + "; ".join(f"{k} " + "/".join(_num(v) for v in vs) for k, vs in results["per_rep"].items()))
    print()
    print("cores busy while measuring (service = the uvicorn process; other = rest of machine + kernel):")
    print("  " + f"{'phase':<12}" + "".join(f"{g:>9}" for g in (*CORE_GROUPS, "total")))
    for phase, groups in results["cores_busy"].items():
        print(
            "  " + f"{phase:<12}" + "".join(f"{groups[g]:>9.2f}" for g in CORE_GROUPS) + f"{sum(groups.values()):>9.2f}"
        )
    for phase, key in (("commands", "commands"), ("http_floor", "http_floor")):
        if phase in results["cores_busy"]:
            busy, rate = results["cores_busy"][phase], m[key]
            print(
                f"  CPU per request ({phase}): "
                + ", ".join(f"{g} {busy[g] / rate * 1000:.2f} ms" for g in ("bench", "service", "postgres", "nats"))
            )
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commands", type=int, default=2000, help="commands per repetition")
    parser.add_argument("--events", type=int, default=20000, help="events for relay/projection and their raws")
    parser.add_argument("--raw-rows", type=int, default=6000, help="rows for the raw asyncpg baseline")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=100.0, help="commands/s in the latency run")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each throughput measure")
    parser.add_argument(
        "--http-client",
        choices=("httpx", "sockets"),
        default="httpx",
        help="httpx, or a minimal keep-alive client that leaves the CPU to the server",
    )
    args = parser.parse_args()
    for name in ("events", "raw_rows"):
        value = getattr(args, name)
        setattr(args, name, max(EVENTS_PER_STREAM, value - value % EVENTS_PER_STREAM))

    configure_logging("bench", "warning")
    workdir = Path(tempfile.mkdtemp(prefix="genting-bench-"))
    started = time.perf_counter()
    print(f"starting servers in {workdir} …", flush=True)
    servers = start_servers(workdir)
    status = 0
    try:
        results = uvloop.run(run(args, servers))
        table = report(args, results)
        out = {
            "when": now().isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
            "servers": {
                "nats": "embedded" if "GENTING_NATS_URL" not in os.environ else "external",
                "postgres": "embedded durable" if "GENTING_DATABASE_URL" not in os.environ else "external",
            },
            "args": vars(args),
            "settings": {"relay_batch": RELAY_BATCH, "projection_batch": PROJECTION_BATCH},
            "aims": AIMS,
            "table": table,
            **results,
            "wall_seconds": round(time.perf_counter() - started, 1),
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(out, indent=2, default=str) + "\n")
        print(f"\nwritten {RESULTS.relative_to(REPO)} ({out['wall_seconds']} s)")
    except BenchFailure as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        status = 1
    finally:
        with contextlib.suppress(Exception):
            uvloop.run(servers.drop_databases())
        for server in reversed(servers.embedded):
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
