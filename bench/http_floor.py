"""The HTTP floor: a one-process FastAPI app (uvicorn) that parses the same body and commits
one insert, what this server stack and load generator allow before any domain work."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
from corpus import Bodies
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from load_generators import post_families
from processes import (  # bench/processes.py: servers, services as processes, CPU accounting
    BENCH_DIR,
    Servers,
    Service,
    measured,
    start_service,
)
from raw_probes import RAW_INSERT, raw_db


def create_floor_app() -> FastAPI:
    """The HTTP floor: the same server stack (uvicorn + FastAPI, one process), an endpoint that
    parses the same JSON body and commits one events-shaped insert. No auth, domain or outbox."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(os.environ["BENCH_FLOOR_DATABASE_URL"], min_size=2, max_size=10)
        yield
        await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/health/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.post("/raw", status_code=201)
    async def raw(request: Request) -> JSONResponse:
        body = await request.body()
        json.loads(body)
        event_id, stream_id = uuid.uuid4(), uuid.uuid4()
        async with request.app.state.pool.acquire() as conn, conn.transaction():
            await conn.execute(RAW_INSERT, event_id, stream_id, 1, body.decode())
        return JSONResponse({"family_id": str(stream_id)}, status_code=201)

    return app


async def start_floor(servers: Servers) -> Service:
    env = {"BENCH_FLOOR_DATABASE_URL": await raw_db(servers, "floor")}
    return await start_service(
        servers, "http-floor", "http_floor:create_floor_app", env, "unused", "/raw", app_dir=BENCH_DIR
    )


async def http_floor(servers: Servers, bodies: Bodies, n: int, reps: int, client: str) -> list[float]:
    """The same clients against the floor app: how fast this stack answers a one-insert POST."""
    floor = await start_floor(servers)
    try:
        await post_families(floor, bodies.batch(100), client)
        rates = []
        for _ in range(reps):
            payloads = bodies.batch(n)
            with measured(servers, "http_floor", floor.proc.pid):
                rates.append(await post_families(floor, payloads, client))
    finally:
        floor.stop()
    return rates
