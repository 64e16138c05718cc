"""Reporting's HTTP API (CONTRACT.md, Reporting): the reports as JSON, CSV and the dashboard.

Who may read what (decided here, documented in the service description):
- public, no token: `/`, `/progress`, `/funding`, `/aid` and the CSV exports. They are city-wide,
  de-identified aggregates that the programme publishes (the public and donors are among the
  audience), and the dashboard must open on any browser without a login. A token is not needed
  and not looked at.
- a bearer token: `/outcomes` (children's health, even aggregated, is specific personal data under
  UU 27/2022: small kelurahan cells could point at a child) and `/aid/gaps` (pseudonymous plan ids
  to chase). Admin, auditor and agency see every kelurahan; a lurah or kader sees the city totals
  and their own kelurahan only; a donor sees the city totals of /outcomes only.

Every route is a read: no body, no query parameters, so the only problems are 401/403.
"""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from services.reporting import dashboard, exports, queries
from services.reporting.queries import consistent_read
from services.reporting.reports import AidReport, FundingReport, OutcomesReport, PlanGap
from services.reporting.settings import ReportingSettings
from shared.auth import Principal
from shared.contracts.reporting import CityProgress
from shared.http import authenticate, problem_responses

router = APIRouter(tags=["reporting"])
Caller = Annotated[Principal, Depends(authenticate)]
FULL_VIEW = ("admin", "auditor", "agency")
AREA_VIEW = ("lurah", "kader")
NO_CACHE = {"Cache-Control": "no-cache"}


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


async def _progress(request: Request, conn: asyncpg.Connection) -> CityProgress:
    return await queries.progress(conn, _settings(request).target_families)


async def _funding(request: Request, conn: asyncpg.Connection) -> FundingReport:
    return await queries.funding(conn, _settings(request).family_minimum_rp)


@router.get("/progress", response_model=CityProgress, summary="Progress against the target (public)")
async def get_progress(request: Request) -> CityProgress:
    """Families per stage, city-wide, per kecamatan and for all 27 kelurahan (zeros included).

    `registered`, `enrolled`, `sponsored`, `completed`, `exited`, `rejected` count families that
    ever reached that point (a family is counted once however many sponsorships or plans it has,
    and stays counted after it exits); `aid_active` counts families with a plan open right now.
    """
    async with consistent_read(_pool(request)) as conn:
        return await _progress(request, conn)


@router.get("/funding", response_model=FundingReport, summary="Funding by donor type (public)")
async def get_funding(request: Request) -> FundingReport:
    async with consistent_read(_pool(request)) as conn:
        return await _funding(request, conn)


@router.get("/aid", response_model=AidReport, summary="Aid delivered, education, interventions (public)")
async def get_aid(request: Request) -> AidReport:
    async with consistent_read(_pool(request)) as conn:
        return await queries.aid(conn)


@router.get(
    "/aid/gaps",
    response_model=list[PlanGap],
    summary="Active plans with uncovered days",
    responses=problem_responses(401, 403),
)
async def get_plan_gaps(request: Request, caller: Caller) -> list[PlanGap]:
    caller.require(*FULL_VIEW, *AREA_VIEW)
    async with consistent_read(_pool(request)) as conn:
        return await queries.plan_gaps(conn, caller.kelurahan if caller.role in AREA_VIEW else None)


@router.get(
    "/outcomes",
    response_model=OutcomesReport,
    summary="Children measured and stunted",
    # Any valid token may read (a donor sees the city totals), so never 403.
    responses=problem_responses(401),
)
async def get_outcomes(request: Request, caller: Caller) -> OutcomesReport:
    async with consistent_read(_pool(request)) as conn:
        report = await queries.outcomes(conn)
    if caller.role in FULL_VIEW:
        return report
    own = [k for k in report.by_kelurahan if caller.role in AREA_VIEW and k.kelurahan_code == caller.kelurahan]
    return report.model_copy(update={"by_kelurahan": own})


@router.get(
    "/",
    response_class=HTMLResponse,
    summary="The dashboard (public HTML page)",
    responses={200: {"description": "One HTML page, no script; reloads itself", "content": {"text/html": {}}}},
)
async def get_dashboard(request: Request) -> HTMLResponse:
    settings = _settings(request)
    async with consistent_read(_pool(request)) as conn:
        progress = await _progress(request, conn)
        funding = await _funding(request, conn)
        aid = await queries.aid(conn)
    html = dashboard.render(
        progress,
        funding,
        aid,
        city=settings.city_name,
        refresh_seconds=settings.dashboard_refresh_seconds,
        zone=settings.zone(),
    )
    return HTMLResponse(html, headers=NO_CACHE)


def _csv(body: str, name: str) -> CSVResponse:
    return CSVResponse(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="genting-{name}.csv"', **NO_CACHE},
    )


@router.get(
    "/export/progress.csv",
    response_class=CSVResponse,
    summary="GET /progress as CSV (public)",
    responses=_csv_content("progress"),
)
async def export_progress(request: Request) -> CSVResponse:
    async with consistent_read(_pool(request)) as conn:
        return _csv(exports.progress_csv(await _progress(request, conn)), "progress")


@router.get(
    "/export/funding.csv",
    response_class=CSVResponse,
    summary="GET /funding as CSV (public)",
    responses=_csv_content("funding"),
)
async def export_funding(request: Request) -> CSVResponse:
    async with consistent_read(_pool(request)) as conn:
        return _csv(exports.funding_csv(await _funding(request, conn)), "funding")


@router.get(
    "/export/aid.csv", response_class=CSVResponse, summary="GET /aid as CSV (public)", responses=_csv_content("aid")
)
async def export_aid(request: Request) -> CSVResponse:
    async with consistent_read(_pool(request)) as conn:
        return _csv(exports.aid_csv(await queries.aid(conn)), "aid")
