"""Who may do what in funding (CONTRACT.md roles): every route of the app x every role x
in scope / out of scope, plus no token and an expired token.

admin does everything; `treasurer` records contributions and reads donors (with their names, to
match a transfer to its donor); `auditor` reads statements without names and the per-type totals;
`agency` is read-only: the de-identified per-type totals and a family's funding (no names); a
`donor` pledges for and reads only itself (in scope) and the families it sponsors; lurah, kader and
census have nothing to do in funding. Allowed: 2xx or a non-auth 4xx (a repeated reference is a
409); not allowed: 403; no token or an expired one: 401. The matrix walks `app.routes`: a route
added without an expectation here fails the test.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import pytest
from funding_support import TODAY, Funding

from shared.auth import ROLES, issue_token
from shared.testing import TEST_SIGNING_KEY
from shared.testing.apps import routes

pytestmark = pytest.mark.integration

PUBLIC = {"/openapi.json", "/docs", "/asyncapi", "/health/live", "/health/ready", "/metrics"}
# Anyone, no token: checking a receipt's code (an unknown code is 404) and the consenting donors' names.
PUBLIC |= {"/receipts/verify/{code}", "/public/donor-names"}
MOUNTS = {"/docs/static"}
# (method, path) -> the roles allowed; "donor" here means a donor in scope (its own donor, a family
# it sponsors); a donor out of scope is always refused.
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("POST", "/donors"): {"admin"},
    ("POST", "/donors/{donor_id}/pledges"): {"admin", "donor"},
    ("POST", "/donors/{donor_id}/contributions"): {"admin", "treasurer"},
    ("POST", "/sponsorships"): {"admin"},
    ("GET", "/donors/{donor_id}"): {"admin", "treasurer", "auditor", "donor"},
    ("GET", "/donors"): {"admin", "treasurer", "auditor", "agency", "donor", "donor-out"},
    ("GET", "/families/{family_id}/funding"): {"admin", "auditor", "agency", "donor"},
    ("GET", "/donors/{donor_id}/families"): {"admin", "treasurer", "donor"},
    ("GET", "/donors/{donor_id}/contributions/{contribution_id}/receipt"): {"admin", "treasurer", "donor"},
    # After it the donor's contributions are still recorded, their receipts' references refused (409).
    ("DELETE", "/donors/{donor_id}/personal-data"): {"admin"},
}


def bearer(role: str, donor_id: UUID | None = None, *, expired: bool = False) -> dict[str, str]:
    jwt = issue_token(
        TEST_SIGNING_KEY,
        role=role,
        sub=f"{role}-roles",
        kelurahan="33.75.01.1002" if role in ("lurah", "kader") else None,
        donor_id=str(donor_id) if donor_id else None,
        ttl_seconds=3600,
        now=time.time() - 86_400 if expired else None,
    )
    return {"Authorization": f"Bearer {jwt}"}


async def test_every_route_answers_each_role_in_and_out_of_scope_as_the_contract_says(funding: Funding) -> None:
    donor = await funding.donor("csr", received_rp=50_000_000)
    family = await funding.upstream.enrol()
    await funding.upstream.settled(funding.app)
    assert (await funding.sponsor(donor, family, 1_000_000)).status_code == 201

    bodies: dict[tuple[str, str], Callable[[], dict[str, Any]]] = {
        ("POST", "/donors"): lambda: {"name": "Donatur", "donor_type": "csr"},
        ("POST", "/donors/{donor_id}/pledges"): lambda: {"amount_rp": 1_000},
        ("POST", "/donors/{donor_id}/contributions"): lambda: {
            "amount_rp": 1_000,
            "received_on": TODAY.isoformat(),
            "method": "transfer",
            "reference": f"TRF-{uuid4().hex[:8]}",
        },
        ("POST", "/sponsorships"): lambda: {
            "donor_id": str(donor),
            "family_id": str(family),
            "amount_rp": 1_000,
            "start_date": TODAY.isoformat(),
        },
    }
    found = list(routes(funding.app))
    assert {p for p, _, mount in found if mount} == MOUNTS
    pairs = {(m, p) for p, methods, mount in found if not mount for m in methods if m != "HEAD"}
    public = {(m, p) for m, p in pairs if p in PUBLIC}
    assert pairs - public == set(ALLOWED), f"routes without an expectation: {(pairs - public) ^ set(ALLOWED)}"

    callers = [(role, role, bearer(role)) for role in ROLES if role != "donor"]
    callers += [("donor", "donor", bearer("donor", donor)), ("donor", "donor-out", bearer("donor", uuid4()))]
    wrong: list[str] = []
    for method, path in sorted(ALLOWED):
        url = path.replace("{donor_id}", str(donor)).replace("{family_id}", str(family))
        url = url.replace("{contribution_id}", str(uuid4()))
        body = bodies.get((method, path))

        async def call(headers: dict[str, str], url: str = url, method: str = method, body: Any = body) -> int:
            response = await funding.http.request(method, url, json=body() if body else None, headers=headers)
            return response.status_code

        for _role, scope, headers in callers:
            status = await call(headers)
            allowed = scope in ALLOWED[(method, path)]
            ok = (200 <= status < 300 or status in (404, 409, 422)) if allowed else status == 403
            if not ok:
                wrong.append(f"{method} {path} {scope}: {status}, expected {'allowed' if allowed else 403}")
        for what, headers in (("no token", {}), ("expired", bearer("admin", expired=True))):
            if (status := await call(headers)) != 401:
                wrong.append(f"{method} {path} {what}: {status}, expected 401")
    for method, path in sorted(public):
        status = (await funding.http.request(method, path)).status_code
        if status != 200 and not (path == "/receipts/verify/{code}" and status == 404):
            wrong.append(f"{method} {path} (public): {status}")
    assert not wrong, "\n".join(wrong)


async def test_a_treasurer_records_a_contribution_and_an_agency_cannot(funding: Funding) -> None:
    donor = await funding.donor("university")
    treasurer = await funding.contribute(donor, 2_000_000, headers=bearer("treasurer"))
    assert treasurer.status_code == 201, treasurer.text
    agency = await funding.contribute(donor, 2_000_000, headers=bearer("agency"))
    assert agency.status_code == 403
    assert (await funding.statement(donor))["received_rp"] == 2_000_000
