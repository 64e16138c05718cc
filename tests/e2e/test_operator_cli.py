"""The operator's commands as processes: `genting serve` refuses weak secrets and serves without
migrating, `genting migrate` (idempotent, concurrent runs safe), and `genting up --replicas 2`
bringing back a SIGKILLed service replica and nats-server, with `genting status` reading it."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
from up_support import genting_up

from genting.embedded import die_with_parent, ensure_database
from shared.testing import TEST_DATA_KEY, TEST_HS256_SECRET, TEST_JWKS_FILE, TEST_SIGNING_KEY, free_port, wait_until

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
STRONG_SECRET = secrets.token_urlsafe(32)
STRONG_KEY = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
OPERATOR_METRICS = (
    "genting_outbox_backlog",
    "genting_relay_leader",
    "genting_consumer_lag",
    "genting_consumer_redeliveries_total",
    "genting_dead_letters_total",
)


async def genting(*args: str, env: dict[str, str | None] | None = None, timeout: float = 120) -> tuple[int, str, str]:
    child_env = {**os.environ}
    for key, value in (env or {}).items():
        if value is None:
            child_env.pop(key, None)
        else:
            child_env[key] = value
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "genting.cli",
        *args,
        cwd=REPO,
        env=child_env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def example_secrets() -> list[tuple[str, str]]:
    """Every value in the deployment's example secrets file (placeholders all), when there is one."""
    found: list[tuple[str, str]] = []
    for path in (p for p in (REPO / "deploy").rglob("*example*") if p.is_file()):
        for key, value in re.findall(r"^\s*(GENTING_[A-Z_]+):\s*\"?([^\"\n]+)\"?\s*$", path.read_text(), re.M):
            if key in ("GENTING_JWT_SECRET", "GENTING_DATA_KEY"):
                found.append((key, value))
    return found


WEAK = [
    ("GENTING_JWKS_URL", None),
    ("GENTING_JWKS_URL", "http://sso.pekalongankota.go.id/certs"),
    # A service holds nothing that signs tokens, however strong, and no HS256 in production.
    ("GENTING_JWT_SECRET", STRONG_SECRET),
    ("GENTING_JWT_SECRET", TEST_HS256_SECRET),
    ("GENTING_SIGNING_KEY", TEST_SIGNING_KEY),
    ("GENTING_JWT_ALGORITHM", "HS256"),
    ("GENTING_DATA_KEY", None),
    ("GENTING_DATA_KEY", "change-me-urlsafe-base64-of-32-random-bytes"),
    ("GENTING_DATA_KEY", TEST_DATA_KEY),
    ("GENTING_DATABASE_URL", "postgresql://genting:genting@postgres:5432/genting_registry"),
    ("GENTING_DATABASE_URL", "postgresql://genting:CHANGE-ME-postgres-password-0123456789@postgres/x"),
    ("GENTING_NATS_URL", "nats://registry:registry@nats:4222"),
    *example_secrets(),
]


@pytest.mark.parametrize(("setting", "value"), WEAK)
async def test_serve_refuses_a_weak_secret_with_one_line_naming_the_setting(setting: str, value: str | None) -> None:
    env: dict[str, str | None] = {
        "GENTING_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/genting_registry",
        "GENTING_NATS_URL": "nats://127.0.0.1:1",
        "GENTING_JWKS_URL": "https://sso.pekalongankota.go.id/certs",
        "GENTING_DATA_KEY": STRONG_KEY,
        setting: value,
    }
    code, out, err = await genting("serve", "registry", env=env, timeout=60)
    assert code != 0
    assert out == ""
    [line] = err.strip().splitlines()
    assert line.startswith(f"genting serve: {setting} ")


