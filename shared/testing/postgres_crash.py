"""A PostgreSQL crash for the tests: SIGKILL of the postmaster, and its restart as `genting up`'s
supervisor does it (the killed server's backends may hold its shared memory a moment).

A test module that crashes PostgreSQL runs its own, never the session's: it takes the two
fixtures below as its own, by name,

    own_postgres = postgres_crash.own_postgres
    pg_server_url = postgres_crash.own_postgres_url

so its services and pools use the server it crashes."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from genting.embedded import EmbeddedPostgres, EmbeddedServerError
from shared.testing import free_port


@contextmanager
def crashable_postgres(directory: Path) -> Iterator[EmbeddedPostgres]:
    """A durable PostgreSQL of the test's own in `directory` (the session's is never crashed),
    locked with a password as `genting up` runs it; stopped and removed at the end."""
    server = EmbeddedPostgres(directory, free_port(), durable=True, password=uuid.uuid4().hex)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def own_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    """The module's crashable PostgreSQL."""
    with crashable_postgres(tmp_path_factory.mktemp("postgres-crash")) as server:
        yield server


@pytest.fixture(scope="module")
def own_postgres_url(own_postgres: EmbeddedPostgres) -> str:
    """Taken as the module's `pg_server_url`: it overrides the session's server there."""
    return own_postgres.url


def crash(server: EmbeddedPostgres) -> None:
    """SIGKILL the postmaster (no shutdown at all), and wait until it is gone."""
    pid = server.pid()
    assert pid is not None, "the server is not running"
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while server.is_running() and time.monotonic() < deadline:
        time.sleep(0.05)


async def restart(server: EmbeddedPostgres, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            await asyncio.to_thread(server.restart)
            return
        except EmbeddedServerError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
