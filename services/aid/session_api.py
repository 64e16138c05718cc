"""Aid's HTTP for education sessions: record one (staff of that kelurahan), list them."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictStr

from services.aid import queries
from services.aid.api import (
    READERS,
    KelurahanFilter,
    Limit,
    Offset,
    handlers,
    may_see_private,
)
from services.aid.domain import MAX_FACILITATOR, MAX_FAMILIES
from shared.contracts.aid import EducationSessionHeld, EducationTopic
from shared.deps import Caller, meta, today
from shared.http import StrictBody, problem_responses, run_command

router = APIRouter(tags=["aid"])


class SessionIn(StrictBody):
    topic: EducationTopic
    held_on: date | None = Field(
        None,
        description=(
            "the day the session was held (effective date); default today in the city. Not in the"
            " future nor before the programme's start; the families must have been enrolled (and not"
            " exited) on that day. Else 422"
        ),
    )
    kelurahan_code: StrictStr = Field(pattern=r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$", examples=["33.75.01.1002"])
    family_ids: list[UUID] = Field(min_length=1, max_length=MAX_FAMILIES)
    facilitator: StrictStr = Field(min_length=1, max_length=MAX_FACILITATOR, description="stays in aid")


class SessionRecorded(BaseModel):
    session_id: UUID
    families: int


class SessionOut(EducationSessionHeld):
    # The session as aid published it, and what stays in aid.
    facilitator: str | None = Field(None, description="admin and the kelurahan's own staff only")
    recorded_by: str | None = Field(None, description="admin and the kelurahan's own staff only")


class SessionPage(BaseModel):
    items: list[SessionOut]
    total: int
    limit: int
    offset: int


@router.post(
    "/education-sessions",
    status_code=201,
    summary="Record an education session",
    response_model=SessionRecorded,
    responses=problem_responses(400, 401, 403, 409, 413, 422),
)
async def hold_session(body: SessionIn, request: Request, principal: Caller) -> JSONResponse:
    session_id, day = uuid4(), today(request)

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        after = await handlers(request).hold_session(
            conn,
            session_id=session_id,
            topic=body.topic,
            held_on=body.held_on or day,
            kelurahan_code=body.kelurahan_code,
            family_ids=body.family_ids,
            facilitator=body.facilitator,
            today=day,
            actor=principal,
            meta=meta(request),
        )
        return 201, {"session_id": str(session_id), "families": len(after.family_ids)}

    return await run_command(request, principal, execute)


@router.get(
    "/education-sessions",
    summary="Education sessions by kelurahan",
    response_model=SessionPage,
    response_model_exclude_unset=True,
    responses=problem_responses(401, 403, 422),
)
async def list_sessions(
    request: Request,
    principal: Caller,
    kelurahan_code: KelurahanFilter = None,
    family_id: UUID | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    principal.require(*READERS)
    return await queries.list_sessions(
        request.app.state.pool,
        kelurahan_code=kelurahan_code,
        family_id=family_id,
        limit=limit,
        offset=offset,
        may_see_private=may_see_private(principal),
    )
