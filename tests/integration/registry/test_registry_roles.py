"""Who may do what in the registry (CONTRACT.md roles): every route of the app × every
role × in and out of scope, plus no token and an expired one. A route added without an expectation
here fails the test."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from fastapi.routing import APIRoute
from registry_support import KAUMAN, MEDONO, TODAY

from shared.auth import issue_token
from shared.testing import TEST_SIGNING_KEY
from shared.testing.registry_examples import family_body, import_csv

# Routes anyone may call (no token needed).
PUBLIC = {
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/metrics"),
    ("GET", "/asyncapi"),
}

Principal = tuple[str, str | None, str]  # role, kelurahan claim, sub


def principals() -> list[tuple[str, Principal, bool]]:
    """(label, principal, in_scope): the family under test is always in Medono, registered by `census-a`."""
    return [
        ("admin", ("admin", None, "admin-a"), True),
        ("lurah in", ("lurah", MEDONO, "lurah-a"), True),
        ("lurah out", ("lurah", KAUMAN, "lurah-b"), False),
        ("kader in", ("kader", MEDONO, "kader-a"), True),
        ("kader out", ("kader", KAUMAN, "kader-b"), False),
        ("census in", ("census", MEDONO, "census-a"), True),  # its kelurahan; registered the family
        ("census anywhere", ("census", None, "census-c"), True),  # a city-wide census token
        ("census out", ("census", KAUMAN, "census-b"), False),
        ("auditor", ("auditor", None, "auditor-a"), True),
        ("agency", ("agency", None, "agency-a"), True),
        ("donor", ("donor", None, "donor-a"), True),
        ("treasurer", ("treasurer", None, "treasurer-a"), True),
    ]


STAFF = {"admin", "lurah", "kader"}


def staff_in_scope(role: str, in_scope: bool, label: str) -> bool:
    return role == "admin" or (role in STAFF and in_scope)


def registers(role: str, in_scope: bool, label: str) -> bool:
    return staff_in_scope(role, in_scope, label) or (role == "census" and in_scope)


def reads_list(role: str, in_scope: bool, label: str) -> bool:
    return role in {"admin", "lurah", "kader", "auditor", "agency", "census"}


def reads_family(role: str, in_scope: bool, label: str) -> bool:
    # census reads only what it registered: "census in" registered the family under test
    return role in {"admin", "lurah", "kader", "auditor", "agency"} or label == "census in"


# (method, path) -> who may call it. Every API route of the app must be listed.
ALLOWED: dict[tuple[str, str], Callable[[str, bool, str], bool]] = {
    ("POST", "/families"): registers,
    ("POST", "/families/import"): lambda role, _s, _l: role in {"admin", "lurah", "kader", "census"},
    ("GET", "/families"): reads_list,
    ("GET", "/families/{family_id}"): reads_family,
    ("POST", "/families/{family_id}/members"): staff_in_scope,
    ("POST", "/families/{family_id}/births"): staff_in_scope,
    ("POST", "/families/{family_id}/verification"): lambda role, s, _l: role == "admin" or (role == "lurah" and s),
    ("POST", "/families/{family_id}/exit"): staff_in_scope,
    ("POST", "/families/{family_id}/growth-measurements"): staff_in_scope,
    ("DELETE", "/families/{family_id}/personal-data"): lambda role, _s, _l: role == "admin",
}


def headers(p: Principal, *, ttl: int = 3600, now: float | None = None) -> dict[str, str]:
    role, kelurahan, sub = p
    jwt = issue_token(
        TEST_SIGNING_KEY,
        role=role,
        sub=sub,
        kelurahan=kelurahan,
        donor_id="d-1" if role == "donor" else None,
        ttl_seconds=ttl,
        now=now,
    )
    return {"Authorization": f"Bearer {jwt}"}


class Calls:
    """A fresh Medono family per call (registered by census-a), and a valid request to each route."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.serial = 4000

    async def family(self) -> tuple[str, dict[str, Any]]:
        self.serial += 1
        body = family_body(self.serial, TODAY, MEDONO)
        response = await self.client.post("/families", json=body, headers=headers(("census", MEDONO, "census-a")))
        assert response.status_code == 201, response.text
        family_id = response.json()["family_id"]
        detail = (await self.client.get(f"/families/{family_id}", headers=headers(("admin", None, "a")))).json()
        return family_id, detail

    async def call(self, method: str, path: str, auth: dict[str, str]) -> httpx.Response:
        self.serial += 1
        if path == "/families":
            if method == "GET":
                return await self.client.get(path, params={"kelurahan_code": MEDONO}, headers=auth)
            return await self.client.post(path, json=family_body(self.serial, TODAY, MEDONO), headers=auth)
        if path == "/families/import":
            text = import_csv([family_body(self.serial, TODAY, MEDONO)])
            return await self.client.post(path, content=text, headers={**auth, "Content-Type": "text/csv"})
        family_id, detail = await self.family()
        url = path.replace("{family_id}", family_id)
        mother = next(m for m in detail["members"] if m["role"] == "breastfeeding_mother")["member_id"]
        baby = next(m for m in detail["members"] if m["role"] == "baduta")["member_id"]
        bodies: dict[str, Any] = {
            "/families/{family_id}/members": {
                "name": "Bayi",
                "nik": None,
                "role": "baduta",
                "birth_date": TODAY.isoformat(),
                "sex": "F",
            },
            "/families/{family_id}/births": {
                "mother_member_id": mother,
                "born_on": TODAY.isoformat(),
                "baby": {"name": "Bayi", "nik": None, "sex": "F"},
            },
            "/families/{family_id}/verification": {"decision": "approve"},
            "/families/{family_id}/exit": {"reason": "moved_away"},
            "/families/{family_id}/growth-measurements": {
                "member_id": baby,
                "measured_on": TODAY.isoformat(),
                "weight_kg": 6.0,
                "length_cm": 62.0,
            },
        }
        return await self.client.request(method, url, json=bodies.get(path), headers=auth)


