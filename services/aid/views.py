"""Aid's read model: plans_view, deliveries_view, interventions_view, education_sessions_view and
home_visits_view, written by the repositories' inline views in the transaction that records the
facts (app.py configures them), and by `replay` when it refolds the event store. Idempotent:
replays and retries write the same rows.

The facts themselves leave in the same transaction by the kernel's outbox (shared/outbox.py) for
NATS; other services build their own tables from them (reporting: services/reporting/projections.py)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
from pydantic import BaseModel

from services.aid.domain import (
    ConfirmationNote,
    DeliveryNote,
    HomeVisit,
    InterventionNote,
    Plan,
    Session,
    SessionNote,
    VisitNote,
)
from shared.contracts.aid import (
    AidDelivered,
    DeliveryConfirmed,
    EducationSessionHeld,
    HomeVisitDone,
    HomeVisitFlagged,
    InterventionRecorded,
)
from shared.messaging import Envelope
from shared.repository import Fact

VIEWS = ("plans_view", "deliveries_view", "interventions_view", "education_sessions_view", "home_visits_view")


# -- the repositories' inline views: (conn, state after the save, the new facts, their envelopes) ---


async def plan_view(conn: asyncpg.Connection, plan: Plan, facts: Sequence[Fact], _: Sequence[Envelope]) -> None:
    await write_plan(conn, plan)
    for fact in facts:
        await project(conn, fact)


async def session_view(conn: asyncpg.Connection, _: Session, facts: Sequence[Fact], __: Sequence[Envelope]) -> None:
    for fact in facts:
        await project(conn, fact)


async def home_visit_view(
    conn: asyncpg.Connection, _: HomeVisit, facts: Sequence[Fact], __: Sequence[Envelope]
) -> None:
    for fact in facts:
        await project_visit(conn, fact)


# -- rows ---------------------------------------------------------------------------------


async def _insert_once(
    conn: asyncpg.Connection,
    table: str,
    event: BaseModel,
    private: BaseModel | None = None,
    exclude: frozenset[str] = frozenset(),
    **own: object,
) -> None:
    """A view's row: the event's fields (each a column of the same name, but those in `exclude`),
    its private part's (aid's own columns: null when it is not there) and `own`; written once, so a
    replay or a retry finds the row there and adds nothing."""
    row = {**event.model_dump(exclude=set(exclude)), **(private.model_dump() if private else {}), **own}
    numbered = ", ".join(f"${i}" for i in range(1, len(row) + 1))
    await conn.execute(
        f"insert into {table} ({', '.join(row)}) values ({numbered}) on conflict do nothing", *row.values()
    )


async def write_plan(conn: asyncpg.Connection, plan: Plan) -> None:
    assert plan.window is not None and plan.opened_on is not None
    gaps = [{"from": g.first.isoformat(), "to": g.last.isoformat()} for g in plan.gaps]
    await conn.execute(
        """
        insert into plans_view (plan_id, family_id, kelurahan_code, status, start_date, end_date, days,
            daily_minimum_rp, budget_rp, delivered_rp, days_covered, gaps, deliveries, confirmed,
            interventions, opened_on, closed_on, outcome, unspent_rp, version, shortfall_rp,
            distribution_daily_rp, distributed_rp)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
            $22, $23)
        on conflict (plan_id) do update set status = excluded.status, budget_rp = excluded.budget_rp,
            delivered_rp = excluded.delivered_rp, distributed_rp = excluded.distributed_rp,
            days_covered = excluded.days_covered, gaps = excluded.gaps,
            deliveries = excluded.deliveries, confirmed = excluded.confirmed,
            interventions = excluded.interventions, closed_on = excluded.closed_on,
            outcome = excluded.outcome, unspent_rp = excluded.unspent_rp, version = excluded.version,
            shortfall_rp = excluded.shortfall_rp
        where plans_view.version < excluded.version
        """,
        plan.plan_id,
        plan.family_id,
        plan.kelurahan_code,
        plan.status,
        plan.window.first,
        plan.window.last,
        plan.days,
        plan.daily_minimum_rp,
        plan.budget_rp,
        plan.delivered_rp,
        plan.days_covered,
        gaps,
        len(plan.deliveries),
        len(plan.confirmed),
        plan.interventions,
        plan.opened_on,
        plan.closed_on,
        plan.outcome,
        plan.remaining_rp if plan.outcome else None,
        plan.version,
        plan.shortfall_rp,
        plan.distribution_daily_rp,
        plan.distributed_rp,
    )


async def project(conn: asyncpg.Connection, fact: Fact) -> None:
    """The row a fact adds or changes, besides the plan's own; idempotent (replays, retries)."""
    event, private = fact.event, fact.private
    match event:
        case AidDelivered():
            recorded_by = private.recorded_by if isinstance(private, DeliveryNote) else None
            await _insert_once(conn, "deliveries_view", event, recorded_by=recorded_by)
        case DeliveryConfirmed():
            photo = private if isinstance(private, ConfirmationNote) else None
            await conn.execute(
                "update deliveries_view set confirmed_on = $2, confirmed_by = $3, photo_ref = $4, photo_id = $5"
                " where delivery_id = $1",
                event.delivery_id,
                event.confirmed_on,
                event.confirmed_by,
                photo.photo_ref if photo else None,
                event.photo_id,
            )
        case InterventionRecorded():
            note = private if isinstance(private, InterventionNote) else None
            await _insert_once(conn, "interventions_view", event, note, exclude=frozenset({"funded_by"}))
        case EducationSessionHeld():
            held = private if isinstance(private, SessionNote) else None
            await _insert_once(conn, "education_sessions_view", event, held)
        case _:
            pass  # the plan row carries everything else


async def project_visit(conn: asyncpg.Connection, fact: Fact) -> None:
    """The home_visits_view row a fact adds or changes."""
    match fact.event:
        case HomeVisitFlagged() as e:
            await _insert_once(conn, "home_visits_view", e, status="open")
        case HomeVisitDone() as e:
            note = fact.private if isinstance(fact.private, VisitNote) else None
            await conn.execute(
                "update home_visits_view set status = 'visited', visited_on = $2, note = $3, visited_by = $4"
                " where flag_id = $1",
                e.flag_id,
                e.visited_on,
                note.note if note else None,
                note.recorded_by if note else None,
            )
        case _:
            pass
