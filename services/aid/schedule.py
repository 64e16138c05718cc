"""The clock-driven step: every `clock_interval_seconds`, end the plans whose days have passed
with days uncovered (EndWindow through the handlers). "Today" is the app's clock, the city's day."""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import date, timedelta
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI

from services.aid.domain import EndWindow
from services.aid.handlers import Handlers
from services.aid.settings import AidSettings
from shared.effective import known_through, latest_date_sql
from shared.eventstore import Metadata
from shared.outbox import committing
from shared.periodic import every

log = structlog.get_logger()


# The latest effective date among aid's records, of every kind it holds (README, "Plans in time").
RECORDED_THROUGH = latest_date_sql(
    {
        "deliveries_view": ("delivered_on",),
        "aid_families": ("enrolled_on", "exited_on"),
        "aid_growth": ("measured_on",),
        "education_sessions_view": ("held_on",),
        "interventions_view": ("done_on",),
        "home_visits_view": ("visited_on",),
    }
)


async def recorded_through(conn: asyncpg.Connection | asyncpg.Pool) -> date | None:
    found: date | None = await conn.fetchval(RECORDED_THROUGH)
    return found


async def close_expired_plans(pool: asyncpg.Pool, handlers: Handlers, today: date, settings: AidSettings) -> int:
    """One step: each active plan whose last day (plus the recording grace) is before both `today`
    and the day aid's records are known complete through (`known_through`: the latest effective
    date among them when they are entered in date order, the entry bound, the operator's date), in
    its own transaction, ends incomplete with its trailing gap recorded. Returns how many ended.

    Safe to run on every replica at once: the plan's row lock and the decision (an ended plan
    is left alone) make a second run record nothing."""
    grace_days, max_entry_delay_days = settings.recording_grace_days, settings.max_entry_delay_days
    entered_through = settings.entered_through
    # Entered in any order, a record dated later says nothing of those before it.
    recorded = await recorded_through(pool) if settings.entered_in_date_order else None
    through = known_through(today, recorded, max_entry_delay_days, entered_through)
    if through is None:
        return 0
    due = await pool.fetch(
        "select plan_id from plans_view where status = 'active' and end_date < $1 order by end_date",
        min(today, through) - timedelta(days=grace_days),
    )
    ended = 0
    for row in due:
        meta = Metadata.of_clock()
        async with committing(pool) as conn:
            command = EndWindow(row["plan_id"], today, recorded, grace_days, max_entry_delay_days, entered_through)
            facts = await handlers.end_window(conn, command, meta)
        if facts:
            ended += 1
            log.info("plan_window_ended", plan_id=str(row["plan_id"]), outcome="incomplete")
    return ended


async def run_step(app: FastAPI) -> int:
    """The step with the app's own clock, pool and settings (tests call this directly)."""
    return await close_expired_plans(app.state.pool, app.state.handlers, app.state.clock(), app.state.settings)


def clock_tasks(app: FastAPI) -> list[Coroutine[Any, Any, None]]:
    return [every(app.state.settings.clock_interval_seconds, lambda: run_step(app), name="plan_clock")]
