"""Aid's inline read model: plans_view, deliveries_view, interventions_view and
education_sessions_view (home_visits_view: `home_visits`), written in the transaction that
records the facts, and rendered for GETs."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from services.aid.domain.facts import DeliveryNote, Fact, InterventionNote, SessionNote
from services.aid.domain.plan_model import Plan
from shared.contracts.aid import AidDelivered, DeliveryConfirmed, EducationSessionHeld, InterventionRecorded

VIEWS = ("plans_view", "deliveries_view", "interventions_view", "education_sessions_view", "home_visits_view")


async def write_plan(conn: asyncpg.Connection, plan: Plan) -> None:
    assert plan.window is not None and plan.opened_on is not None
    gaps = [{"from": g.first.isoformat(), "to": g.last.isoformat()} for g in plan.gaps]
    await conn.execute(
        """
        insert into plans_view (plan_id, family_id, kelurahan_code, status, start_date, end_date, days,
            daily_minimum_rp, budget_rp, delivered_rp, days_covered, gaps, deliveries, confirmed,
            interventions, opened_on, closed_on, outcome, unspent_rp, version)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
        on conflict (plan_id) do update set status = excluded.status, budget_rp = excluded.budget_rp,
            delivered_rp = excluded.delivered_rp, days_covered = excluded.days_covered, gaps = excluded.gaps,
            deliveries = excluded.deliveries, confirmed = excluded.confirmed,
            interventions = excluded.interventions, closed_on = excluded.closed_on,
            outcome = excluded.outcome, unspent_rp = excluded.unspent_rp, version = excluded.version
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
    )


async def project(conn: asyncpg.Connection, fact: Fact) -> None:
    """The row a fact adds or changes, besides the plan's own; idempotent (replays, retries)."""
    event, private = fact.event, fact.private
    match event:
        case AidDelivered():
            recorded_by = private.recorded_by if isinstance(private, DeliveryNote) else None
            await conn.execute(
                "insert into deliveries_view (delivery_id, plan_id, family_id, kelurahan_code, period_from,"
                " period_to, days, value_rp, items, delivered_on, recorded_by)"
                " values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) on conflict do nothing",
                event.delivery_id,
                event.plan_id,
                event.family_id,
                event.kelurahan_code,
                event.period_from,
                event.period_to,
                event.days,
                event.value_rp,
                [i.model_dump() for i in event.items],
                event.delivered_on,
                recorded_by,
            )
        case DeliveryConfirmed():
            await conn.execute(
                "update deliveries_view set confirmed_on = $2, confirmed_by = $3, photo_ref = $4"
                " where delivery_id = $1",
                event.delivery_id,
                event.confirmed_on,
                event.confirmed_by,
                event.photo_ref,
            )
        case InterventionRecorded():
            note = private if isinstance(private, InterventionNote) else None
            await conn.execute(
                "insert into interventions_view (intervention_id, plan_id, family_id, kelurahan_code, kind,"
                " description, done_on, value_rp, recorded_by) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                " on conflict do nothing",
                event.intervention_id,
                event.plan_id,
                event.family_id,
                event.kelurahan_code,
                event.kind,
                note.description if note else None,
                event.done_on,
                event.value_rp,
                note.recorded_by if note else None,
            )
        case EducationSessionHeld():
            held = private if isinstance(private, SessionNote) else None
            await conn.execute(
                "insert into education_sessions_view (session_id, topic, held_on, kelurahan_code, family_ids,"
                " families, facilitator, recorded_by) values ($1, $2, $3, $4, $5, $6, $7, $8)"
                " on conflict do nothing",
                event.session_id,
                event.topic,
                event.held_on,
                event.kelurahan_code,
                event.family_ids,
                event.families,
                held.facilitator if held else None,
                held.recorded_by if held else None,
            )
        case _:
            pass  # the plan row carries everything else


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def plan_body(r: asyncpg.Record) -> dict[str, Any]:
    return {
        "plan_id": str(r["plan_id"]),
        "family_id": str(r["family_id"]),
        "kelurahan_code": r["kelurahan_code"],
        "status": r["status"],
        "start_date": _iso(r["start_date"]),
        "end_date": _iso(r["end_date"]),
        "days": r["days"],
        "daily_minimum_rp": r["daily_minimum_rp"],
        "budget_rp": r["budget_rp"],
        "delivered_rp": r["delivered_rp"],
        "remaining_rp": r["budget_rp"] - r["delivered_rp"],
        "days_covered": r["days_covered"],
        "gaps": list(r["gaps"]),
        "deliveries_count": r["deliveries"],
        "confirmed_count": r["confirmed"],
        "interventions_count": r["interventions"],
        "opened_on": _iso(r["opened_on"]),
        "closed_on": _iso(r["closed_on"]),
        "outcome": r["outcome"],
        "unspent_rp": r["unspent_rp"],
        "version": r["version"],
    }


def delivery_body(r: asyncpg.Record) -> dict[str, Any]:
    return {
        "delivery_id": str(r["delivery_id"]),
        "plan_id": str(r["plan_id"]),
        "period_from": _iso(r["period_from"]),
        "period_to": _iso(r["period_to"]),
        "days": r["days"],
        "value_rp": r["value_rp"],
        "items": list(r["items"]),
        "delivered_on": _iso(r["delivered_on"]),
        "recorded_by": r["recorded_by"],
        "confirmed": r["confirmed_on"] is not None,
        "confirmed_on": _iso(r["confirmed_on"]),
        "confirmed_by": r["confirmed_by"],
        "photo_ref": r["photo_ref"],
    }


def intervention_body(r: asyncpg.Record, show_private: bool) -> dict[str, Any]:
    return {
        "intervention_id": str(r["intervention_id"]),
        "kind": r["kind"],
        "done_on": _iso(r["done_on"]),
        "value_rp": r["value_rp"],
        **({"description": r["description"], "recorded_by": r["recorded_by"]} if show_private else {}),
    }


def session_body(r: asyncpg.Record, show_private: bool) -> dict[str, Any]:
    return {
        "session_id": str(r["session_id"]),
        "topic": r["topic"],
        "held_on": _iso(r["held_on"]),
        "kelurahan_code": r["kelurahan_code"],
        "family_ids": [str(f) for f in r["family_ids"]],
        "families": r["families"],
        **({"facilitator": r["facilitator"], "recorded_by": r["recorded_by"]} if show_private else {}),
    }
