"""Funding's clock step: every `clock_interval_seconds`, release the sponsorships whose family
still has no plan `sponsorship_hold_days` after the sponsorship's date (README, "Money held for a
plan"). The decision is the sponsorship's (ReleaseUnplanned); this module finds the candidates
and runs each family in its own transaction. "Today" is the app's clock, the city's day."""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import date
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI

from services.funding.handlers import Handlers
from services.funding.settings import FundingSettings
from shared.effective import known_through, latest_date_sql
from shared.eventstore import Metadata
from shared.outbox import committing
from shared.periodic import every

log = structlog.get_logger()

# The latest effective date among funding's records, of every kind it holds (not the registry's
# eligibility changes: its clock dates them on a birthday whenever it runs, ahead of the records).
RECORDED_THROUGH = latest_date_sql(
    {
        "sponsorships_view": ("sponsored_on",),
        "contributions_view": ("received_on",),
        "funding_families": ("enrolled_on", "exited_on"),
        "funding_deliveries": ("delivered_on",),
        "funding_plans": ("closed_on",),
    }
)


async def release_unplanned(pool: asyncpg.Pool, handlers: Handlers, today: date, settings: FundingSettings) -> int:
    """One step; returns the rupiah released. Safe on every replica at once: the family's row
    lock and the decision (a released sponsorship is left alone) make a second run release nothing."""
    hold_days = settings.sponsorship_hold_days
    # Entered in any order, a record dated later says nothing of those before it.
    recorded: date | None = await pool.fetchval(RECORDED_THROUGH) if settings.entered_in_date_order else None
    through = known_through(today, recorded, settings.max_entry_delay_days, settings.entered_through)
    if through is None:
        return 0
    # Candidates only: the decision re-reads everything under the family's lock.
    due = await pool.fetch(
        "select distinct s.family_id from sponsorships_view s"
        " where s.released_reason is null and s.drawn_rp = 0 and s.sponsored_on + $2::int < $1"
        # A plan known for the family takes the money, unless it started after the hold ended.
        " and not exists (select 1 from funding_plans p where p.family_id = s.family_id"
        "  and (p.start_date is null or p.start_date <= s.sponsored_on + $2::int))",
        through,
        hold_days,
    )
    total = 0
    for row in due:
        meta = Metadata.of_clock()
        async with committing(pool) as conn:
            total += await handlers.release_unplanned(conn, row["family_id"], hold_days, through, meta)
    return total


async def run_step(app: FastAPI) -> int:
    """The step with the app's own clock, pool and settings (tests call this directly)."""
    return await release_unplanned(app.state.pool, app.state.handlers, app.state.clock(), app.state.settings)


def clock_tasks(app: FastAPI) -> list[Coroutine[Any, Any, None]]:
    return [every(app.state.settings.clock_interval_seconds, lambda: run_step(app), name="sponsorship_clock")]
