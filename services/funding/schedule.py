"""Funding's clock step: every `clock_interval_seconds`, release the sponsorships whose family
still has no plan `sponsorship_hold_days` after the sponsorship's date (README, "Money held for a
plan"). The decision is the sponsorship's (ReleaseUnplanned); this module finds the candidates
and runs each family in its own transaction. "Today" is the app's clock, the city's day."""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import date
from typing import Any
from uuid import uuid4

import asyncpg
import structlog
from fastapi import FastAPI

from services.funding.handlers import Handlers
from shared.clock import now
from shared.effective import known_through
from shared.eventstore import Metadata
from shared.outbox import committing
from shared.periodic import every

log = structlog.get_logger()

# The latest effective date among funding's records, of every kind it holds (not the registry's
# eligibility changes: its clock dates them on a birthday whenever it runs, ahead of the records).
RECORDED_THROUGH = """
select greatest(
    (select max(sponsored_on) from sponsorships_view),
    (select max(received_on) from contributions_view),
    (select max(enrolled_on) from funding_families),
    (select max(exited_on) from funding_families),
    (select max(delivered_on) from funding_deliveries),
    (select max(closed_on) from funding_plans)
)
"""


async def release_unplanned(
    pool: asyncpg.Pool,
    handlers: Handlers,
    today: date,
    *,
    hold_days: int,
    minimum_rp: int,
    max_entry_delay_days: int | None,
    entered_through: date | None,
) -> int:
    """One step; returns the rupiah released. Safe on every replica at once: the family's row
    lock and the decision (a released sponsorship is left alone) make a second run release nothing."""
    recorded: date | None = await pool.fetchval(RECORDED_THROUGH)
    through = known_through(today, recorded, max_entry_delay_days, entered_through)
    if through is None:
        return 0
    # Candidates only: the decision re-reads everything under the family's lock.
    due = await pool.fetch(
        "select distinct s.family_id from sponsorships_view s"
        " where s.released_reason is null and s.drawn_rp = 0 and s.sponsored_on + $2::int < $1"
        " and not exists (select 1 from funding_plans p where p.family_id = s.family_id)",
        through,
        hold_days,
    )
    total = 0
    for row in due:
        meta = Metadata(occurred_at=now(), correlation_id=uuid4(), causation_id=uuid4())
        async with committing(pool) as conn:
            total += await handlers.release_unplanned(conn, row["family_id"], hold_days, minimum_rp, through, meta)
    return total


async def run_step(app: FastAPI) -> int:
    """The step with the app's own clock, pool and settings (tests call this directly)."""
    state = app.state
    settings = state.settings
    return await release_unplanned(
        state.pool,
        state.handlers,
        state.clock(),
        hold_days=settings.sponsorship_hold_days,
        minimum_rp=settings.plan_minimum_rp(),
        max_entry_delay_days=settings.max_entry_delay_days,
        entered_through=settings.entered_through,
    )


def clock_tasks(app: FastAPI) -> list[Coroutine[Any, Any, None]]:
    return [every(app.state.settings.clock_interval_seconds, lambda: run_step(app), name="sponsorship_clock")]
