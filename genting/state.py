"""What `genting up` keeps in its data directory: the secrets, and where the running stack is."""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SECRETS_FILE = "secrets.json"
STACK_FILE = "stack.json"


@dataclass(frozen=True)
class Secrets:
    jwt_secret: str
    data_key: str


def load_secrets(data_dir: Path) -> Secrets:
    """GENTING_JWT_SECRET / GENTING_DATA_KEY when set, else DIR/secrets.json (made on first use,
    so that tokens minted before the first `up` stay valid after it)."""
    stored = _load_or_create(data_dir / SECRETS_FILE)
    return Secrets(
        jwt_secret=os.environ.get("GENTING_JWT_SECRET") or stored["jwt_secret"],
        data_key=os.environ.get("GENTING_DATA_KEY") or stored["data_key"],
    )


def _load_or_create(path: Path) -> dict[str, str]:
    if not path.exists():
        fresh = {
            "jwt_secret": secrets.token_urlsafe(32),
            "data_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        }
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
    """Record the running stack (for `genting replay` and other tools), replacing it atomically."""
    tmp = data_dir / f".{STACK_FILE}.tmp"
    tmp.write_text(json.dumps({"pid": os.getpid(), **stack}, indent=2))
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
