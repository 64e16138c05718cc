"""Aid's HTTP queries: plans with their coverage, deliveries and interventions; sessions."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, Query, Request

from services.aid.domain.plan_model import PlanNotFound
from services.aid.read_model import delivery_body, intervention_body, plan_body, session_body
from shared.auth import Principal
from shared.http import authenticate

router = APIRouter(tags=["aid"])
Caller = Annotated[Principal, Depends(authenticate)]
# Plans are de-identified (pseudonymous family ids, money, days). Donors see their families
# through funding, not here.
READERS = ("admin", "lurah", "kader", "auditor", "agency")


def _may_see_private(principal: Principal, kelurahan_code: str) -> bool:
    """Descriptions and facilitators' names: admin and that kelurahan's own staff only."""
    return principal.role in ("admin", "lurah", "kader") and principal.acts_in(kelurahan_code)


@router.get("/plans", summary="Aid plans by family, kelurahan or status")
async def list_plans(
    request: Request,
    principal: Caller,
    family_id: UUID | None = None,
    kelurahan_code: str | None = None,
    status: Literal["active", "completed", "incomplete", "closed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    principal.require(*READERS)
    pool: asyncpg.Pool = request.app.state.pool
    where = (
        "($1::uuid is null or family_id = $1) and ($2::text is null or kelurahan_code = $2)"
        " and ($3::text is null or status = $3)"
    )
    args = (family_id, kelurahan_code, status)
    total = await pool.fetchval(f"select count(*) from plans_view where {where}", *args)
    rows = await pool.fetch(
        f"select * from plans_view where {where} order by opened_on, plan_id limit $4 offset $5",
        *args,
        limit,
        offset,
    )
    return {"items": [plan_body(r) for r in rows], "total": total, "limit": limit, "offset": offset}


@router.get("/plans/{plan_id}", summary="One plan with its deliveries and interventions")
async def get_plan(plan_id: UUID, request: Request, principal: Caller) -> dict[str, Any]:
    principal.require(*READERS)
    pool: asyncpg.Pool = request.app.state.pool
    row = await pool.fetchrow("select * from plans_view where plan_id = $1", plan_id)
    if row is None:
        raise PlanNotFound(plan_id)
    deliveries = await pool.fetch("select * from deliveries_view where plan_id = $1 order by period_from", plan_id)
    interventions = await pool.fetch(
        "select * from interventions_view where plan_id = $1 order by done_on, intervention_id", plan_id
    )
    private = _may_see_private(principal, row["kelurahan_code"])
    return {
        **plan_body(row),
        "deliveries": [delivery_body(d) for d in deliveries],
        "interventions": [intervention_body(i, private) for i in interventions],
    }


@router.get("/education-sessions", summary="Education sessions by kelurahan")
async def list_sessions(
    request: Request,
    principal: Caller,
    kelurahan_code: str | None = None,
    family_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    principal.require(*READERS)
    pool: asyncpg.Pool = request.app.state.pool
    where = "($1::text is null or kelurahan_code = $1) and ($2::uuid is null or $2 = any(family_ids))"
    total = await pool.fetchval(
        f"select count(*) from education_sessions_view where {where}", kelurahan_code, family_id
    )
    rows = await pool.fetch(
        f"select * from education_sessions_view where {where} order by held_on, session_id limit $3 offset $4",
        kelurahan_code,
        family_id,
        limit,
        offset,
    )
    items = [session_body(r, _may_see_private(principal, r["kelurahan_code"])) for r in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}
