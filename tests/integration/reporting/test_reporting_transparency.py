"""The grievance summary and the public transparency page, from aid's and funding's events as
they arrive on the bus: counts by category, status and kelurahan, overdue, median days to
resolve; money by donor type and month; no donor's name and no grievance text anywhere."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext
from reporting_support import publish, wait_caught_up

from shared.contracts import aid as A
from shared.testing.reporting_examples import Programme

pytestmark = pytest.mark.integration

MEDONO, KAUMAN = "33.75.01.1002", "33.75.02.1004"


def grievance(p: Programme, kelurahan: str, category: A.GrievanceCategory, on: int, resolved_after: int | None) -> None:
    gid, filed_on = p.new_id(), p.day(on)
    common: dict[str, Any] = {
        "grievance_id": gid,
        "kelurahan_code": kelurahan,
        "category": category,
        "filed_on": filed_on,
    }
    p.emit(A.GrievanceFiled(**common, due_on=filed_on + timedelta(days=7)))
    if resolved_after is None:
        p.emit(A.GrievanceEscalated(**common, escalated_on=filed_on + timedelta(days=8)))
    else:
        p.emit(A.GrievanceResolved(**common, resolved_on=filed_on + timedelta(days=resolved_after)))


async def test_the_grievance_summary_and_the_transparency_page(
    reporting: httpx.AsyncClient, js: JetStreamContext
) -> None:
    p = Programme()
    grievance(p, MEDONO, "missed_delivery", 1, resolved_after=2)
    grievance(p, MEDONO, "missed_delivery", 3, resolved_after=6)
    grievance(p, KAUMAN, "food_quality", 4, resolved_after=3)
    grievance(p, KAUMAN, "conduct", 5, resolved_after=None)  # escalated, still open: overdue
    family = p.register(MEDONO)
    p.enroll(family)
    donor = p.donor("csr", received_rp=5_000_000, on=1)
    p.sponsor(donor, family, 2_700_000, on=2)
    await publish(js, p.published)
    await wait_caught_up(js)

    summary = (await reporting.get("/grievances/summary")).json()
    assert summary["total"] == 4
    assert {c["key"]: c["count"] for c in summary["by_category"]} == {
        "conduct": 1,
        "food_quality": 1,
        "missed_delivery": 2,
    }
    assert {c["key"]: c["count"] for c in summary["by_status"]} == {"escalated": 1, "resolved": 3}
    assert {c["key"]: c["count"] for c in summary["by_kelurahan"]} == {KAUMAN: 2, MEDONO: 2}
    assert summary["overdue"] == 1
    assert summary["median_days_to_resolve"] == 3.0

    page = await reporting.get("/transparency")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    month = p.day(1).strftime("%Y-%m")
    assert month in page.text and "Rp5.000.000" in page.text and "Rp2.700.000" in page.text
    assert "/receipts/verify/" in page.text  # the receipt check goes to funding's public route
    assert 'href="/transparency"' in (await reporting.get("/")).text


async def test_the_dashboard_shows_the_grievance_summary(reporting: httpx.AsyncClient, js: JetStreamContext) -> None:
    p = Programme()
    grievance(p, MEDONO, "missed_delivery", 1, resolved_after=2)
    grievance(p, MEDONO, "food_quality", 2, resolved_after=5)
    grievance(p, KAUMAN, "conduct", 3, resolved_after=None)  # escalated, still open: overdue
    await publish(js, p.published)
    await wait_caught_up(js)

    summary = (await reporting.get("/grievances/summary")).json()
    html = (await reporting.get("/")).text
    shown = dict(re.findall(r'data-metric="(grievances\.[^"]+)" data-value="([^"]*)"', html))
    assert int(shown["grievances.total"]) == summary["total"] == 3
    assert int(shown["grievances.overdue"]) == summary["overdue"] == 1
    assert float(shown["grievances.median_days_to_resolve"]) == summary["median_days_to_resolve"] == 3.5
    assert "3,5" in html
    for group in ("by_category", "by_status", "by_kelurahan"):
        expected = {c["key"]: c["count"] for c in summary[group]}
        prefix = f"grievances.{group}."
        assert {k.removeprefix(prefix): int(v) for k, v in shown.items() if k.startswith(prefix)} == expected
    assert {c["key"]: c["count"] for c in summary["by_status"]} == {"escalated": 1, "resolved": 2}
    assert "Kiriman terlewat" in html and "Dieskalasi" in html  # labelled, not codes
