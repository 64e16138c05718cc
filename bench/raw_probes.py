"""The raw baselines: what PostgreSQL and JetStream do on their own, with no domain code (an
events-shaped insert per transaction, windowed publishes, a pull consumer upserting per batch,
and the insert → publish → pull → upsert latency)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Sequence

import asyncpg
from corpus import Ev, make_corpus, publish_windowed
from figures import CLIENTS, EVENTS_PER_STREAM, RAW_FETCH, percentile
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
)
from processes import (  # bench/processes.py: servers, services as processes, CPU accounting
    BenchFailure,
    Servers,
    measured,
)
from streams import delete_stream, fresh_stream, stream_messages

from shared.db import migrate
from shared.messaging import MSG_ID_HEADER

# The raw baselines write the system's own events table (the kernel's migration, raw_db): the
# same row, without the domain, the outbox or the stream's version check.
RAW_INSERT = (
    "insert into events (event_id, stream_type, stream_id, stream_version, event_type, schema_version,"
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


async def raw_consumer(js: JetStreamContext, stream: str, durable: str) -> JetStreamContext.PullSubscription:
    """A durable pull consumer of the whole stream with explicit acks: what every raw baseline
    reads with."""
    await js.add_consumer(
        stream,
        ConsumerConfig(
            durable_name=durable,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=30,
            max_ack_pending=RAW_FETCH * 5,
        ),
    )
    return await js.pull_subscribe_bind(durable=durable, stream=stream)


async def upsert_batch(sub: JetStreamContext.PullSubscription, conn: asyncpg.Connection, upsert: str) -> list[Msg]:
    """One raw batch: fetch(RAW_FETCH), one executemany of (stream, version, event type) in one
    transaction, then an ack each. Returns the messages."""
    msgs = await sub.fetch(RAW_FETCH, timeout=5.0)
    rows = []
    for msg in msgs:
        env = json.loads(msg.data)
        rows.append((env["stream_id"], env["stream_version"], env["event_type"]))
    async with conn.transaction():
        await conn.executemany(upsert, rows)
    for msg in msgs:
        await msg.ack()
    return msgs


async def check_view(db: asyncpg.Connection | asyncpg.Pool, table: str, events: int, what: str) -> None:
    """A view that applied every event holds each stream at its last version: with versions 1..n
    per stream, its versions add up to the number of events."""
    if await db.fetchval(f"select sum(version) from {table}") != events:
        raise BenchFailure(f"{what}: the view does not hold every stream at its last version")


async def raw_db(servers: Servers, part: str) -> str:
    """A fresh database with the kernel's tables (the event store's among them)."""
    db = await servers.fresh_db(part)
    await migrate(db)
    return db


async def raw_pg(servers: Servers, rep: int, corpus: Sequence[Ev]) -> float:
    """8 connections, each committing one insert per transaction (BEGIN; INSERT; COMMIT)."""
    db = await raw_db(servers, f"rawpg{rep}")
    conns = [await asyncpg.connect(db) for _ in range(CLIENTS)]
    try:
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
        count = await conns[0].fetchval("select count(*) from events")
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
        sub = await raw_consumer(js, stream, "raw")
        done = 0
        with measured(servers, "raw_consume"):
            started = time.perf_counter()
            while done < len(corpus):
                done += len(await upsert_batch(sub, conn, upsert))
            consume_rate = len(corpus) / (time.perf_counter() - started)
        await sub.unsubscribe()
        await check_view(conn, "raw_view", len(corpus), "raw consume")
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
    db = await raw_db(servers, "rawe2e")
    reader = await asyncpg.connect(db)
    await reader.execute("create table raw_latency (stream_id uuid primary key, applied_at timestamptz not null)")
    sub = await raw_consumer(js, stream, "rawe2e")
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
