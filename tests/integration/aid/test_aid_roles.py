"""Who may call what (CONTRACT.md roles; README "Routes"): EVERY route of aid's app × every role,
in the resource's kelurahan and out of it, plus no token and an expired token. The routes are
read from the app itself, so a new route without an expectation here fails the test."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from aid_support import EARLIER, KAUMAN, MEDONO, TODAY, Aid, a_family_not_gaining, delivery, token
from fastapi.routing import iter_route_contexts

from services.aid.domain import flag_id_for
from shared.auth import issue_token
from shared.testing import TEST_SIGNING_KEY, wait_until

pytestmark = pytest.mark.integration

# A minimal JPEG: its magic bytes and some payload (the service sniffs the type, it does not decode).
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4

CALLERS: dict[str, dict[str, str]] = {
    "admin": token("admin"),
    "lurah in": token("lurah", MEDONO),
    "lurah out": token("lurah", KAUMAN),
    "kader in": token("kader", MEDONO),
    "kader out": token("kader", KAUMAN),
    "donor": token("donor"),
    "auditor": token("auditor"),
    "agency": token("agency"),
    "census in": token("census", MEDONO),
    "census out": token("census", KAUMAN),
    "census anywhere": token("census"),
    "treasurer": token("treasurer"),
    "no token": {},
    "expired": {
        "Authorization": "Bearer "
        + issue_token(TEST_SIGNING_KEY, role="admin", sub="admin-old", ttl_seconds=60, now=time.time() - 3600)
    },
}
ANONYMOUS = {"no token", "expired"}
EVERYONE = set(CALLERS)
STAFF_IN = {"admin", "lurah in", "kader in"}
# Plans and sessions are de-identified (pseudonymous ids, money, days): every reader reads them,
# staff of any kelurahan, the auditor, and the agency (read-only); private parts are filtered per caller.
READERS = {"admin", "lurah in", "lurah out", "kader in", "kader out", "auditor", "agency"}

# (method, path) → who is allowed; everyone else authenticated gets 403, the anonymous 401.
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("POST", "/plans/{plan_id}/deliveries"): STAFF_IN,
    ("POST", "/deliveries/{delivery_id}/confirmation"): {"admin", "lurah in"},  # the lurah confirms
    ("POST", "/plans/{plan_id}/interventions"): STAFF_IN,
    ("GET", "/plans"): READERS,
    ("GET", "/food-catalogue"): EVERYONE - ANONYMOUS,  # configuration, nothing about a family
    ("GET", "/plans/{plan_id}"): READERS,
    ("POST", "/education-sessions"): STAFF_IN,
    ("GET", "/education-sessions"): READERS,
    ("GET", "/home-visits"): STAFF_IN,  # children by name-free ids, but per kelurahan: its staff only
    ("POST", "/home-visits/{flag_id}/visit"): STAFF_IN,
    # Grievances: anyone files and tracks one (no token needed; an expired token is still refused),
    # the kelurahan's staff read them, its lurah (or admin) answers.
    ("POST", "/grievances"): EVERYONE - {"expired"},
    ("GET", "/grievances/track/{tracking_code}"): EVERYONE,
    ("GET", "/grievances"): STAFF_IN,
    ("POST", "/grievances/{grievance_id}/resolution"): {"admin", "lurah in"},
    ("DELETE", "/grievances/{grievance_id}/personal-data"): {"admin"},  # one naming no family
    # Proof photos: the kelurahan's staff store and see them (a photo shows a family's home).
    ("POST", "/deliveries/{delivery_id}/photo"): STAFF_IN,
    ("GET", "/photos/{photo_id}"): STAFF_IN,
    # Operations and documents: public (probes, scrapers, integrators).
    ("GET", "/openapi.json"): EVERYONE,
    ("GET", "/health/live"): EVERYONE,
    ("GET", "/health/ready"): EVERYONE,
    ("GET", "/metrics"): EVERYONE,
    ("GET", "/asyncapi"): EVERYONE,
    ("GET", "/docs"): EVERYONE,
}


def app_routes(aid: Aid) -> set[tuple[str, str]]:
    """Every (method, path) the app answers (HEAD aside; the static files mount has no methods)."""
    return {
        (str(method), str(context.path))
        for context in iter_route_contexts(aid.app.routes)
        for method in getattr(context, "methods", None) or ()
        if method != "HEAD"
    }


async def a_medono_family(aid: Aid) -> dict[str, str]:
    """A Medono family with a plan, a delivery to confirm, and a child flagged for a home visit."""
    family, child, plan = await a_family_not_gaining(aid)
    flag_id = flag_id_for(child, TODAY)
    await wait_until(
        lambda: aid.pool.fetchval("select 1 from home_visits_view where flag_id = $1", flag_id), message="the flag"
    )
    first = await aid.http.post(
        f"/plans/{plan['plan_id']}/deliveries",
        json=delivery(EARLIER, 7, delivered_on=EARLIER),
        headers=CALLERS["admin"],
    )
    assert first.status_code == 201, first.text
    filed = await aid.http.post(
        "/grievances", json={"kelurahan_code": MEDONO, "category": "other", "description": "antrian lama"}
    )
    assert filed.status_code == 201, filed.text
    photo = await aid.http.post(
        f"/deliveries/{first.json()['delivery_id']}/photo",
        files={"photo": ("bukti.jpg", JPEG, "image/jpeg")},
        headers=CALLERS["admin"],
    )
    assert photo.status_code == 201, photo.text
    return {
        "photo_id": photo.json()["photo_id"],
        "grievance_id": filed.json()["grievance_id"],
        "tracking_code": filed.json()["tracking_code"],
        "family_id": str(family),
        "plan_id": plan["plan_id"],
        "delivery_id": first.json()["delivery_id"],
        "flag_id": str(flag_id),
    }


def request_for(method: str, path: str, ids: dict[str, str], n: int) -> dict[str, Any]:
    """The call for a route: its path filled in, a valid body (the n-th call gets a day of its own,
    so allowed writes succeed rather than conflict), the query in Medono."""
    url = path.format(**ids)
    call: dict[str, Any] = {"method": method, "url": url}
    if path == "/plans/{plan_id}/deliveries":
        call["json"] = delivery(TODAY + timedelta(days=n), 1)
    elif path == "/deliveries/{delivery_id}/photo":
        call["files"] = {"photo": (f"bukti-{n}.jpg", JPEG + bytes([n]), "image/jpeg")}
    elif path == "/deliveries/{delivery_id}/confirmation":
        call["json"] = {}
    elif path == "/plans/{plan_id}/interventions":
        call["json"] = {"kind": "sanitation", "description": "jamban", "done_on": TODAY.isoformat(), "value_rp": 0}
    elif path == "/education-sessions" and method == "POST":
        call["json"] = {
            "topic": "nutrition",
            "held_on": TODAY.isoformat(),
            "kelurahan_code": MEDONO,
            "family_ids": [ids["family_id"]],
            "facilitator": "Bidan Ratna",
        }
    elif path == "/home-visits/{flag_id}/visit":
        call["json"] = {"visited_on": TODAY.isoformat()}
    elif path == "/grievances" and method == "POST":
        call["json"] = {"kelurahan_code": MEDONO, "category": "food_quality", "description": "telur busuk"}
    elif path == "/grievances/{grievance_id}/resolution":
        call["json"] = {"resolution": "telur diganti"}
    elif path in ("/education-sessions", "/home-visits", "/grievances"):
        call["params"] = {"kelurahan_code": MEDONO}
    return call


async def test_every_route_answers_each_role_in_and_out_of_scope_as_documented(aid: Aid) -> None:
    routes = app_routes(aid)
    assert routes == set(ALLOWED), f"routes without an expectation: {routes - set(ALLOWED)}"
    ids = await a_medono_family(aid)
    wrong: list[str] = []
    succeeded: set[tuple[str, str, str]] = set()
    for (method, path), allowed in sorted(ALLOWED.items()):
        for caller, headers in CALLERS.items():
            done_here = len([s for s in succeeded if s[:2] == (method, path)])
            call = request_for(method, path, ids, n=done_here + 1)
            response = await aid.http.request(**call, headers=headers)
            status = response.status_code
            if caller in allowed:
                # Allowed: the answer, or (a second confirmation or visit) a conflict — never 401/403.
                ok = status == 200 if method == "GET" else status in (200, 201, 409)
            elif caller in ANONYMOUS:
                ok = status == 401
            else:
                ok = status == 403
            if ok and 200 <= status < 300:
                succeeded.add((method, path, caller))
            if not ok:
                wrong.append(f"{method} {path} as {caller}: {status} {response.text[:120]}")
    assert wrong == []
    # Every route was actually carried out by someone allowed (not only refused).
    assert {(m, p) for m, p, _ in succeeded} == set(ALLOWED)


async def test_a_token_may_live_twelve_hours_and_not_a_second_more(aid: Aid) -> None:
    """The service runs with GENTING_JWT_MAX_LIFETIME_HOURS unset: the default cap is the rule."""

    def bearer(lifetime: int) -> dict[str, str]:
        jwt = issue_token(TEST_SIGNING_KEY, role="admin", sub="admin-long", ttl_seconds=lifetime)
        return {"Authorization": f"Bearer {jwt}"}

    assert (await aid.http.get("/plans", headers=bearer(12 * 3600))).status_code == 200
    refused = await aid.http.get("/plans", headers=bearer(12 * 3600 + 1))
    assert refused.status_code == 401, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "at most 12 h" in refused.json()["detail"]
