"""Every route reaches its handler through the kernel's dependencies (shared/deps.py): each
service, started for real, answers a caller without a token and a caller of the wrong role with
the same problem, and every route that knows its caller takes it from the one `Caller`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from services.aid.app import create_app as aid_app
from services.aid.settings import AidSettings
from services.funding.app import create_app as funding_app
from services.funding.settings import FundingSettings
from services.registry.app import create_app as registry_app
from services.registry.settings import RegistrySettings
from services.reporting.app import create_app as reporting_app
from services.reporting.settings import ReportingSettings
from shared.http import authenticate
from shared.nats_setup import connect
from shared.settings import Settings
from shared.testing import bearer
from shared.testing.apps import serving, settings_for
from shared.testing.bus import declare_streams

# service -> (its app, its settings, a read route, a role that route refuses)
SERVICES: dict[str, tuple[Callable[..., FastAPI], type[Settings], str, str]] = {
    "registry": (registry_app, RegistrySettings, f"/families/{uuid4()}", "treasurer"),
    "aid": (aid_app, AidSettings, "/plans", "treasurer"),
    "funding": (funding_app, FundingSettings, "/donors", "census"),
    "reporting": (reporting_app, ReportingSettings, "/aid/gaps", "treasurer"),
}


@pytest.fixture(params=list(SERVICES))
async def service(
    request: pytest.FixtureRequest, database_url: str, js_clean: str
) -> AsyncIterator[tuple[str, FastAPI, httpx.AsyncClient]]:
    name: str = request.param
    create, settings_cls, _, _ = SERVICES[name]
    nc = await connect(js_clean, f"{name}-deps-tests")
    try:
        # Every producer's stream exists, as in a running system, so the consumers bind at once.
        await declare_streams(nc.jetstream(), "registry", "funding", "aid")
        extra = {"clock_interval_seconds": 3600.0} if name in ("registry", "aid") else {}
        app = create(settings_for(settings_cls, database_url, js_clean, service=name, **extra))
        async with serving(app, name) as client:
            yield name, app, client
    finally:
        await nc.close()


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """The API routes, through the routers the app includes (FastAPI keeps each included router
    as its own node)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (router := getattr(route, "original_router", None)) is not None:
            yield from api_routes(router.routes)


async def test_a_caller_without_a_token_gets_the_same_401_problem(
    service: tuple[str, FastAPI, httpx.AsyncClient],
) -> None:
    name, _, client = service
    response = await client.get(SERVICES[name][2])
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["title"] == "Unauthorized"
    assert problem["status"] == 401
    assert problem["detail"] == "a bearer token is required (Authorization: Bearer <JWT>)"


async def test_a_caller_of_a_role_the_route_refuses_gets_a_403_problem_naming_the_role(
    service: tuple[str, FastAPI, httpx.AsyncClient],
) -> None:
    name, _, client = service
    _, _, path, refused = SERVICES[name]
    response = await client.get(path, headers=bearer(refused))
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["title"] == "Forbidden"
    assert problem["detail"].startswith(f"role {refused!r} may not do this")


async def test_every_route_that_knows_its_caller_takes_it_from_the_kernel(
    service: tuple[str, FastAPI, httpx.AsyncClient],
) -> None:
    _, app, _ = service
    routes = list(api_routes(app.routes))
    authenticated = [r for r in routes if any(d.call is authenticate for d in r.dependant.dependencies)]
    assert authenticated, "a service with no authenticated route"
    for route in authenticated:
        # The caller is one parameter, resolved by the one `authenticate` (shared/deps.Caller).
        callers = [d for d in route.dependant.dependencies if d.call is authenticate]
        assert len(callers) == 1, route.path


# The handler decides who may before it looks anything up: a refused caller learns nothing about
# the target (not whether it exists, not whether a photo is stored for it).
@pytest.mark.parametrize("service", ["aid"], indirect=True)
async def test_a_kader_confirming_an_unknown_delivery_is_refused_before_anything_is_looked_up(
    service: tuple[str, FastAPI, httpx.AsyncClient],
) -> None:
    _, _, client = service
    response = await client.post(
        f"/deliveries/{uuid4()}/confirmation",
        json={"photo_id": str(uuid4())},
        headers=bearer("kader", kelurahan="33.75.01.1002"),
    )
    assert response.status_code == 403
    assert response.json()["detail"].startswith("role 'kader' may not do this")


@pytest.mark.parametrize("service", ["funding"], indirect=True)
async def test_a_treasurer_erasing_an_unknown_donor_is_refused_not_told_it_is_unknown(
    service: tuple[str, FastAPI, httpx.AsyncClient],
) -> None:
    _, _, client = service
    response = await client.delete(f"/donors/{uuid4()}/personal-data", headers=bearer("treasurer"))
    assert response.status_code == 403
    admin = await client.delete(f"/donors/{uuid4()}/personal-data", headers=bearer("admin"))
    assert admin.status_code == 404
