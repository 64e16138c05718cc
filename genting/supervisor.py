"""`genting up`: NATS, PostgreSQL and the services in the foreground, supervised, stopped cleanly together.

Every process `up` starts is watched: a service replica, nats-server or PostgreSQL that dies is
started again after a backoff (1 s, doubling to 30 s; back to 1 s once it has run a minute),
with one line saying so. The stack never stops by itself; only Ctrl-C (or SIGTERM) stops it.
With `--replicas N`, `up` binds each service's port itself and N replica processes (`genting/replica.py`) share
the listening socket: the kernel spreads the connections among them.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import socket
import sys
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import uvicorn

from genting import nats_topology
from genting import services as catalogue
from genting.embedded import (
    EmbeddedNats,
    EmbeddedPostgres,
    EmbeddedServerError,
    PortInUse,
    die_with_parent,
    ensure_database,
)
from genting.state import JWKS_FILE, load_secrets, remove_stack, write_stack
from shared.db import ensure_service_role, migrate

READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
HEALTHY_AFTER = 60.0  # a process that ran this long starts its next backoff from BACKOFF_FIRST again
WATCH_INTERVAL = 0.5  # how often the servers (not our children: no exit to await) are checked


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
    replicas: int = 1
    gateway_port: int = 8000  # the field app and the APIs under one origin (genting/gateway.py)
    idp_port: int = 8009  # the development OIDC provider (genting/devidp.py)
    # Origins the provider redirects to and answers from the browser (the field app's).
    idp_origins: tuple[str, ...] = ("http://127.0.0.1:8000", "http://localhost:8000")


@dataclass
class Child:
    service: catalogue.Service
    index: int  # 1..replicas
    url: str
    proc: asyncio.subprocess.Process
    env: dict[str, str]
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=40))
    pump: asyncio.Task[None] | None = None
    quiet: bool = False  # while the demo loads: only warnings and errors reach the terminal

    @property
    def label(self) -> str:
        return f"{self.service.name}[{self.index}]"


class Backoff:
    """1 s, 2 s, 4 s … at most 30 s; a process that stayed up a minute starts again from 1 s."""

    def __init__(self) -> None:
        self.delay = BACKOFF_FIRST
        self.started = 0.0

    def running_since(self, when: float) -> None:
        self.started = when

    def next(self, now: float) -> float:
        if now - self.started >= HEALTHY_AFTER:
            self.delay = BACKOFF_FIRST
        delay, self.delay = self.delay, min(self.delay * 2, BACKOFF_MAX)
        return delay


@dataclass
class Stack:
    """Whatever has been started so far, so that shutdown stops exactly that."""

    nats: EmbeddedNats | None = None
    postgres: EmbeddedPostgres | None = None
    children: list[Child] = field(default_factory=list)
    sockets: dict[str, socket.socket] = field(default_factory=dict)  # service name -> listening socket
    keepers: list[asyncio.Task[None]] = field(default_factory=list)  # the restart loops
    idp: uvicorn.Server | None = None  # the development OIDC provider, served in this process
    idp_task: asyncio.Task[None] | None = None
    record: dict[str, object] = field(default_factory=dict)  # what stack.json says, less the pids
    gateway: tuple[Any, asyncio.Task[None]] | None = None  # uvicorn's server and its task

    async def shutdown(self) -> None:
        # No more restarts; then the gateway and the services (they flush to NATS and PostgreSQL
        # on the way out), then the servers.
        if self.gateway is not None:
            server, task = self.gateway
            server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, STOP_TIMEOUT)
        for keeper in self.keepers:
            keeper.cancel()
        await asyncio.gather(*self.keepers, return_exceptions=True)
        for child in self.children:
            if child.proc.returncode is None:
                child.proc.terminate()
        for child in self.children:
            try:
                await asyncio.wait_for(child.proc.wait(), STOP_TIMEOUT)
            except TimeoutError:
                print(f"genting: {child.label} did not stop in time; killing it", flush=True)
                child.proc.kill()
                await child.proc.wait()
        pumps = [child.pump for child in self.children if child.pump is not None]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*pumps), 5)
        for sock in self.sockets.values():
            sock.close()
        if self.idp is not None and self.idp_task is not None:
            self.idp.should_exit = True
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self.idp_task, 5)
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
        try:
            stack.sockets[service.name] = _listen(options.host, port)
        except OSError as exc:
            raise StartupError(f"port {port} for {service.name}: {exc.strerror}; try --{service.name}-port") from None
    secrets = load_secrets(options.data_dir)
    idp_url = await _start_idp(options, stack, secrets.signing_key)

    nats_url = os.environ.get("GENTING_NATS_URL", "")
    # An external server: its URL goes to every service as it is (it must carry credentials with
    # the rights of all of them, or the server be open). Ours: locked, one user per service.
    nats_urls = {s.name: nats_url for s in wanted}
    operator_url = nats_url
    if not nats_url:
        with _port_hint("--nats-port"):
            # On this (the main) thread, not a worker: it dies with the thread that started it.
            stack.nats = EmbeddedNats(options.data_dir / "nats", options.nats_port, passwords=secrets.nats)
        nats_url = stack.nats.url
        nats_urls = {s.name: stack.nats.url_for(s.name) for s in wanted}
        operator_url = stack.nats.url_for("operator")
    if stop.is_set():
        return 0
    pg_url = os.environ.get("GENTING_DATABASE_URL")
    if not pg_url:
        with _port_hint("--pg-port"):
            stack.postgres = await asyncio.to_thread(
                EmbeddedPostgres, options.data_dir / "postgres", options.pg_port, password=secrets.postgres["postgres"]
            )
        pg_url = stack.postgres.url
    if stop.is_set():
        return 0

    databases = {s.name: await ensure_database(pg_url, s.database) for s in wanted}
    if stack.postgres is not None:
        # Ours: each service connects as its own role, which owns its database and no other.
        databases = {
            s.name: await ensure_service_role(pg_url, s.database, f"genting_{s.name}", secrets.postgres[s.name])
            for s in wanted
        }
    # Migrated once here, before any replica starts, as `genting migrate` does in production.
    for service in wanted:
        await migrate(databases[service.name], catalogue.migrations(service))
    # NATS's half of the migration step: the streams and durables, as the admin (no service may create them).
    if stack.nats is not None:
        await nats_topology.apply(stack.nats.url_for("admin"), stack.nats.url_for("subscriber"))
    else:
        await nats_topology.apply(nats_url)  # an external server: its URL has every right, no subscriber account
    width = max(len(s.name) for s in wanted) + 3  # "aid[1]"
    programme: dict[str, str] = {}
    if options.demo and not os.environ.get("GENTING_PROGRAMME_START"):
        from genting import demo

        # The demo is a programme that began about seven months before it was first loaded: its
        # first day is the programme's start, so the weekly history begins there, not in 2025.
        programme["GENTING_PROGRAMME_START"] = demo.programme_start(options.data_dir).isoformat()
    for service in wanted:
        env = {
            # A service holds no key that signs tokens: none of these reaches it, even if set here.
            **{k: v for k, v in os.environ.items() if k not in SIGNING_SETTINGS},
            "PYTHONUNBUFFERED": "1",  # so their logs reach the terminal as they happen
            # Their stdout is a pipe to us: readable lines when ours is a terminal (shared/logging.py).
            "GENTING_LOG_FORMAT": os.environ.get("GENTING_LOG_FORMAT")
            or ("console" if sys.stdout.isatty() else "json"),
            "GENTING_SERVICE": service.name,
            "GENTING_DATABASE_URL": databases[service.name],
            "GENTING_NATS_URL": nats_urls[service.name],
            # The public half of the development signing key; tokens from `genting token` (issuer
            # "genting") and from the development OIDC provider (its URL) are accepted.
            "GENTING_JWKS_FILE": str(options.data_dir / JWKS_FILE),
            "GENTING_OIDC_ISSUER": idp_url,
            "GENTING_DATA_KEY": secrets.data_keys[service.name],
            "GENTING_DATA_DIR": str(options.data_dir),
            "GENTING_MIGRATE_ON_START": "0",
            # Here a programme's months are entered in minutes (the demo, `genting simulate`): the
            # clock-driven steps (plans ending incomplete, children ageing out) look every 10 s,
            # not every minute as a deployment does.
            "GENTING_CLOCK_INTERVAL_SECONDS": os.environ.get("GENTING_CLOCK_INTERVAL_SECONDS", "10"),
            # ... and months of a past programme are entered late on purpose: plans wait for their
            # records however late they come (a deployment keeps the 30-day default).
            "GENTING_MAX_ENTRY_DELAY_DAYS": os.environ.get("GENTING_MAX_ENTRY_DELAY_DAYS", "3650"),
            # ... in date order, so the latest effective date entered moves the clock-driven steps
            # along (a deployment, entering in any order within the bound, leaves it off).
            "GENTING_ENTERED_IN_DATE_ORDER": os.environ.get("GENTING_ENTERED_IN_DATE_ORDER", "1"),
            # Likewise funding's hold for a plan: its clock step would release the demo's part-funded
            # families' money some seconds after the load, whenever it happens to run, so that the
            # same demo loaded twice would not read the same (a deployment keeps the 60-day default).
            "GENTING_SPONSORSHIP_HOLD_DAYS": os.environ.get("GENTING_SPONSORSHIP_HOLD_DAYS", "3650"),
            **programme,
        }
        for index in range(1, options.replicas + 1):
            url = f"http://{_local(options.host)}:{options.ports[service.name]}"
            proc = await _spawn(service, stack.sockets[service.name], env)
            child = Child(service, index, url, proc, env)
            _pump_output(child, width)
            stack.children.append(child)

    if not await _wait_ready(stack.children, stop):
        return 0
    service_urls = {c.service.name: c.url for c in stack.children}
    gateway_url = await _start_gateway(options, stack, service_urls)
    stack.record = {
        # The operator's URL (status, dlq, events read it); `genting nats-url` gives the others.
        "nats_url": operator_url,
        "nats_server": nats_url,
        "postgres_url": pg_url,
        "databases": databases,
        "services": service_urls,
        "replicas": options.replicas,
        "app": gateway_url,
        "idp": idp_url,
    }
    _write_record(options, stack)
    _print_banner(options, stack, _hide_password(nats_url), pg_url, idp_url)
    _supervise(options, stack, width)
    if options.demo:
        return await _load_demo_and_watch(options, stack, secrets.signing_key, service_urls, stop)
    return await _watch(stack.children, stop)


async def _start_gateway(options: UpOptions, stack: Stack, service_urls: dict[str, str]) -> str:
    """The field app and the APIs under one origin, in this process (it only forwards)."""
    import uvicorn

    from genting.gateway import app_config, create_gateway

    try:
        sock = _listen(options.host, options.gateway_port)
    except OSError as exc:
        # The APIs work without it: say so, and go on.
        print(f"genting: port {options.gateway_port} for the field app: {exc.strerror}; try --gateway-port", flush=True)
        return ""
    stack.sockets["gateway"] = sock
    config = uvicorn.Config(
        create_gateway(service_urls, app_config()), log_level="warning", access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    stack.gateway = (server, asyncio.create_task(server.serve(sockets=[sock])))
    return f"http://{_local(options.host)}:{options.gateway_port}"


def _write_record(options: UpOptions, stack: Stack) -> None:
    """stack.json, with the pid of every process now running (rewritten after each restart)."""
    pids: dict[str, int | None] = {child.label: child.proc.pid for child in stack.children}
    if stack.nats is not None:
        pids["nats-server"] = stack.nats.proc.pid
    if stack.postgres is not None:
        pids["postgres"] = stack.postgres.pid()
    write_stack(options.data_dir, {**stack.record, "pids": pids})


def _supervise(options: UpOptions, stack: Stack, width: int) -> None:
    for child in stack.children:
        stack.keepers.append(asyncio.create_task(_keep_child(options, stack, child, width)))
    if stack.nats is not None:
        stack.keepers.append(asyncio.create_task(_keep_nats(options, stack, stack.nats)))
    if stack.postgres is not None:
        stack.keepers.append(asyncio.create_task(_keep_postgres(options, stack, stack.postgres)))


async def _until_gone(is_running: Callable[[], bool]) -> None:
    """The servers are not children we can await (pg_ctl daemonises the postmaster): poll."""
    while is_running():  # noqa: ASYNC110
        await asyncio.sleep(WATCH_INTERVAL)


def _restarting(name: str, status: str, delay: float) -> None:
    print(f"genting: {name} exited ({status}); restarting in {delay:.1f} s", flush=True)


async def _keep_child(options: UpOptions, stack: Stack, child: Child, width: int) -> None:
    """Until cancelled (shutdown): whenever the replica exits, start it again after a backoff."""
    loop = asyncio.get_running_loop()
    backoff = Backoff()
    backoff.running_since(loop.time())
    while True:
        code = await child.proc.wait()
        delay = backoff.next(loop.time())
        _restarting(child.label, str(code), delay)
        await asyncio.sleep(delay)
        try:
            child.proc = await _spawn(child.service, stack.sockets[child.service.name], child.env)
        except OSError as exc:  # e.g. out of processes: try again after the next backoff
            print(f"genting: {child.label} could not start: {exc}", flush=True)
            continue
        backoff.running_since(loop.time())
        _pump_output(child, width)
        _write_record(options, stack)


async def _keep_nats(options: UpOptions, stack: Stack, server: EmbeddedNats) -> None:
    async def respawn() -> None:
        server.respawn()  # on the loop's (main) thread: it must outlive the server (die_with_parent)

    await _keep_server(options, stack, "nats-server", server.is_running, lambda: str(server.proc.returncode), respawn)


async def _keep_postgres(options: UpOptions, stack: Stack, server: EmbeddedPostgres) -> None:
    async def restart() -> None:
        await asyncio.to_thread(server.restart)  # pg_ctl daemonises the postmaster: a worker thread may start it

    await _keep_server(options, stack, "postgres", server.is_running, lambda: "gone", restart)


async def _keep_server(
    options: UpOptions,
    stack: Stack,
    name: str,
    is_running: Callable[[], bool],
    status: Callable[[], str],
    start: Callable[[], Awaitable[None]],
) -> None:
    """Until cancelled (shutdown): whenever the server is gone, start it again after a backoff."""
    loop = asyncio.get_running_loop()
    backoff = Backoff()
    backoff.running_since(loop.time())
    while True:
        await _until_gone(is_running)
        delay = backoff.next(loop.time())
        _restarting(name, status(), delay)
        await asyncio.sleep(delay)
        try:
            await start()
        except EmbeddedServerError as exc:  # e.g. postgres' old backends still hold shared memory
            print(f"genting: {name} could not start yet: {str(exc).splitlines()[0]}", flush=True)
            continue
        backoff.running_since(loop.time())
        _write_record(options, stack)


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


# Settings that sign tokens: `up` may hold them, a service never does.
SIGNING_SETTINGS = frozenset({"GENTING_SIGNING_KEY", "GENTING_JWT_SECRET", "GENTING_JWT_ALGORITHM"})


async def _start_idp(options: UpOptions, stack: Stack, signing_key: str) -> str:
    """The development OIDC provider, in this process (it signs with the key only `up` holds);
    its URL is the issuer of the tokens it signs."""
    from genting.devidp import create_app

    host = _local(options.host)
    url = f"http://{host}:{options.idp_port}"
    app = create_app(
        signing_key, issuer=url, city=os.environ.get("GENTING_CITY", "33.75"), allowed_origins=options.idp_origins
    )
    try:
        sock = _listen(host, options.idp_port)
    except OSError as exc:
        raise StartupError(
            f"port {options.idp_port} for the sign-in provider: {exc.strerror}; try --idp-port"
        ) from None
    stack.sockets["idp"] = sock
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    stack.idp = uvicorn.Server(config)
    stack.idp_task = asyncio.create_task(stack.idp.serve(sockets=[sock]))
    return url


def _local(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def _listen(host: str, port: int) -> socket.socket:
    """The service's listening socket, bound here once and inherited by every replica."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


