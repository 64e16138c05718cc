"""503, not 500, while a service's database is away (a PostgreSQL restart, a failover).

Every route that needs the database then answers `503 Service Unavailable` with `Retry-After`,
an RFC 9457 problem of type `database-unavailable`. Nothing was committed: a command's
transaction either never began or was rolled back with its connection. (A connection lost during
COMMIT itself leaves the outcome unknown to the service; the client's retry with the same
Idempotency-Key then answers with the stored response if it did commit.)

The pool heals itself: an outage marks every pooled connection to be replaced, so the first
requests after the restart open fresh connections instead of tripping over dead ones.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.db import database_reachable, is_outage
from shared.http import PROBLEM_JSON, problem

log = structlog.get_logger()

__all__ = ["DatabaseOutage", "database_reachable", "document_unavailable", "is_outage", "unavailable"]

RETRY_AFTER_SECONDS = 2


def unavailable(detail: str = "the database is unreachable; nothing was changed") -> Any:
    return problem(
        503,
        "Service unavailable",
        detail,
        kind="database-unavailable",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


class DatabaseOutage:
    """Pure ASGI middleware, inside the problem handlers' catch-all: an exception that is (or
    coincides with) the database being unreachable is answered 503 + Retry-After instead of
    reaching the 500 handler. An error of another kind while the database answers goes on as before."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            pool: asyncpg.Pool | None = getattr(scope["app"].state, "pool", None)
            outage = is_outage(exc)
            # An error of an unexpected shape during an outage (a driver's internal state error,
            # say) is the outage too: ask the database before calling it a bug.
            if not outage and pool is not None and not await database_reachable(pool):
                outage = True
            if not outage:
                raise
            if pool is not None:
                pool.expire_connections()  # replace every pooled connection: the restart broke them
            log.warning("database_unavailable", error_type=type(exc).__name__)
            await unavailable()(scope, receive, send)


def document_unavailable(app: FastAPI) -> None:
    """Every operation of the OpenAPI document lists the 503 (CONTRACT: every status documented)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    operation.setdefault("responses", {})["503"] = {
                        "description": "The database is unreachable (a restart): nothing changed; "
                        "send again, with the same Idempotency-Key, after Retry-After seconds",
                        "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
                        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                    }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
