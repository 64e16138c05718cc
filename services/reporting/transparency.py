"""The public transparency page (`GET /transparency`) and the grievance summary
(`GET /grievances/summary`): money received, allocated and drawn by donor type and month;
grievances by category, status and kelurahan. All from reporting's de-identified read model,
read by `queries.money_by_month` and `queries.grievance_summary`; here the answers' shapes, and the
page with its route.

Two things reporting cannot know and leaves to funding's public routes, linked from the page:
checking a receipt's verification code (only funding holds the key and the codes:
`GET /receipts/verify/{code}`) and the names of the donors that agreed to be named (names are
personal data sealed in funding, never on the bus: `GET /public/donor-names`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from services.reporting import queries
from services.reporting.rendering import render
from services.reporting.settings import ReportingSettings
from shared.deps import today

router = APIRouter(tags=["reporting"])


class CountBy(BaseModel):
    key: str
    count: int


class GrievanceSummary(BaseModel):
    total: int
    by_category: list[CountBy]
    by_status: list[CountBy] = Field(description="open | escalated | resolved")
    by_kelurahan: list[CountBy]
    overdue: int = Field(description="not resolved and past their due day")
    median_days_to_resolve: float | None


class MonthMoney(BaseModel):
    month: str = Field(description="YYYY-MM")
    donor_type: str
    received_rp: int
    allocated_rp: int = Field(description="sponsored less released back in that month")
    drawn_rp: int


def page(city: str, months: list[dict[str, Any]], grievances: dict[str, Any], funding_url: str) -> str:
    return render(
        "transparency.html", city=city, months=months, grievances=grievances, funding_url=funding_url.rstrip("/")
    )


@router.get(
    "/transparency",
    response_class=HTMLResponse,
    summary="The public transparency page: money by donor type and month, receipt check, grievances",
    responses={200: {"description": "One HTML page", "content": {"text/html": {}}}},
)
async def get_transparency(request: Request) -> HTMLResponse:
    settings: ReportingSettings = request.app.state.settings
    reports = queries.ReportQueries(settings, request.app.state.areas, today(request))
    async with queries.consistent_read(request.app.state.pool) as conn:
        months = await queries.money_by_month(conn)
        grievances = await reports.grievances(conn)
    html = page(request.app.state.programme.city_name, months, grievances, settings.funding_public_url)
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})
