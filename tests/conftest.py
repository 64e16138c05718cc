"""Real servers for every test tier (NATS-NOTES.md 4.4, STYLE.md 8).

The ladder, for NATS and PostgreSQL alike: the server named by GENTING_NATS_URL /
GENTING_DATABASE_URL; else a testcontainers container when a Docker engine answers; else the
embedded server from the Python packages. Never a skip: every machine gets real servers.
Servers are per session; isolation is per test (a fresh database; GENTING_* streams deleted).
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import asyncpg
import httpx
import nats
import pytest
from nats.aio.client import Client

from genting import nats_topology
from genting.embedded import EmbeddedNats, EmbeddedPostgres, die_with_parent, ensure_database
from genting.nats_accounts import new_passwords, url_for
from shared.db import ensure_service_role
from shared.nats_setup import connect, inbox_prefix_for
from shared.testing import TEST_DATA_KEY, TEST_JWKS_FILE, free_port, wait_until
from shared.testing.bus import stream_names

REPO = Path(__file__).resolve().parents[1]
READY_TIMEOUT = 60.0


def pytest_sessionstart(session: pytest.Session) -> None:
    # CI runners and timeouts stop a run with SIGTERM, which ends Python at once, skipping
    # fixture teardown, and PostgreSQL (a daemon) would outlive the run. Treat it as Ctrl-C.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@functools.cache
def docker_answers() -> bool:
    """A quick ping, so machines without a Docker engine don't wait for testcontainers' retries."""
    if not os.environ.get("DOCKER_HOST") and not Path("/var/run/docker.sock").exists():
        return False  # where docker.from_env() would look; skipping it spares an import and a warning
    try:
        import docker

        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


@dataclass(frozen=True)
class NatsServer:
    """The session's NATS server: `url` is the admin's (the fixtures' housekeeping, tests that
    publish as "the system"); `url_for(user)` another user's (a service, subscriber, operator).
    An external server (GENTING_NATS_URL, a container) is not locked: every user gets its URL."""

    url: str
    passwords: dict[str, str] | None = None

    @property
    def locked(self) -> bool:
        return self.passwords is not None

    def url_for(self, user: str) -> str:
        return self.url if self.passwords is None else url_for(self.url, user, self.passwords[user])


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """Embedded, it runs locked, with genting/nats_accounts.py's users: the deploy/ model."""
    if url := os.environ.get("GENTING_NATS_URL"):
        # An external server: this URL must have every right (the fixtures delete streams).
        yield NatsServer(url)
    elif docker_answers():
        from testcontainers.community.nats import NatsContainer

        with NatsContainer("nats:2", jetstream=True) as container:
            yield NatsServer(container.nats_uri())
    else:
        store = tmp_path_factory.mktemp("nats")
        server = EmbeddedNats(store, free_port(), passwords=new_passwords())
        try:
            yield NatsServer(server.url_for("admin"), server.passwords)
        finally:
            server.stop()
            shutil.rmtree(store, ignore_errors=True)


@pytest.fixture(scope="session")
def nats_url(nats_server: NatsServer) -> str:
    """The admin's URL: tests that publish or inspect streams directly act as the system."""
    return nats_server.url


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL of the server's maintenance database; tests use `database_url` instead."""
    if url := os.environ.get("GENTING_DATABASE_URL"):
        yield url
    elif docker_answers():
        from testcontainers.community.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver=None) as container:
            yield container.get_connection_url()
    else:
        data = tmp_path_factory.mktemp("postgres")
        # Locked as `genting up` runs it: logins need their role's password (service_process).
        server = EmbeddedPostgres(data, free_port(), durable=False, password=uuid.uuid4().hex)
        try:
            yield server.url
        finally:
            server.stop()
            shutil.rmtree(data, ignore_errors=True)


async def drop_database(server_url: str, name: str, *, role: bool = False) -> None:
    conn = await asyncpg.connect(server_url, timeout=10)
    try:
        # FORCE: a test that leaked a connection must not leak its database too.
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if role:  # service_process's: named as its database, owning nothing else now
            await conn.execute(f'DROP ROLE IF EXISTS "{name}"')
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    name = f"t_{uuid.uuid4().hex}"
    url = await ensure_database(server_url, name)
    try:
        yield url
    finally:
        await drop_database(server_url, name)


@pytest.fixture
async def database_url(pg_server_url: str) -> AsyncIterator[str]:
    """A fresh, empty database for this test only."""
    async with fresh_database(pg_server_url) as url:
        yield url


@pytest.fixture
async def other_database_url(pg_server_url: str) -> AsyncIterator[str]:
    """A second fresh database for this test (a consumer's, beside the producer's)."""
    async with fresh_database(pg_server_url) as url:
        yield url


async def _delete_genting_streams(url: str) -> None:
    nc = await nats.connect(url, inbox_prefix=inbox_prefix_for(url))
    try:
        js = nc.jetstream()
        for name in await stream_names(js):
            if name.startswith("GENTING_"):
                await js.delete_stream(name)
    finally:
        await nc.close()


