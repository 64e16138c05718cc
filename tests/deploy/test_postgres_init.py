"""deploy/postgres/init-databases.sh (Compose's first start) on a real PostgreSQL: one owner role and
one database per service, and no service can open another's database."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pgserver._commands
import pytest
from deploy_tools import DEPLOY, SERVICES

from genting.embedded import EmbeddedPostgres
from shared.testing import free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    data = tmp_path_factory.mktemp("postgres-init")
    pg = EmbeddedPostgres(data, free_port(), durable=False)
    try:
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(data, ignore_errors=True)


async def run_script(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = DEPLOY / "postgres" / "init-databases.sh"
    args = ["sh", str(script)]
    return await asyncio.to_thread(subprocess.run, args, env=env, capture_output=True, text=True, timeout=60)


async def test_each_service_gets_its_own_role_and_database(server: EmbeddedPostgres, tmp_path: Path) -> None:
    # A quote in one password: psql's :'var' must quote it, not splice it into the SQL.
    passwords = {s: f"{s}-{secrets.token_hex(16)}" for s in SERVICES} | {"aid": "it's-a-" + secrets.token_hex(16)}
    env = {
        "PATH": f"{pgserver._commands.POSTGRES_BIN_PATH}:{os.environ.get('PATH', '')}",
        "POSTGRES_USER": "postgres",
        "PGHOST": server.host,
        "PGPORT": str(server.port),
        **{f"{s.upper()}_DB_PASSWORD": pw for s, pw in passwords.items()},
    }
    proc = await run_script(env)
    assert proc.returncode == 0, proc.stderr

    admin = await asyncpg.connect(server.url)
    try:
        owners = dict(
            await admin.fetch(
                "select d.datname, r.rolname from pg_database d join pg_roles r on r.oid = d.datdba"
                " where d.datname like 'genting_%'"
            )
        )
        assert owners == {f"genting_{s}": s for s in SERVICES}
        for service in SERVICES:
            # The stored verifier is of the password we gave (SCRAM), so the quote went through intact.
            verifier = await admin.fetchval("select rolpassword from pg_authid where rolname = $1", service)
            assert verifier and verifier.startswith("SCRAM-SHA-256$")
            assert not await admin.fetchval(
                "select rolsuper or rolcreatedb or rolcreaterole from pg_roles where rolname = $1", service
            )
    finally:
        await admin.close()

    base = server.url.rsplit("/", 1)[0].replace("postgres@", "aid@")
    conn = await asyncpg.connect(f"{base}/genting_aid")
    await conn.execute("create table mine (id int)")  # the owner can build its schema
    await conn.close()
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await asyncpg.connect(f"{base}/genting_funding")

    # Run again on a volume that already has them: the script is for an empty data directory only,
    # and says so by failing rather than silently changing passwords.
    again = await run_script(env)
    assert again.returncode != 0
