"""The benchmark's settings and arithmetic: how many clients and events, the aims each system
measure is held to, medians and percentiles, and waiting for a condition or timing a part."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from processes import (  # bench/processes.py: servers, services as processes, CPU accounting
    BenchFailure,
    note,
)

from shared.settings import Settings

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


@contextlib.asynccontextmanager
async def running(coro: Coroutine[Any, Any, Any]) -> AsyncIterator[asyncio.Task[Any]]:
    """The relay or runner under measure as a task for the length of the block; cancelled, and
    waited for, when the block ends however it ends."""
    task = asyncio.create_task(coro)
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def timed(label: str, coro: Awaitable[T]) -> T:
    started = time.perf_counter()
    result = await coro
    note(f"{label} ({time.perf_counter() - started:.1f} s)")
    return result


def bench_parser(
    description: str, *, commands: tuple[int, str], raw_rows: int, events: tuple[int, str] | None = None
) -> argparse.ArgumentParser:
    """The options every system-against-raw benchmark takes, (default, help) where they differ:
    --commands, --events (where it measures a projection), --raw-rows and --reps. A benchmark
    adds its own."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commands", type=int, default=commands[0], help=commands[1])
    if events is not None:
        parser.add_argument("--events", type=int, default=events[0], help=events[1])
    parser.add_argument("--raw-rows", type=int, default=raw_rows, help="rows for the raw asyncpg baseline")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each throughput measure")
    return parser


def whole_streams(args: argparse.Namespace) -> argparse.Namespace:
    """--events and --raw-rows rounded down to whole aggregates (EVENTS_PER_STREAM each, one at least)."""
    for name in ("events", "raw_rows"):
        value = getattr(args, name)
        setattr(args, name, max(EVENTS_PER_STREAM, value - value % EVENTS_PER_STREAM))
    return args