@pytest.fixture
async def js_clean(nats_url: str, nats_server: NatsServer) -> str:
    """The NATS URL, with every GENTING_* stream (and so its consumers) deleted, then created
    empty again as the migration step does (genting/nats_topology.py), the subscriber's too."""
    await _delete_genting_streams(nats_url)
    subscriber = None
    if nats_server.locked:  # an open server has no subscriber account (its streams would clash)
        subscriber = nats_server.url_for("subscriber")
        await _delete_genting_streams(subscriber)
    nc = await nats.connect(nats_url)
    try:
        await nats_topology.create_streams(nc.jetstream())
    finally:
        await nc.close()
    if subscriber:
        nc = await nats.connect(subscriber, inbox_prefix=inbox_prefix_for(subscriber))
        try:
            await nats_topology.create_subscriber_streams(nc.jetstream())
        finally:
            await nc.close()
    return nats_url


@pytest.fixture
async def nc(js_clean: str) -> AsyncIterator[Client]:
    """A NATS connection as the system (the admin), to the clean server: to publish as another
    service would, or read what a service published."""
    client = await connect(js_clean, "tests")
    try:
        yield client
    finally:
        await client.close()


@dataclass
class ServiceProcess:
    """One service running as `uvicorn --factory` in a real subprocess."""

    name: str
    url: str
    database_url: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: a crash, with no shutdown hooks."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (a clean shutdown), then SIGKILL if it hangs."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()


StartService = Callable[..., Awaitable[ServiceProcess]]


@pytest.fixture
async def service_process(
    pg_server_url: str, js_clean: str, nats_server: NatsServer, tmp_path: Path
) -> AsyncIterator[StartService]:
    """A factory: `svc = await service_process("registry", env={...})`.

    Each service name gets a fresh database for the test, kept across restarts of that service
    within the test (so a killed service can come back to its data). All stopped at teardown.
    As under `genting up`, each service connects to NATS as its own user and, on the embedded
    PostgreSQL, to its database as its own role (which can open no other database).
    """
    own_roles = not os.environ.get("GENTING_DATABASE_URL") and not docker_answers()
    started: list[ServiceProcess] = []
    databases: dict[str, str] = {}

    async def start(
        name: str, *, env: dict[str, str | None] | None = None, timeout: float = READY_TIMEOUT
    ) -> ServiceProcess:
        if name not in databases:
            databases[name] = f"t_{uuid.uuid4().hex}"
        # The migration step's durables (a service may only update its own, never create one).
        nc = await nats.connect(js_clean)
        try:
            await nats_topology.create_durables(nc.jetstream())
        finally:
            await nc.close()
        db_url = await ensure_database(pg_server_url, databases[name])
        if own_roles:
            db_url = await ensure_service_role(pg_server_url, databases[name], databases[name], databases[name][2:])
        (tmp_path / name).mkdir(exist_ok=True)
        port = free_port()
        child_env = {
            **os.environ,
            "GENTING_SERVICE": name,
            "GENTING_DATABASE_URL": db_url,
            "GENTING_NATS_URL": nats_server.url_for(name),
            "GENTING_JWKS_FILE": TEST_JWKS_FILE,
            "GENTING_DATA_KEY": TEST_DATA_KEY,
            "GENTING_DATA_DIR": str(tmp_path / name),
        }
        for key, value in (env or {}).items():
            if value is None:  # None removes an inherited variable
                child_env.pop(key, None)
            else:
                child_env[key] = value
        log_path = tmp_path / f"{name}-{len(started)}.log"
        log = log_path.open("wb")
        args = [sys.executable, "-m", "uvicorn", "--factory", f"services.{name}.app:create_app"]
        args += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
        # A plain Popen (it returns at once) so that stop() and kill() work from sync code too.
        proc = subprocess.Popen(  # noqa: ASYNC220
            args, env=child_env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent()
        )
        svc = ServiceProcess(name, f"http://127.0.0.1:{port}", db_url, proc, log_path, log)
        started.append(svc)
        await _wait_ready(svc, timeout)
        return svc

    try:
        yield start
    finally:
        for svc in started:
            svc.stop()
            svc._log.close()
        for name in databases.values():
            await drop_database(pg_server_url, name, role=own_roles)


async def _wait_ready(svc: ServiceProcess, timeout: float) -> None:
    async with httpx.AsyncClient(timeout=2.0) as client:

        async def ready() -> bool:
            if svc.proc.poll() is not None:
                raise RuntimeError(f"{svc.name} exited ({svc.proc.returncode}):\n{svc.output()}")
            try:
                return (await client.get(f"{svc.url}/health/ready")).status_code == 200
            except httpx.TransportError:
                return False

        try:
            await wait_until(ready, timeout, interval=0.1, message=f"{svc.name} ready")
        except TimeoutError:
            svc.stop()
            raise TimeoutError(f"{svc.name} not ready in {timeout:g} s:\n{svc.output()[-4000:]}") from None
