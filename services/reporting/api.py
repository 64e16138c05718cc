"""Reporting's HTTP API (CONTRACT.md, Reporting): the reports as JSON and CSV. The HTML pages'
routes live with the pages they build: `GET /` in dashboard.py, `GET /transparency` in
transparency.py.

Who may read what (decided here, documented in the service description and the README):
- public, no token: `/`, `/progress`, `/progress/history`, `/funding`, `/aid` and the CSV exports.
  They are city-wide, de-identified aggregates that the programme publishes (the public and donors
  are among the audience), and the dashboard must open on any browser without a login. A token is
  not needed and not looked at.
- a bearer token: `/outcomes` (children's health, even aggregated, is specific personal data under
  UU 27/2022: small kelurahan cells could point at a child), `/aid/gaps` and `/aid/underfunded`
  (pseudonymous plan ids to chase). Admin, auditor and agency (the read-only, de-identified roles)
  see every kelurahan; a lurah or kader sees the city totals and their own kelurahan only; a donor
  sees the city totals of /outcomes only. `census` and `treasurer` enter data (families,
  contributions) and read nothing here beyond the public reports: 403.

Every route is a read: no body, no query parameters, so the only problems are 401/403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.reporting import exports, queries, transparency
from services.reporting.areas import Areas
from services.reporting.queries import consistent_read
from services.reporting.reports import AidReport, FundingReport, OutcomesReport, PlanGap, ProgressWeek, UnderfundedPlan
from services.reporting.settings import ReportingSettings
from shared.contracts.reporting import CityProgress
from shared.deps import Caller, today
from shared.http import problem_responses

router = APIRouter(tags=["reporting"])
FULL_VIEW = ("admin", "auditor", "agency")
AREA_VIEW = ("lurah", "kader")
OUTCOME_VIEW = (*FULL_VIEW, *AREA_VIEW, "donor")
NO_CACHE = {"Cache-Control": "no-cache"}


def _plan_scope(caller: Caller) -> str | None:
    """Which plans a caller lists by kelurahan: all (None) for FULL_VIEW, their own for AREA_VIEW;
    anyone else is refused (403)."""
    caller.require(*FULL_VIEW, *AREA_VIEW)
    return caller.kelurahan if caller.role in AREA_VIEW else None


PlanScope = Annotated[str | None, Depends(_plan_scope)]


class CSVResponse(Response):
    media_type = "text/csv"


def _csv_content(name: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": f"genting-{name}.csv, RFC 4180, UTF-8", "content": {"text/csv": {}}}}


def _settings(request: Request) -> ReportingSettings:
    settings = request.app.state.settings
    assert isinstance(settings, ReportingSettings)
    return settings


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


def _areas(request: Request) -> Areas:
    areas: Areas = request.app.state.areas  # the deployment's city (GENTING_CITY)
    return areas


def _reports(request: Request) -> queries.ReportQueries:
    return queries.ReportQueries(_settings(request), _areas(request), today(request))


@router.get("/progress", response_model=CityProgress, summary="Progress against the target (public)")
async def get_progress(request: Request) -> CityProgress:
    """Families per stage, city-wide, per kecamatan and for every kelurahan of the deployment's city
    (`GENTING_CITY`, Kemendagri reference data; zeros included), in code order.

    `registered`, `enrolled`, `sponsored`, `completed`, `exited`, `rejected` count families that
    ever reached that point (a family is counted once however many sponsorships or plans it has,
    and stays counted after it exits); `aid_active` counts families with a plan open right now.
    """
    async with consistent_read(_pool(request)) as conn:
        return await _reports(request).progress(conn)


@router.get(
    "/progress/history", response_model=list[ProgressWeek], summary="Progress week by week, by effective dates (public)"
)
async def get_progress_history(request: Request) -> list[ProgressWeek]:
    """One item a week, its Monday as `period_start`, from the week of the programme's start
    (`GENTING_PROGRAMME_START`) to this week in the city's time zone. Each count is the city's as
    of the end of that week (Sunday) by the events' effective dates (`registered_on`,
    `enrolled_on`, the first sponsorship's `sponsored_on`, the plan's `start_date` to its
    `completed_on`/`closed_on` for `aid_active`, `completed_on`, `exited_on`), not by when they
    were entered: records entered late take their place in the past weeks. The last item agrees
    with `GET /progress`."""
    async with consistent_read(_pool(request)) as conn:
        return await _reports(request).history(conn)


@router.get("/funding", response_model=FundingReport, summary="Funding by donor type (public)")
async def get_funding(request: Request) -> FundingReport:
    """`allocated_rp` is net: sponsored less released back (the same meaning as funding's
    `GET /donors/{id}`; `drawn_rp` is separate: drawn money stays allocated, it was spent on the
    family). `available_rp` = received - allocated. `funding_gap_rp` uses each family's minimum:
    its plan days x (`GENTING_DAILY_MINIMUM_RP` + `GENTING_DISTRIBUTION_COST_RP`), the minimum aid
    opens a plan at, the days being `GENTING_PLAN_DAYS` (`family_minimum_rp`, the programme
    default) or, for a family the registry gave a `plan_until` (GENTING_PLAN_UNTIL_CHILD_MONTHS),
    the days from its enrolment to that date. `underfunded_plans` / `top_up_needed_rp`: active
    plans whose remaining budget cannot pay the daily minimum (and distribution) for their
    uncovered days left (aid's `AidPlanUnderfunded`), and what they lack together. `unfunded_rp`:
    food and distribution delivered that no sponsorship could pay (funding's `DeliveryUnfunded`):
    `GET /aid`'s `delivered_rp` + `distribution_rp` = `drawn_rp` + `unfunded_rp`. With a
    distribution cost, `drawn_distribution_rp` and `unfunded_distribution_rp` say what of each
    was distribution."""
    async with consistent_read(_pool(request)) as conn:
        return await _reports(request).funding(conn)


@router.get("/aid", response_model=AidReport, summary="Aid delivered, education, interventions (public)")
async def get_aid(request: Request) -> AidReport:
    """`plans_with_gaps` / `gap_days` / `gaps_to_chase` agree with aid's current gaps: the
    uncovered days from a plan's start to its last day accounted for; a late delivery that fills
    a recorded gap removes it, a completed plan has none, and `gaps_to_chase` lists only
    kelurahan with an active plan missing days. `deliveries_by_week`: by `delivered_on`, one item
    a week (Monday) from the programme's start to this week. `delivered_rp` is the food's value,
    `distribution_rp` what bringing it cost (`GENTING_DISTRIBUTION_COST_RP` a day covered; 0
    without one). Every delivered rupiah of both is either drawn from a sponsorship or unfunded:
    `delivered_rp` + `distribution_rp` = `drawn_rp` + `unfunded_rp` (funding's `SponsorshipDrawn`
    and `DeliveryUnfunded`; equal once reporting has read both streams).
    Interventions are given in kind, never drawn from sponsorships: `interventions_by_source`
    (`donor` by id, `organisation` by code, `unnamed`) sums to `interventions_rp`."""
    async with consistent_read(_pool(request)) as conn:
        return await _reports(request).aid(conn)


@router.get(
    "/aid/gaps",
    response_model=list[PlanGap],
    summary="Active plans with uncovered days",
    responses=problem_responses(401, 403),
)
async def get_plan_gaps(request: Request, kelurahan: PlanScope) -> list[PlanGap]:
    """Admin, auditor, agency: every kelurahan; lurah, kader: their own. Others 403."""
    async with consistent_read(_pool(request)) as conn:
        return await queries.plan_gaps(conn, _areas(request), kelurahan)


@router.get(
    "/aid/underfunded",
    response_model=list[UnderfundedPlan],
    summary="Active plans that need a top-up",
    responses=problem_responses(401, 403),
)
async def get_underfunded_plans(request: Request, kelurahan: PlanScope) -> list[UnderfundedPlan]:
    """Active plans whose remaining budget cannot pay the daily minimum for their uncovered days
    left (`shortfall_rp`, from aid's AidPlanUnderfunded; gone after AidPlanFullyFunded), the
    largest shortfall first. Admin, auditor, agency: every kelurahan; lurah, kader: their own.
    Others 403."""
    async with consistent_read(_pool(request)) as conn:
        return await queries.underfunded_plans(conn, _areas(request), kelurahan)


@router.get(
    "/outcomes",
    response_model=OutcomesReport,
    summary="Children measured and stunted",
    responses=problem_responses(401, 403),
)
async def get_outcomes(request: Request, caller: Caller) -> OutcomesReport:
    """Admin, auditor, agency: every kelurahan; lurah, kader: the city totals and their own
    kelurahan; donor: the city totals. census, treasurer: 403. `by_month` (city-wide): each child
    measured in a month counts once, by its latest measurement of that month."""
    caller.require(*OUTCOME_VIEW)
    async with consistent_read(_pool(request)) as conn:
        report = await _reports(request).outcomes(conn)
    if caller.role in FULL_VIEW:
        return report
    own = [k for k in report.by_kelurahan if caller.role in AREA_VIEW and k.kelurahan_code == caller.kelurahan]
    return report.model_copy(update={"by_kelurahan": own})


def _csv(body: str, name: str) -> CSVResponse:
    return CSVResponse(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="genting-{name}.csv"', **NO_CACHE},
    )


def _export(
    name: str,
    report: Callable[[queries.ReportQueries, asyncpg.Connection], Awaitable[Any]],
    flat: Callable[[Any], str],
) -> None:
    """GET /export/<name>.csv: the report GET /<name> answers, as one CSV file (public)."""

    async def export(request: Request) -> CSVResponse:
        async with consistent_read(_pool(request)) as conn:
            return _csv(flat(await report(_reports(request), conn)), name)

    export.__name__ = f"export_{name}"  # the OpenAPI operation's id, as it always was
    router.add_api_route(
        f"/export/{name}.csv",
        export,
        methods=["GET"],
        response_class=CSVResponse,
        summary=f"GET /{name} as CSV (public)",
        responses=_csv_content(name),
    )


_export("progress", queries.ReportQueries.progress, exports.progress_csv)
_export("funding", queries.ReportQueries.funding, exports.funding_csv)
_export("aid", queries.ReportQueries.aid, exports.aid_csv)


@router.get(
    "/grievances/summary",
    response_model=transparency.GrievanceSummary,
    summary="Grievances by category, status and kelurahan, overdue, median days to resolve (public)",
)
async def get_grievance_summary(request: Request) -> dict[str, Any]:
    """De-identified counts from aid's grievance events (which carry no text): public like the
    other city-wide reports. `overdue`: not resolved and past the due day (today in the city)."""
    async with consistent_read(_pool(request)) as conn:
        return await _reports(request).grievances(conn)
