"""One loop for periodic work: runs at once and then every interval, survives a failed round
(logged), stays quiet on an expected race, and stops cleanly when cancelled."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from shared.errors import ConcurrencyConflict
from shared.periodic import every


class Steps:
    """A step that fails on the rounds it is told to, and lets the test wait for a round."""

    def __init__(self, failures: dict[int, BaseException] | None = None) -> None:
        self.rounds = 0
        self.failures = failures or {}
        self.reached: dict[int, asyncio.Event] = {}

    def round(self, n: int) -> asyncio.Event:
        return self.reached.setdefault(n, asyncio.Event())

    async def __call__(self) -> None:
        self.rounds += 1
        self.round(self.rounds).set()
        if self.rounds in self.failures:
            raise self.failures[self.rounds]


async def test_a_failed_round_is_logged_and_the_next_round_runs() -> None:
    steps = Steps({1: RuntimeError("database away")})
    with capture_logs() as logs:
        task = asyncio.create_task(every(0, steps, name="plan_clock"))
        await steps.round(3).wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    failed = [entry for entry in logs if entry["event"] == "plan_clock_failed"]
    assert len(failed) == 1
    assert "database away" in failed[0]["error"]
    assert steps.rounds >= 3


async def test_an_expected_race_is_not_logged() -> None:
    steps = Steps({1: ConcurrencyConflict("city-progress", 3)})
    with capture_logs() as logs:
        task = asyncio.create_task(every(0, steps, name="progress_snapshot", quiet=(ConcurrencyConflict,)))
        await steps.round(2).wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert [entry for entry in logs if entry["event"] == "progress_snapshot_failed"] == []


async def test_cancelling_between_rounds_stops_the_loop() -> None:
    steps = Steps()
    task = asyncio.create_task(every(3600, steps, name="idempotency_purge"))
    await steps.round(1).wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    assert steps.rounds == 1


async def test_cancelling_within_a_round_is_not_swallowed() -> None:
    started, never = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        started.set()
        await never.wait()

    task = asyncio.create_task(every(0, slow, name="registry_clock"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
