"""A service's app in-process for tests: its lifespan run (pool, migrations, consumers, relay) and
an HTTP client that calls it without a socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import httpx
from fastapi import FastAPI
from starlette.applications import Starlette

from shared.settings import Settings
from shared.testing import TEST_DATA_KEY, TEST_JWKS_FILE

S = TypeVar("S", bound=Settings)


def settings_for(cls: type[S], database_url: str, nats_url: str, **overrides: object) -> S:
    """A service's settings under test: the tests' key set and data key, the relay polling often."""
    values: dict[str, object] = {
        "database_url": database_url,
        "nats_url": nats_url,
        "jwks_file": TEST_JWKS_FILE,
        "data_key": TEST_DATA_KEY,
        "relay_poll_seconds": 0.2,
        # Most tests enter a past programme in date order, and its records move the clock-driven
        # steps along; a test of entry in any order overrides it.
        "entered_in_date_order": True,
    }
    return cls.model_validate(values | overrides)


@asynccontextmanager
async def serving(app: Starlette, name: str) -> AsyncIterator[httpx.AsyncClient]:
    """`async with serving(create_app(settings), "aid") as http:` — started, called at http://aid,
    and shut down at the end of the block."""
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}") as client:
            yield client


@dataclass
class InProcess:
    """A service's app running in-process and the client that calls it; a service's test support
    adds what else its tests drive (a clock, an upstream publisher)."""

    http: httpx.AsyncClient
    app: FastAPI

    @property
    def pool(self) -> asyncpg.Pool:
        """The service's own database pool (its lifespan made it)."""
        pool: asyncpg.Pool = self.app.state.pool
        return pool


def routes(app: Starlette) -> Iterator[tuple[str, set[str], bool]]:
    """(path, methods, is_mount) of every route the app serves, through included routers."""

    def walk(items: Any, prefix: str) -> Iterator[tuple[str, set[str], bool]]:
        for r in items:
            original = getattr(r, "original_router", None)
            if original is not None:  # an included router (FastAPI >= 0.120)
                yield from walk(original.routes, prefix + r.include_context.prefix)
            elif getattr(r, "methods", None):
                yield prefix + r.path, set(r.methods), False
            elif hasattr(r, "path"):
                yield prefix + r.path, set(), True

    return walk(app.routes, "")
