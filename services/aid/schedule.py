"""The clock-driven step: every `clock_interval_seconds`, end the plans whose days have passed
with days uncovered (EndWindow through the handlers). "Today" is the app's clock, the city's day."""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import structlog
from fastapi import FastAPI

from services.aid.domain import EndWindow
from services.aid.handlers import Handlers
from shared.clock import now
from shared.effective import known_through
from shared.eventstore import Metadata
from shared.outbox import committing
from shared.periodic import every

log = structlog.get_logger()


# The latest effective date among aid's records, of every kind it holds (README, "Plans in time").
RECORDED_THROUGH = """
select greatest(
    (select max(delivered_on) from deliveries_view),
    (select max(enrolled_on) from aid_families),
    (select max(exited_on) from aid_families),
    (select max(measured_on) from aid_growth),
    (select max(held_on) from education_sessions_view),
    (select max(done_on) from interventions_view),
    (select max(visited_on) from home_visits_view)
)
"""


async def recorded_through(conn: asyncpg.Connection | asyncpg.Pool) -> date | None:
    found: date | None = await conn.fetchval(RECORDED_THROUGH)
    return found


async def close_expired_plans(
    pool: asyncpg.Pool,
    handlers: Handlers,
    today: date,
    grace_days: int = 0,
    *,
    max_entry_delay_days: int | None = None,
    entered_through: date | None = None,
    in_date_order: bool = True,
) -> int:
    """One step: each active plan whose last day (plus grace) is before both `today` and the day
    aid's records are known complete through (`known_through`: the latest effective date among
    them when they are entered `in_date_order`, the entry bound, the operator's date), in its own
    transaction, ends incomplete with its trailing gap recorded. Returns how many ended.

    Safe to run on every replica at once: the plan's row lock and the decision (an ended plan
    is left alone) make a second run record nothing."""
    # Entered in any order, a record dated later says nothing of those before it.
    recorded = await recorded_through(pool) if in_date_order else None
    through = known_through(today, recorded, max_entry_delay_days, entered_through)
    if through is None:
        return 0
    due = await pool.fetch(
        "select plan_id from plans_view where status = 'active' and end_date < $1 order by end_date",
        min(today, through) - timedelta(days=grace_days),
    )
    ended = 0
    for row in due:
        meta = Metadata(occurred_at=now(), correlation_id=uuid4(), causation_id=uuid4())
        async with committing(pool) as conn:
            command = EndWindow(row["plan_id"], today, recorded, grace_days, max_entry_delay_days, entered_through)
            facts = await handlers.end_window(conn, command, meta)
        if facts:
            ended += 1
            log.info("plan_window_ended", plan_id=str(row["plan_id"]), outcome="incomplete")
    return ended


async def run_step(app: FastAPI) -> int:
    """The step with the app's own clock, pool and settings (tests call this directly)."""
    state = app.state
    settings = state.settings
    return await close_expired_plans(
        state.pool,
        state.handlers,
        state.clock(),
        settings.recording_grace_days,
        max_entry_delay_days=settings.max_entry_delay_days,
        entered_through=settings.entered_through,
        in_date_order=settings.entered_in_date_order,
    )


def clock_tasks(app: FastAPI) -> list[Coroutine[Any, Any, None]]:
    return [every(app.state.settings.clock_interval_seconds, lambda: run_step(app), name="plan_clock")]
