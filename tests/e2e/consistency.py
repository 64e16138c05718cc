"""What the e2e tests of a whole stack check at the end of a load: the stack has settled (outboxes
published, consumers caught up, `genting status`'s figures), and every read model equals a replay
of its events. Shared by the replicas and chaos tests (a module of its own, like up_support)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import nats
from pydantic import SecretStr
from up_support import Up

from genting import status as operator_status
from genting.state import load_secrets
from shared.db import connect as db_connect
from shared.nats_setup import inbox_prefix_for
from shared.settings import Settings
from shared.testing import wait_until


@contextlib.asynccontextmanager
async def databases(up: Up) -> AsyncIterator[dict[str, asyncpg.Connection]]:
    conns = {name: await db_connect(url) for name, url in up.stack()["databases"].items()}
    try:
        yield conns
    finally:
        for conn in conns.values():
            await conn.close()


async def quiet(up: Up, timeout: float = 60) -> list[operator_status.ServiceStatus]:
    """Every outbox published and every consumer caught up (nothing pending, nothing unacked)."""
    where = operator_status.endpoints(up.stack())

    async def settled() -> list[operator_status.ServiceStatus] | None:
        found = await operator_status.collect(where)
        for s in found:
            if s.problems or s.outbox_backlog != 0 or any(c.lag or c.ack_pending for c in s.consumers):
                return None
        return found

    return await wait_until(settled, timeout, interval=0.3, message="the stack settles")


class OneConnection:
    """A pool stand-in handing out one connection already inside a transaction: a service's
    rebuild then runs in a savepoint of it, and rolling that transaction back leaves the live
    read model as it was. The replay runs on a copy, in effect."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        yield self.conn


async def dump(conn: asyncpg.Connection, tables: tuple[str, ...]) -> dict[str, list[str]]:
    """Each table's rows, comparable: the time a row was written and sealed (randomly encrypted)
    personal data are left out; a sealed value is compared by being there or not."""
    out: dict[str, list[str]] = {}
    for table in tables:
        rows = []
        for record in await conn.fetch(f"select * from {table}"):
            row = {k: ("sealed" if isinstance(v, bytes) and v else v) for k, v in dict(record).items()}
            row.pop("updated_at", None)
            rows.append(json.dumps(row, sort_keys=True, default=str))
        out[table] = sorted(rows)
    return out


async def replay_equals_live(
    conn: asyncpg.Connection, tables: tuple[str, ...], rebuild: Callable[[Any], Awaitable[Any]]
) -> None:
    live = await dump(conn, tables)
    transaction = conn.transaction()
    await transaction.start()
    try:
        await rebuild(OneConnection(conn))
        replayed = await dump(conn, tables)
    finally:
        await transaction.rollback()
    for table in tables:
        assert replayed[table] == live[table], f"{table}: replay differs from the live read model"
    assert any(live.values())


async def read_models_equal_replays(up: Up, db: dict[str, asyncpg.Connection]) -> None:
    """Every service's read models equal a replay of its events (each run inside a transaction
    that is rolled back: a copy, the live models untouched)."""
    from services.aid.app import repositories
    from services.aid.replay import rebuild as rebuild_aid
    from services.aid.views import VIEWS as AID_VIEWS
    from services.funding.replay import rebuild as rebuild_funding
    from services.funding.views import VIEW_TABLES as FUNDING_VIEWS
    from services.registry.app import registry
    from services.registry.replay import rebuild as rebuild_registry
    from services.reporting.projections import PROJECTIONS
    from services.reporting.replay import rebuild as rebuild_reporting

    secrets = load_secrets(up.data_dir)
    # Each service's own data key (genting up gives each its own).
    keys = {
        name: Settings(jwt_secret=SecretStr(secrets.jwt_secret), data_key=SecretStr(secrets.data_keys[name]))
        for name in ("registry", "aid")
    }
    await replay_equals_live(
        db["registry"], ("families_view",), lambda pool: rebuild_registry(pool, registry(keys["registry"]))
    )
    await replay_equals_live(db["aid"], AID_VIEWS, lambda pool: rebuild_aid(pool, repositories(keys["aid"])))
    await replay_equals_live(db["funding"], FUNDING_VIEWS, rebuild_funding)
    reporting_tables = tuple(t for p in PROJECTIONS for t in p.tables)
    # The replay reads through consumers of its own: the admin's (`genting replay` gives it).
    from genting.cli import _nats_url_for

    admin = _nats_url_for(up.data_dir, "admin")
    as_reporting = await nats.connect(admin, inbox_prefix=inbox_prefix_for(admin))
    try:
        await replay_equals_live(
            db["reporting"], reporting_tables, lambda pool: rebuild_reporting(pool, as_reporting.jetstream())
        )
    finally:
        await as_reporting.close()
