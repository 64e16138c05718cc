"""`genting status`: the operator's view of each service's event plumbing.

Per service: which process leads its outbox relay, how many committed events wait in the outbox
(and for how long), each of its JetStream consumers' lag, ack pending and redeliveries, and the
dead letters waiting. Read straight from PostgreSQL and JetStream, so it works whether or not the
services themselves answer.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

import asyncpg
import nats
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from genting import services as catalogue
from shared.messaging import dlq_stream_name
from shared.nats_setup import inbox_prefix_for
from shared.outbox import outbox_backlog, relay_leader

TIMEOUT = 5.0


@dataclass
class ConsumerStatus:
    name: str
    stream: str
    lag: int  # messages not delivered yet (num_pending)
    ack_pending: int
    redelivered: int  # messages delivered more than once and not yet acked (num_redelivered)


@dataclass
class ServiceStatus:
    name: str
    relay_leader: str | None = None  # pid@host of the process holding the leader lock
    outbox_backlog: int | None = None
    outbox_oldest_seconds: float | None = None
    consumers: list[ConsumerStatus] = field(default_factory=list)
    dead_letters: int | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class Endpoints:
    """Where to look: one NATS URL, and each service's database URL (None: not known)."""

    nats_url: str | None
    databases: dict[str, str | None]


def database_url_for(service: str, single: bool) -> str | None:
    """GENTING_<SERVICE>_DATABASE_URL, else GENTING_DATABASE_URL when only one service is meant."""
    own = os.environ.get(f"GENTING_{service.upper()}_DATABASE_URL")
    if own:
        return own
    if single or os.environ.get("GENTING_SERVICE") == service:
        return os.environ.get("GENTING_DATABASE_URL") or None
    return None


def endpoints(stack: dict[str, Any] | None) -> Endpoints:
    """The running embedded stack's record wins; else the environment, as in a deployment."""
    if stack is not None:
        return Endpoints(stack["nats_url"], {s.name: stack["databases"].get(s.name) for s in catalogue.SERVICES})
    return Endpoints(
        os.environ.get("GENTING_NATS_URL"),
        {s.name: database_url_for(s.name, single=False) for s in catalogue.SERVICES},
    )


async def collect(where: Endpoints) -> list[ServiceStatus]:
    statuses = {s.name: ServiceStatus(s.name) for s in catalogue.SERVICES}
    await asyncio.gather(*(_database_part(statuses[name], url) for name, url in where.databases.items()))
    if where.nats_url is None:
        for status in statuses.values():
            status.problems.append("no NATS URL (GENTING_NATS_URL)")
    else:
        try:
            nc = await nats.connect(
                where.nats_url,
                connect_timeout=TIMEOUT,
                max_reconnect_attempts=0,
                inbox_prefix=inbox_prefix_for(where.nats_url),
            )
        except Exception as exc:
            for status in statuses.values():
                status.problems.append(f"NATS unreachable: {exc!r}")
        else:
            try:
                await _nats_part(nc.jetstream(timeout=TIMEOUT), statuses)
            finally:
                await nc.close()
    return list(statuses.values())


async def _database_part(status: ServiceStatus, url: str | None) -> None:
    if url is None:
        status.problems.append(f"no database URL (GENTING_{status.name.upper()}_DATABASE_URL)")
        return
    try:
        conn = await asyncpg.connect(url, timeout=TIMEOUT)
    except Exception as exc:
        status.problems.append(f"database unreachable: {type(exc).__name__}")
        return
    try:
        status.relay_leader = await relay_leader(conn, status.name)
        status.outbox_backlog, status.outbox_oldest_seconds = await outbox_backlog(conn)
    except asyncpg.UndefinedTableError:
        status.problems.append("database not migrated (genting migrate)")
    finally:
        await conn.close()


async def _nats_part(js: JetStreamContext, statuses: dict[str, ServiceStatus]) -> None:
    streams = [info.config.name for info in await js.streams_info() if info.config.name]
    for stream in sorted(s for s in streams if s.startswith("GENTING_") and not s.startswith("GENTING_DLQ_")):
        for info in await js.consumers_info(stream):
            name = info.name or info.config.durable_name or ""
            owner = statuses.get(name.split("-", 1)[0])  # consumers are named `<service>-<purpose>`
            if owner is None:
                continue
            owner.consumers.append(
                ConsumerStatus(
                    name, stream, info.num_pending or 0, info.num_ack_pending or 0, info.num_redelivered or 0
                )
            )
    for status in statuses.values():
        try:
            status.dead_letters = (await js.stream_info(dlq_stream_name(status.name))).state.messages
        except NotFoundError:
            status.dead_letters = 0  # no consumer of this service has dead-lettered anything yet


def as_json(statuses: list[ServiceStatus]) -> str:
    return json.dumps({"services": {s.name: asdict(s) for s in statuses}}, indent=2)


def as_table(statuses: list[ServiceStatus]) -> str:
    lines = [f"{'SERVICE':<10} {'RELAY LEADER':<28} {'OUTBOX':>7} {'OLDEST':>8} {'DEAD LETTERS':>12}"]
    for s in statuses:
        leader = s.relay_leader or ("(none)" if s.outbox_backlog is not None else "?")
        backlog = "?" if s.outbox_backlog is None else str(s.outbox_backlog)
        oldest = "?" if s.outbox_oldest_seconds is None else f"{s.outbox_oldest_seconds:.1f}s"
        dead = "?" if s.dead_letters is None else str(s.dead_letters)
        lines.append(f"{s.name:<10} {leader:<28} {backlog:>7} {oldest:>8} {dead:>12}")
    lines += ["", f"{'CONSUMER':<22} {'STREAM':<20} {'LAG':>7} {'ACK PENDING':>12} {'REDELIVERED':>12}"]
    for s in statuses:
        for c in s.consumers:
            lines.append(f"{c.name:<22} {c.stream:<20} {c.lag:>7} {c.ack_pending:>12} {c.redelivered:>12}")
    problems = [f"  {s.name}: {p}" for s in statuses for p in s.problems]
    if problems:
        lines += ["", "Problems:", *problems]
    return "\n".join(lines)
