"""Aid's HTTP commands (CONTRACT.md, Aid): deliveries, confirmations, interventions, sessions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from services.aid.domain.plan import decide
from services.aid.domain.plan_model import (
    MAX_DESCRIPTION,
    MAX_PHOTO_REF,
    ConfirmDelivery,
    DeliveryNotFound,
    PlanCommand,
    PlanNotFound,
    RecordDelivery,
    RecordIntervention,
)
from services.aid.domain.session import MAX_FACILITATOR, MAX_FAMILIES, HoldSession
from services.aid.repository import PlanRepository, SessionRepository
from shared.auth import Principal
from shared.contracts.aid import DeliveredItem, EducationTopic, InterventionKind
from shared.errors import Forbidden
from shared.eventstore import Metadata
from shared.http import authenticate, correlation_id, run_command

router = APIRouter(tags=["aid"])
Caller = Annotated[Principal, Depends(authenticate)]
STAFF = ("admin", "lurah", "kader")


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: StrictStr = Field(min_length=1, max_length=100, examples=["telur ayam"])
    quantity: Annotated[StrictFloat, Field(gt=0, examples=[30])]
    unit: StrictStr = Field(min_length=1, max_length=20, examples=["butir"])


class DeliveryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period_from: date = Field(description="first day the food covers")
    period_to: date = Field(description="last day the food covers (inclusive)")
    value_rp: StrictInt = Field(gt=0, description="integer rupiah; at least the daily minimum per day covered")
    items: list[ItemIn] = Field(min_length=1, max_length=50)
    delivered_on: date


class ConfirmationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    photo_ref: StrictStr | None = Field(
        None,
        max_length=MAX_PHOTO_REF,
        description="where the proof photo is kept (object key or URL)",
        examples=["s3://genting-proof/2025/03/d1.jpg"],
    )


class InterventionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: InterventionKind
    description: StrictStr = Field(min_length=1, max_length=MAX_DESCRIPTION, description="stays in aid")
    done_on: date
    value_rp: StrictInt = Field(ge=0)


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: EducationTopic
    held_on: date
    kelurahan_code: StrictStr = Field(pattern=r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$", examples=["33.75.01.1002"])
    family_ids: list[UUID] = Field(min_length=1, max_length=MAX_FAMILIES)
    facilitator: StrictStr = Field(min_length=1, max_length=MAX_FACILITATOR, description="stays in aid")


def _today(request: Request) -> date:
    today: date = request.app.state.clock()
    return today


def _meta(request: Request) -> Metadata:
    return Metadata(occurred_at=datetime.now(UTC), correlation_id=correlation_id(request), causation_id=uuid4())


def _plans(request: Request) -> PlanRepository:
    plans: PlanRepository = request.app.state.plans
    return plans


def _require_acts_in(principal: Principal, kelurahan_code: str, *roles: str) -> None:
    principal.require(*roles)
    if not principal.acts_in(kelurahan_code):
        raise Forbidden(f"a {principal.role} acts only in kelurahan {principal.kelurahan}")


async def _on_plan(
    request: Request,
    conn: asyncpg.Connection,
    plan_id: UUID,
    principal: Principal,
    roles: tuple[str, ...],
    command: PlanCommand,
) -> dict[str, Any]:
    """Load the plan (locked), check the caller acts in its kelurahan, decide, save."""
    plans = _plans(request)
    state = await plans.load(conn, plan_id, lock=True)
    if state.status == "none":
        raise PlanNotFound(plan_id)
    _require_acts_in(principal, state.kelurahan_code, *roles)
    after = await plans.save(conn, state, decide(state, command), _meta(request))
    return {
        "plan_id": str(plan_id),
        "plan_status": after.status,
        "days_covered": after.days_covered,
        "delivered_rp": after.delivered_rp,
        "remaining_rp": after.remaining_rp,
    }


@router.post("/plans/{plan_id}/deliveries", status_code=201, summary="Record a food delivery")
async def record_delivery(plan_id: UUID, body: DeliveryIn, request: Request, principal: Caller) -> JSONResponse:
    principal.require(*STAFF)
    command = RecordDelivery(
        plan_id=plan_id,
        delivery_id=uuid4(),
        period_from=body.period_from,
        period_to=body.period_to,
        value_rp=body.value_rp,
        items=tuple(DeliveredItem(**i.model_dump()) for i in body.items),
        delivered_on=body.delivered_on,
        today=_today(request),
        recorded_by=principal.sub,
    )

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        result = await _on_plan(request, conn, plan_id, principal, STAFF, command)
        return 201, {"delivery_id": str(command.delivery_id), **result}

    return await run_command(request, principal, execute)


@router.post("/deliveries/{delivery_id}/confirmation", summary="The lurah confirms the family received it")
async def confirm_delivery(
    delivery_id: UUID,
    request: Request,
    principal: Caller,
    body: Annotated[ConfirmationIn | None, Body()] = None,
) -> JSONResponse:
    principal.require("admin", "lurah")  # a kader delivers; only the lurah (or an admin) confirms
    photo_ref = body.photo_ref if body else None
    command_day = _today(request)

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        plan_id = await conn.fetchval("select plan_id from deliveries_view where delivery_id = $1", delivery_id)
        if plan_id is None:
            raise DeliveryNotFound(delivery_id)
        command = ConfirmDelivery(
            plan_id=plan_id, delivery_id=delivery_id, today=command_day, confirmed_by=principal.sub, photo_ref=photo_ref
        )
        await _on_plan(request, conn, plan_id, principal, ("admin", "lurah"), command)
        return 200, {
            "delivery_id": str(delivery_id),
            "plan_id": str(plan_id),
            "confirmed": True,
            "confirmed_on": command_day.isoformat(),
            "photo_ref": photo_ref.strip() if photo_ref else None,
        }

    return await run_command(request, principal, execute)


@router.post("/plans/{plan_id}/interventions", status_code=201, summary="Record an intervention beyond food")
async def record_intervention(plan_id: UUID, body: InterventionIn, request: Request, principal: Caller) -> JSONResponse:
    principal.require(*STAFF)
    command = RecordIntervention(
        plan_id=plan_id,
        intervention_id=uuid4(),
        kind=body.kind,
        description=body.description,
        done_on=body.done_on,
        value_rp=body.value_rp,
        today=_today(request),
        recorded_by=principal.sub,
    )

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        await _on_plan(request, conn, plan_id, principal, STAFF, command)
        return 201, {"intervention_id": str(command.intervention_id), "plan_id": str(plan_id)}

    return await run_command(request, principal, execute)


@router.post("/education-sessions", status_code=201, summary="Record an education session")
async def hold_session(body: SessionIn, request: Request, principal: Caller) -> JSONResponse:
    _require_acts_in(principal, body.kelurahan_code, *STAFF)
    sessions: SessionRepository = request.app.state.sessions

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        # Aid's own knowledge of who is enrolled there (from registry events), not a call.
        rows = await conn.fetch(
            "select family_id from aid_families where kelurahan_code = $1 and enrolled_on is not null"
            " and exited_on is null and family_id = any($2::uuid[])",
            body.kelurahan_code,
            body.family_ids,
        )
        command = HoldSession(
            session_id=uuid4(),
            topic=body.topic,
            held_on=body.held_on,
            kelurahan_code=body.kelurahan_code,
            family_ids=tuple(body.family_ids),
            facilitator=body.facilitator,
            today=_today(request),
            recorded_by=principal.sub,
            enrolled_here=frozenset(r["family_id"] for r in rows),
        )
        after = await sessions.execute(conn, command, _meta(request))
        return 201, {"session_id": str(command.session_id), "families": len(after.family_ids)}

    return await run_command(request, principal, execute)
