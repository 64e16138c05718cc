"""`genting up`: NATS, PostgreSQL and the services in the foreground, stopped cleanly together."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from genting import services as catalogue
from genting.embedded import (
    EmbeddedNats,
    EmbeddedPostgres,
    EmbeddedServerError,
    PortInUse,
    die_with_parent,
    ensure_database,
    port_in_use,
)
from genting.state import load_secrets, remove_stack, write_stack

READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


class StartupError(RuntimeError):
    """The stack could not come up; the message says which part and why."""


@dataclass(frozen=True)
class UpOptions:
    data_dir: Path
    host: str
    nats_port: int
    pg_port: int
    ports: dict[str, int]  # service name -> port
    demo: bool = False
    demo_families: int | None = None  # None: genting.demo.DEFAULT_FAMILIES


@dataclass
class Child:
    service: catalogue.Service
    url: str
    proc: asyncio.subprocess.Process
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=40))
    pump: asyncio.Task[None] | None = None
    quiet: bool = False  # while the demo loads: only warnings and errors reach the terminal


@dataclass
class Stack:
    """Whatever has been started so far, so that shutdown stops exactly that."""

    nats: EmbeddedNats | None = None
    postgres: EmbeddedPostgres | None = None
    children: list[Child] = field(default_factory=list)

    async def shutdown(self) -> None:
        # Services first (they flush to NATS and PostgreSQL on the way out), then the servers.
        for child in self.children:
            if child.proc.returncode is None:
                child.proc.terminate()
        for child in self.children:
            try:
                await asyncio.wait_for(child.proc.wait(), STOP_TIMEOUT)
            except TimeoutError:
                print(f"genting: {child.service.name} did not stop in time; killing it", flush=True)
                child.proc.kill()
                await child.proc.wait()
        pumps = [child.pump for child in self.children if child.pump is not None]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*pumps), 5)
        if self.nats is not None:
            await asyncio.to_thread(self.nats.stop)
        if self.postgres is not None:
            await asyncio.to_thread(self.postgres.stop)


def up(options: UpOptions) -> int:
    options.data_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(options.data_dir):
        return asyncio.run(_up(options))


@contextlib.contextmanager
def _exclusive(data_dir: Path) -> Iterator[None]:
    """One `up` per data dir: two would fight over the same servers and ports."""
    with (data_dir / ".lock").open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(f"genting: another `genting up` is using {data_dir}") from None
        yield


async def _up(options: UpOptions) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    stack = Stack()
    try:
        return await _start_and_watch(options, stack, stop)
    except (StartupError, EmbeddedServerError, OSError, asyncpg.PostgresError) as exc:
        print(f"genting: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        started = bool(stack.children or stack.nats or stack.postgres)
        if started:
            print("genting: stopping…", flush=True)
        await stack.shutdown()
        remove_stack(options.data_dir)
        if started:
            print("genting: stopped", flush=True)


async def _start_and_watch(options: UpOptions, stack: Stack, stop: asyncio.Event) -> int:
    wanted = catalogue.available()
    if not wanted:
        raise StartupError("no service code found (services/<name>/app.py)")
    for service in wanted:
        port = options.ports[service.name]
        if port_in_use(_local(options.host), port):
            raise StartupError(f"port {port} for {service.name} is in use; try --{service.name}-port")
    secrets = load_secrets(options.data_dir)

    nats_url = os.environ.get("GENTING_NATS_URL")
    if not nats_url:
        with _port_hint("--nats-port"):
            # On this (the main) thread, not a worker: it dies with the thread that started it.
            stack.nats = EmbeddedNats(options.data_dir / "nats", options.nats_port)
        nats_url = stack.nats.url
    if stop.is_set():
        return 0
    pg_url = os.environ.get("GENTING_DATABASE_URL")
    if not pg_url:
        with _port_hint("--pg-port"):
            stack.postgres = await asyncio.to_thread(EmbeddedPostgres, options.data_dir / "postgres", options.pg_port)
        pg_url = stack.postgres.url
    if stop.is_set():
        return 0

    databases = {s.name: await ensure_database(pg_url, s.database) for s in wanted}
    width = max(len(s.name) for s in wanted)
    for service in wanted:
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",  # so their logs reach the terminal as they happen
            # Their stdout is a pipe to us: readable lines when ours is a terminal (shared/logging.py).
            "GENTING_LOG_FORMAT": os.environ.get("GENTING_LOG_FORMAT")
            or ("console" if sys.stdout.isatty() else "json"),
            "GENTING_SERVICE": service.name,
            "GENTING_DATABASE_URL": databases[service.name],
            "GENTING_NATS_URL": nats_url,
            "GENTING_JWT_SECRET": secrets.jwt_secret,
            "GENTING_DATA_KEY": secrets.data_key,
            "GENTING_DATA_DIR": str(options.data_dir),
        }
        stack.children.append(await _spawn(service, options, env, width))

    if not await _wait_ready(stack.children, stop):
        return 0
    service_urls = {c.service.name: c.url for c in stack.children}
    write_stack(
        options.data_dir,
        {"nats_url": nats_url, "postgres_url": pg_url, "databases": databases, "services": service_urls},
    )
    _print_banner(options, stack, nats_url, pg_url)
    if options.demo:
        return await _load_demo_and_watch(options, stack, secrets.jwt_secret, service_urls, stop)
    return await _watch(stack.children, stop)


async def _load_demo_and_watch(
    options: UpOptions, stack: Stack, jwt_secret: str, urls: dict[str, str], stop: asyncio.Event
) -> int:
    """Load the Pekalongan demo through the services' APIs while watching them, then keep watching."""
    from genting import demo

    if missing := [s.name for s in catalogue.SERVICES if s.name not in urls]:
        print(f"genting: --demo needs all four services; not built yet: {', '.join(missing)}", flush=True)
        return await _watch(stack.children, stop)
    dataset, note = demo.remembered(options.data_dir, options.demo_families or demo.DEFAULT_FAMILIES)
    if note:
        print(f"genting: {note}", flush=True)
    watching = asyncio.create_task(_watch(stack.children, stop))
    loading = asyncio.create_task(demo.load(dataset, urls, jwt_secret))
    for child in stack.children:
        child.quiet = True
    try:
        await asyncio.wait({watching, loading}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for child in stack.children:
            child.quiet = False
    if not loading.done():  # Ctrl-C, or a service died: the next `up --demo` carries on
        loading.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await loading
        return watching.result()
    if (error := loading.exception()) is not None:
        print(f"genting: the demo did not load: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
    else:
        print(demo.summary(loading.result(), f"{urls['reporting']}/"), flush=True)
    return await watching


@contextlib.contextmanager
def _port_hint(flag: str) -> Iterator[None]:
    try:
        yield
    except PortInUse as exc:
        raise StartupError(f"{exc}; try {flag}") from None


def _local(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


async def _spawn(service: catalogue.Service, options: UpOptions, env: dict[str, str], width: int) -> Child:
    port = options.ports[service.name]
    args = [sys.executable, "-m", "uvicorn", "--factory", service.factory]
    args += ["--host", options.host, "--port", str(port), "--no-access-log"]
    # Own process group: Ctrl-C reaches only us, and we stop the services in order.
    proc = await asyncio.create_subprocess_exec(
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        process_group=0,
        preexec_fn=die_with_parent(),
        limit=1 << 20,
    )
    child = Child(service, f"http://{_local(options.host)}:{port}", proc)
    assert proc.stdout is not None
    child.pump = asyncio.create_task(_pump(proc.stdout, f"{service.name:<{width}} | ", child))
    return child


async def _pump(stream: asyncio.StreamReader, prefix: str, child: Child) -> None:
    """Copy a child's output to our stdout, line by line, prefixed with its name."""
    out: IO[str] = sys.stdout
    while True:
        try:
            line = await stream.readline()
        except ValueError:  # a line longer than the limit: skipped, keep going
            continue
        if not line:
            return
        text = line.decode(errors="replace").rstrip()
        child.tail.append(text)
        if child.quiet and any(level in text for level in ('"level": "info"', '"level": "debug"', "[info ", "[debug ")):
            continue
        with contextlib.suppress(BrokenPipeError):
            out.write(prefix + text + "\n")
            out.flush()


async def _wait_ready(children: list[Child], stop: asyncio.Event) -> bool:
    """True when every child answers 200 on /health/ready; False if asked to stop meanwhile."""
    pending = list(children)
    deadline = asyncio.get_running_loop().time() + READY_TIMEOUT
    async with httpx.AsyncClient(timeout=2.0) as client:
        while pending:
            if stop.is_set():
                return False
            for child in list(pending):
                if child.proc.returncode is not None:
                    raise StartupError(_failure(child, f"stopped ({_exit_status(child.proc.returncode)})"))
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"{child.url}/health/ready")).status_code == 200:
                        pending.remove(child)
            if pending and asyncio.get_running_loop().time() > deadline:
                raise StartupError(_failure(pending[0], f"not ready in {READY_TIMEOUT:.0f} s"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.2)
    return True


def _exit_status(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def _failure(child: Child, what: str) -> str:
    tail = "\n".join(f"    {line}" for line in child.tail) or "    (no output)"
    return f"{child.service.name} {what}; its last output:\n{tail}"


async def _watch(children: list[Child], stop: asyncio.Event) -> int:
    """Run until asked to stop (exit 0) or until a service dies on its own (exit 1)."""
    stopping = asyncio.create_task(stop.wait())
    exits = {asyncio.create_task(child.proc.wait()): child for child in children}
    done, pending = await asyncio.wait([stopping, *exits], return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    if stopping in done:
        return 0
    child = exits[done.pop()]
    print(
        f"genting: {_failure(child, f'stopped unexpectedly ({_exit_status(child.proc.returncode)})')}",
        file=sys.stderr,
        flush=True,
    )
    return 1


def _hide_password(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def _print_banner(options: UpOptions, stack: Stack, nats_url: str, pg_url: str) -> None:
    running = {child.service.name for child in stack.children}
    later = [s.name for s in catalogue.SERVICES if s.name not in running]
    width = max(len(name) for name in [*running, "PostgreSQL"])
    lines = ["", f"Genting is up (data in {options.data_dir})"]
    for child in stack.children:
        lines.append(f"  {child.service.name:<{width}}  {child.url}   API docs: {child.url}/docs")
    lines.append(f"  {'NATS':<{width}}  {nats_url}{'' if stack.nats else '  (external)'}")
    lines.append(f"  {'PostgreSQL':<{width}}  {_hide_password(pg_url)}{'' if stack.postgres else '  (external)'}")
    if later:
        lines.append(f"  not built yet: {', '.join(later)}")
    data_dir_flag = "" if options.data_dir == Path(".genting").resolve() else (f" --data-dir {options.data_dir}")
    lines.append(f"A token:  genting token --role admin{data_dir_flag}")
    lines.append("Stop:     Ctrl-C")
    bar = "─" * max(len(line) for line in lines)
    print("\n".join([bar, *lines[1:], bar]), flush=True)
