"""The clock and the step it drives: ending plans whose days have passed with days uncovered."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from uuid import uuid4
from zoneinfo import ZoneInfo

import asyncpg
import structlog
from fastapi import FastAPI

from services.aid.domain.plan_model import EndWindow
from services.aid.repository import PlanRepository
from shared.eventstore import Metadata
from shared.outbox import committing

log = structlog.get_logger()


class Clock(Protocol):
    """Today's date in the city: the only source of "today" for commands, reactions and the step."""

    def __call__(self) -> date: ...


class CityClock:
    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone

    def __call__(self) -> date:
        return datetime.now(self.zone).date()


async def close_expired_plans(pool: asyncpg.Pool, plans: PlanRepository, today: date, grace_days: int = 0) -> int:
    """One step: each active plan whose last day (plus grace) is before `today`, in its own
    transaction, ends incomplete with its trailing gap recorded. Returns how many ended.

    Safe to run on every replica at once: the plan's row lock and the decision (an ended plan
    is left alone) make a second run record nothing."""
    due = await pool.fetch(
        "select plan_id from plans_view where status = 'active' and end_date < $1 order by end_date",
        today - timedelta(days=grace_days),
    )
    ended = 0
    for row in due:
        meta = Metadata(occurred_at=datetime.now(UTC), correlation_id=uuid4(), causation_id=uuid4())
        async with committing(pool) as conn:
            command = EndWindow(row["plan_id"], today, grace_days)
            _, facts = await plans.execute(conn, row["plan_id"], command, meta)
        if facts:
            ended += 1
            log.info("plan_window_ended", plan_id=str(row["plan_id"]), outcome="incomplete")
    return ended


async def run_step(app: FastAPI) -> int:
    """The step with the app's own clock, pool and settings (tests call this directly)."""
    state = app.state
    return await close_expired_plans(state.pool, state.plans, state.clock(), state.settings.recording_grace_days)


def clock_tasks(app: FastAPI) -> list[Coroutine[Any, Any, None]]:
    return [_every(app, app.state.settings.clock_interval_seconds)]


async def _every(app: FastAPI, seconds: float) -> None:
    while True:
        try:
            await run_step(app)
        except Exception as exc:  # PostgreSQL away: the next tick tries again
            log.warning("plan_clock_failed", error=repr(exc))
        await asyncio.sleep(seconds)
