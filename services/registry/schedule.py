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

from collections.abc import Coroutine
from datetime import date
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI

from services.registry.domain import AgeOutChildren
from services.registry.handlers import Handlers
from shared.contracts.registry import ChildAgedOut, FamilyEligibilityChanged
from shared.effective import known_through
from shared.eventstore import Metadata
from shared.outbox import committing
from shared.periodic import every
from shared.settings import Settings

log = structlog.get_logger()


# Enrolled families with no baduta and no pregnant mother left (and not erased, so their birth
# dates are there): an older version aged their children out without saying they were no longer
# eligible. Each process's first step looks at them (a deployment just upgraded); the decision
# (`AgeOutChildren`) says it once, and for a family already said records nothing, so a restart or
# a second replica publishes nothing new. Later families go through the step's own aging out.
NEVER_SAID = """
select family_id from families_view
where status = 'enrolled' and not personal_erased and enrolled_on <= $1
  and not exists (
      select 1 from jsonb_array_elements(members) m where m->>'role' in ('baduta', 'pregnant_mother')
  )
order by family_id
"""


async def age_out_children(
    pool: asyncpg.Pool, handlers: Handlers, today: date, settings: Settings, *, older_families: bool = False
) -> int:
    """One step: each active family with a baduta turning 24 months on or before both `today` and
    the day the registry's records are known complete through (their latest effective date, or
    the entry bound), in its own transaction. Returns how many children aged out. Safe on every
    replica at once: the family's lock and the decision (a child already `other` is left alone)
    record nothing twice. With `older_families` (a process's first step), also the families
    NEVER_SAID covers."""
    # Entered in any order, a record dated later says nothing of those before it.
    recorded: date | None = (
        await pool.fetchval("select max(recorded_on) from families_view") if settings.entered_in_date_order else None
    )
    through = known_through(today, recorded, settings.max_entry_delay_days, settings.entered_through)
    if through is None:
        return 0
    until = min(today, through)
    due = await pool.fetch(
        "select family_id from families_view where ages_out_on <= $1"
        " and status in ('registered', 'enrolled') and not personal_erased order by ages_out_on",
        until,
    )
    if older_families:
        due = [*due, *await pool.fetch(NEVER_SAID, until)]
    aged = said = 0
    for row in due:
        meta = Metadata.of_clock()
        async with committing(pool) as conn:
            facts = await handlers.age_out_children(conn, AgeOutChildren(row["family_id"], until), meta)
        aged += sum(1 for f in facts if isinstance(f.event, ChildAgedOut))  # not the eligibility change
        said += sum(1 for f in facts if isinstance(f.event, FamilyEligibilityChanged))
    if aged or said:
        log.info("children_aged_out", count=aged, eligibility_changes=said)
    return aged


async def run_step(app: FastAPI) -> int:
    """The step with the app's own clock, pool, handlers and settings (tests call this directly)."""
    first = not getattr(app.state, "older_families_looked_at", False)
    aged = await age_out_children(
        app.state.pool, app.state.handlers, app.state.clock(), app.state.settings, older_families=first
    )
    app.state.older_families_looked_at = True  # once per process, after a step that did not fail
    return aged


def clock_tasks(app: FastAPI) -> list[Coroutine[Any, Any, None]]:
    return [every(app.state.settings.clock_interval_seconds, lambda: run_step(app), name="registry_clock")]
