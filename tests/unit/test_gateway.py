"""The field app's one origin (genting/gateway.py): the app's files, its config, and the
services under /api/<service>/ with the prefix stripped and every end-to-end header passed on.
The services here are one real HTTP server on loopback that answers with what it received."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from genting.gateway import app_config, create_gateway
from shared.testing.apps import serving


async def echo(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "headers": dict(request.headers),
            "body_bytes": len(body),
        },
        status_code=201 if request.method == "POST" else 200,
        headers={"Idempotent-Replayed": "true"},
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST"])]),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
async def gateway(upstream: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>Genting Lapangan</title>")
    (dist / "app.js").write_text("console.log(1)")
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    upstreams = {"aid": upstream, "registry": upstream, "funding": down}
    app = create_gateway(upstreams, app_config({"GENTING_FIELD_OIDC_ISSUER": "https://sso.example.go.id"}), dist)
    async with serving(app, "gateway") as http:
        yield http


async def test_the_api_is_reached_under_its_prefix_with_the_callers_headers_and_body(
    gateway: httpx.AsyncClient,
) -> None:
    photo = b"\xff\xd8\xff" + b"x" * (2 << 20)
    answer = await gateway.post(
        "/api/aid/deliveries/d-1/photo?x=1",
        content=photo,
        headers={"Authorization": "Bearer t", "Idempotency-Key": "k-1", "Content-Type": "image/jpeg"},
    )
    assert answer.status_code == 201
    assert answer.headers["idempotent-replayed"] == "true"  # the service's own headers come back
    seen = answer.json()
    assert (seen["method"], seen["path"], seen["query"]) == ("POST", "/deliveries/d-1/photo", "x=1")
    assert seen["headers"]["authorization"] == "Bearer t"
    assert seen["headers"]["idempotency-key"] == "k-1"
    assert seen["body_bytes"] == len(photo)
    listed = await gateway.get("/api/registry/families", params={"status": "registered"})
    assert listed.json()["path"] == "/families"


async def test_a_service_down_is_a_503_an_unknown_one_a_404(gateway: httpx.AsyncClient) -> None:
    down = await gateway.post("/api/funding/donors", json={})
    assert down.status_code == 503
    assert down.headers["content-type"] == "application/problem+json"
    assert (await gateway.get("/api/nowhere/x")).status_code == 404


async def test_the_app_and_its_config_are_served_at_the_root(gateway: httpx.AsyncClient) -> None:
    page = await gateway.get("/")
    assert page.status_code == 200 and "Genting Lapangan" in page.text
    assert page.headers["cache-control"] == "no-cache"  # an update reaches the phone
    assert (await gateway.get("/app.js")).text == "console.log(1)"
    config = (await gateway.get("/config.json")).json()
    assert config == {"issuer": "https://sso.example.go.id", "client_id": "genting-field", "api": "/api"}
    assert "access-control-allow-origin" not in page.headers  # one origin: no CORS anywhere


def test_the_default_config_names_the_development_sign_in() -> None:
    assert json.loads(json.dumps(app_config({})))["issuer"] == "http://127.0.0.1:8009"
