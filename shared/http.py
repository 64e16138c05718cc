"""HTTP plumbing every service shares: RFC 9457 problems, auth, idempotency, request context."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import Principal, Unauthorized
from shared.errors import ConcurrencyConflict, DomainError, FieldError, InvalidCommand
from shared.idempotency import Idempotency, StoredResponse
from shared.outbox import committing

log = structlog.get_logger()

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://genting.example/problems/"
CORRELATION_HEADER = "X-Correlation-ID"
IDEMPOTENCY_HEADER = "Idempotency-Key"
COMMAND_ATTEMPTS = 3  # a concurrency conflict is retried on fresh state before it is reported


class StrictBody(BaseModel):
    """A request body: a field it does not declare is refused (422 naming it), never ignored."""

    model_config = ConfigDict(extra="forbid")


class ProblemField(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of every service is answered."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[ProblemField] | None = None


_PROBLEM_TEXT = {
    400: "Malformed request",
    401: "No token, or a bad, expired or too long-lived one",
    403: "The caller's role or scope does not allow this",
    404: "Unknown id",
    409: "Conflict with the current state",
    413: "Request body too large",
    422: "Invalid input: `errors` names each field",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for a route's problem answers, each as application/problem+json."""
    return {
        status: {
            "description": _PROBLEM_TEXT.get(status, "Problem"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def install_problem_schema(app: FastAPI) -> None:
    """Adds the Problem schema to the app's OpenAPI components (routes refer to it by $ref)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(problem_schema.pop("$defs", {}))
            components["Problem"] = problem_schema
            # FastAPI documents its own 422 body as application/json; ours is a problem (on_validation).
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    if "422" in operation.get("responses", {}):
                        operation["responses"]["422"] = problem_responses(422)[422]
            for unused in ("HTTPValidationError", "ValidationError"):
                components.pop(unused, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    errors: list[dict[str, str]] | None = None,
    kind: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + kind if kind else "about:blank",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    """`("body", "members", 1, "nik")` → `members[1].nik`."""
    path = ""
    for part in loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or str(loc[0] if loc else "body")


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def on_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field_path(tuple(e["loc"])), "message": e["msg"]} for e in exc.errors()]
        return problem(
            422,
            "Invalid input",
            "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            errors=errors,
            kind="validation",
        )

    @app.exception_handler(DomainError)
    async def on_domain(_: Request, exc: DomainError) -> JSONResponse:
        errors = [{"field": e.field, "message": e.message} for e in exc.errors] if exc.errors else None
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return problem(exc.status, exc.title, exc.detail, errors=errors, kind=type(exc).__name__, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", error_type=type(exc).__name__)
        return problem(500, "Internal error", "the error was logged with this request's correlation id")


async def authenticate(request: Request) -> Principal:
    """FastAPI dependency: the bearer token's principal, or 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required (Authorization: Bearer <JWT>)")
    state = request.app.state
    if getattr(state, "token_verifier", None) is None:
        state.token_verifier = state.settings.token_verifier()  # built once per app: it caches the JWKS
    principal: Principal = await state.token_verifier.verify(token.strip())
    structlog.contextvars.bind_contextvars(principal=principal.sub, role=principal.role)
    return principal


Execute = Callable[[asyncpg.Connection], Awaitable[tuple[int, dict[str, Any]]]]


class _ReplayStored(Exception):
    """A concurrent retry with the same key committed first: roll this one back, answer with that."""


def idempotency(request: Request) -> Idempotency:
    """The app's idempotency records, built once from its settings."""
    return app_idempotency(request.app)


def app_idempotency(app: FastAPI) -> Idempotency:
    state = app.state
    if getattr(state, "idempotency", None) is None:
        settings = state.settings
        secret = settings.data_key.get_secret_value() or settings.jwt_secret.get_secret_value()
        state.idempotency = Idempotency(secret.encode(), timedelta(days=settings.idempotency_ttl_days))
    records: Idempotency = state.idempotency
    return records


async def run_command(request: Request, principal: Principal, execute: Execute) -> JSONResponse:
    """Run a command in one transaction; with an Idempotency-Key, store its response in that same
    transaction so a retry returns the first response and has no second effect."""
    pool: asyncpg.Pool = request.app.state.pool
    key = _idempotency_key(request)
    records = idempotency(request)
    method, path = request.method, request.url.path
    fingerprint = records.fingerprint(method, path, await request.body())
    if key and (stored := await records.stored(pool, principal.sub, method, path, key, fingerprint)):
        return _replayed(stored)
    for attempt in range(1, COMMAND_ATTEMPTS + 1):
        try:
            async with committing(pool) as conn:
                status, body = await execute(conn)
                if key and not await records.record(conn, principal.sub, method, path, key, fingerprint, status, body):
                    raise _ReplayStored
            return JSONResponse(body, status_code=status)
        except (ConcurrencyConflict, asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
            # Another writer (a command or a consumer's batch) got there first: retry on fresh state.
            if attempt == COMMAND_ATTEMPTS:
                raise
        except _ReplayStored:
            assert key is not None
            stored = await records.stored(pool, principal.sub, method, path, key, fingerprint)
            assert stored is not None
            return _replayed(stored)
    raise AssertionError("unreachable")


async def run_batch(
    request: Request, principal: Principal, execute: Callable[[asyncpg.Pool], Awaitable[dict[str, Any]]]
) -> JSONResponse:
    """A command whose parts each commit on their own (an import's rows), answered 200 with their
    report. With an Idempotency-Key the report is recorded after the parts, so a retry gets the
    first report; the parts must be idempotent themselves (a concurrent retry's parts find each
    one done already), and the first record written wins. The query is part of the request's
    fingerprint: it may change the answer (an import's `line_offset`)."""
    pool: asyncpg.Pool = request.app.state.pool
    key = _idempotency_key(request)
    records = idempotency(request)
    method, path = request.method, request.url.path
    fingerprint = records.fingerprint(method, f"{path}?{request.url.query}", await request.body())
    if key and (stored := await records.stored(pool, principal.sub, method, path, key, fingerprint)):
        return _replayed(stored)
    body = await execute(pool)
    if key:
        async with pool.acquire() as conn:
            await records.record(conn, principal.sub, method, path, key, fingerprint, 200, body)
    return JSONResponse(body)


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not 1 <= len(key) <= 200:
        raise InvalidCommand([_key_error("must be 1 to 200 characters")])
    return key


def _replayed(stored: StoredResponse) -> JSONResponse:
    return JSONResponse(stored.body, status_code=stored.status, headers={"Idempotent-Replayed": "true"})


def _key_error(message: str) -> FieldError:
    return FieldError(field=f"header.{IDEMPOTENCY_HEADER}", message=message)


class RequestContext:
    """Pure ASGI middleware: a correlation id per request (bound to logs, echoed back), an access
    log line without query strings or bodies, and request metrics."""

    def __init__(self, app: ASGIApp, observe: Callable[[str, str, int, float], None]) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw = headers.get(CORRELATION_HEADER.lower().encode(), b"").decode()
        try:
            correlation_id = str(uuid.UUID(raw))
        except ValueError:
            correlation_id = str(uuid.uuid4())
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            service=scope["app"].state.settings.service if "app" in scope else None,
            correlation_id=correlation_id,
        )
        status = 500
        started = time.perf_counter()

        async def send_with_header(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((CORRELATION_HEADER.lower().encode(), correlation_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_header)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            self.observe(scope["method"], template, status, elapsed)
            if not template.startswith(("/health", "/metrics")):
                log.info(
                    "http_request",
                    method=scope["method"],
                    route=template,
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                )


class BodyLimit:
    """Pure ASGI middleware: a body over the limit gets 413 before it is parsed or authenticated.
    A declared Content-Length over the limit is refused at once, unread; a chunked body is read
    here up to the limit (never more) and refused as soon as it goes past it."""

    def __init__(self, app: ASGIApp, limit: int = 1 << 20, limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.limits = limits or {}  # path suffix → its own limit (imports take 10 MiB)

    def _limit_for(self, path: str) -> int:
        for suffix, limit in self.limits.items():
            if path.endswith(suffix):
                return limit
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        if declared is not None:
            await self.app(scope, receive, send)
            return
        # No Content-Length (a chunked body, whatever the method: a GET or DELETE may carry one
        # too): read it here, at most `limit` bytes, before the app or authentication sees any of
        # it — the app's own parser would turn an error raised mid-body into a 400.
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # a disconnect: let the app see it
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                await _too_large(limit)(scope, receive, send)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)


def _too_large(limit: int) -> JSONResponse:
    return problem(413, "Request body too large", f"the body may hold at most {limit} bytes", kind="too-large")


def correlation_id(request: Request) -> uuid.UUID:
    return uuid.UUID(request.scope["state"]["correlation_id"])
