"""The deployment checks' tools, from PyPI into .venv (pyproject's dev extra): run, don't guess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
SERVICES = ("registry", "aid", "funding", "reporting")


def run(
    tool: str, *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run a tool from .venv/bin in the repository root; on `check`, fail with its output."""
    proc = subprocess.run(
        [str(BIN / tool), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"{tool} {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def bare_env() -> dict[str, str]:
    """The environment without any Genting secret in it (nor a stray .env from the caller)."""
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    return {k: v for k, v in os.environ.items() if k in keep}


def example_secrets() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / "secrets.example.env").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values
