"""Aid's HTTP for plans (CONTRACT.md, Aid): deliveries, the lurah's confirmations, interventions,
and the plans with their coverage. Thin: parse, build the command, run it through the handlers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from services.aid import queries
from services.aid.domain import MAX_DESCRIPTION, MAX_PHOTO_REF, Plan, RecordDelivery, RecordIntervention
from services.aid.handlers import STAFF, Handlers
from shared.auth import Principal
from shared.contracts.aid import DeliveredItem, InterventionKind
from shared.deps import Caller, handlers_of, meta, run_handler, today
from shared.errors import FieldError, InvalidCommand
from shared.http import StrictBody, problem_responses, run_command

handlers = handlers_of(Handlers)
router = APIRouter(tags=["aid"])
# The photo reference of a confirmation naming a photo in aid's own object store.
STORED_PHOTO_REF = "genting-photo:"
# Plans are de-identified (pseudonymous family ids, money, days). Donors see their families
# through funding, not here.
READERS = ("admin", "lurah", "kader", "auditor", "agency")

# Query parameters are validated like bodies: a malformed filter is a 422, never a database error.
KelurahanFilter = Annotated[
    str | None, Query(pattern=r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}$", examples=["33.75.01.1002"])
]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


def may_see_private(principal: Principal) -> Callable[[str], bool]:
    """Descriptions and facilitators' names: admin and that kelurahan's own staff only."""
    return lambda kelurahan_code: principal.role in STAFF and principal.acts_in(kelurahan_code)


# -- bodies -------------------------------------------------------------------------------


class ItemIn(StrictBody):
    name: StrictStr = Field(
        min_length=1,
        max_length=100,
        examples=["telur ayam"],
        description="a food of the city's catalogue (GET /food-catalogue): its code, name or an alias, else 422 "
        "naming `items[i].name`; events carry the food's code and name, never this text",
    )
    quantity: Annotated[StrictFloat, Field(gt=0, examples=[30])]
    unit: StrictStr = Field(min_length=1, max_length=20, examples=["butir"])


class DeliveryIn(StrictBody):
    period_from: date = Field(
        description="first day the food covers: not before `delivered_on` (food is not eaten on days already "
        "past), else 422 naming `period_from`"
    )
    period_to: date = Field(description="last day the food covers (inclusive)")
    value_rp: StrictInt = Field(
        gt=0,
        description=(
            "the food's value, integer rupiah; at least the daily minimum per day covered. The distribution"
            " cost is not typed: aid adds the plan's distribution_daily_rp per day covered, and the budget"
            " must pay both (409 otherwise)"
        ),
    )
    items: list[ItemIn] = Field(min_length=1, max_length=50)
    delivered_on: date | None = Field(
        None,
        description=(
            "the day the food was handed over (effective date); default today in the city. Not in the"
            " future, not before the programme's start or the plan's start, not after the plan's last"
            " day plus the recording grace; `period_to` at most GENTING_DELIVERY_MAX_AHEAD_DAYS (14)"
            " days after it. Else 422 naming the field"
        ),
    )


class ConfirmationIn(StrictBody):
    confirmed_on: date | None = Field(
        None,
        description=(
            "the day the lurah confirmed receipt (effective date); default today in the city. Not in"
            " the future, not before the programme's start nor the delivery: else 422"
        ),
    )
    photo_ref: StrictStr | None = Field(
        None,
        max_length=MAX_PHOTO_REF,
        description=(
            "where the proof photo is kept (object key or URL): kept in aid, sealed under the family's"
            " key, erased with the family; never published (the event carries an opaque `photo_id`)"
        ),
        examples=["s3://genting-proof/2025/03/d1.jpg"],
    )
    photo_id: UUID | None = Field(
        None,
        description=(
            "a photo of this delivery stored with `POST /deliveries/{id}/photo`: the confirmation's event"
            " carries this id. Not together with `photo_ref`; a photo of another delivery is a 422"
        ),
    )


class InterventionIn(StrictBody):
    kind: InterventionKind
    description: StrictStr = Field(
        min_length=1, max_length=MAX_DESCRIPTION, description="stays in aid, sealed under the family's key"
    )
    done_on: date | None = Field(
        None,
        description=(
            "the day it was done (effective date); default today in the city. Not in the future, not"
            " before the programme's start nor the plan's start: else 422"
        ),
    )
    value_rp: StrictInt = Field(
        ge=0,
        description=(
            "its value in rupiah, given in kind by the source named below: an intervention never draws on"
            " the family's sponsorships (they pay its food)"
        ),
    )
    funded_by: Literal["in_kind"] = Field(
        "in_kind",
        description="how it is paid; `in_kind` (the default and only value): given by its source, not drawn",
    )
    source_donor_id: UUID | None = Field(
        None, description="the orang tua asuh (funding's donor id) who gave it in kind; not with source_organisation"
    )
    source_organisation: str | None = Field(
        None,
        description=(
            "the organisation that gave it, by code (`pdam`, `baznas`): 1-64 lowercase letters, digits, '.',"
            " '_' or '-', never a sentence. Neither source given: reported as `unnamed`"
        ),
    )


# -- answers ------------------------------------------------------------------------------

PlanStatus = Literal["active", "completed", "incomplete", "closed"]


class PlanChanged(BaseModel):
    plan_id: UUID
    plan_status: PlanStatus
    days_covered: int
    delivered_rp: int = Field(description="the food delivered so far (the deliveries' value_rp)")
    distribution_rp: int = Field(
        0, description="what bringing it cost so far (the deliveries' distribution_rp), paid from the same budget"
    )
    remaining_rp: int = Field(description="budget_rp - delivered_rp - distribution_rp")
    shortfall_rp: int


class DeliveryRecorded(PlanChanged):
    delivery_id: UUID


class DeliveryConfirmedOut(BaseModel):
    delivery_id: UUID
    plan_id: UUID
    confirmed: bool
    confirmed_on: date
    photo_id: UUID | None
    # Not the reference itself: answers are kept for retries (Idempotency-Key), and a kept answer
    # would hold the family's photo reference in plain text past an erasure.
    has_photo: bool = Field(description="a photo reference was given; the reference itself is not in the answer")


class InterventionRecordedOut(BaseModel):
    intervention_id: UUID
    plan_id: UUID


class Gap(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    first: date = Field(alias="from")
    last: date = Field(alias="to")


class PlanOut(BaseModel):
    plan_id: UUID
    family_id: UUID
    kelurahan_code: str
    status: PlanStatus
    start_date: date
    end_date: date = Field(
        description=(
            "the plan's last day (inclusive): start_date + days - 1, where the days are GENTING_PLAN_DAYS, or,"
            " for a family the registry gave a plan_until (GENTING_PLAN_UNTIL_CHILD_MONTHS), never later than"
            " the day before it"
        )
    )
    days: int = Field(
        description=(
            "the plan's length in days: GENTING_PLAN_DAYS, or the family's days from its enrolment to its"
            " plan_until, shorter when the money came late"
        )
    )
    daily_minimum_rp: int = Field(description="the least a day's food is worth (value_rp per day covered)")
    distribution_daily_rp: int = Field(
        0,
        description=(
            "what bringing the food costs a day, as the plan opened with it (GENTING_DISTRIBUTION_COST_RP):"
            " the budget pays it on top of the food for every day a delivery covers; 0 when food alone"
        ),
    )
    budget_rp: int = Field(description="the family's sponsorships: it pays the food and its distribution")
    delivered_rp: int = Field(description="of the budget, what paid food (the deliveries' value_rp)")
    distribution_rp: int = Field(
        0, description="of the budget, what paid distribution (the deliveries' distribution_rp)"
    )
    remaining_rp: int = Field(description="budget_rp - delivered_rp - distribution_rp")
    shortfall_rp: int = Field(
        description=(
            "what the remaining budget lacks to pay the daily minimum and the distribution for the plan's"
            " uncovered days (gaps included); 0 when it can pay them, and once the plan has ended. A"
            " top-up sponsorship clears it"
        )
    )
    days_covered: int
    gaps: list[Gap]
    deliveries_count: int
    confirmed_count: int
    interventions_count: int
    opened_on: date
    closed_on: date | None
    outcome: Literal["completed", "incomplete", "exited"] | None
    unspent_rp: int | None
    version: int


class PlanPage(BaseModel):
    items: list[PlanOut]
    total: int
    limit: int
    offset: int


class DeliveryOut(BaseModel):
    delivery_id: UUID
    plan_id: UUID
    period_from: date
    period_to: date
    days: int
    value_rp: int = Field(description="the food's value, as recorded (at least the daily minimum x days)")
    distribution_rp: int = Field(
        0, description="what bringing it cost: the plan's distribution_daily_rp x days, computed, never typed"
    )
    items: list[dict[str, Any]]
    delivered_on: date
    recorded_by: str | None
    confirmed: bool
    confirmed_on: date | None
    confirmed_by: str | None
    photo_id: UUID | None
    photos: list[UUID] = Field(
        default_factory=list, description="proof photos stored for it (`GET /photos/{photo_id}`), oldest first"
    )
    photo_ref: str | None = Field(
        None, description="admin and the kelurahan's own staff only; none once the family's data is erased"
    )


class InterventionOut(BaseModel):
    intervention_id: UUID
    kind: str
    done_on: date
    value_rp: int
    funded_by: Literal["in_kind"] = Field("in_kind", description="given in kind: never drawn from a sponsorship")
    source_donor_id: UUID | None = Field(None, description="the donor who gave it, if one was named")
    source_organisation: str | None = Field(None, description="the organisation's code, if one was named")
    description: str | None = Field(None, description="admin and the kelurahan's own staff only")
    recorded_by: str | None = Field(None, description="admin and the kelurahan's own staff only")


class PlanDetail(PlanOut):
    deliveries: list[DeliveryOut]
    interventions: list[InterventionOut]


def _changed(after: Plan) -> dict[str, Any]:
    return {
        "plan_id": str(after.plan_id),
        "plan_status": after.status,
        "days_covered": after.days_covered,
        "delivered_rp": after.delivered_rp,
        "distribution_rp": after.distributed_rp,
        "remaining_rp": after.remaining_rp,
        "shortfall_rp": after.shortfall_rp,
    }


# -- commands -----------------------------------------------------------------------------


@router.post(
    "/plans/{plan_id}/deliveries",
    status_code=201,
    summary="Record a food delivery",
    description="Staff of the family's kelurahan, or an admin. The food covers days from its hand-over on "
    "(`period_from` not before `delivered_on`). 409 when a day is already covered, when the value exceeds "
    "the plan's remaining budget, or when the plan is no longer active: completed, closed by the family's "
    "exit, or ended incomplete. A plan ends incomplete once its last day plus GENTING_RECORDING_GRACE_DAYS "
    "is before the day the records are known complete through: today less GENTING_MAX_ENTRY_DELAY_DAYS "
    "(30; records may come that late, in any order), GENTING_ENTERED_THROUGH, or, where records are "
    "entered in date order (GENTING_ENTERED_IN_DATE_ORDER), the latest effective date among aid's "
    "records. So a delivery entered within the bound is taken as on its day; one entered later may find "
    "its plan ended. What funding cannot pay of a recorded delivery is its DeliveryUnfunded, not a refusal.",
    response_model=DeliveryRecorded,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
)
async def record_delivery(plan_id: UUID, body: DeliveryIn, request: Request, principal: Caller) -> JSONResponse:
    command = RecordDelivery(
        plan_id=plan_id,
        delivery_id=uuid4(),
        period_from=body.period_from,
        period_to=body.period_to,
        value_rp=body.value_rp,
        items=tuple(DeliveredItem(**i.model_dump()) for i in body.items),
        delivered_on=body.delivered_on or today(request),
        today=today(request),
        recorded_by=principal.sub,
    )

    def answer(after: Plan) -> tuple[int, dict[str, Any]]:
        return 201, {"delivery_id": str(command.delivery_id), **_changed(after)}

    return await run_handler(request, principal, handlers(request).record_on_plan, command, answer)


@router.post(
    "/deliveries/{delivery_id}/confirmation",
    summary="The lurah confirms the family received it",
    description="The lurah of the family's kelurahan (or an admin) confirms once (409 the second time). "
    "The account that recorded the delivery does not confirm it (409): the confirmation is a second person's word.",
    response_model=DeliveryConfirmedOut,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
)
async def confirm_delivery(
    delivery_id: UUID,
    request: Request,
    principal: Caller,
    body: Annotated[ConfirmationIn | None, Body()] = None,
) -> JSONResponse:
    photo_ref = body.photo_ref if body else None
    photo_id = body.photo_id if body else None
    if photo_id is not None and photo_ref is not None:
        raise InvalidCommand([FieldError("photo_id", "give photo_id or photo_ref, not both")])
    if photo_id is not None:
        photo_ref = f"{STORED_PHOTO_REF}{photo_id}"  # the object store's key (photo_store.py)
    day = today(request)
    confirmed_on = (body.confirmed_on if body else None) or day

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        command = await handlers(request).confirm_delivery(
            conn,
            delivery_id=delivery_id,
            photo_ref=photo_ref,
            photo_id=photo_id,
            confirmed_on=confirmed_on,
            today=day,
            actor=principal,
            meta=meta(request),
        )
        has_photo = photo_ref is not None
        return 200, {
            "delivery_id": str(delivery_id),
            "plan_id": str(command.plan_id),
            "confirmed": True,
            "confirmed_on": confirmed_on.isoformat(),
            "photo_id": str(command.photo_id) if has_photo else None,
            "has_photo": has_photo,
        }

    return await run_command(request, principal, execute)


@router.post(
    "/plans/{plan_id}/interventions",
    status_code=201,
    summary="Record an intervention beyond food",
    response_model=InterventionRecordedOut,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
)
async def record_intervention(plan_id: UUID, body: InterventionIn, request: Request, principal: Caller) -> JSONResponse:
    """An intervention is given **in kind** (`funded_by`: `in_kind`, the default and only value): it
    never draws on the family's sponsorships, which pay its food. Its `value_rp` is credited to the
    source it names: `source_donor_id` (an orang tua asuh; funding shows it on that donor's statement
    as `in_kind_interventions_rp`) or `source_organisation` (a code such as `pdam`), not both; with
    neither (the default, and every request of the original shape) it is reported as `unnamed`.
    Reporting's `interventions_by_source` sums to its `interventions_rp`. 422 names the field."""
    command = RecordIntervention(
        plan_id=plan_id,
        intervention_id=uuid4(),
        kind=body.kind,
        description=body.description,
        done_on=body.done_on or today(request),
        value_rp=body.value_rp,
        today=today(request),
        recorded_by=principal.sub,
        funded_by=body.funded_by,
        source_donor_id=body.source_donor_id,
        source_organisation=body.source_organisation,
    )

    def answer(_: Plan) -> tuple[int, dict[str, Any]]:
        return 201, {"intervention_id": str(command.intervention_id), "plan_id": str(plan_id)}

    return await run_handler(request, principal, handlers(request).record_on_plan, command, answer)


