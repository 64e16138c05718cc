"""Aid's HTTP for grievances (CONTRACT.md, Aid: Grievances): anyone files one (no token needed,
rate-limited per client address, read from X-Forwarded-For only when a trusted proxy sent it),
follows it by its tracking code; the kelurahan's staff read them, its lurah (or admin) answers them."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from datetime import date
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Annotated, Any
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictStr

from services.aid import grievances
from services.aid.api import KelurahanFilter, Limit, Offset
from services.aid.domain.grievance import (
    MAX_CONTACT,
    MAX_DESCRIPTION,
    MAX_RESOLUTION,
    FileGrievance,
    Grievance,
    ResolveGrievance,
)
from services.aid.grievances import Grievances
from shared.auth import Principal
from shared.contracts.aid import GrievanceCategory
from shared.deps import Caller, meta, run_handler, today
from shared.errors import Forbidden, NotFound
from shared.http import StrictBody, authenticate, problem, problem_responses, run_command

router = APIRouter(tags=["grievances"])


class TokenBucket:
    """Per client address: `burst` filings at once, then one every 3600/`per_hour` seconds. In
    process (each replica counts its own): enough to stop a script flooding one kelurahan."""

    def __init__(self, burst: int, per_hour: float) -> None:
        self.burst, self.rate = burst, per_hour / 3600.0
        self.buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens, when)

    def take(self, key: str, now: float | None = None) -> float:
        """0 when allowed; else the seconds until the next filing is."""
        now = time.monotonic() if now is None else now
        tokens, then = self.buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate)
        if tokens >= 1:
            self.buckets[key] = (tokens - 1, now)
            if len(self.buckets) > 100_000:  # forget the oldest: bounded memory under a flood
                self.buckets.pop(next(iter(self.buckets)))
            return 0.0
        self.buckets[key] = (tokens, now)
        return (1 - tokens) / self.rate if self.rate else 3600.0


def client_address(request: Request, trusted: Sequence[IPv4Network | IPv6Network]) -> str:
    """The caller's address for the rate limit. Behind the gateway or the Ingress every request
    comes from the proxy, which appends the address it saw to X-Forwarded-For; walking the header
    from the right, each hop is believed only while the one that wrote it is a trusted proxy, so a
    caller cannot pick its own bucket by writing the header itself."""
    address = request.client.host if request.client else "unknown"
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    while hops and _is_trusted(address, trusted):
        address = hops.pop()
    return address


def _is_trusted(address: str, trusted: Sequence[IPv4Network | IPv6Network]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


class GrievanceIn(StrictBody):
    kelurahan_code: StrictStr = Field(pattern=r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$", examples=["33.75.01.1002"])
    category: GrievanceCategory
    description: StrictStr = Field(max_length=MAX_DESCRIPTION, description="sealed in aid; never on the bus")
    family_id: UUID | None = Field(None, description="when given, the texts are sealed under the family's key")
    contact: StrictStr | None = Field(None, max_length=MAX_CONTACT, description="how to reach who filed; sealed")
    filed_on: date | None = Field(None, description="the day it was raised (late entry); default today")


class GrievanceFiledOut(BaseModel):
    grievance_id: UUID
    tracking_code: str = Field(description="keep it: it shows the status without signing in")


class Tracked(BaseModel):
    status: str = Field(description="open | escalated | resolved")
    filed_on: date
    due_on: date
    resolved_on: date | None


class ResolutionIn(StrictBody):
    resolution: StrictStr = Field(max_length=MAX_RESOLUTION, description="the answer; sealed in aid")
    resolved_on: date | None = Field(None, description="default today; not before filing, not in the future")


class GrievanceOut(BaseModel):
    grievance_id: UUID
    kelurahan_code: str
    category: str
    status: str
    family_id: UUID | None
    plan_id: UUID | None
    filed_on: date
    due_on: date
    escalated_on: date | None
    resolved_on: date | None
    description: str | None = Field(description="None once the family's personal data is erased")
    contact: str | None
    resolution: str | None


class GrievancePage(BaseModel):
    items: list[GrievanceOut]
    total: int
    limit: int
    offset: int


def _service(request: Request) -> Grievances:
    found: Grievances = request.app.state.grievances
    return found


ANONYMOUS = Principal(sub="anonymous", role="public")


@router.post(
    "/grievances",
    status_code=201,
    summary="File a grievance (no token needed)",
    description="Anyone may file: without a token it is rate-limited per client address, taken from "
    "X-Forwarded-For only when the peer is one of GENTING_TRUSTED_PROXIES "
    "(GENTING_GRIEVANCE_BURST at once, then GENTING_GRIEVANCE_PER_HOUR an hour; 429 with Retry-After).",
    response_model=GrievanceFiledOut,
    responses=problem_responses(400, 401, 413, 422, 429),
)
async def file_grievance(body: GrievanceIn, request: Request) -> JSONResponse:
    if request.headers.get("authorization"):
        principal = await authenticate(request)
    else:
        address = client_address(request, request.app.state.trusted_proxies)
        wait = request.app.state.grievance_bucket.take(address)
        if wait:
            return problem(
                429,
                "Too many grievances",
                "too many grievances from this address; try again later",
                headers={"Retry-After": str(math.ceil(wait))},
            )
        principal = ANONYMOUS
    service = _service(request)
    day = today(request)
    known = request.app.state.programme.kelurahan(body.kelurahan_code) is not None
    command = FileGrievance(
        **body.model_dump(exclude={"filed_on"}),  # kelurahan, category, texts and family as given
        grievance_id=uuid4(),
        plan_id=None,
        filed_on=body.filed_on or day,
        today=day,
        sla_days=service.sla_days,
        programme_start=service.programme_start,
        filed_by=None if principal is ANONYMOUS else principal.sub,
        known_kelurahan=known,
    )

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        _, code = await service.file(conn, command, grievances.tracking_code(), meta(request))
        return 201, {"grievance_id": str(command.grievance_id), "tracking_code": code}

    return await run_command(request, principal, execute)


@router.get(
    "/grievances/track/{tracking_code}",
    summary="Follow a grievance by its tracking code (no token): status and dates only",
    response_model=Tracked,
    responses=problem_responses(404),
)
async def track_grievance(tracking_code: str, request: Request) -> dict[str, Any]:
    found = await grievances.track(request.app.state.pool, tracking_code.strip().upper()[:32])
    if found is None:
        raise NotFound("No grievance has this tracking code.")
    return found


@router.get(
    "/grievances",
    summary="Grievances with their texts (admin; lurah and kader of their kelurahan)",
    response_model=GrievancePage,
    responses=problem_responses(401, 403, 422),
)
async def list_grievances(
    request: Request,
    principal: Caller,
    kelurahan_code: KelurahanFilter = None,
    status: Annotated[str | None, Query(pattern="^(open|escalated|resolved)$")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    principal.require("admin", "lurah", "kader")
    if principal.role != "admin":
        if kelurahan_code not in (None, principal.kelurahan):
            raise Forbidden(f"a {principal.role} sees only kelurahan {principal.kelurahan}")
        kelurahan_code = principal.kelurahan
    return await grievances.listing(
        request.app.state.pool, _service(request).repository, kelurahan_code, status, limit, offset
    )


@router.post(
    "/grievances/{grievance_id}/resolution",
    summary="Answer a grievance (the lurah of its kelurahan, or admin)",
    response_model=Tracked,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
)
async def resolve_grievance(
    grievance_id: UUID, body: ResolutionIn, request: Request, principal: Caller
) -> JSONResponse:
    day = today(request)
    command = ResolveGrievance(grievance_id, body.resolution, body.resolved_on or day, day, principal.sub)

    def answer(after: Grievance) -> tuple[int, dict[str, Any]]:
        return 200, {
            "status": after.status,
            "filed_on": str(after.filed_on),
            "due_on": str(after.due_on),
            "resolved_on": str(after.resolved_on),
        }

    return await run_handler(request, principal, _service(request).resolve, command, answer)


@router.delete(
    "/grievances/{grievance_id}/personal-data",
    summary="Erase a grievance's personal data (admin), for one naming no family",
    description="The grievance's own key is destroyed: its description, contact and resolution become "
    "unreadable for good, and nothing is sealed for it again. Its category, kelurahan, status and "
    "dates stay, so the counts do not move. A grievance naming a family is erased with the family "
    "(409). Repeating it is harmless.",
    responses=problem_responses(401, 403, 404, 409),
)
async def erase_grievance(grievance_id: UUID, request: Request, principal: Caller) -> JSONResponse:
    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        await _service(request).erase(conn, grievance_id, principal)
        return 200, {"grievance_id": str(grievance_id), "personal_data": "erased"}

    return await run_command(request, principal, execute)
