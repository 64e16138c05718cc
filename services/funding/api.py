"""Funding's HTTP API (CONTRACT.md, Funding): commands in, statements out.

Who may do what: admin (Dinsos P2KB) registers donors and matches them to families; admin or a
partner agency's system (the bank or the zakat body that takes the money in) records
contributions, since only money actually received may be allocated; a donor may pledge for itself.
A donor reads only its own statement and the pseudonymous families it sponsors; an auditor reads
statements without names and the de-identified per-type totals.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import reduce
from typing import Annotated, Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import asyncpg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from services.funding import read_model
from services.funding import repository as repo
from services.funding.domain import donor as donors
from services.funding.domain import sponsorship as sponsorships
from services.funding.domain.rules import Limits
from shared.auth import Principal
from shared.errors import Forbidden, NotFound
from shared.eventstore import Metadata
from shared.http import authenticate, correlation_id, run_command

router = APIRouter(tags=["funding"])
WIB = ZoneInfo("Asia/Jakarta")  # the programme's calendar day is Pekalongan's

Caller = Annotated[Principal, Depends(authenticate)]
AMOUNT = "whole rupiah, > 0 and at most the configured maximum (default Rp10.000.000.000)"


class DonorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: StrictStr = Field(description="personal data of an individual donor: never published or logged")
    donor_type: StrictStr = Field(
        description="individual | community | bumd | bumn | csr | university | media | "
        "other; never a government budget (APBD/APBN)"
    )
    contact: StrictStr | None = Field(None, description="phone or e-mail; personal data")


class PledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_rp: StrictInt = Field(description=AMOUNT)
    note: StrictStr | None = Field(None, max_length=2000)


class ContributionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_rp: StrictInt = Field(description=AMOUNT)
    received_on: date
    method: StrictStr = Field(description="transfer | cash | in_kind")
    reference: StrictStr = Field(description="bank or receipt reference; unique per donor")


class SponsorshipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    donor_id: UUID
    family_id: UUID
    amount_rp: StrictInt = Field(description=AMOUNT + "; from the donor's received, unallocated money")
    start_date: date


def _today(request: Request) -> date:
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock else datetime.now(WIB).date()


def _limits(request: Request) -> Limits:
    limits: Limits = request.app.state.settings.limits()
    return limits


def _meta(request: Request) -> Metadata:
    return Metadata(occurred_at=datetime.now(UTC), correlation_id=correlation_id(request), causation_id=uuid4())


def _own_donor(principal: Principal) -> UUID | None:
    """The donor a donor token speaks for (None for other roles, or a claim that is not an id)."""
    if principal.role != "donor":
        return None
    try:
        return UUID(principal.donor_id or "")
    except ValueError:
        return None


def _is_own(principal: Principal, donor_id: UUID) -> bool:
    return _own_donor(principal) == donor_id


@router.post("/donors", status_code=201, summary="Register a donor (orang tua asuh)")
async def register_donor(body: DonorIn, request: Request, principal: Caller) -> JSONResponse:
    principal.require("admin")
    command = donors.RegisterDonor(
        donor_id=uuid4(), donor_type=body.donor_type, name=body.name, contact=body.contact, today=_today(request)
    )

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        state = await repo.load_donor(conn, command.donor_id)
        events = donors.decide(state, command, _limits(request))
        await conn.execute(
            "insert into donor_personal (donor_id, name, contact) values ($1, $2, $3)",
            command.donor_id,
            body.name.strip(),
            body.contact.strip() if body.contact else None,
        )
        await repo.save(conn, repo.DONORS, command.donor_id, state.version, events, _meta(request))
        return 201, {"donor_id": str(command.donor_id), "donor_type": body.donor_type, "version": len(events)}

    return await run_command(request, principal, execute)


@router.post("/donors/{donor_id}/pledges", status_code=201, summary="A donor promises an amount")
async def make_pledge(donor_id: UUID, body: PledgeIn, request: Request, principal: Caller) -> JSONResponse:
    if not _is_own(principal, donor_id):
        principal.require("admin")
    command = donors.MakePledge(donor_id=donor_id, pledge_id=uuid4(), amount_rp=body.amount_rp, today=_today(request))

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        state = await repo.load_donor(conn, donor_id)
        events = donors.decide(state, command, _limits(request))
        if body.note and body.note.strip():
            await conn.execute(
                "insert into pledge_notes (pledge_id, donor_id, note) values ($1, $2, $3)",
                command.pledge_id,
                donor_id,
                body.note.strip(),
            )
        await repo.save(conn, repo.DONORS, donor_id, state.version, events, _meta(request))
        after = reduce(donors.evolve, events, state)
        return 201, {
            "pledge_id": str(command.pledge_id),
            "donor_id": str(donor_id),
            "pledged_rp": after.pledged_rp,
            "version": after.version,
        }

    return await run_command(request, principal, execute)


@router.post("/donors/{donor_id}/contributions", status_code=201, summary="Money from a donor was received")
async def receive_contribution(
    donor_id: UUID, body: ContributionIn, request: Request, principal: Caller
) -> JSONResponse:
    principal.require("admin", "agency")
    command = donors.ReceiveContribution(
        donor_id=donor_id,
        contribution_id=uuid4(),
        amount_rp=body.amount_rp,
        received_on=body.received_on,
        method=body.method,
        reference=body.reference,
        today=_today(request),
    )

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        state = await repo.load_donor(conn, donor_id)
        events = donors.decide(state, command, _limits(request))
        await repo.claim_reference(conn, donor_id, body.reference, command.contribution_id)
        await repo.save(conn, repo.DONORS, donor_id, state.version, events, _meta(request))
        after = reduce(donors.evolve, events, state)
        return 201, {
            "contribution_id": str(command.contribution_id),
            "donor_id": str(donor_id),
            "received_rp": after.received_rp,
            "available_rp": after.available_rp,
            "version": after.version,
        }

    return await run_command(request, principal, execute)


@router.post("/sponsorships", status_code=201, summary="An orang tua asuh sponsors an enrolled family")
async def sponsor_family(body: SponsorshipIn, request: Request, principal: Caller) -> JSONResponse:
    principal.require("admin")
    sponsorship_id = uuid4()

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        # The family first (its lock orders this against an exit), then the donor: the allocation
        # is appended at the donor's loaded version, so a concurrent sponsorship that spent the same
        # money makes this append fail and run_command retry it on fresh state.
        family = await repo.lock_family(conn, body.family_id)
        state = await repo.load_donor(conn, body.donor_id)
        command = sponsorships.SponsorFamily(
            sponsorship_id=sponsorship_id,
            donor_id=body.donor_id,
            family_id=body.family_id,
            amount_rp=body.amount_rp,
            start_date=body.start_date,
            today=_today(request),
            family_status=family["status"] if family else "unknown",
            kelurahan_code=family["kelurahan_code"] if family else None,
        )
        allocated, sponsored = sponsorships.sponsor(state, command, _limits(request))
        meta = _meta(request)
        await repo.save(conn, repo.DONORS, body.donor_id, state.version, allocated, meta)
        await repo.save(conn, repo.SPONSORSHIPS, sponsorship_id, 0, sponsored, meta)
        await repo.add_family_sponsorship(conn, sponsorship_id, body.family_id, body.donor_id)
        after = reduce(donors.evolve, allocated, state)
        return 201, {
            "sponsorship_id": str(sponsorship_id),
            "donor_id": str(body.donor_id),
            "family_id": str(body.family_id),
            "amount_rp": body.amount_rp,
            "start_date": body.start_date.isoformat(),
            "donor_available_rp": after.available_rp,
        }

    return await run_command(request, principal, execute)


async def _statement(request: Request, principal: Caller, donor_id: UUID) -> dict[str, Any]:
    statement = await read_model.donor_statement(request.app.state.pool, donor_id)
    if statement is None:
        raise NotFound(f"Donor {donor_id} is not registered.")
    if principal.role == "admin" or _is_own(principal, donor_id):
        personal = await request.app.state.pool.fetchrow(
            "select name, contact from donor_personal where donor_id = $1", donor_id
        )
        statement.update(name=personal["name"] if personal else None, contact=personal["contact"] if personal else None)
    return statement


@router.get("/donors/{donor_id}", summary="A donor's statement: received, allocated, drawn, available")
async def get_donor(donor_id: UUID, request: Request, principal: Caller) -> dict[str, Any]:
    if principal.role == "donor" and not _is_own(principal, donor_id):
        raise Forbidden("a donor sees only its own statement")
    principal.require("admin", "auditor", "donor")
    return await _statement(request, principal, donor_id)


@router.get("/donors", summary="Donors (admin), per-type totals without names (auditor), or one's own (donor)")
async def list_donors(
    request: Request,
    principal: Caller,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    principal.require("admin", "auditor", "donor")
    pool = request.app.state.pool
    by_type = await read_model.totals_by_type(pool)
    if principal.role == "auditor":
        return {"by_type": by_type}
    only = _own_donor(principal)
    if principal.role == "donor" and only is None:
        return {"items": [], "total": 0, "limit": limit, "offset": offset}
    total, ids = await read_model.donor_page(pool, limit, offset, only)
    items = [await _statement(request, principal, i) for i in ids]
    body: dict[str, Any] = {"items": items, "total": total, "limit": limit, "offset": offset}
    if principal.role == "admin":
        body["by_type"] = by_type
    return body


@router.get("/families/{family_id}/funding", summary="What a family is sponsored with, drawn and remaining")
async def family_funding(family_id: UUID, request: Request, principal: Caller) -> dict[str, Any]:
    principal.require("admin", "auditor", "agency", "donor")
    funding = await read_model.family_funding(request.app.state.pool, family_id)
    if principal.role == "donor":
        mine = [s for s in (funding or {}).get("sponsorships", []) if UUID(s["donor_id"]) == _own_donor(principal)]
        if not mine:  # a donor knows only the families it sponsors
            raise Forbidden("a donor sees only the families it sponsors")
        assert funding is not None
        funding["sponsorships"] = mine
    if funding is None:
        raise NotFound(f"Family {family_id} is not known to funding.")
    return funding
