"""What every benchmark does with processes: start the servers (embedded nats-server and a durable
PostgreSQL, or the ones GENTING_NATS_URL / GENTING_DATABASE_URL name), fresh databases per part,
a service as a real uvicorn process (started, waited for, stopped), and the CPU each of them used
while a phase was measured (the "cores busy" tables). bench.py, bench_aid.py, bench_funding.py
and bench_reporting.py import it from here rather than each keeping a copy.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvloop

from genting.client import Client, RetryPolicy
from genting.embedded import EmbeddedNats, EmbeddedPostgres, ensure_database
from shared.testing import free_port

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent


class BenchFailure(RuntimeError):
    """Something failed functionally (not slowly): the run is not valid."""


def note(message: str) -> None:
    print(f"  · {message}", flush=True)


# -- CPU accounting: where the two cores went during a phase ------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu() -> dict[int, tuple[str, int, float]]:
    """pid -> (comm, ppid, CPU seconds so far, with reaped children) for every process."""
    out: dict[int, tuple[str, int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        # utime + stime, plus cutime + cstime: the postmaster reaps backends that end mid-phase
        out[int(entry)] = (comm, int(fields[1]), sum(int(f) for f in fields[11:15]) / _TICK)
    return out


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy (not idle or iowait) since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / _TICK


class CpuMeter:
    """Cores busy per group between start() and stop(): the bench process, the HTTP service process,
    our PostgreSQL (the postmaster and its backends), our nats-server, and `other` (the rest of
    the machine: anything else running disturbs the numbers)."""

    def __init__(self, servers: Servers, service_pid: int | None = None) -> None:
        self.servers = servers
        self.service_pid = service_pid

    def _group(self, pid: int, comm: str, ppid: int) -> str | None:
        if pid == os.getpid():
            return "bench"
        if pid == self.service_pid:
            return "service"
        postmaster, nats_pid = self.servers.postmaster_pid(), self.servers.nats_pid()
        if (postmaster is None and comm.startswith("postgres")) or postmaster in (pid, ppid):
            return "postgres"
        if (nats_pid is None and comm == "nats-server") or pid == nats_pid:
            return "nats"
        return None

    def start(self) -> None:
        self._t0 = time.perf_counter()
        self._machine0 = _machine_busy()
        self._before = _proc_cpu()

    def stop(self) -> dict[str, float]:
        elapsed = time.perf_counter() - self._t0
        machine = _machine_busy() - self._machine0
        after = _proc_cpu()
        used: dict[str, float] = {}
        for pid, (comm, ppid, cpu) in after.items():
            group = self._group(pid, comm, ppid)
            if group is None:
                continue
            before = self._before.get(pid)
            base = before[2] if before is not None and before[0] == comm else 0.0
            used[group] = used.get(group, 0.0) + max(cpu - base, 0.0)
        used["other"] = max(machine - sum(used.values()), 0.0)
        return {k: round(v / elapsed, 2) for k, v in used.items()} | {"wall_s": round(elapsed, 2)}


CORE_GROUPS = ("bench", "service", "postgres", "nats", "other")
CORES: dict[str, list[dict[str, float]]] = {}  # phase -> cores busy per group, one entry per run


@contextlib.contextmanager
def measured(servers: Servers, phase: str, service_pid: int | None = None) -> Iterator[None]:
    meter = CpuMeter(servers, service_pid)
    meter.start()
    try:
        yield
    finally:
        CORES.setdefault(phase, []).append(meter.stop())


# -- servers, databases, streams -----------------------------------------------------------------


@dataclass
class Servers:
    nats_url: str
    pg_url: str  # the server's maintenance database
    run_id: str
    workdir: Path
    embedded: list[Any] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)
    streams: list[str] = field(default_factory=list)

    def nats_pid(self) -> int | None:
        """Our embedded nats-server's pid; None for an external server."""
        return next((s.proc.pid for s in self.embedded if isinstance(s, EmbeddedNats)), None)

    def postmaster_pid(self) -> int | None:
        """Our embedded PostgreSQL's postmaster pid; None for an external server."""
        for server in self.embedded:
            if isinstance(server, EmbeddedPostgres):
                with contextlib.suppress(OSError, ValueError, IndexError):
                    return int((server.data_dir / "postmaster.pid").read_text().split()[0])
        return None

    async def fresh_db(self, part: str) -> str:
        name = f"bench_{self.run_id}_{part}"
        self.databases.append(name)
        return await ensure_database(self.pg_url, name)

    async def drop_databases(self) -> None:
        conn = await asyncpg.connect(self.pg_url)
        try:
            for name in self.databases:
                await conn.execute(f'drop database if exists "{name}" with (force)')
        finally:
            await conn.close()

    def stop(self) -> None:
        """Stops the embedded servers (an external one is left alone)."""
        for server in reversed(self.embedded):
            server.stop()


def start_servers(workdir: Path) -> Servers:
    run_id = uuid.uuid4().hex[:8]
    servers = Servers(
        os.environ.get("GENTING_NATS_URL", ""), os.environ.get("GENTING_DATABASE_URL", ""), run_id, workdir
    )
    try:
        if not servers.nats_url:
            nats_server = EmbeddedNats(workdir / "nats", free_port())
            servers.embedded.append(nats_server)
            servers.nats_url = nats_server.url
        if not servers.pg_url:
            pg = EmbeddedPostgres(workdir / "postgres", free_port(), durable=True)
            servers.embedded.append(pg)
            servers.pg_url = pg.url
    except BaseException:
        for server in reversed(servers.embedded):
            server.stop()
        raise
    return servers


def run_with_servers(prefix: str, body: Callable[[Servers], None]) -> int:
    """One benchmark run: servers in a fresh temporary directory (named from `prefix`), `body`
    measured against them, then, whatever happened, the run's databases dropped, the embedded
    servers stopped and the directory removed. Returns the exit status: 0, or 1 after saying why
    the run failed functionally."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    print(f"starting servers in {workdir} …", flush=True)
    servers = start_servers(workdir)
    try:
        body(servers)
    except BenchFailure as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        with contextlib.suppress(Exception):
            uvloop.run(servers.drop_databases())
        servers.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


@dataclass
class Service:
    """A uvicorn process: one of the services, or bench.py's HTTP floor app."""

    name: str
    url: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    token: str = ""
    path: str = "/families"  # where commands are POSTed

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            args, env={**os.environ, **env}, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )


async def start_service(
    servers: Servers,
    part: str,
    factory: str,
    env: dict[str, str],
    token: str = "",
    path: str = "/families",
    app_dir: Path = REPO,
) -> Service:
    """`python -m uvicorn --factory <factory>` as a real process, once /health/ready answers 200."""
    port = free_port()
    log_path = servers.workdir / f"{part}.log"
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--app-dir",
        str(app_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
    ]
    proc = _spawn(args, env, log_path)
    service = Service(part, f"http://127.0.0.1:{port}", proc, log_path, token, path)
    # Short retries per look, so that a process that died is noticed between looks.
    async with Client(base_url=service.url, timeout=2.0, policy=RetryPolicy(total=0.5)) as client:

        async def ready() -> bool:
            if proc.poll() is not None:
                raise BenchFailure(f"{part} exited ({proc.returncode}):\n{service.output()[-4000:]}")
            with contextlib.suppress(httpx.TransportError):
                return (await client.request("GET", "/health/ready")).status_code == 200
            return False

        if not (await client.poll_until(ready, bool, timeout=60))[1]:
            service.stop()
            raise BenchFailure(f"{part} not ready in 60 s:\n{service.output()[-4000:]}")
    return service
