"""A PostgreSQL crash for the tests: SIGKILL of the postmaster, and its restart as `genting up`'s
supervisor does it (the killed server's backends may hold its shared memory a moment)."""

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
