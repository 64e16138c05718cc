"""`genting backup SERVICE` / `genting restore SERVICE FILE`: one service's database dumped with
pg_dump (custom format: consistent, one snapshot) and restored with pg_restore, which replaces
every object of the dump in one transaction. What follows a restore (erasures, the stream, the
consumers) is genting/recovery.py's.

The binaries: GENTING_PG_BIN (a directory), else the ones pgserver ships with the embedded
PostgreSQL (where it is installed), else `pg_dump` on PATH. They must be at least the server's major version."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from shared.clock import now


class BackupError(RuntimeError):
    """pg_dump or pg_restore failed, or cannot be found; the message says which and why."""


def pg_tool(name: str) -> str:
    if directory := os.environ.get("GENTING_PG_BIN"):
        path = Path(directory) / name
        if not path.exists():
            raise BackupError(f"GENTING_PG_BIN: no {name} in {directory}")
        return str(path)
    try:
        import pgserver  # the embedded stack's PostgreSQL: its own binaries match its server

        path = Path(pgserver.__file__).parent / "pginstall" / "bin" / name
        if path.exists():
            return str(path)
    except ImportError:
        pass
    if found := shutil.which(name):
        return found
    raise BackupError(f"{name} not found: install the PostgreSQL client or set GENTING_PG_BIN")


def default_file(service: str, directory: Path) -> Path:
    return directory / f"genting-{service}-{now():%Y%m%dT%H%M%SZ}.dump"


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        # pg_* name the object and the cause; a URL's password is never in their messages.
        raise BackupError(f"{Path(argv[0]).name} failed: {done.stderr.strip() or done.returncode}")


def backup(database_url: str, file: Path) -> Path:
    file.parent.mkdir(parents=True, exist_ok=True)
    _run([pg_tool("pg_dump"), "--format=custom", "--no-password", f"--file={file}", f"--dbname={database_url}"])
    return file


def restore(database_url: str, file: Path) -> None:
    """Drops what the dump holds and creates it again from the dump, all or nothing."""
    if not file.is_file():
        raise BackupError(f"no dump at {file}")
    _run(
        [
            pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--single-transaction",
            "--no-password",
            f"--dbname={database_url}",
            str(file),
        ]
    )
