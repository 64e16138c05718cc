"""`genting up` as a real process for the e2e tests: started on free ports in a fresh data dir,
waited for (every service ready, stack.json written), stopped with Ctrl-C at the end.

A module of its own (like tests/integration/shared/kernel_support.py) so that test modules can
share it without importing each other."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from genting.embedded import die_with_parent
from shared.testing import free_port, wait_until

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("registry", "aid", "funding", "reporting")


@dataclass
class Up:
    data_dir: Path
    urls: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes]

    def stack(self) -> dict[str, Any]:
        """stack.json as `up` last wrote it (it rewrites it whenever it restarts a process)."""
        return json.loads((self.data_dir / "stack.json").read_text())  # type: ignore[no-any-return]

    @property
    def idp_url(self) -> str:
        """The development OIDC provider's URL (the issuer of its tokens)."""
        return str(self.stack()["idp"])

    def pids(self) -> dict[str, int]:
        return self.stack()["pids"]  # type: ignore[no-any-return]

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def all_ready(self, http: httpx.AsyncClient) -> bool:
        assert self.proc.poll() is None, f"genting up stopped:\n{self.output()[-4000:]}"
        try:
            answers = await asyncio.gather(*(http.get(f"{u}/health/ready") for u in self.urls.values()))
        except httpx.TransportError:
            return False
        return all(a.status_code == 200 for a in answers) and (self.data_dir / "stack.json").exists()


@contextlib.asynccontextmanager
async def genting_up(tmp_path: Path, *args: str, timeout: float = 150) -> AsyncIterator[Up]:
    data = tmp_path / "data"
    # Every port its own, the sign-in provider's too: tests may run side by side.
    ports = {name: free_port() for name in (*SERVICES, "nats", "pg", "idp", "gateway")}
    argv = ["up", "--data-dir", str(data), "--host", "127.0.0.1", *args]
    argv += [f"--{name}-port={port}" for name, port in ports.items()]
    # Its own embedded servers, whatever the test session uses.
    env = {k: v for k, v in os.environ.items() if k not in ("GENTING_NATS_URL", "GENTING_DATABASE_URL")}
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(  # noqa: ASYNC220 (returns at once; stopped from sync code too)
            [sys.executable, "-m", "genting.cli", *argv],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),
        )
        up = Up(data, {name: f"http://127.0.0.1:{ports[name]}" for name in SERVICES}, log_path, proc)
        try:
            async with httpx.AsyncClient(timeout=3) as http:
                await wait_until(lambda: up.all_ready(http), timeout, interval=0.3, message="genting up ready")
            yield up
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                await asyncio.to_thread(proc.wait, 60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
