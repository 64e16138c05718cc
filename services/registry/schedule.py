"""The clock-driven step: every `clock_interval_seconds`, each baduta who has turned 24 months ages
out (`ChildAgedOut`, dated on that birthday whenever the step runs). "Today" is the app's clock, the
city's day, but the step goes no further than the latest effective date among the registry's
records: while a past programme is entered in order, a child ages out when the records reach its
birthday, after the records dated before it (a verification in June must not find the baby of
June already aged out in November). Entering history late so gives the same events as entering
it on its days, as aid's plan endings do (aid's schedule). The wait is bounded as theirs is
(shared.effective.known_through): records are entered at most GENTING_MAX_ENTRY_DELAY_DAYS late,
or an operator declares them entered through a day (GENTING_ENTERED_THROUGH); past that, the clock
alone ages a child out, so a city that stops entering records does not keep a baduta forever."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import asyncpg
import structlog
from fastapi import FastAPI

from services.registry.domain import AgeOutChildren
from services.registry.handlers import Handlers
from shared.contracts.registry import ChildAgedOut
from shared.effective import known_through
from shared.eventstore import Metadata
from shared.outbox import committing

log = structlog.get_logger()


async def age_out_children(
    pool: asyncpg.Pool,
    handlers: Handlers,
    today: date,
    max_entry_delay_days: int | None = None,
    entered_through: date | None = None,
) -> int:
    """One step: each active family with a baduta turning 24 months on or before both `today` and
    the day the registry's records are known complete through (their latest effective date, or
    the entry bound), in its own transaction. Returns how many children aged out. Safe on every
    replica at once: the family's lock and the decision (a child already `other` is left alone)
    record nothing twice."""
    recorded: date | None = await pool.fetchval("select max(recorded_on) from families_view")
    through = known_through(today, recorded, max_entry_delay_days, entered_through)
    if through is None:
        return 0
    until = min(today, through)
    due = await pool.fetch(
        "select family_id from families_view where ages_out_on <= $1"
        " and status in ('registered', 'enrolled') and not personal_erased order by ages_out_on",
        until,
    )
    aged = 0
    for row in due:
        meta = Metadata(occurred_at=datetime.now(UTC), correlation_id=uuid4(), causation_id=uuid4())
        async with committing(pool) as conn:
            facts = await handlers.age_out_children(conn, AgeOutChildren(row["family_id"], until), meta)
        aged += sum(1 for f in facts if isinstance(f.event, ChildAgedOut))  # not the eligibility change
    if aged:
        log.info("children_aged_out", count=aged)
    return aged


async def run_step(app: FastAPI) -> int:
    """The step with the app's own clock, pool and handlers (tests call this directly)."""
    settings = app.state.settings
    return await age_out_children(
        app.state.pool,
        app.state.handlers,
        app.state.clock(),
        max_entry_delay_days=settings.max_entry_delay_days,
        entered_through=settings.entered_through,
    )


def clock_tasks(app: FastAPI) -> list[Coroutine[Any, Any, None]]:
    return [_every(app, getattr(app.state.settings, "clock_interval_seconds", 60.0))]


async def _every(app: FastAPI, seconds: float) -> None:
    while True:
        try:
            await run_step(app)
        except Exception as exc:  # PostgreSQL away: the next tick tries again
            log.warning("registry_clock_failed", error=repr(exc))
        await asyncio.sleep(seconds)
