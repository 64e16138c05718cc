"""The public transparency page (`GET /transparency`) and the grievance summary
(`GET /grievances/summary`): money received, allocated and drawn by donor type and month;
grievances by category, status and kelurahan. All from reporting's de-identified read model.

Two things reporting cannot know and leaves to funding's public routes, linked from the page:
checking a receipt's verification code (only funding holds the key and the codes:
`GET /receipts/verify/{code}`) and the names of the donors that agreed to be named (names are
personal data sealed in funding, never on the bus: `GET /public/donor-names`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg
from pydantic import BaseModel, Field

from services.reporting.rendering import render


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


STATUS = (
    "case when resolved_on is not null then 'resolved' when escalated_on is not null then 'escalated' else 'open' end"
)


async def grievance_summary(conn: asyncpg.Connection, today: date) -> dict[str, Any]:
    rows = await conn.fetch(
        f"select coalesce(category, 'other') as category, {STATUS} as status, coalesce(kelurahan_code, '') as k,"
        " due_on, filed_on, resolved_on from grievances_view where filed_on is not null"
    )

    def count(key: str) -> list[dict[str, Any]]:
        counts: dict[str, int] = {}
        for r in rows:
            counts[r[key]] = counts.get(r[key], 0) + 1
        return [{"key": k, "count": n} for k, n in sorted(counts.items())]

    durations = sorted((r["resolved_on"] - r["filed_on"]).days for r in rows if r["resolved_on"] is not None)
    median: float | None = None
    if durations:
        mid = len(durations) // 2
        median = float(durations[mid]) if len(durations) % 2 else (durations[mid - 1] + durations[mid]) / 2
    return {
        "total": len(rows),
        "by_category": count("category"),
        "by_status": count("status"),
        "by_kelurahan": count("k"),
        "overdue": sum(1 for r in rows if r["status"] != "resolved" and r["due_on"] and r["due_on"] < today),
        "median_days_to_resolve": median,
    }


async def money_by_month(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "select month, donor_type, received_rp, sponsored_rp - released_rp as allocated_rp, drawn_rp"
        " from money_by_month_view order by month, donor_type"
    )
    return [{**dict(r), "month": r["month"].strftime("%Y-%m")} for r in rows]


def page(city: str, months: list[dict[str, Any]], grievances: dict[str, Any], funding_url: str) -> str:
    return render(
        "transparency.html", city=city, months=months, grievances=grievances, funding_url=funding_url.rstrip("/")
    )