async def test_migrate_is_idempotent_and_safe_concurrently_and_serve_then_starts_without_migrating(
    pg_server_url: str, js_clean: str, tmp_path: Path
) -> None:
    db = await ensure_database(pg_server_url, f"t_{uuid.uuid4().hex}")
    env: dict[str, str | None] = {"GENTING_REGISTRY_DATABASE_URL": db, "GENTING_DATABASE_URL": None}
    code, _, err = await genting("migrate", "all", env=env)
    assert code == 2 and "GENTING_AID_DATABASE_URL" in err  # `all` needs every service's database

    first, second = await asyncio.gather(
        genting("migrate", "registry", env=env), genting("migrate", "registry", env=env)
    )
    assert (first[0], second[0]) == (0, 0), (first, second)
    applied = [int(re.search(r"(\d+) migration", r[1]).group(1)) for r in (first, second)]  # type: ignore[union-attr]
    assert sorted(applied)[0] == 0 and sorted(applied)[1] > 0  # one run applied them, the other waited
    code, out, _ = await genting("migrate", "registry", env={"GENTING_DATABASE_URL": db})
    assert code == 0 and out.startswith("registry: 0 migration(s) applied")

    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    serve_env = {
        **os.environ,
        "GENTING_DATABASE_URL": db,
        "GENTING_NATS_URL": js_clean,
        "GENTING_JWKS_FILE": TEST_JWKS_FILE,
        "GENTING_DATA_KEY": STRONG_KEY,
        "GENTING_HOST": "127.0.0.1",
        "PORT": str(port),
        "GENTING_METRICS_PORT": str(metrics_port := free_port()),
    }
    serve_env.pop("GENTING_MIGRATE_ON_START", None)
    proc = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "genting.cli", "serve", "registry"],
        cwd=REPO,
        env=serve_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent(),
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:

            async def ready() -> bool:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()
                try:
                    return (await http.get("/health/ready")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_until(ready, 60, interval=0.2, message="serve ready")
            # The API port (the one an Ingress routes) does not serve /metrics; its own port does.
            assert (await http.get("/metrics")).status_code == 404
            metrics = (await http.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
            for name in OPERATOR_METRICS[:2]:
                assert f"\n{name} " in metrics, name
        conn = await asyncpg.connect(db)
        try:  # serve applied nothing: the migrations are exactly those `migrate` recorded
            assert await conn.fetchval("select count(*) from schema_migrations") == sorted(applied)[1]
        finally:
            await conn.close()
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()


async def test_up_with_two_replicas_brings_back_a_killed_replica_and_nats_server(tmp_path: Path) -> None:
    async with genting_up(tmp_path, "--replicas", "2") as up:
        pids = up.pids()
        assert sorted(p for p in pids if "[" in p) == sorted(f"{s}[{i}]" for s in up.urls for i in (1, 2))

        os.kill(pids["aid[1]"], signal.SIGKILL)
        os.kill(pids["nats-server"], signal.SIGKILL)

        def restarted() -> bool:
            text = up.output()
            return "genting: aid[1] exited (-9); restarting in 1.0 s" in text and (
                "genting: nats-server exited (-9); restarting in 1.0 s" in text
            )

        await wait_until(restarted, 30, interval=0.2, message="restart lines")

        def new_pids() -> bool:
            now = up.pids()
            return now["aid[1]"] != pids["aid[1]"] and now["nats-server"] != pids["nats-server"]

        await wait_until(new_pids, 60, interval=0.2, message="new pids recorded")
        async with httpx.AsyncClient(timeout=3) as http:
            await wait_until(lambda: up.all_ready(http), 90, interval=0.3, message="ready again")
            metrics = (await http.get(f"{up.urls['aid']}/metrics")).text
        for name in OPERATOR_METRICS:
            assert name in metrics, name

        code, out, err = await genting("status", "--json", "--data-dir", str(up.data_dir))
        assert code == 0, err
        status = json.loads(out)["services"]
        assert set(status) == set(up.urls)
        now = up.pids()
        for name, s in status.items():
            leader_pid = int(s["relay_leader"].split("@")[0])  # one of the service's own replicas leads
            assert leader_pid in (now[f"{name}[1]"], now[f"{name}[2]"]), (name, s, now)
            assert isinstance(s["outbox_backlog"], int)
            assert s["dead_letters"] == 0 and s["problems"] == []
        assert {c["name"] for c in status["aid"]["consumers"]} == {"aid-registry", "aid-funding"}
        assert up.proc.poll() is None  # the stack never stopped
    assert up.proc.returncode == 0, up.output()[-3000:]
