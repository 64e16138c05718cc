"""PostgreSQL pool and forward-only SQL migrations (kernel tables first, then the service's)."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg
import structlog

log = structlog.get_logger()

KERNEL_MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 0x67656E74  # 'gent': one migrator at a time across replicas


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_init_connection)
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


async def migrate(dsn: str, service_migrations: Path | None = None) -> list[str]:
    """Apply every migration not applied yet, each in its own transaction; returns their names."""
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
                await conn.execute(path.read_text())
                await conn.execute("insert into schema_migrations(name) values ($1)", name)
            applied.append(name)
            log.info("migration_applied", migration=name)
    finally:
        await conn.execute("select pg_advisory_unlock($1)", _MIGRATION_LOCK)
        await conn.close()
    return applied
