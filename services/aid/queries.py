"""Aid's read side: the SELECTs behind the GET routes, each returning plain dicts. Pseudonymous:
family and member ids, kelurahan codes, money and days; the private parts (descriptions,
facilitators, visit notes) only where the caller's `may_see_private` allows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from services.aid.domain import PlanNotFound
from shared.reads import Listing, page


async def get_plan(pool: asyncpg.Pool, plan_id: UUID, may_see_private: Callable[[str], bool]) -> dict[str, Any]:
    row = await pool.fetchrow("select * from plans_view where plan_id = $1", plan_id)
    if row is None:
        raise PlanNotFound(plan_id)
    deliveries = await pool.fetch(
        "select d.*, array(select p.photo_id from delivery_photos p where p.delivery_id = d.delivery_id"
        " order by p.uploaded_at) as photos from deliveries_view d where plan_id = $1 order by period_from",
        plan_id,
    )
    interventions = await pool.fetch(
        "select * from interventions_view where plan_id = $1 order by done_on, intervention_id", plan_id
    )
    private = may_see_private(row["kelurahan_code"])
    return {
        **plan_body(row),
        "deliveries": [delivery_body(d, private) for d in deliveries],
        "interventions": [intervention_body(i, private) for i in interventions],
    }


async def list_sessions(
    pool: asyncpg.Pool,
    *,
    kelurahan_code: str | None,
    family_id: UUID | None,
    limit: int,
    offset: int,
    may_see_private: Callable[[str], bool],
) -> dict[str, Any]:
    filters = {"kelurahan_code = $": kelurahan_code, "$ = any(family_ids)": family_id}
    found = await page(
        pool, "education_sessions_view", filters, order_by="held_on, session_id", limit=limit, offset=offset
    )
    return found.answer([session_body(r, may_see_private(r["kelurahan_code"])) for r in found.rows])


# -- rendering ----------------------------------------------------------------------------


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
        "distribution_daily_rp": r["distribution_daily_rp"],
        "budget_rp": r["budget_rp"],
        "delivered_rp": r["delivered_rp"],
        "distribution_rp": r["distributed_rp"],
        "remaining_rp": r["budget_rp"] - r["delivered_rp"] - r["distributed_rp"],
        "shortfall_rp": r["shortfall_rp"],
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


def delivery_body(r: asyncpg.Record, show_private: bool) -> dict[str, Any]:
    return {
        "delivery_id": str(r["delivery_id"]),
        "plan_id": str(r["plan_id"]),
        "period_from": _iso(r["period_from"]),
        "period_to": _iso(r["period_to"]),
        "days": r["days"],
        "value_rp": r["value_rp"],
        "distribution_rp": r["distribution_rp"],
        "items": list(r["items"]),
        "delivered_on": _iso(r["delivered_on"]),
        "recorded_by": r["recorded_by"],
        "confirmed": r["confirmed_on"] is not None,
        "confirmed_on": _iso(r["confirmed_on"]),
        "confirmed_by": r["confirmed_by"],
        "photo_id": str(r["photo_id"]) if r["photo_id"] else None,
        "photos": [str(p) for p in r.get("photos") or ()],
        **({"photo_ref": r["photo_ref"]} if show_private else {}),
    }


def intervention_body(r: asyncpg.Record, show_private: bool) -> dict[str, Any]:
    return {
        "intervention_id": str(r["intervention_id"]),
        "kind": r["kind"],
        "done_on": _iso(r["done_on"]),
        "value_rp": r["value_rp"],
        "funded_by": "in_kind",
        "source_donor_id": str(r["source_donor_id"]) if r["source_donor_id"] else None,
        "source_organisation": r["source_organisation"],
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


# -- listings (after the renderers they use) ------------------------------------------------

list_plans = Listing("plans_view", "opened_on, plan_id", plan_body)
# Each column as it is: pseudonymous (ids, the kelurahan, days, weights) but for the visit's note,
# which only the staff who may list home visits see (home_visit_api). A private column added to
# the view would be answered too: render it here, then.
list_home_visits = Listing("home_visits_view", "flagged_on, flag_id")