async def test_every_route_answers_each_role_as_the_contract_says(registry: httpx.AsyncClient) -> None:
    app = registry.app  # type: ignore[attr-defined]
    # Every route the app serves (its OpenAPI document lists each included router's routes;
    # FastAPI's included routers do not show in app.routes as APIRoutes).
    routes = {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}
    routes |= {(m, r.path) for r in app.routes if isinstance(r, APIRoute) for m in r.methods or () if m != "HEAD"}
    api_routes = routes - PUBLIC - {("GET", "/docs"), ("GET", "/openapi.json")}
    assert api_routes <= set(ALLOWED), f"routes without an expectation: {sorted(api_routes - set(ALLOWED))}"
    assert set(ALLOWED) <= api_routes, f"expectations for routes that are gone: {sorted(set(ALLOWED) - api_routes)}"

    calls = Calls(registry)
    wrong: list[str] = []
    for method, path in sorted(api_routes):
        allowed_for = ALLOWED[(method, path)]
        for label, principal, in_scope in principals():
            response = await calls.call(method, path, headers(principal))
            allowed = allowed_for(principal[0], in_scope, label)
            ok = (
                (response.status_code < 500 and response.status_code not in (401, 403))
                if allowed
                else (response.status_code == 403)
            )
            if not ok:
                wrong.append(f"{method} {path} as {label}: {response.status_code} {response.text[:160]}")
        no_token = await calls.call(method, path, {})
        expired = await calls.call(method, path, headers(("admin", None, "admin-a"), ttl=60, now=time.time() - 3600))
        for what, response in (("no token", no_token), ("expired token", expired)):
            if response.status_code != 401:
                wrong.append(f"{method} {path} with {what}: {response.status_code}")
    assert wrong == []

    for method, path in sorted(PUBLIC & routes):
        assert (await registry.request(method, path)).status_code not in (401, 403), path
