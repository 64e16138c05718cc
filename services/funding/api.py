"""Funding's HTTP API (CONTRACT.md, Funding): commands in, statements out. Thin: parse the body,
build the command, run a handler through run_command (one transaction, idempotency, retries).

Who may do what: admin (Dinsos P2KB) registers donors and matches them to families; admin or the
treasurer (who sees the money arrive) records contributions, since only money actually received may
be allocated, and reads donors; a donor may pledge for itself. A donor reads only its own statement
and the pseudonymous families it sponsors; an auditor reads statements without names and the
de-identified per-type totals; an agency is read-only: the de-identified per-type totals and a
family's funding (no names).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, StrictInt, StrictStr

from services.funding import family_aid, family_notes, queries, receipts
from services.funding.domain import Donor, MakePledge, ReceiveContribution, RegisterDonor, SponsorFamily, Sponsorship
from services.funding.donor_data import normalize_code, verification_code
from services.funding.handlers import Handlers, own_donor
from services.funding.queries import DonorStatement, FamilyFunding, TypeTotals
from shared.auth import Principal
from shared.deps import Caller, handlers_of, meta, run_handler, today
from shared.errors import Forbidden, NotFound
from shared.http import StrictBody, problem_responses, run_command
from shared.repository import Aggregate

handlers = handlers_of(Handlers)
router = APIRouter(tags=["funding"])

AMOUNT = "whole rupiah, > 0 and at most the configured maximum (default Rp10.000.000.000)"
EFFECTIVE = (
    "the effective date (YYYY-MM-DD), default today in the city; not in the future and not before the "
    "programme's start (422 naming the field)"
)
MAX_OFFSET = 1_000_000  # far beyond any city's donors; a larger offset is a mistake (422), not a query

# 400: a body that is not JSON at all (FastAPI cannot parse it; a JSON body that is wrong is 422).
COMMAND = problem_responses(400, 401, 403, 404, 409, 413, 422)
NEW_DONOR = problem_responses(400, 401, 403, 409, 413, 422)  # no id to look up: never 404
READ_ONE = problem_responses(401, 403, 404, 422)


class DonorIn(StrictBody):
    name: StrictStr = Field(
        description="personal data of an individual donor: sealed in the event store under the donor's own key "
        "(with `contact` and `public_name_consent`), never published or logged; 422 without a data key"
    )
    donor_type: StrictStr = Field(
        description="individual | community | bumd | bumn | csr | university | media | "
        "other; never a government budget (APBD/APBN)"
    )
    contact: StrictStr | None = Field(None, description="phone or e-mail; personal data")
    public_name_consent: bool = Field(
        False,
        description="the donor agreed that its name may appear on the public transparency page "
        "(`GET /public/donor-names`); without it no page shows the name",
    )


class PledgeIn(StrictBody):
    amount_rp: StrictInt = Field(description=AMOUNT)
    note: StrictStr | None = Field(
        None,
        max_length=2000,
        description="free text, sealed under the donor's own key (never published); shown in the donor's "
        "statement as `pledge_notes`; 409 once the donor's personal data was erased",
    )
    pledged_on: date | None = Field(None, description=EFFECTIVE)


class ContributionIn(StrictBody):
    amount_rp: StrictInt = Field(description=AMOUNT)
    received_on: date | None = Field(None, description=EFFECTIVE)
    method: StrictStr = Field(description="transfer | cash | in_kind")
    reference: StrictStr = Field(
        description="bank or receipt reference; unique per donor; sealed under the donor's own key (never "
        "published) and printed on the receipt; 409 once the donor's personal data was erased"
    )


class SponsorshipIn(StrictBody):
    donor_id: UUID
    family_id: UUID
    amount_rp: StrictInt = Field(
        description=AMOUNT + "; from the donor's received, unallocated money (409 when there is not enough). "
        "The money must also have been there on `sponsored_on` and stay there: from that day on, the donor's "
        "balance each day (received, less allocated, plus returned, each by its own date) covers it; "
        "otherwise 422 naming `sponsored_on`"
    )
    start_date: date = Field(
        description="when the money counts for the family's plan: not in the future, not before `sponsored_on` "
        "and at most GENTING_MAX_START_DELAY_DAYS (default 30) days after it, else 422 naming `start_date`"
    )
    sponsored_on: date | None = Field(
        None,
        description="the day the sponsorship was made (late entry); default: `start_date` when that is not in "
        "the future (a past programme entered late), else today. Not in the future, not before the programme's "
        "start, not before the family's enrolment (422 naming `sponsored_on`)",
    )
    note: StrictStr | None = Field(
        None,
        max_length=2000,
        description="free text about the match; it may describe the family, so it is sealed under the "
        "family's own key, never published, shown only to an admin, and unreadable for good once the "
        "registry erases the family's personal data",
    )


# -- answers ------------------------------------------------------------------------------------


class DonorCreated(BaseModel):
    donor_id: UUID
    donor_type: str
    version: int


class PledgeRecorded(BaseModel):
    pledge_id: UUID
    donor_id: UUID
    pledged_rp: int
    version: int


class ContributionRecorded(BaseModel):
    contribution_id: UUID
    donor_id: UUID
    received_rp: int
    available_rp: int
    version: int


class SponsorshipCreated(BaseModel):
    sponsorship_id: UUID
    donor_id: UUID
    family_id: UUID
    amount_rp: int
    start_date: date
    sponsored_on: date
    donor_available_rp: int


class DonorList(BaseModel):
    """An admin gets a page and the per-type totals, a donor its own statement, an auditor only the
    totals (no ids, no names)."""

    items: list[DonorStatement] | None = None
    total: int | None = None
    limit: int | None = None
    offset: int | None = None
    by_type: list[TypeTotals] | None = None


def _is_own(principal: Principal, donor_id: UUID) -> bool:
    return own_donor(principal) == donor_id


# -- commands -----------------------------------------------------------------------------------


@router.post(
    "/donors",
    status_code=201,
    summary="Register a donor (orang tua asuh)",
    response_model=DonorCreated,
    responses=NEW_DONOR,
)
async def register_donor(body: DonorIn, request: Request, principal: Caller) -> JSONResponse:
    command = RegisterDonor(uuid4(), body.donor_type, body.name, body.contact, today(request))

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        after = await handlers(request).register_donor(
            conn, command, principal, meta(request), body.public_name_consent
        )
        return 201, {"donor_id": str(command.donor_id), "donor_type": body.donor_type, "version": after.version}

    return await run_command(request, principal, execute)


@router.post(
    "/donors/{donor_id}/pledges",
    status_code=201,
    summary="A donor promises an amount",
    response_model=PledgeRecorded,
    responses=COMMAND,
)
async def make_pledge(donor_id: UUID, body: PledgeIn, request: Request, principal: Caller) -> JSONResponse:
    command = MakePledge(donor_id, uuid4(), body.amount_rp, today(request), body.note, body.pledged_on)

    def answer(after: Aggregate[Donor]) -> tuple[int, dict[str, Any]]:
        return 201, {
            "pledge_id": str(command.pledge_id),
            "donor_id": str(donor_id),
            "pledged_rp": after.state.pledged_rp,
            "version": after.version,
        }

    return await run_handler(request, principal, handlers(request).make_pledge, command, answer)


@router.post(
    "/donors/{donor_id}/contributions",
    status_code=201,
    summary="Money from a donor was received",
    response_model=ContributionRecorded,
    responses=COMMAND,
)
async def receive_contribution(
    donor_id: UUID, body: ContributionIn, request: Request, principal: Caller
) -> JSONResponse:
    day = today(request)
    command = ReceiveContribution(
        donor_id, uuid4(), body.amount_rp, body.received_on or day, body.method, body.reference, day
    )

    def answer(after: Aggregate[Donor]) -> tuple[int, dict[str, Any]]:
        return 201, {
            "contribution_id": str(command.contribution_id),
            "donor_id": str(donor_id),
            "received_rp": after.state.received_rp,
            "available_rp": after.state.available_rp,
            "version": after.version,
        }

    return await run_handler(request, principal, handlers(request).receive_contribution, command, answer)


@router.post(
    "/sponsorships",
    status_code=201,
    summary="An orang tua asuh sponsors an enrolled family",
    description="409 when the family is not enrolled (or exited), when its aid plan has already ended "
    "(completed, incomplete or closed: the money could never be spent on it) or `sponsored_on` is after "
    "the plan's last day (even while the plan still waits for late records: refused alike on the day and "
    "when entered late), when the registry says the "
    "family is no longer eligible (FamilyEligibilityChanged: no baduta, pregnant or breastfeeding mother "
    "left; `errors` names `family_id`, the detail says since when), or when the donor has not enough "
    "received, unallocated money. A sponsorship recorded before funding learned of the plan's ending is "
    "released back to its donor as soon as it does. A sponsorship whose family still has no plan "
    "GENTING_SPONSORSHIP_HOLD_DAYS (default 60) days after its `sponsored_on` is released back to its "
    "donor (SponsorshipReleased, reason `no_plan`), unless the family's held money reached the family's "
    "minimum by that day or a plan started by then (judged by effective dates, so the same whenever it is "
    "entered); money so returned can be sponsored again once it is recorded as returned. The family's minimum "
    "is its plan days x GENTING_DAILY_MINIMUM_RP, the days being GENTING_PLAN_DAYS or, for a family the "
    "registry gave a `plan_until` (GENTING_PLAN_UNTIL_CHILD_MONTHS), the days from its enrolment to that date.",
    response_model=SponsorshipCreated,
    responses=COMMAND,
)
async def sponsor_family(body: SponsorshipIn, request: Request, principal: Caller) -> JSONResponse:
    # The family's status and kelurahan are what funding learned from the registry: the handler
    # fills them in under the family's lock.
    command = SponsorFamily(
        uuid4(),
        body.donor_id,
        body.family_id,
        body.amount_rp,
        body.start_date,
        today(request),
        "unknown",
        None,
        sponsored_on=body.sponsored_on,
        note=body.note,
    )

    def answer(after: tuple[Aggregate[Donor], Aggregate[Sponsorship]]) -> tuple[int, dict[str, Any]]:
        donor, _ = after
        return 201, {
            "sponsorship_id": str(command.sponsorship_id),
            "donor_id": str(body.donor_id),
            "family_id": str(body.family_id),
            "amount_rp": body.amount_rp,
            "start_date": body.start_date.isoformat(),
            "sponsored_on": command.effective_on().isoformat(),
            "donor_available_rp": donor.state.available_rp,
        }

    return await run_handler(request, principal, handlers(request).sponsor_family, command, answer)


# -- reads --------------------------------------------------------------------------------------


async def _statement(request: Request, principal: Principal, donor_id: UUID) -> dict[str, Any]:
    pool = request.app.state.pool
    statement = await queries.donor_statement(pool, donor_id)
    if statement is None:
        raise NotFound(f"Donor {donor_id} is not registered.")
    if principal.role in ("admin", "treasurer") or _is_own(principal, donor_id):
        statement.update(await request.app.state.donor_data.personal(pool, donor_id))
    return statement


@router.get(
    "/donors/{donor_id}",
    summary="A donor's statement: received, allocated, drawn, available",
    description="`name`, `contact` and `pledge_notes` (opened from the donor's sealed private parts) only for "
    "an admin, a treasurer and the donor itself; null and empty once the donor's personal data was erased.",
    response_model=DonorStatement,
    response_model_exclude_unset=True,
    responses=READ_ONE,
)
async def get_donor(donor_id: UUID, request: Request, principal: Caller) -> dict[str, Any]:
    if principal.role == "donor" and not _is_own(principal, donor_id):
        raise Forbidden("a donor sees only its own statement")
    principal.require("admin", "treasurer", "auditor", "donor")
    return await _statement(request, principal, donor_id)


@router.get(
    "/donors",
    summary="Donors (admin, treasurer), per-type totals without names (auditor, agency), or one's own (donor)",
    description="`allocated_rp` is net of releases (sponsored − released), the meaning reporting uses: "
    "the sum over the donors equals the per-type totals and reporting's city totals.",
    response_model=DonorList,
    response_model_exclude_unset=True,
    responses=problem_responses(401, 403, 422),
)
async def list_donors(
    request: Request,
    principal: Caller,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    principal.require("admin", "treasurer", "auditor", "agency", "donor")
    pool = request.app.state.pool
    by_type = await queries.totals_by_type(pool)
    if principal.role in ("auditor", "agency"):
        return {"by_type": by_type}
    only = own_donor(principal)
    if principal.role == "donor" and only is None:
        return {"items": [], "total": 0, "limit": limit, "offset": offset}
    found = await queries.donor_page(pool, limit, offset, only)
    body = found.answer([await _statement(request, principal, r["donor_id"]) for r in found.rows])
    if principal.role in ("admin", "treasurer"):
        body["by_type"] = by_type
    return body


@router.get(
    "/families/{family_id}/funding",
    summary="What a family is sponsored with, drawn and remaining",
    description="A donor's token sees its own sponsorships of the family only, and the totals "
    "(sponsored_rp, drawn_rp, released_rp, remaining_rp) of those alone; 403 for a family it does not sponsor.",
    response_model=FamilyFunding,
    responses=READ_ONE,
)
async def family_funding(family_id: UUID, request: Request, principal: Caller) -> dict[str, Any]:
    principal.require("admin", "auditor", "agency", "donor")
    funding = await queries.family_funding(request.app.state.pool, family_id)
    if principal.role == "donor":
        mine = [s for s in (funding or {}).get("sponsorships", []) if UUID(s["donor_id"]) == own_donor(principal)]
        if not mine:  # a donor knows only the families it sponsors
            raise Forbidden("a donor sees only the families it sponsors")
        assert funding is not None
        funding.update(queries.sponsorship_totals(mine))  # its own money only, totals included
    if funding is None:
        raise NotFound(f"Family {family_id} is not known to funding.")
    if principal.role == "admin":
        notes = await family_notes.notes(request.app.state.pool, handlers(request).sponsorships, family_id)
        for line in funding["sponsorships"]:
            if line["sponsorship_id"] in notes:
                line["note"] = notes[line["sponsorship_id"]]
    return funding


# -- what a donor sees of its families, its receipts, and its erasure --------------------------


class DonorFamily(BaseModel):
    """A sponsored family, de-identified: no name, NIK, address or growth of a person."""

    family_id: UUID
    kelurahan_code: str | None
    plan_status: str = Field(description="none (no plan yet) | open | completed | incomplete | exited")
    start_date: date | None
    end_date: date | None
    days_covered: int
    last_delivery_on: date | None
    confirmed_deliveries: int = Field(description="deliveries the lurah confirmed")
    deliveries: int
    your_sponsored_rp: int = Field(description="this donor's money only, not other donors' in the family")
    your_drawn_rp: int


class DonorFamilies(BaseModel):
    donor_id: UUID
    items: list[DonorFamily]


def _own_or(principal: Principal, donor_id: UUID, *roles: str) -> None:
    if principal.role == "donor" and not _is_own(principal, donor_id):
        raise Forbidden("a donor sees only its own")
    if not _is_own(principal, donor_id):
        principal.require(*roles)


@router.get(
    "/donors/{donor_id}/families",
    summary="The families a donor sponsors, de-identified, with their plans and deliveries",
    response_model=DonorFamilies,
    responses=READ_ONE,
)
async def donor_families(donor_id: UUID, request: Request, principal: Caller) -> dict[str, Any]:
    _own_or(principal, donor_id, "admin", "treasurer")
    pool = request.app.state.pool
    if not await pool.fetchval("select 1 from donors_view where donor_id = $1", donor_id):
        raise NotFound(f"Donor {donor_id} is not registered.")
    return {"donor_id": str(donor_id), "items": await family_aid.donor_families(pool, donor_id)}


@router.get(
    "/donors/{donor_id}/contributions/{contribution_id}/receipt",
    summary="A contribution's receipt (tanda terima) as PDF, with a verification code",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **READ_ONE},
)
async def contribution_receipt(donor_id: UUID, contribution_id: UUID, request: Request, principal: Caller) -> Response:
    _own_or(principal, donor_id, "admin", "treasurer")
    pool = request.app.state.pool
    row = await pool.fetchrow(
        "select c.amount_rp, c.received_on, c.method, d.donor_type, r.verification_code"
        " from contributions_view c join donors_view d using (donor_id)"
        " left join contribution_receipts r using (contribution_id)"
        " where c.contribution_id = $1 and c.donor_id = $2",
        contribution_id,
        donor_id,
    )
    if row is None:
        raise NotFound(f"Donor {donor_id} has no contribution {contribution_id}.")
    data = request.app.state.donor_data
    code = row["verification_code"]
    if code is None:  # a contribution recorded before receipts existed: its code now, kept
        code = verification_code(data.receipt_key, contribution_id)
        await pool.execute(
            "insert into contribution_receipts (contribution_id, donor_id, verification_code) values ($1, $2, $3)"
            " on conflict (contribution_id) do nothing",
            contribution_id,
            donor_id,
            code,
        )
    receipt = receipts.Receipt(
        city=request.app.state.city_name,
        contribution_id=str(contribution_id),
        donor_id=str(donor_id),
        donor_name=(await data.personal(pool, donor_id))["name"],
        donor_type=row["donor_type"],
        amount_rp=row["amount_rp"],
        received_on=row["received_on"],
        method=row["method"],
        reference=await data.reference(pool, donor_id, contribution_id),
        verification_code=code,
    )
    filename = f"tanda-terima-{row['received_on'].isoformat()}-{str(contribution_id)[:8]}.pdf"
    return Response(
        receipts.render(receipt),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"},
    )


class ReceiptVerified(BaseModel):
    """What anyone may learn from a receipt's code: that it is genuine, and nothing personal."""

    valid: bool
    amount_rp: int
    received_on: date
    method: str
    donor_type: str
    city: str


