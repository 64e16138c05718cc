"""Builds a service's ASGI app: lifespan (migrations, pool, NATS, relay, projections), health,
metrics, docs and AsyncAPI. Each service's app.py passes its own parts in one place."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
import swagger_ui_bundle
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shared.asyncapi import asyncapi_document
from shared.availability import DatabaseOutage, database_reachable, document_unavailable
from shared.contracts import EventCatalog
from shared.db import create_pool, migrate, wait_for_database
from shared.dead_letters import DEAD_LETTER_KINDS
from shared.http import (
    BodyLimit,
    RequestContext,
    app_idempotency,
    install_problem_handlers,
    install_problem_schema,
    problem,
)
from shared.logging import configure_logging
from shared.messaging import stream_name
from shared.metrics import ServiceMetrics
from shared.nats_setup import connect, require_stream
from shared.outbox import OutboxRelay, outbox_backlog
from shared.projection import Projection, ProjectionRunner
from shared.settings import Settings

log = structlog.get_logger()


@dataclass
class ServiceSpec:
    """What makes one service: its routers, schema, the events it owns and the ones it consumes."""

    name: str
    title: str
    description: str
    migrations: Path
    routers: Sequence[APIRouter]
    publishes: EventCatalog | None = None
    projections: Callable[[Settings], Sequence[Projection]] = lambda _: ()
    # Extra state for the routers (e.g. the registry's key vault), set up after the pool exists.
    on_startup: Callable[[FastAPI], Awaitable[None]] | None = None
    extra_tasks: Callable[[FastAPI], Sequence[Coroutine[Any, Any, None]]] = field(default=lambda _: ())


def build_app(spec: ServiceSpec, settings: Settings) -> FastAPI:
    metrics = ServiceMetrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(spec.name, settings.log_level)
        await wait_for_database(settings.database_url)
        if migrate_on_start():
            await migrate(settings.database_url, spec.migrations)
        app.state.pool = await create_pool(
            settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
        )
        app.state.nc = await connect(settings.nats_url, name=f"genting-{spec.name}")
        js = app.state.nc.jetstream()
        tasks: list[asyncio.Task[None]] = []
        app.state.relay = None
        if spec.publishes is not None:
            # Created by the migration step; this service's user may not create or change it.
            await require_stream(js, stream_name(spec.publishes.context))
        if spec.publishes is not None and settings.relay_enabled:
            app.state.relay = OutboxRelay(
                settings.database_url,
                js,
                service=spec.name,
                stream=stream_name(spec.publishes.context),
                batch=settings.relay_batch,
                poll_seconds=settings.relay_poll_seconds,
            )
            tasks.append(asyncio.create_task(app.state.relay.run(), name="outbox-relay"))
        app.state.runners = [
            ProjectionRunner(
                app.state.pool,
                js,
                p,
                service=spec.name,
                batch=settings.projection_batch,
                max_deliver=settings.projection_max_deliver,
            )
            for p in spec.projections(settings)
        ]
        for runner in app.state.runners:
            tasks.append(asyncio.create_task(runner.run(), name=f"projection-{runner.projection.name}"))
        if spec.on_startup is not None:
            await spec.on_startup(app)
        tasks += [asyncio.create_task(t) for t in spec.extra_tasks(app)]
        tasks.append(asyncio.create_task(_purge_idempotency(app), name="idempotency-purge"))
        log.info("service_started", projections=[r.projection.name for r in app.state.runners])
        try:
            yield
        finally:
            await _stop(tasks)
            with contextlib.suppress(Exception):
                # Not drain(): nats-py's drain waits for every subscription's queue to be consumed,
                # and a pull subscription keeps status messages (408 on an expired fetch) that nobody
                # reads, so it would wait out its 30 s timeout. Everything published was awaited
                # already; flush sends the last acks, and what is left un-acked comes back anyway.
                await app.state.nc.flush(timeout=2)
            with contextlib.suppress(Exception):
                await app.state.nc.close()
            await app.state.pool.close()
            log.info("service_stopped")

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.spec = spec  # what it publishes and consumes (tests/deploy checks NATS permits exactly that)
    app.state.metrics = metrics
    install_problem_handlers(app)
    install_problem_schema(app)
    document_unavailable(app)
    # Innermost: a database outage becomes a 503 before the catch-all's 500 sees it.
    app.add_middleware(DatabaseOutage)
    # Outermost but for the request context: an oversized body is refused before auth or parsing.
    app.add_middleware(BodyLimit, limit=1 << 20, limits={"/import": 10 << 20, "/photo": 6 << 20})
    app.add_middleware(RequestContext, observe=metrics.observe_request)
    for router in spec.routers:
        app.include_router(router)
    app.include_router(_operations_router(spec, settings, metrics))
    # Swagger UI from a package, not a CDN: the docs must work on an offline machine.
    app.mount("/docs/static", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-static")
    return app


def _operations_router(spec: ServiceSpec, settings: Settings, metrics: ServiceMetrics) -> APIRouter:
    router = APIRouter(tags=["operations"])
    asyncapi = asyncapi_document(
        service=spec.name,
        nats_url=settings.nats_url,
        publishes=spec.publishes,
        consumes=[(p.name, p.stream, p.filter_subjects) for p in spec.projections(settings)],
        description=spec.description,
    )

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "live"}

    @router.get("/health/ready", response_model=None)
    async def ready(request: Request) -> JSONResponse:
        """Ready when the database answers: that alone decides. NATS's state is reported (body and
        metrics) but does not take the API out of service: the outbox holds what is committed
        until the relay can publish it, and the projections catch up from their consumers."""
        nats_connected = bool(request.app.state.nc.is_connected)
        metrics.nats_connected.set(1 if nats_connected else 0)
        checks = {"database": await database_reachable(request.app.state.pool), "nats": nats_connected}
        metrics.database_up.set(1 if checks["database"] else 0)
        if checks["database"]:
            return JSONResponse({"status": "ready", "checks": checks})
        response = problem(503, "Not ready", "unreachable: database", kind="database-unavailable")
        response.headers["Retry-After"] = "1"
        return response

    @router.get("/metrics", include_in_schema=False)
    async def prometheus(request: Request) -> Response:
        # With a metrics port of its own (GENTING_METRICS_PORT), /metrics is answered there only:
        # the API port, the one an Ingress routes, does not serve it.
        server = request.scope.get("server") or (None, None)
        if settings.metrics_port is not None and server[1] != settings.metrics_port:
            return problem(404, "Not Found", "no such resource")
        state = request.app.state
        metrics.nats_connected.set(1 if state.nc.is_connected else 0)
        metrics.database_up.set(1 if await database_reachable(state.pool) else 0)
        if spec.publishes is not None:
            with contextlib.suppress(Exception):
                backlog, _ = await outbox_backlog(state.pool)
                metrics.outbox_pending.set(backlog)
                metrics.outbox_backlog.set(backlog)
        leading = state.relay is not None and state.relay.is_leader
        metrics.relay_leader_flag.set(1 if leading else 0)
        if state.relay is not None:
            metrics.relay_leader.set(1 if leading else 0)
            metrics.relay_published.set(state.relay.published)
        for runner in state.runners:
            name, s = runner.projection.name, runner.stats
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    info = await runner.js.consumer_info(runner.projection.stream, name)
                metrics.consumer_lag.labels(name).set(info.num_pending or 0)
            metrics.count_up_to(metrics.consumer_redeliveries, (name,), s.redelivered)
            for kind in sorted({*DEAD_LETTER_KINDS, *s.dead_letters}):
                metrics.count_up_to(metrics.dead_letters, (name, kind), s.dead_letters.get(kind, 0))
            for outcome, value in (
                ("applied", s.applied),
                ("duplicate", s.duplicates),
                ("gap", s.gaps),
                ("dead_lettered", s.dead_lettered),
            ):
                metrics.projection_events.labels(name, outcome).set(value)
            metrics.projection_position.labels(name).set(s.last_seq)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @router.get("/asyncapi", include_in_schema=False)
    async def asyncapi_json() -> dict[str, Any]:
        return asyncapi

    @router.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{spec.title} — API",
            swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="/docs/static/favicon-32x32.png",
        )

    return router


def migrate_on_start() -> bool:
    """GENTING_MIGRATE_ON_START (default on: `genting up`, the tests, a plain `uvicorn`).
    `genting serve` turns it off: in production `genting migrate` runs once, before the services."""
    return os.environ.get("GENTING_MIGRATE_ON_START", "1").strip().lower() not in ("0", "false", "no", "off", "")


IDEMPOTENCY_PURGE_SECONDS = 3600.0


async def _purge_idempotency(app: FastAPI) -> None:
    """Expired idempotency records are deleted hourly (on every replica: the delete is idempotent),
    so stored responses and fingerprints do not outlive GENTING_IDEMPOTENCY_TTL_DAYS."""
    records = app_idempotency(app)
    while True:
        try:
            if purged := await records.purge(app.state.pool):
                log.info("idempotency_records_purged", count=purged)
        except Exception as exc:  # PostgreSQL away: the next round tries again
            log.warning("idempotency_purge_failed", error=type(exc).__name__)
        await asyncio.sleep(IDEMPOTENCY_PURGE_SECONDS)


async def _stop(tasks: Sequence[asyncio.Task[None]]) -> None:
    """Cancel until every task has ended: a projection runner was seen still fetching after its
    cancel (on Python 3.11, asyncio.wait_for inside nats-py's next_msg returns a message that
    arrives as the cancellation does, swallowing it), and gather alone then waits forever."""
    pending = set(tasks)
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=1.0)
