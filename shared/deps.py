"""The FastAPI dependencies every service's routes share: who calls (`Caller`), the city's day
(`Today`), the command's stamp (`Meta`) and the service's handlers (`handlers_of`).

Every route reaches its handler through these: the route authenticates the caller and parses
the body; the handler decides who may do what (README, "Architecture notes": authorization lives
in the handlers, beside the aggregate it guards). A service's `api.py` never reads the clock or
`app.state.handlers` itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any, TypeVar, cast
from uuid import uuid4

import asyncpg
from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from shared.auth import Principal
from shared.clock import now
from shared.eventstore import Metadata
from shared.http import authenticate, correlation_id, run_command

Caller = Annotated[Principal, Depends(authenticate)]
H = TypeVar("H")
C = TypeVar("C")
R = TypeVar("R")
Handler = Callable[[asyncpg.Connection, C, Principal, Metadata], Awaitable[R]]


def today(request: Request) -> date:
    """The city's day from the app's one clock (`app.state.clock`; tests swap it)."""
    day: date = request.app.state.clock()
    return day


def meta(request: Request) -> Metadata:
    """A command's stamp: now, in the request's correlation (the X-Correlation-ID it came with, or
    a new one), caused by this request."""
    return Metadata(occurred_at=now(), correlation_id=correlation_id(request), causation_id=uuid4())


Today = Annotated[date, Depends(today)]
Meta = Annotated[Metadata, Depends(meta)]


def handlers_of(kind: type[H]) -> Callable[[Request], H]:
    """The dependency that hands a route its service's handlers (`app.state.handlers`), typed."""

    def handlers(request: Request) -> H:
        return cast(H, request.app.state.handlers)

    handlers.__name__ = f"{kind.__name__.lower()}_handlers"
    return handlers


async def run_handler(
    request: Request,
    principal: Principal,
    handler: Handler[C, R],
    command: C,
    answer: Callable[[R], tuple[int, dict[str, Any]]],
) -> JSONResponse:
    """The usual command route's end: the handler runs the command in `run_command`'s transaction
    (stamped by `meta`, afresh on each try), and `answer` turns what it returned into the route's
    status and body."""

    async def execute(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        return answer(await handler(conn, command, principal, meta(request)))

    return await run_command(request, principal, execute)