@router.get(
    "/receipts/verify/{code}",
    summary="Check a receipt's verification code (public, no token)",
    description="The code printed on a receipt (any case, dashes optional). 200 with the amount, date, "
    "method and donor type when it is genuine, 404 otherwise; never a name.",
    response_model=ReceiptVerified,
    responses=problem_responses(404),
)
async def verify_receipt(code: str, request: Request) -> dict[str, Any]:
    row = await request.app.state.pool.fetchrow(
        "select c.amount_rp, c.received_on, c.method, d.donor_type from contribution_receipts r"
        " join contributions_view c using (contribution_id) join donors_view d on d.donor_id = c.donor_id"
        " where r.verification_code = $1",
        normalize_code(code[:64]),
    )
    if row is None:
        raise NotFound("No receipt has this verification code.")
    return {"valid": True, **dict(row), "city": request.app.state.city_name}


class PublicName(BaseModel):
    donor_type: str
    name: str


@router.get(
    "/public/donor-names",
    summary="The names of the donors that agreed to be named publicly (public, no token)",
    response_model=list[PublicName],
)
async def public_names(request: Request) -> list[dict[str, str]]:
    names: list[dict[str, str]] = await request.app.state.donor_data.public_names(request.app.state.pool)
    return names


@router.delete(
    "/donors/{donor_id}/personal-data",
    summary="Erase a donor's personal data (admin); its money stays accounted",
    description="The donor's key is destroyed and its events' sealed parts (name, contact, pledge notes, "
    "bank references) are cleared; a tombstone keeps anything personal from being kept for it again: "
    "a later contribution, or a pledge with a note, is 409. Statements (name, contact null, no pledge "
    "notes), totals and sponsorships are unchanged. Repeating it is harmless.",
    responses=problem_responses(401, 403, 404),
)
async def erase_donor(donor_id: UUID, request: Request, principal: Caller) -> JSONResponse:
    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        await handlers(request).erase_donor(conn, donor_id, principal)
        return 200, {"donor_id": str(donor_id), "personal_data": "erased"}

    return await run_command(request, principal, execute)
