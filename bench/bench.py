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

The HTTP floor is a one-process FastAPI app (`create_floor_app` in http_floor.py) that parses the same
body and commits one insert: what this server stack and load generator allow before any domain
work. The load generator runs on the same two cores; `--http-client sockets` swaps httpx for a
minimal keep-alive client to show what the service does when the client is nearly free. The
table under the results says how busy each process was (cores) while measuring.

Timings are printed, never asserted. The exit status is non-zero only when something failed
functionally (a command refused, an event missing).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import statistics
import sys
import time
from typing import Any

import nats
import uvloop
from corpus import Bodies, make_corpus
from figures import (
    AIMS,
    BENCH_SERVICE,
    PROJECTION_BATCH,
    REGISTRY_STREAM,
    RELAY_BATCH,
    bench_parser,
    median,
    timed,
    whole_streams,
)
from http_floor import http_floor
from processes import (  # bench/processes.py: servers, services as processes, CPU accounting
    BENCH_DIR,
    CORE_GROUPS,
    CORES,
    REPO,
    Servers,
    run_with_servers,
)
from raw_probes import raw_end_to_end_latency, raw_pg, raw_publish_and_consume
from report import report
from streams import delete_stream
from system_benches import system_commands, system_latency, system_projection, system_relay

from shared.clock import now
from shared.logging import configure_logging
from shared.messaging import dlq_stream_name

RESULTS = BENCH_DIR / "results" / "latest.json"


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


def main() -> int:
    parser = bench_parser(
        __doc__ or "",
        commands=(2000, "commands per repetition"),
        events=(20000, "events for relay/projection and their raws"),
        raw_rows=6000,
    )
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=100.0, help="commands/s in the latency run")
    parser.add_argument(
        "--http-client",
        choices=("httpx", "sockets"),
        default="httpx",
        help="httpx, or a minimal keep-alive client that leaves the CPU to the server",
    )
    args = whole_streams(parser.parse_args())
    configure_logging("bench", "warning")
    started = time.perf_counter()

    def measure(servers: Servers) -> None:
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

    return run_with_servers("genting-bench-", measure)


if __name__ == "__main__":
    sys.exit(main())
