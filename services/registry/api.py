"""The registry's HTTP API (CONTRACT.md, Registry): commands in, queries out."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import asyncpg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from services.registry.bodies import MemberIn, RegisterFamilyIn, new_member, registration
from services.registry.domain import (
    AddMember,
    Command,
    ErasePersonalData,
    ExitFamily,
    Family,
    PersonalDataAlreadyErased,
    RecordGrowth,
    VerifyFamily,
    decide,
)
from services.registry.read_model import family_views
from services.registry.repository import FamilyRepository
from shared.auth import Principal
from shared.contracts.registry import Position
from shared.errors import Forbidden, NotFound
from shared.eventstore import Metadata
from shared.http import authenticate, correlation_id, run_command

router = APIRouter(tags=["registry"])
WIB = ZoneInfo("Asia/Jakarta")  # the programme's calendar day is Pekalongan's

Caller = Annotated[Principal, Depends(authenticate)]


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


def _today(request: Request) -> date:
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock else datetime.now(WIB).date()


def _meta(request: Request) -> Metadata:
    return Metadata(occurred_at=datetime.now(UTC), correlation_id=correlation_id(request), causation_id=uuid4())


def _repo(request: Request) -> FamilyRepository:
    repo: FamilyRepository = request.app.state.repository
    return repo


def _require_acts_in(principal: Principal, kelurahan_code: str, *roles: str) -> None:
    principal.require(*roles)
    if not principal.acts_in(kelurahan_code):
        raise Forbidden(f"a {principal.role} acts only in kelurahan {principal.kelurahan}")


async def _handle(
    request: Request, conn: asyncpg.Connection, state: Family, command: Command, prefix: str = "members"
) -> Family:
    facts = decide(state, command)
    after, _ = await _repo(request).save(conn, state, facts, _meta(request), field_prefix=prefix)
    return after


async def _existing(request: Request, conn: asyncpg.Connection, family_id: UUID) -> Family:
    state = await _repo(request).load(conn, family_id)
    if state.family_id is None:
        raise NotFound(f"family {family_id} is not registered")
    return state


@router.post("/families", status_code=201, summary="Register a family at risk of stunting")
async def register_family(body: RegisterFamilyIn, request: Request, principal: Caller) -> JSONResponse:
    _require_acts_in(principal, body.kelurahan_code, "admin", "lurah", "kader")
    command = registration(body, uuid4(), _today(request), principal.sub)

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        after = await _handle(request, conn, Family(), command)  # a fresh id: nothing to load
        return 201, {"family_id": str(after.family_id), "status": after.status, "version": after.version}

    return await run_command(request, principal, execute)


@router.post("/families/{family_id}/members", status_code=201, summary="Add a member (a newborn, say)")
async def add_member(family_id: UUID, body: MemberIn, request: Request, principal: Caller) -> JSONResponse:
    member = new_member(body, uuid4())

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        state = await _existing(request, conn, family_id)
        _require_acts_in(principal, state.kelurahan_code, "admin", "lurah", "kader")
        command = AddMember(family_id=family_id, today=_today(request), added_by=principal.sub, member=member)
        after = await _handle(request, conn, state, command, prefix="member")
        return 201, {"family_id": str(family_id), "member_id": str(member.member_id), "version": after.version}

    return await run_command(request, principal, execute)


@router.post("/families/{family_id}/verification", summary="The lurah approves (enrols) or rejects")
async def verify_family(family_id: UUID, body: VerificationIn, request: Request, principal: Caller) -> JSONResponse:
    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        state = await _existing(request, conn, family_id)
        _require_acts_in(principal, state.kelurahan_code, "admin", "lurah")
        command = VerifyFamily(
            family_id=family_id, today=_today(request), decided_by=principal.sub, decision=body.decision, note=body.note
        )
        after = await _handle(request, conn, state, command)
        return 200, {"family_id": str(family_id), "status": after.status, "version": after.version}

    return await run_command(request, principal, execute)


@router.post("/families/{family_id}/exit", summary="A family leaves the programme")
async def exit_family(family_id: UUID, body: ExitIn, request: Request, principal: Caller) -> JSONResponse:
    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        state = await _existing(request, conn, family_id)
        _require_acts_in(principal, state.kelurahan_code, "admin", "lurah", "kader")
        command = ExitFamily(family_id=family_id, today=_today(request), exited_by=principal.sub, reason=body.reason)
        after = await _handle(request, conn, state, command)
        return 200, {"family_id": str(family_id), "status": after.status, "version": after.version}

    return await run_command(request, principal, execute)


@router.post(
    "/families/{family_id}/growth-measurements",
    status_code=201,
    summary="Weigh and measure a child: WHO 2006 length/height-for-age z-score (haz) and stunting",
)
async def record_growth(
    family_id: UUID, body: GrowthMeasurementIn, request: Request, principal: Caller
) -> JSONResponse:
    measurement_id = uuid4()

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        state = await _existing(request, conn, family_id)
        _require_acts_in(principal, state.kelurahan_code, "admin", "lurah", "kader")
        command = RecordGrowth(
            family_id=family_id,
            today=_today(request),
            measured_by=principal.sub,
            measurement_id=measurement_id,
            member_id=body.member_id,
            measured_on=body.measured_on,
            weight_kg=body.weight_kg,
            length_cm=body.length_cm,
            position=body.position,
        )
        facts = decide(state, command)
        after, _ = await _repo(request).save(conn, state, facts, _meta(request))
        measured = facts[0].event.model_dump(mode="json", exclude={"kelurahan_code", "measured_by"})
        return 201, {**measured, "version": after.version}

    return await run_command(request, principal, execute)


@router.delete("/families/{family_id}/personal-data", summary="Erase personal data (crypto-shredding)")
async def erase_personal_data(family_id: UUID, request: Request, principal: Caller) -> JSONResponse:
    principal.require("admin")

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        state = await _existing(request, conn, family_id)
        try:
            after = await _handle(
                request,
                conn,
                state,
                ErasePersonalData(family_id=family_id, today=_today(request), erased_by=principal.sub),
            )
        except PersonalDataAlreadyErased:  # DELETE is idempotent: erased is erased
            after = state
        return 200, {"family_id": str(family_id), "personal_data": "erased", "version": after.version}

    return await run_command(request, principal, execute)


def _may_see_personal(principal: Principal, kelurahan_code: str) -> bool:
    return principal.role in ("admin", "lurah", "kader") and principal.acts_in(kelurahan_code)


_READERS = ("admin", "lurah", "kader", "auditor", "agency")


@router.get("/families/{family_id}", summary="One family; personal fields for admin and its lurah/kader")
async def get_family(family_id: UUID, request: Request, principal: Caller) -> dict[str, Any]:
    principal.require(*_READERS)
    pool = request.app.state.pool
    row = await pool.fetchrow("select * from families_view where family_id = $1", family_id)
    if row is None:
        raise NotFound(f"family {family_id} is not registered")
    views = await family_views(
        pool, _repo(request).vault, [row], {family_id: _may_see_personal(principal, row["kelurahan_code"])}
    )
    return views[0]


@router.get("/families", summary="Families by kelurahan and status")
async def list_families(
    request: Request,
    principal: Caller,
    kelurahan_code: str | None = None,
    status: Literal["registered", "enrolled", "rejected", "exited"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    principal.require(*_READERS)
    pool = request.app.state.pool
    where = "($1::text is null or kelurahan_code = $1) and ($2::text is null or status = $2)"
    total = await pool.fetchval(f"select count(*) from families_view where {where}", kelurahan_code, status)
    rows = await pool.fetch(
        f"select * from families_view where {where} order by registered_on, family_id limit $3 offset $4",
        kelurahan_code,
        status,
        limit,
        offset,
    )
    visible = {r["family_id"]: _may_see_personal(principal, r["kelurahan_code"]) for r in rows}
    items = await family_views(pool, _repo(request).vault, list(rows), visible)
    return {"items": items, "total": total, "limit": limit, "offset": offset}
