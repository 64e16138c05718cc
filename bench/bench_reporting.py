"""Reporting benchmark: how fast `genting replay reporting` rebuilds every read model, beside the
raw pull-consume rate of the same streams measured in the same run (PERF.md: compare ratios).

    .venv/bin/python bench/bench_reporting.py [--families 1330] [--reps 3]

The corpus is a whole programme (shared/testing/reporting_scenarios.full: registrations, sponsorships,
plans, fortnightly deliveries with confirmations and draws), published to GENTING_REGISTRY,
GENTING_FUNDING and GENTING_AID. Uses GENTING_NATS_URL / GENTING_DATABASE_URL (a server URL) when
set, else an embedded nats-server and a durable embedded PostgreSQL in a temporary directory. On
an external NATS server those three streams are deleted and recreated: point it at a disposable
server only.

| system                                              | raw baseline                                   |
|-----------------------------------------------------|------------------------------------------------|
| replay: ordered read, gate, merge, executemany, 1 tx | pull fetch(500) + one executemany/batch + acks |
| live: the three ProjectionRunners, one upsert/change | (same baseline)                                |

Timings are printed, never asserted; the exit status is non-zero only when a number is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
from nats.js import JetStreamContext  # noqa: E402
from nats.js.errors import NotFoundError  # noqa: E402
from processes import BenchFailure, Servers, note, start_servers  # noqa: E402  bench/processes.py
from raw_probes import raw_consumer, upsert_batch  # noqa: E402  bench/raw_probes.py

from services.reporting import queries, replay  # noqa: E402
from services.reporting.app import MIGRATIONS  # noqa: E402
from services.reporting.projections import PROJECTIONS  # noqa: E402
from shared.db import create_pool, migrate  # noqa: E402
from shared.logging import configure_logging  # noqa: E402
from shared.nats_setup import connect, ensure_stream, owned_stream_config  # noqa: E402
from shared.projection import ProjectionRunner  # noqa: E402
from shared.testing import reporting_scenarios as scenarios  # noqa: E402
from shared.testing.reporting_examples import Published, publish  # noqa: E402

RESULTS = REPO / "bench" / "results" / "reporting.json"
RAW_DDL = "create table raw_view (stream_id uuid primary key, version int not null, event_type text not null)"
RAW_UPSERT = (
    "insert into raw_view values ($1, $2, $3) on conflict (stream_id) do update"
    " set version = excluded.version, event_type = excluded.event_type"
)


async def load_streams(js: JetStreamContext, corpus: Sequence[Published]) -> None:
    """Fresh upstream streams holding the corpus (pipelined publishes, 1,000 in flight)."""
    for context in ("registry", "funding", "aid"):
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(f"GENTING_{context.upper()}")
        await ensure_stream(js, owned_stream_config(context))
    await publish(js, corpus, window=1000, timeout=30.0)


async def raw_consume(servers: Servers, js: JetStreamContext, rep: int, total: int) -> float:
    """The three streams through durable pull consumers, as raw_probes.py reads one: fetch(500), one
    executemany, ack each."""
    conn = await asyncpg.connect(await servers.fresh_db(f"raw{rep}"))
    try:
        await conn.execute(RAW_DDL)
        await conn.prepare(RAW_UPSERT)
        done, started = 0, time.perf_counter()
        for projection in PROJECTIONS:
            durable = f"bench-raw-{rep}"
            last = (await js.stream_info(projection.stream)).state.last_seq
            sub = await raw_consumer(js, projection.stream, durable)
            seq = 0
            while seq < last:
                msgs = await upsert_batch(sub, conn, RAW_UPSERT)
                seq = msgs[-1].metadata.sequence.stream
                done += len(msgs)
            await sub.unsubscribe()
            await js.delete_consumer(projection.stream, durable)
        elapsed = time.perf_counter() - started
    finally:
        await conn.close()
    if done != total:
        raise BenchFailure(f"raw consume: {done} of {total} messages")
    return total / elapsed


async def replayed(servers: Servers, js: JetStreamContext, rep: int, total: int, families: int) -> float:
    pool = await _reporting_pool(servers, f"replay{rep}")
    try:
        stats = await replay.rebuild(pool, js)
        await _check(pool, families)
    finally:
        await pool.close()
    if stats.read != total or stats.applied != total or stats.gaps:
        raise BenchFailure(f"replay: {stats}")
    return stats.rate


async def live(servers: Servers, js: JetStreamContext, rep: int, total: int, families: int) -> float:
    """The service's own runners on a fresh database: how fast a new replica catches up."""
    pool = await _reporting_pool(servers, f"live{rep}")
    runners = []
    for p in PROJECTIONS:
        named = type(p)(
            name=f"{p.name}-bench-{rep}",
            stream=p.stream,
            filter_subjects=p.filter_subjects,
            tables=p.tables,
            translate=p.translate,
        )
        runners.append(ProjectionRunner(pool, js, named, service="reporting", batch=500))
    started = time.perf_counter()
    tasks = [asyncio.create_task(r.run()) for r in runners]
    try:
        deadline = started + 600
        while sum(r.stats.applied for r in runners) < total:
            if time.monotonic() > deadline or any(r.stats.errors or r.stats.dead_lettered for r in runners):
                raise BenchFailure(f"live: {[r.stats for r in runners]}")
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
        await _check(pool, families)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for r in runners:
            with contextlib.suppress(Exception):
                await js.delete_consumer(r.projection.stream, r.projection.name)
        await pool.close()
    return total / elapsed


