"""The registry's HTTP API (CONTRACT.md, Registry): thin routes — a body becomes a command, the
handler runs it in `run_command`'s transaction, the result becomes the response."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from services.registry import queries
from services.registry.bodies import MemberIn, RegisterFamilyIn, new_member, registration
from services.registry.domain import (
    AddMember,
    ErasePersonalData,
    ExitFamily,
    Family,
    NewMember,
    RecordBirth,
    RecordGrowth,
    VerifyFamily,
)
from services.registry.handlers import Handlers
from shared.auth import Principal
from shared.contracts.registry import GrowthMeasured, Position
from shared.deps import Caller, handlers_of, run_handler, today
from shared.errors import Forbidden, NotFound
from shared.http import StrictBody, problem_responses

handlers = handlers_of(Handlers)
router = APIRouter(tags=["registry"])

EFFECTIVE = (
    "; default today in the city. Not in the future, not before the programme's start, not before the "
    "registration: else 422 naming this field"
)

# Free text in a query: no NUL or other control characters (PostgreSQL text cannot hold NUL).
PlainText = Annotated[str, Query(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")]
MAX_OFFSET = 1_000_000

# The problems each kind of route can answer with (400: a JSON body that does not parse; 409: a
# conflict with the family's state, a KK/NIK already active elsewhere, or writers colliding more
# often than run_command retries).
COMMAND_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 413, 422)
READ_PROBLEMS = problem_responses(401, 403, 404, 422)


class VerificationIn(StrictBody):
    decision: Literal["approve", "reject"]
    note: StrictStr | None = Field(None, max_length=2000)
    decided_on: date | None = Field(
        None,
        description="the day the lurah decided" + EFFECTIVE + ". Eligibility is checked again at this date: "
        "approval is refused with 409 when no member is a target any more (a baduta 24 months or older, a "
        "pregnancy overdue by more than 14 days with no birth recorded)",
    )


class GrowthMeasurementIn(StrictBody):
    member_id: UUID = Field(description="a child under five of this family")
    measured_on: date = Field(
        description="the day of the measurement; not in the future, not before the programme's start, the "
        "registration or the child's birth: else 422 naming this field"
    )
    weight_kg: Annotated[float, Field(allow_inf_nan=False, examples=[8.9])]
    length_cm: Annotated[float, Field(allow_inf_nan=False, examples=[72.5])]
    position: Position | None = Field(
        None, description="recumbent | standing; default WHO's: recumbent under 24 months, standing from 24"
    )


class ExitIn(StrictBody):
    reason: StrictStr = Field(
        description="graduated | moved_away | aged_out | deceased | duplicate | consent_withdrawn"
    )
    exited_on: date | None = Field(
        None, description="the day the family left" + EFFECTIVE + " (nor before the enrolment, when enrolled)"
    )


class AddMemberIn(MemberIn):
    added_on: date | None = Field(
        None, description="the day the member joined" + EFFECTIVE + "; ages are computed at this date"
    )


class BabyIn(StrictBody):
    name: StrictStr
    nik: StrictStr | None = Field(None, description="16 digits; null while pending")
    sex: StrictStr = Field(description="M | F")


class BirthIn(StrictBody):
    mother_member_id: UUID = Field(description="the family's pregnant_mother (or the mother of a twin just recorded)")
    born_on: date = Field(
        description="the day of birth; not in the future, not before the programme's start or the "
        "registration: else 422 naming this field"
    )
    baby: BabyIn


# -- responses (what the routes answer with, for the OpenAPI document) ------------------------


class FamilyStatusOut(BaseModel):
    family_id: UUID
    status: str
    version: int


class MemberAddedOut(BaseModel):
    family_id: UUID
    member_id: UUID
    version: int


class BirthOut(BaseModel):
    family_id: UUID
    mother_member_id: UUID
    member_id: UUID = Field(description="the baby, a new baduta member")
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


def _status(status: int) -> Callable[[Family], tuple[int, dict[str, Any]]]:
    """The answer of a command that moved the family's status (FamilyStatusOut), with `status`."""

    def answer(family: Family) -> tuple[int, dict[str, Any]]:
        return status, {"family_id": str(family.family_id), "status": family.status, "version": family.version}

    return answer


# -- commands ---------------------------------------------------------------------------------


@router.post(
    "/families",
    status_code=201,
    summary="Register a family at risk of stunting",
    response_model=FamilyStatusOut,
    responses=problem_responses(400, 401, 403, 409, 413, 422),
)
async def register_family(body: RegisterFamilyIn, request: Request, principal: Caller) -> JSONResponse:
    """Roles: admin; lurah/kader of that kelurahan; census (in its kelurahan when its token names one).
    `registered_on` may be in the past (late entry), back to the programme's start."""
    command = registration(body, uuid4(), today(request), principal.sub)
    return await run_handler(request, principal, handlers(request).register_family, command, _status(201))


