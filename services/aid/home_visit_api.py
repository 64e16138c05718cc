"""Aid's HTTP for home visits: the children flagged for no weight gain, and the visits done."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictStr

from services.aid import queries
from services.aid.api import KelurahanFilter, Limit, Offset, handlers
from services.aid.domain import MAX_NOTE, RecordVisit
from services.aid.handlers import STAFF
from shared.auth import Principal
from shared.deps import Caller, meta, today
from shared.errors import Forbidden
from shared.http import StrictBody, problem_responses, run_command

router = APIRouter(tags=["home visits"])
# Children's health, even pseudonymous: admin and the kelurahan's own staff only (STAFF).

VisitStatus = Literal["open", "visited"]


class VisitIn(StrictBody):
    visited_on: date | None = Field(
        None,
        description=(
            "the day of the visit (effective date); default today in the city. Not in the future, not"
            " before the programme's start nor the day the child was flagged: else 422"
        ),
    )
    note: StrictStr | None = Field(
        None,
        max_length=MAX_NOTE,
        description="stays in aid, sealed under the family's key, never published; erased with the family",
    )


class VisitRecorded(BaseModel):
    flag_id: UUID
    status: VisitStatus
    visited_on: date | None


class HomeVisitOut(BaseModel):
    flag_id: UUID
    plan_id: UUID | None
    family_id: UUID
    member_id: UUID
    kelurahan_code: str
    flagged_on: date
    since: date
    weight_then_kg: float
    weight_now_kg: float
    status: VisitStatus
    visited_on: date | None
    note: str | None
    visited_by: str | None


class HomeVisitPage(BaseModel):
    items: list[HomeVisitOut]
    total: int
    limit: int
    offset: int


def _kelurahan_of(principal: Principal, kelurahan_code: str | None) -> str | None:
    """A lurah or kader lists their own kelurahan (the default); an admin any, or all."""
    principal.require(*STAFF)
    if principal.role == "admin":
        return kelurahan_code
    code = kelurahan_code or principal.kelurahan
    if code is None or not principal.acts_in(code):
        raise Forbidden(f"a {principal.role} sees home visits only in kelurahan {principal.kelurahan}")
    return code


@router.get(
    "/home-visits",
    summary="Children flagged for a home visit (no weight gain in two months)",
    response_model=HomeVisitPage,
    responses=problem_responses(401, 403, 422),
)
async def list_home_visits(
    request: Request,
    principal: Caller,
    kelurahan_code: KelurahanFilter = None,
    status: VisitStatus | None = None,
    family_id: UUID | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    return await queries.list_home_visits(
        request.app.state.pool,
        kelurahan_code=_kelurahan_of(principal, kelurahan_code),
        status=status,
        family_id=family_id,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/home-visits/{flag_id}/visit",
    summary="Record that the flagged child's home was visited",
    response_model=VisitRecorded,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
)
async def record_visit(flag_id: UUID, body: VisitIn, request: Request, principal: Caller) -> JSONResponse:
    command = RecordVisit(
        flag_id=flag_id,
        visited_on=body.visited_on or today(request),
        note=body.note,
        today=today(request),
        recorded_by=principal.sub,
    )
    command_meta = meta(request)

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        after = await handlers(request).record_visit(conn, command, principal, command_meta)
        return 200, {
            "flag_id": str(flag_id),
            "status": after.status,
            "visited_on": after.visited_on.isoformat() if after.visited_on else None,
        }

    return await run_command(request, principal, execute)