# -- queries ------------------------------------------------------------------------------


@router.get(
    "/plans",
    summary="Aid plans by family, kelurahan or status",
    response_model=PlanPage,
    response_model_by_alias=True,
    responses=problem_responses(401, 403, 422),
)
async def list_plans(
    request: Request,
    principal: Caller,
    family_id: UUID | None = None,
    kelurahan_code: KelurahanFilter = None,
    status: PlanStatus | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    principal.require(*READERS)
    return await queries.list_plans(
        request.app.state.pool,
        family_id=family_id,
        kelurahan_code=kelurahan_code,
        status=status,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/food-catalogue",
    summary="The city's food catalogue: what a delivery's items are matched to",
    description="Read-only, any signed-in role. Each food: `code`, `name`, its usual `unit`, and `aliases`. "
    "A delivery's `items[i].name` must be a food's code, name or alias (case and spaces do not matter), "
    "else 422 naming `items[i].name`; events carry the food's code and name, never the typed text. "
    "Configuration: GENTING_FOOD_CATALOGUE (a JSON file); Kota Pekalongan's is shipped with the code.",
    responses=problem_responses(401),
)
async def food_catalogue(request: Request, principal: Caller) -> dict[str, Any]:
    return {"foods": handlers(request).rules.catalogue.as_json()}


@router.get(
    "/plans/{plan_id}",
    summary="One plan with its deliveries and interventions",
    response_model=PlanDetail,
    response_model_exclude_unset=True,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_plan(plan_id: UUID, request: Request, principal: Caller) -> dict[str, Any]:
    principal.require(*READERS)
    return await queries.get_plan(request.app.state.pool, plan_id, may_see_private(principal))
