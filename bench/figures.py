"""The benchmark's settings and arithmetic: how many clients and events, the aims each system
measure is held to, medians and percentiles, and waiting for a condition or timing a part."""

from __future__ import annotations

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
