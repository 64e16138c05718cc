"""PostgreSQL pool and forward-only SQL migrations (kernel tables first, then the service's)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import structlog

log = structlog.get_logger()

KERNEL_MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 0x67656E74  # 'gent': one migrator at a time across replicas
# A migration that waits for a table lock queues every later query on that table behind it: the
# serving replicas of the previous release would stall. Better to give up quickly and fail the
# init container (Kubernetes retries it with backoff) than to take the service down.
MIGRATION_LOCK_TIMEOUT = "10s"
# No migration may run away with the database either; a long backfill sets its own, in its file.
MIGRATION_STATEMENT_TIMEOUT = "15min"


# What asyncpg raises when the server cannot be reached, went away mid-query, or is restarting.
_OUTAGES: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable (ConnectionError and socket errors are OSErrors)
    asyncpg.PostgresConnectionError,  # "connection was closed in the middle of operation", ...
    asyncpg.CannotConnectNowError,  # "the database system is starting up / in recovery mode"
    asyncpg.AdminShutdownError,  # a fast or smart shutdown ended our backend
    asyncpg.CrashShutdownError,  # another backend crashed: PostgreSQL restarts them all
    asyncpg.TooManyConnectionsError,
)


def is_outage(exc: BaseException) -> bool:
    """The error is the database being away (checked along the cause chain)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, _OUTAGES):
            return True
        if isinstance(seen, asyncpg.InterfaceError) and "closed" in str(seen):
            return True  # "connection is closed": a pooled connection the restart broke
        seen = seen.__cause__ or seen.__context__
    return False


PROBE_TIMEOUT_SECONDS = 2.0


async def database_reachable(pool: asyncpg.Pool) -> bool:
    """`select 1` answered within the probe's timeout (readiness, and deciding what an error was)."""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
            return bool(await pool.fetchval("select 1") == 1)
    except Exception:
        return False


STARTUP_WAIT_SECONDS = 60.0


async def wait_for_database(dsn: str, timeout: float = STARTUP_WAIT_SECONDS) -> None:
    """Return once the database accepts a connection; a process starting while PostgreSQL
    restarts waits for it (bounded) instead of exiting and being restarted in a backoff loop."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    said = False
    while True:
        try:
            conn = await asyncpg.connect(dsn, timeout=5)
        except Exception as exc:
            if not is_outage(exc) or loop.time() > deadline:
                raise
            if not said:
                log.warning("waiting_for_database", error=type(exc).__name__, timeout_seconds=timeout)
                said = True
            await asyncio.sleep(0.5)
        else:
            await conn.close()
            return


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a released connection needs beyond asyncpg's own rollback of an open transaction:
    nothing. Pooled connections take only transaction-scoped locks and settings (the relay's
    LISTEN and leader lock live on connections of their own), so the default reset
    (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`) would be one more round trip
    per command that changes nothing."""


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, reset=_keep_session
    )
    assert pool is not None
    return pool


async def connect(dsn: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn


def migration_files(*directories: tuple[str, Path]) -> list[tuple[str, Path]]:
    """(`kernel/0001_events.sql`, path) pairs: kernel first, each directory in name order."""
    files: list[tuple[str, Path]] = []
    for label, directory in directories:
        files += [(f"{label}/{p.name}", p) for p in sorted(directory.glob("*.sql"))]
    return files


async def migrate(
    dsn: str,
    service_migrations: Path | None = None,
    *,
    lock_timeout: str = MIGRATION_LOCK_TIMEOUT,
    statement_timeout: str = MIGRATION_STATEMENT_TIMEOUT,
) -> list[str]:
    """Apply every migration not applied yet, each in its own transaction with `lock_timeout` and
    `statement_timeout` (a failing one is rolled back whole, and raises); returns their names."""
    dirs = [("kernel", KERNEL_MIGRATIONS)]
    if service_migrations is not None:
        dirs.append(("service", service_migrations))
    conn = await asyncpg.connect(dsn)
    applied: list[str] = []
    try:
        await conn.execute("select pg_advisory_lock($1)", _MIGRATION_LOCK)
        await conn.execute(
            "create table if not exists schema_migrations ("
            " name text primary key, applied_at timestamptz not null default now())"
        )
        done = {r["name"] for r in await conn.fetch("select name from schema_migrations")}
        for name, path in migration_files(*dirs):
            if name in done:
                continue
            async with conn.transaction():
                # set_config(..., true) is SET LOCAL: it ends with this migration's transaction.
                await conn.execute(
                    "select set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true)",
                    lock_timeout,
                    statement_timeout,
                )
                try:
                    await conn.execute(path.read_text())
                except (asyncpg.LockNotAvailableError, asyncpg.QueryCanceledError):
                    log.error(
                        "migration_timed_out",
                        migration=name,
                        lock_timeout=lock_timeout,
                        statement_timeout=statement_timeout,
                    )
                    raise
                await conn.execute("insert into schema_migrations(name) values ($1)", name)
            applied.append(name)
            log.info("migration_applied", migration=name)
    finally:
        await conn.execute("select pg_advisory_unlock($1)", _MIGRATION_LOCK)
        await conn.close()
    return applied


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def ensure_service_role(server_url: str, database: str, role: str, password: str) -> str:
    """Give `database` its own login role, owning it and everything in it, and nobody else's
    connections: returns the database's URL as that role.

    Run as a superuser (the embedded server's `postgres`, or the cluster admin in a deployment).
    Idempotent; the password is set again each time (secrets.json is its source). Objects an
    older `genting up` created as `postgres` are handed over, so the role can migrate them.
    """
    admin = await asyncpg.connect(server_url, timeout=10)
    try:
        exists = await admin.fetchval("select 1 from pg_roles where rolname = $1", role)
        verb = "alter" if exists else "create"
        # A literal, not a parameter: utility statements take none. `password` is urlsafe text.
        if any(not (c.isalnum() or c in "-_") for c in password):
            raise ValueError("a database role's password must be urlsafe text")
        await admin.execute(f"{verb} role {_ident(role)} with login password '{password}'")
        await admin.execute(f"alter database {_ident(database)} owner to {_ident(role)}")
        await admin.execute(f"revoke connect, temporary on database {_ident(database)} from public")
        await admin.execute(f"grant connect on database {_ident(database)} to {_ident(role)}")
    finally:
        await admin.close()
    parts = urlsplit(server_url)
    in_db = await asyncpg.connect(urlunsplit(parts._replace(path="/" + quote(database))), timeout=10)
    try:
        await in_db.execute(f"alter schema public owner to {_ident(role)}")
        rows = await in_db.fetch(
            "select c.relkind, n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S')"
            " and pg_get_userbyid(c.relowner) <> $1 and not exists"
            " (select 1 from pg_depend d where d.objid = c.oid and d.deptype in ('a', 'i'))",
            role,
        )
        kinds = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "S": "sequence"}
        for r in rows:
            await in_db.execute(
                f"alter {kinds[r['relkind']]} {_ident(r['nspname'])}.{_ident(r['relname'])} owner to {_ident(role)}"
            )
        for fn in await in_db.fetch(
            "select p.oid::regprocedure::text as sig from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
            " where n.nspname = 'public' and pg_get_userbyid(p.proowner) <> $1",
            role,
        ):
            await in_db.execute(f"alter routine {fn['sig']} owner to {_ident(role)}")
    finally:
        await in_db.close()
    netloc = f"{quote(role, safe='')}:{password}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc, path="/" + quote(database)))