async def _spawn(service: catalogue.Service, sock: socket.socket, env: dict[str, str]) -> asyncio.subprocess.Process:
    fd = sock.fileno()
    args = [sys.executable, "-m", "genting.replica", service.factory, str(fd)]
    # Own process group: Ctrl-C reaches only us, and we stop the services in order.
    return await asyncio.create_subprocess_exec(
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        pass_fds=(fd,),
        process_group=0,
        preexec_fn=die_with_parent(),
        limit=1 << 20,
    )


def _pump_output(child: Child, width: int) -> None:
    assert child.proc.stdout is not None
    child.pump = asyncio.create_task(_pump(child.proc.stdout, f"{child.label:<{width}} | ", child))


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
                        # Replicas share the port: the service answering ready is enough.
                        pending = [c for c in pending if c.service is not child.service]
                        break
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
    return f"{child.label} {what}; its last output:\n{tail}"


async def _watch(children: list[Child], stop: asyncio.Event) -> int:
    """Run until asked to stop; a process that dies meanwhile is restarted by its keeper."""
    await stop.wait()
    return 0


def _hide_password(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def _print_banner(options: UpOptions, stack: Stack, nats_url: str, pg_url: str, idp_url: str) -> None:
    running = {child.service.name: child for child in stack.children}
    later = [s.name for s in catalogue.SERVICES if s.name not in running]
    width = max(len(name) for name in [*running, "PostgreSQL"])
    lines = ["", f"Genting is up (data in {options.data_dir})"]
    replicas = f"   ({options.replicas} processes)" if options.replicas > 1 else ""
    for name, child in running.items():
        lines.append(f"  {name:<{width}}  {child.url}   API docs: {child.url}/docs{replicas}")
    locked = "  (locked: genting nats-url NAME)" if stack.nats else "  (external)"
    if app_url := stack.record.get("app"):
        lines.append(f"  {'field app':<{width}}  {app_url}/   (kader, lurah, donor; APIs under {app_url}/api/)")
    lines.append(f"  {'NATS':<{width}}  {nats_url}{locked}")
    lines.append(f"  {'PostgreSQL':<{width}}  {_hide_password(pg_url)}{'' if stack.postgres else '  (external)'}")
    lines.append(f"  {'Sign-in':<{width}}  {idp_url}   (development OIDC provider)")
    if later:
        lines.append(f"  not built yet: {', '.join(later)}")
    data_dir_flag = "" if options.data_dir == Path(".genting").resolve() else (f" --data-dir {options.data_dir}")
    lines.append(f"A token:  genting token --role admin{data_dir_flag}")
    lines.append("Stop:     Ctrl-C")
    bar = "─" * max(len(line) for line in lines)
    print("\n".join([bar, *lines[1:], bar]), flush=True)
