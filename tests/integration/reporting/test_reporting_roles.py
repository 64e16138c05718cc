"""Who may read what in reporting (CONTRACT.md roles): every route of the app x every
role x in scope / out of scope, plus no token and an expired token.

Reporting is read-only. Its city-wide, de-identified reports (the dashboard, /progress,
/progress/history, /funding, /aid, the CSV exports) and the kernel's routes are public: a token is
not looked at, so even an expired one reads them. /outcomes, /aid/gaps and /aid/underfunded need a
token: admin, auditor and agency (the read-only de-identified roles) see every kelurahan; a lurah
or kader the city and their own kelurahan; a donor the city totals of /outcomes; census and
treasurer (data entry) are refused. The matrix walks `app.routes`: a route added without an
expectation here fails the test.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext
from reporting_support import publish, wait_caught_up

from shared.auth import ROLES, issue_token
from shared.testing import TEST_SIGNING_KEY
from shared.testing import reporting_scenarios as S
from shared.testing.apps import routes

pytestmark = pytest.mark.integration

PUBLIC = {
    "/",
    "/progress",
    "/progress/history",
    "/funding",
    "/aid",
    "/export/progress.csv",
    "/export/funding.csv",
    "/export/aid.csv",
    "/grievances/summary",
    "/transparency",
    # the kernel's
    "/openapi.json",
    "/docs",
    "/asyncapi",
    "/health/live",
    "/health/ready",
    "/metrics",
}
MOUNTS = {"/docs/static"}  # Swagger UI's files, served offline
FULL = {"admin", "auditor", "agency"}
AREA = {"lurah", "kader"}
# route -> the roles that may read it (all others: 403)
PROTECTED: dict[str, set[str]] = {
    "/outcomes": FULL | AREA | {"donor"},
    "/aid/gaps": FULL | AREA,
    "/aid/underfunded": FULL | AREA,
}


def bearer(role: str, kelurahan: str | None = None, *, expired: bool = False) -> dict[str, str]:
    now = time.time() - 86_400 if expired else None
    jwt = issue_token(
        TEST_SIGNING_KEY,
        role=role,
        sub=f"{role}-{kelurahan or 'city'}",
        kelurahan=kelurahan,
        donor_id="d-1" if role == "donor" else None,
        ttl_seconds=3600,
        now=now,
    )
    return {"Authorization": f"Bearer {jwt}"}


def callers() -> list[tuple[str, str, dict[str, str]]]:
    """(role, scope, headers): in scope = Medono (where the data is), out of scope = Krapyak."""
    out = []
    for role in ROLES:
        if role in AREA:
            out += [(role, "in", bearer(role, S.MEDONO)), (role, "out", bearer(role, S.KRAPYAK))]
        elif role == "census":  # with a kelurahan and without (city-wide census)
            out += [(role, "in", bearer(role, S.MEDONO)), (role, "city", bearer(role))]
        else:
            out.append((role, "city", bearer(role)))
    return out


@pytest.fixture
async def loaded(reporting: httpx.AsyncClient, js: JetStreamContext) -> httpx.AsyncClient:
    p = S.scripted()
    plan = p.open_plan(p.register(S.MEDONO))
    p.underfunded(plan, shortfall_rp=45_000, uncovered_days=173, remaining_rp=2_550_000, on=4)
    await publish(js, p.published)
    await wait_caught_up(js)
    return reporting


def medono_rows(path: str, body: Any) -> int:
    """How much of Medono a body shows (for the scoped routes)."""
    if path == "/outcomes":
        return sum(1 for k in body["by_kelurahan"] if k["kelurahan_code"] == S.MEDONO)
    return sum(1 for p in body if p["kelurahan_code"] == S.MEDONO)


async def test_every_route_answers_each_role_in_and_out_of_scope_as_the_contract_says(
    loaded: httpx.AsyncClient,
) -> None:
    found = list(routes(loaded.app))  # type: ignore[attr-defined]
    assert {p for p, _, mount in found if mount} == MOUNTS
    paths = {p for p, _, mount in found if not mount}
    assert paths == PUBLIC | set(PROTECTED), f"routes without an expectation: {paths ^ (PUBLIC | set(PROTECTED))}"
    assert all(methods <= {"GET", "HEAD"} for _, methods, _ in found)  # reporting only reads

    wrong: list[str] = []
    for path in sorted(paths):
        for role, scope, headers in callers():
            allowed = path in PUBLIC or role in PROTECTED[path]
            response = await loaded.get(path, headers=headers)
            expected = 200 if allowed else 403
            if response.status_code != expected:
                wrong.append(f"{path} {role}/{scope}: {response.status_code}, expected {expected}")
                continue
            if path in PROTECTED and allowed:
                shown, body = medono_rows(path, response.json()), response.json()
                # Full view: Medono's rows; an area role in scope: only Medono; out of scope or a
                # donor: none of Medono.
                want = 1 if role in FULL or (role in AREA and scope == "in") else 0
                if shown != want:
                    wrong.append(f"{path} {role}/{scope}: shows Medono {shown}x, expected {want}x")
                if (
                    role in AREA
                    and path != "/outcomes"
                    and any(p["kelurahan_code"] != (S.MEDONO if scope == "in" else S.KRAPYAK) for p in body)
                ):
                    wrong.append(f"{path} {role}/{scope}: shows another kelurahan")
                if role == "donor" and body["by_kelurahan"]:
                    wrong.append(f"{path} donor: shows kelurahan rows")
        for label, headers in (("no token", {}), ("expired token", bearer("admin", expired=True))):
            response = await loaded.get(path, headers=headers)
            expected = 200 if path in PUBLIC else 401
            if response.status_code != expected:
                wrong.append(f"{path} {label}: {response.status_code}, expected {expected}")
    assert wrong == []
