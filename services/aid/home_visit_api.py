"""Aid's HTTP for home visits: the children flagged for no weight gain, and the visits done."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from services.aid.domain.home_visit import MAX_NOTE, HomeVisitNotFound, RecordVisit, decide
from services.aid.home_visits import HomeVisitRepository, visit_body
from shared.auth import Principal
from shared.errors import Forbidden
from shared.eventstore import Metadata
from shared.http import authenticate, correlation_id, run_command

router = APIRouter(tags=["home visits"])
Caller = Annotated[Principal, Depends(authenticate)]
# Children's health, even pseudonymous: admin and the kelurahan's own staff only.
STAFF = ("admin", "lurah", "kader")


class VisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visited_on: date
    note: StrictStr | None = Field(None, max_length=MAX_NOTE, description="stays in aid, never published")


def _kelurahan_of(principal: Principal, kelurahan_code: str | None) -> str | None:
    """A lurah or kader lists their own kelurahan (the default); an admin any, or all."""
    principal.require(*STAFF)
    if principal.role == "admin":
        return kelurahan_code
    code = kelurahan_code or principal.kelurahan
    if code is None or not principal.acts_in(code):
        raise Forbidden(f"a {principal.role} sees home visits only in kelurahan {principal.kelurahan}")
    return code


@router.get("/home-visits", summary="Children flagged for a home visit (no weight gain in two months)")
async def list_home_visits(
    request: Request,
    principal: Caller,
    kelurahan_code: str | None = None,
    status: Literal["open", "visited"] | None = None,
    family_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    code = _kelurahan_of(principal, kelurahan_code)
    pool: asyncpg.Pool = request.app.state.pool
    where = (
        "($1::text is null or kelurahan_code = $1) and ($2::text is null or status = $2)"
        " and ($3::uuid is null or family_id = $3)"
    )
    args = (code, status, family_id)
    total = await pool.fetchval(f"select count(*) from home_visits_view where {where}", *args)
    rows = await pool.fetch(
        f"select * from home_visits_view where {where} order by flagged_on, flag_id limit $4 offset $5",
        *args,
        limit,
        offset,
    )
    return {"items": [visit_body(r) for r in rows], "total": total, "limit": limit, "offset": offset}


@router.post("/home-visits/{flag_id}/visit", summary="Record that the flagged child's home was visited")
async def record_visit(flag_id: UUID, body: VisitIn, request: Request, principal: Caller) -> JSONResponse:
    principal.require(*STAFF)
    visits: HomeVisitRepository = request.app.state.visits
    command = RecordVisit(
        flag_id=flag_id,
        visited_on=body.visited_on,
        note=body.note,
        today=request.app.state.clock(),
        recorded_by=principal.sub,
    )
    meta = Metadata(occurred_at=datetime.now(UTC), correlation_id=correlation_id(request), causation_id=uuid4())

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        state = await visits.load(conn, flag_id)
        if state.status == "none":
            raise HomeVisitNotFound(flag_id)
        if not principal.acts_in(state.kelurahan_code):
            raise Forbidden(f"a {principal.role} acts only in kelurahan {principal.kelurahan}")
        after = await visits.save(conn, state, decide(state, command), meta)
        return 200, {
            "flag_id": str(flag_id),
            "status": after.status,
            "visited_on": after.visited_on.isoformat() if after.visited_on else None,
        }

    return await run_command(request, principal, execute)