async def _reporting_pool(servers: Servers, part: str) -> asyncpg.Pool:
    db = await servers.fresh_db(part)
    await migrate(db, MIGRATIONS)
    return await create_pool(db, min_size=1, max_size=4)


async def _check(pool: asyncpg.Pool, families: int) -> None:
    progress = await queries.progress(pool, 1330, scenarios.city_areas())
    if progress.registered != families or progress.enrolled != families:
        raise BenchFailure(f"the read model counts {progress.registered} families, not {families}")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    corpus = scenarios.full(args.families).published
    total = len(corpus)
    with tempfile.TemporaryDirectory(prefix="genting-bench-reporting-") as tmp:
        servers = start_servers(Path(tmp))
        nc = await connect(servers.nats_url, "genting-bench-reporting")
        try:
            js = nc.jetstream()
            note(f"{total:,} upstream events ({args.families:,} families) into the three streams")
            await load_streams(js, corpus)
            rates: dict[str, list[float]] = {"raw": [], "replay": [], "live": []}
            for rep in range(args.reps):  # interleaved, so a busy moment hurts all three alike
                rates["raw"].append(await raw_consume(servers, js, rep, total))
                rates["replay"].append(await replayed(servers, js, rep, total, args.families))
                rates["live"].append(await live(servers, js, rep, total, args.families))
                note(f"rep {rep + 1}: " + ", ".join(f"{k} {v[-1]:,.0f}/s" for k, v in rates.items()))
        finally:
            await nc.close()
            with contextlib.suppress(Exception):
                await servers.drop_databases()
            servers.stop()
    medians = {k: statistics.median(v) for k, v in rates.items()}
    return {
        "events": total,
        "families": args.families,
        "reps": args.reps,
        "rates": rates,
        "median": medians,
        "replay_vs_raw": medians["replay"] / medians["raw"],
        "live_vs_raw": medians["live"] / medians["raw"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=1330)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    configure_logging("bench", "warning")
    try:
        results = asyncio.run(run(args))
    except BenchFailure as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    m = results["median"]
    print(f"\nreporting replay, {results['events']:,} events, median of {results['reps']}:")
    print(f"  raw pull-consume (fetch 500 + executemany + ack)  {m['raw']:>10,.0f} events/s")
    print(
        f"  genting replay reporting (rebuild, one tx)        {m['replay']:>10,.0f} events/s"
        f"  = {results['replay_vs_raw']:.0%} of raw"
    )
    print(
        f"  live consumers catching up from zero              {m['live']:>10,.0f} events/s"
        f"  = {results['live_vs_raw']:.0%} of raw"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"  results: {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
