"""`genting migrate` gives up on a table lock it cannot get quickly, and on a statement that runs
away, instead of queueing the serving replicas' queries behind it: the migration is rolled back
whole and raises, and a later run (the init container's retry) applies it once the lock is free."""

from __future__ import annotations

import time
from pathlib import Path

import asyncpg
import pytest

from shared.db import migrate

pytestmark = pytest.mark.integration


async def columns(conn: asyncpg.Connection, table: str) -> set[str]:
    rows = await conn.fetch("select column_name from information_schema.columns where table_name = $1", table)
    return {r["column_name"] for r in rows}


async def test_a_migration_waiting_for_a_lock_gives_up_and_applies_later(database_url: str, tmp_path: Path) -> None:
    await migrate(database_url)
    holder = await asyncpg.connect(database_url)
    try:
        await holder.execute("create table families_view (id int primary key)")
        (tmp_path / "0001_families_view_kelurahan.sql").write_text(
            "alter table families_view add column kelurahan text;"
        )
        # A long read of the table (a report, a replay) holds it while the migration arrives.
        reader = holder.transaction()
        await reader.start()
        await holder.execute("lock table families_view in access share mode")

        started = time.monotonic()
        with pytest.raises(asyncpg.LockNotAvailableError):
            await migrate(database_url, tmp_path, lock_timeout="500ms")
        assert time.monotonic() - started < 10
        await reader.rollback()

        assert "kelurahan" not in await columns(holder, "families_view")
        applied = {r["name"] for r in await holder.fetch("select name from schema_migrations")}
        assert "service/0001_families_view_kelurahan.sql" not in applied

        assert await migrate(database_url, tmp_path) == ["service/0001_families_view_kelurahan.sql"]
        assert "kelurahan" in await columns(holder, "families_view")
    finally:
        await holder.close()


async def test_a_runaway_migration_is_cancelled_and_rolled_back(database_url: str, tmp_path: Path) -> None:
    await migrate(database_url)
    (tmp_path / "0001_slow_backfill.sql").write_text("create table backfilled (id int); select pg_sleep(30);")
    started = time.monotonic()
    with pytest.raises(asyncpg.QueryCanceledError):
        await migrate(database_url, tmp_path, statement_timeout="1s")
    assert time.monotonic() - started < 15
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("select to_regclass('backfilled')") is None
    finally:
        await conn.close()
