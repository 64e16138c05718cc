"""The field app's one origin: the app's files (webapp/dist) at `/`, its settings at
`/config.json`, and the four services under `/api/<service>/…` (the prefix stripped), so the
browser never makes a cross-origin call and no service needs a CORS rule.

`genting up` runs it on port 8000 (GENTING_GATEWAY_PORT); Compose runs `genting gateway`, with
GENTING_<SERVICE>_URL naming each service. In Kubernetes the Ingress routes the same paths.
The proxy streams bodies both ways and passes every end-to-end header (Authorization,
Idempotency-Key, Content-Type…) untouched; it holds no token and no key of its own."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

# The built app: beside the code in a checkout; an installed package (the image) has no webapp/
# beside it, so the image names the copy it keeps (GENTING_WEBAPP_DIR, deploy/Dockerfile).
DIST = Path(__file__).resolve().parent.parent / "webapp" / "dist"
SERVICES = ("registry", "aid", "funding", "reporting")
DEFAULT_PORT = 8000
# The development sign-in `genting up` runs (its issuer); production names the city's IdP.
DEV_ISSUER = "http://127.0.0.1:8009"
CLIENT_ID = "genting-field"
# Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection, never forwarded; Host and the
# length are the proxy's own to set.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


class AppFiles(StaticFiles):
    """The app's files. The shell's entry points (the page, the service worker, the manifest,
    the config) are revalidated on every load so an update reaches the phone; the service worker
    keeps them for offline use."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if path in ("", ".", "index.html", "sw.js", "manifest.webmanifest"):
            response.headers["Cache-Control"] = "no-cache"
        return response


def create_gateway(upstreams: Mapping[str, str], config: Mapping[str, Any], dist: Path = DIST) -> Starlette:
    client = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0), follow_redirects=False)

    async def app_config(_: Request) -> JSONResponse:
        return JSONResponse(dict(config), headers={"Cache-Control": "no-cache"})

    async def proxy(request: Request) -> Response:
        service = request.path_params["service"]
        base = upstreams.get(service)
        if base is None:
            return JSONResponse(
                {"type": "about:blank", "title": "Not found", "status": 404, "detail": f"no service {service!r}"},
                status_code=404,
                media_type="application/problem+json",
            )
        url = httpx.URL(base.rstrip("/") + "/" + request.path_params["path"], query=request.url.query.encode())
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        client_host = request.client.host if request.client else ""
        headers += [("x-forwarded-for", client_host), ("x-forwarded-proto", request.url.scheme)]
        body = request.stream() if request.method not in ("GET", "HEAD") else None
        upstream = client.build_request(request.method, url, headers=headers, content=body)
        try:
            answer = await client.send(upstream, stream=True)
        except httpx.TransportError:
            # The service is down or restarting: the app keeps the write queued and retries.
            return JSONResponse(
                {
                    "type": "about:blank",
                    "title": "Service unavailable",
                    "status": 503,
                    "detail": f"{service} does not answer",
                },
                status_code=503,
                media_type="application/problem+json",
                headers={"Retry-After": "5"},
            )
        out_headers = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
        return StreamingResponse(
            answer.aiter_raw(),
            status_code=answer.status_code,
            headers=out_headers,
            background=BackgroundTask(answer.aclose),
        )

    routes: list[BaseRoute] = [
        Route("/config.json", app_config),
        Route(
            "/api/{service}/{path:path}",
            proxy,
            methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        ),
    ]
    if dist.is_dir():
        routes.append(Mount("/", AppFiles(directory=dist, html=True)))

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with client:
            yield

    return Starlette(routes=routes, lifespan=lifespan)


def app_config(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """What the app reads at start: where to sign in. GENTING_FIELD_OIDC_ISSUER names the city's
    identity provider; unset, the development sign-in of `genting up`."""
    return {
        "issuer": environ.get("GENTING_FIELD_OIDC_ISSUER", DEV_ISSUER),
        "client_id": environ.get("GENTING_FIELD_OIDC_CLIENT_ID", CLIENT_ID),
        "api": "/api",
    }


def upstreams_from_env(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """GENTING_<SERVICE>_URL for each service (Compose: http://registry:8001 …)."""
    from genting import services as catalogue

    return {
        s.name: environ.get(f"GENTING_{s.name.upper()}_URL", f"http://127.0.0.1:{s.port}")
        for s in catalogue.SERVICES
        if s.name in SERVICES
    }


def serve_from_env() -> int:
    """`genting gateway`: what the gateway container runs."""
    import uvicorn

    raw_port = os.environ.get("GENTING_PORT") or os.environ.get("PORT") or str(DEFAULT_PORT)
    dist = Path(os.environ.get("GENTING_WEBAPP_DIR") or DIST)
    if not (dist / "index.html").is_file():
        print(f"genting gateway: no field app at {dist} (set GENTING_WEBAPP_DIR to webapp/dist)", file=sys.stderr)
        return 2
    app = create_gateway(upstreams_from_env(), app_config(), dist)
    uvicorn.run(app, host=os.environ.get("GENTING_HOST", "0.0.0.0"), port=int(raw_port), proxy_headers=True)
    return 0
