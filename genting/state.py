"""What `genting up` keeps in its data directory: the secrets, and where the running stack is."""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SECRETS_FILE = "secrets.json"
# The public half of the development signing key, what the services verify tokens with.
JWKS_FILE = "jwks.json"
STACK_FILE = "stack.json"


SERVICES = ("registry", "aid", "funding", "reporting")


@dataclass(frozen=True)
class Secrets:
    """Everything secret an embedded stack has. Each service gets its own data key, NATS user and
    PostgreSQL role: a service's credentials open nothing of another's."""

    # The development token signing key (ES256, PEM): `genting token` and the development OIDC
    # provider sign with it; the services get only its public half (JWKS_FILE), never this.
    signing_key: str
    data_keys: dict[str, str]  # service -> GENTING_DATA_KEY (the registry's is the root of personal data)
    nats: dict[str, str]  # NATS user (services, subscriber, operator, admin) -> password
    postgres: dict[str, str]  # service -> its database role's password; "postgres": the superuser's

    @property
    def jwt_secret(self) -> str:
        """The key tokens are signed with (the name it had when it was an HS256 secret)."""
        return self.signing_key

    @property
    def data_key(self) -> str:
        """The registry's key (the one key a data dir had before keys were per service)."""
        return self.data_keys["registry"]


def add_data_dir(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    """--data-dir DIR, where `genting up` keeps its stack (GENTING_DATA_DIR, else .genting): the
    same option on every command that reads or runs the stack."""
    default = Path(os.environ.get("GENTING_DATA_DIR", ".genting"))
    parser.add_argument("--data-dir", type=Path, default=default, metavar="DIR", help=help)


def _new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def load_secrets(data_dir: Path) -> Secrets:
    """DIR/secrets.json (made on first use, so that tokens minted before the first `up` stay valid
    after it; completed when an older file lacks a newer secret), and DIR/jwks.json, the signing
    key's public half. GENTING_DATA_KEY, when set, is the registry's key (it was the only one)."""
    from genting.nats_accounts import ADMIN, USERS
    from shared.auth import jwks_document, new_signing_key

    stored = _load_or_create(data_dir / SECRETS_FILE)
    # An older file's single `data_key` stays the registry's: its sealed data must stay readable.
    keys = {name: stored.get(f"{name}_data_key") or "" for name in SERVICES}
    keys["registry"] = keys["registry"] or stored.get("data_key", "")
    fresh = {
        **({} if stored.get("signing_key") else {"signing_key": new_signing_key()}),
        **{f"{name}_data_key": _new_key() for name, key in keys.items() if not key},
        **{f"nats_{u}": secrets.token_urlsafe(24) for u in (*USERS, ADMIN) if not stored.get(f"nats_{u}")},
        **{
            f"postgres_{s}": secrets.token_urlsafe(24)
            for s in (*SERVICES, "postgres")
            if not stored.get(f"postgres_{s}")
        },
    }
    if fresh:
        stored = _update(data_dir / SECRETS_FILE, fresh)
        keys = {name: keys[name] or stored[f"{name}_data_key"] for name in SERVICES}
    if env_key := os.environ.get("GENTING_DATA_KEY"):
        keys["registry"] = env_key
    jwks = json.dumps(jwks_document(stored["signing_key"]), indent=2)
    jwks_path = data_dir / JWKS_FILE
    if not jwks_path.exists() or jwks_path.read_text() != jwks:
        tmp = jwks_path.with_name(f".{JWKS_FILE}.{os.getpid()}.tmp")
        tmp.write_text(jwks)
        tmp.replace(jwks_path)
    return Secrets(
        # GENTING_SIGNING_KEY (a PEM) lets a tool sign for another stack (tests); never given to a service.
        signing_key=os.environ.get("GENTING_SIGNING_KEY") or stored["signing_key"],
        data_keys=keys,
        nats={u: stored[f"nats_{u}"] for u in (*USERS, ADMIN)},
        postgres={s: stored[f"postgres_{s}"] for s in (*SERVICES, "postgres")},
    )


def _write_private(path: Path, content: dict[str, str]) -> None:
    """Replace `path` atomically with a file only its owner can read."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(content, out, indent=2)
    tmp.replace(path)


def _update(path: Path, fresh: dict[str, str]) -> dict[str, str]:
    """Add the missing secrets; ones another process added meanwhile win (read again under a lock)."""
    import fcntl

    with (path.parent / ".secrets.lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stored: dict[str, str] = json.loads(path.read_text())
        merged = {**fresh, **stored}
        if merged != stored:
            _write_private(path, merged)
        return merged


def _load_or_create(path: Path) -> dict[str, str]:
    if not path.exists():
        from shared.auth import new_signing_key

        fresh = {"signing_key": new_signing_key(), "data_key": _new_key()}
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL and 0600: created once, readable only by its owner.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it a moment ago; use theirs
        else:
            with os.fdopen(fd, "w") as out:
                json.dump(fresh, out, indent=2)
            return fresh
    stored: dict[str, str] = json.loads(path.read_text())
    return stored


def write_stack(data_dir: Path, stack: dict[str, Any]) -> None:
    """Record the running stack (for `genting replay` and other tools), replacing it atomically.
    Owner-only: its URLs carry the operator's NATS and the services' database credentials."""
    tmp = data_dir / f".{STACK_FILE}.tmp"
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"pid": os.getpid(), **stack}, out, indent=2)
    tmp.replace(data_dir / STACK_FILE)


def read_stack(data_dir: Path) -> dict[str, Any] | None:
    """The stack `genting up` recorded, if that `up` is still running."""
    try:
        stack: dict[str, Any] = json.loads((data_dir / STACK_FILE).read_text())
        os.kill(int(stack["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None  # none recorded, or left by an `up` that was killed
    return stack


def remove_stack(data_dir: Path) -> None:
    (data_dir / STACK_FILE).unlink(missing_ok=True)
