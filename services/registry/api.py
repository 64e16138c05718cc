"""The registry's HTTP API (CONTRACT.md, Registry): thin routes — a body becomes a command, the
handler runs it in `run_command`'s transaction, the result becomes the response."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from services.registry import queries
from services.registry.bodies import MemberIn, RegisterFamilyIn, new_member, registration
from services.registry.domain import AddMember, ErasePersonalData, ExitFamily, RecordGrowth, VerifyFamily
from services.registry.handlers import Handlers
from shared.auth import Principal
from shared.contracts.registry import Position
from shared.errors import NotFound
from shared.eventstore import Metadata
from shared.http import authenticate, correlation_id, problem_responses, run_command

router = APIRouter(tags=["registry"])

Caller = Annotated[Principal, Depends(authenticate)]
# Free text in a query: no NUL or other control characters (PostgreSQL text cannot hold NUL).
PlainText = Annotated[str, Query(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")]
MAX_OFFSET = 1_000_000

# The problems each kind of route can answer with (400: a JSON body that does not parse; 409: a
# conflict with the family's state, a KK/NIK already active elsewhere, or writers colliding more
# often than run_command retries).
COMMAND_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 413, 422)
READ_PROBLEMS = problem_responses(401, 403, 404, 422)


class VerificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    note: StrictStr | None = Field(None, max_length=2000)


class GrowthMeasurementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: UUID = Field(description="a child under five of this family")
    measured_on: date
    weight_kg: Annotated[float, Field(allow_inf_nan=False, examples=[8.9])]
    length_cm: Annotated[float, Field(allow_inf_nan=False, examples=[72.5])]
    position: Position | None = Field(
        None, description="recumbent | standing; default WHO's: recumbent under 24 months, standing from 24"
    )


class ExitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: StrictStr = Field(
        description="graduated | moved_away | aged_out | deceased | duplicate | consent_withdrawn"
    )


# -- responses (what the routes answer with, for the OpenAPI document) ------------------------


class FamilyStatusOut(BaseModel):
    family_id: UUID
    status: str
    version: int


class MemberAddedOut(BaseModel):
    family_id: UUID
    member_id: UUID
    version: int


class GrowthMeasuredOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    family_id: UUID
    measurement_id: UUID
    member_id: UUID
    measured_on: date
    age_months: int
    weight_kg: float
    length_cm: float
    position: Position
    haz: float
    waz: float | None
    stunted: bool
    severely_stunted: bool
    version: int


class ErasedOut(BaseModel):
    family_id: UUID
    personal_data: Literal["erased"]
    version: int


class FamilyOut(BaseModel):
    """A family as `families_view` holds it; the personal fields (kk_number, head_name, address,
    and each member's name, nik, birth_date) only for admin and its kelurahan's lurah and kader."""

    model_config = ConfigDict(extra="allow")

    family_id: UUID
    status: str
    version: int
    kelurahan_code: str
    kelurahan: str | None
    kecamatan_code: str
    kecamatan: str | None
    member_counts: dict[str, int]
    risk_factors: list[str]
    registered_on: date
    enrolled_on: date | None
    exited_on: date | None
    exit_reason: str | None
    personal_data_erased: bool
    members: list[dict[str, Any]]


class FamilyPage(BaseModel):
    items: list[FamilyOut]
    total: int
    limit: int
    offset: int


# -- plumbing ---------------------------------------------------------------------------------


def _today(request: Request) -> date:
    today: date = request.app.state.clock()
    return today


def _meta(request: Request) -> Metadata:
    return Metadata(occurred_at=datetime.now(UTC), correlation_id=correlation_id(request), causation_id=uuid4())


def _handlers(request: Request) -> Handlers:
    handlers: Handlers = request.app.state.handlers
    return handlers


# -- commands ---------------------------------------------------------------------------------


@router.post(
    "/families",
    status_code=201,
    summary="Register a family at risk of stunting",
    response_model=FamilyStatusOut,
    responses=problem_responses(400, 401, 403, 409, 413, 422),
)
async def register_family(body: RegisterFamilyIn, request: Request, principal: Caller) -> JSONResponse:
    command = registration(body, uuid4(), _today(request), principal.sub)

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        family = await _handlers(request).register_family(conn, command, principal, _meta(request))
        return 201, {"family_id": str(family.family_id), "status": family.status, "version": family.version}

    return await run_command(request, principal, execute)


@router.post(
    "/families/{family_id}/members",
    status_code=201,
    summary="Add a member (a newborn, say)",
    response_model=MemberAddedOut,
    responses=COMMAND_PROBLEMS,
)
async def add_member(family_id: UUID, body: MemberIn, request: Request, principal: Caller) -> JSONResponse:
    member = new_member(body, uuid4())
    command = AddMember(family_id=family_id, today=_today(request), added_by=principal.sub, member=member)

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        family = await _handlers(request).add_member(conn, command, principal, _meta(request))
        return 201, {"family_id": str(family_id), "member_id": str(member.member_id), "version": family.version}

    return await run_command(request, principal, execute)


@router.post(
    "/families/{family_id}/verification",
    summary="The lurah approves (enrols) or rejects",
    response_model=FamilyStatusOut,
    responses=COMMAND_PROBLEMS,
)
async def verify_family(family_id: UUID, body: VerificationIn, request: Request, principal: Caller) -> JSONResponse:
    command = VerifyFamily(
        family_id=family_id, today=_today(request), decided_by=principal.sub, decision=body.decision, note=body.note
    )

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        family = await _handlers(request).verify_family(conn, command, principal, _meta(request))
        return 200, {"family_id": str(family_id), "status": family.status, "version": family.version}

    return await run_command(request, principal, execute)


@router.post(
    "/families/{family_id}/exit",
    summary="A family leaves the programme",
    response_model=FamilyStatusOut,
    responses=COMMAND_PROBLEMS,
)
async def exit_family(family_id: UUID, body: ExitIn, request: Request, principal: Caller) -> JSONResponse:
    command = ExitFamily(family_id=family_id, today=_today(request), exited_by=principal.sub, reason=body.reason)

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        family = await _handlers(request).exit_family(conn, command, principal, _meta(request))
        return 200, {"family_id": str(family_id), "status": family.status, "version": family.version}

    return await run_command(request, principal, execute)


@router.post(
    "/families/{family_id}/growth-measurements",
    status_code=201,
    summary="Weigh and measure a child: WHO 2006 length/height-for-age z-score (haz) and stunting",
    response_model=GrowthMeasuredOut,
    responses=COMMAND_PROBLEMS,
)
async def record_growth(
    family_id: UUID, body: GrowthMeasurementIn, request: Request, principal: Caller
) -> JSONResponse:
    command = RecordGrowth(
        family_id=family_id,
        today=_today(request),
        measured_by=principal.sub,
        measurement_id=uuid4(),
        member_id=body.member_id,
        measured_on=body.measured_on,
        weight_kg=body.weight_kg,
        length_cm=body.length_cm,
        position=body.position,
    )

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        family, measured = await _handlers(request).record_growth(conn, command, principal, _meta(request))
        body = measured.model_dump(mode="json", exclude={"kelurahan_code", "measured_by"})
        return 201, {**body, "version": family.version}

    return await run_command(request, principal, execute)


@router.delete(
    "/families/{family_id}/personal-data",
    summary="Erase personal data (crypto-shredding)",
    response_model=ErasedOut,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def erase_personal_data(family_id: UUID, request: Request, principal: Caller) -> JSONResponse:
    principal.require("admin")
    command = ErasePersonalData(family_id=family_id, today=_today(request), erased_by=principal.sub)

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        family = await _handlers(request).erase_personal_data(conn, command, principal, _meta(request))
        return 200, {"family_id": str(family_id), "personal_data": "erased", "version": family.version}

    return await run_command(request, principal, execute)


# -- queries ----------------------------------------------------------------------------------


def _may_see_personal(principal: Principal, kelurahan_code: str) -> bool:
    return principal.role in ("admin", "lurah", "kader") and principal.acts_in(kelurahan_code)


_READERS = ("admin", "lurah", "kader", "auditor", "agency")


@router.get(
    "/families/{family_id}",
    summary="One family; personal fields for admin and its lurah/kader",
    response_model=None,  # the rendered dict as it is; the schema below documents it
    responses={200: {"model": FamilyOut, "description": "The family"}, **READ_PROBLEMS},
)
async def get_family(family_id: UUID, request: Request, principal: Caller) -> dict[str, Any]:
    principal.require(*_READERS)
    pool = request.app.state.pool
    row = await queries.family_row(pool, family_id)
    if row is None:
        raise NotFound(f"family {family_id} is not registered")
    visible = {family_id: _may_see_personal(principal, row["kelurahan_code"])}
    views = await queries.family_views(pool, request.app.state.registry.keys, [row], visible)
    return views[0]


@router.get(
    "/families",
    summary="Families by kelurahan and status",
    response_model=None,
    responses={200: {"model": FamilyPage, "description": "One page of families"}, **problem_responses(401, 403, 422)},
)
async def list_families(
    request: Request,
    principal: Caller,
    kelurahan_code: PlainText | None = None,
    status: Literal["registered", "enrolled", "rejected", "exited"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    principal.require(*_READERS)
    pool = request.app.state.pool
    total, rows = await queries.family_rows(pool, kelurahan_code, status, limit, offset)
    visible = {r["family_id"]: _may_see_personal(principal, r["kelurahan_code"]) for r in rows}
    items = await queries.family_views(pool, request.app.state.registry.keys, rows, visible)
    return {"items": items, "total": total, "limit": limit, "offset": offset}