@router.post(
    "/families/{family_id}/members",
    status_code=201,
    summary="Add a member (a newborn, say)",
    response_model=MemberAddedOut,
    responses=COMMAND_PROBLEMS,
)
async def add_member(family_id: UUID, body: AddMemberIn, request: Request, principal: Caller) -> JSONResponse:
    """Roles: admin; lurah/kader of the family's kelurahan. A birth of the family's pregnant mother
    is recorded with POST /families/{id}/births instead, which also makes her a breastfeeding mother."""
    member = new_member(body, uuid4())
    command = AddMember(
        family_id=family_id, today=today(request), added_by=principal.sub, member=member, added_on=body.added_on
    )

    def answer(family: Family) -> tuple[int, dict[str, Any]]:
        return 201, {"family_id": str(family_id), "member_id": str(member.member_id), "version": family.version}

    return await run_handler(request, principal, handlers(request).change_family, command, answer)


@router.post(
    "/families/{family_id}/verification",
    summary="The lurah approves (enrols) or rejects",
    response_model=FamilyStatusOut,
    responses=COMMAND_PROBLEMS,
)
async def verify_family(family_id: UUID, body: VerificationIn, request: Request, principal: Caller) -> JSONResponse:
    # The decision, its note and its day, as given.
    command = VerifyFamily(family_id=family_id, today=today(request), decided_by=principal.sub, **body.model_dump())
    return await run_handler(request, principal, handlers(request).change_family, command, _status(200))


@router.post(
    "/families/{family_id}/exit",
    summary="A family leaves the programme",
    response_model=FamilyStatusOut,
    responses=COMMAND_PROBLEMS,
)
async def exit_family(family_id: UUID, body: ExitIn, request: Request, principal: Caller) -> JSONResponse:
    # The reason and the day, as given.
    command = ExitFamily(family_id=family_id, today=today(request), exited_by=principal.sub, **body.model_dump())
    return await run_handler(request, principal, handlers(request).change_family, command, _status(200))


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
        today=today(request),
        measured_by=principal.sub,
        measurement_id=uuid4(),
        **body.model_dump(),  # the member, the day and what was measured, as given
    )

    def answer(done: tuple[Family, GrowthMeasured]) -> tuple[int, dict[str, Any]]:
        family, measured = done
        return 201, {
            **measured.model_dump(mode="json", exclude={"kelurahan_code", "measured_by"}),
            "version": family.version,
        }

    return await run_handler(request, principal, handlers(request).record_growth, command, answer)


@router.post(
    "/families/{family_id}/births",
    status_code=201,
    summary="A pregnant mother gave birth: she becomes a breastfeeding mother, the baby a baduta member",
    response_model=BirthOut,
    responses=COMMAND_PROBLEMS,
)
async def record_birth(family_id: UUID, body: BirthIn, request: Request, principal: Caller) -> JSONResponse:
    """Roles: admin; lurah/kader of the family's kelurahan. Publishes `MotherGaveBirth` and
    `MemberAdded` (role baduta, `added_on` = `born_on`). An active aid plan continues unchanged."""
    baby = NewMember(
        member_id=uuid4(),
        name=body.baby.name,
        nik=body.baby.nik,
        role="baduta",
        birth_date=body.born_on,
        sex=body.baby.sex,
    )
    command = RecordBirth(
        family_id=family_id,
        today=today(request),
        recorded_by=principal.sub,
        mother_id=body.mother_member_id,
        born_on=body.born_on,
        baby=baby,
    )

    def answer(family: Family) -> tuple[int, dict[str, Any]]:
        return 201, {
            "family_id": str(family_id),
            "mother_member_id": str(body.mother_member_id),
            "member_id": str(baby.member_id),
            "version": family.version,
        }

    return await run_handler(request, principal, handlers(request).change_family, command, answer)


@router.delete(
    "/families/{family_id}/personal-data",
    summary="Erase personal data (crypto-shredding)",
    response_model=ErasedOut,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def erase_personal_data(family_id: UUID, request: Request, principal: Caller) -> JSONResponse:
    command = ErasePersonalData(family_id=family_id, today=today(request), erased_by=principal.sub)

    def answer(family: Family) -> tuple[int, dict[str, Any]]:
        return 200, {"family_id": str(family_id), "personal_data": "erased", "version": family.version}

    return await run_handler(request, principal, handlers(request).erase_personal_data, command, answer)


# -- queries ----------------------------------------------------------------------------------


def _may_see_personal(principal: Principal, row: Any) -> bool:
    """Admin, the family's lurah/kader, and the census officer who registered it (it entered the data)."""
    if principal.role == "census":
        return bool(row["registered_by"] == principal.sub)
    return principal.role in ("admin", "lurah", "kader") and principal.acts_in(row["kelurahan_code"])


# census reads only the families it registered; auditor and agency read de-identified families.
_READERS = ("admin", "lurah", "kader", "auditor", "agency", "census")


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
    if principal.role == "census" and row["registered_by"] != principal.sub:
        raise Forbidden("a census officer reads only the families it registered")
    visible = {family_id: _may_see_personal(principal, row)}
    views = await queries.family_views(
        pool, request.app.state.registry.keys, request.app.state.programme, [row], visible
    )
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
    registered_by = principal.sub if principal.role == "census" else None
    found = await queries.family_rows(pool, kelurahan_code, status, limit, offset, registered_by)
    visible = {r["family_id"]: _may_see_personal(principal, r) for r in found.rows}
    items = await queries.family_views(
        pool, request.app.state.registry.keys, request.app.state.programme, found.rows, visible
    )
    return found.answer(items)
