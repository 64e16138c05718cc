"""The runbook (deploy/README.md) executed: each ```sh block runs in bash with `set -euo
pipefail`, in a copy of deploy/, with kubectl, docker and genting replaced by runbook_shim.py
(which runs for real what needs no cluster, and parses every genting command line with the CLI's
own parser). An unset variable, a compose command without --env-file, `genting genting …`, a
kubectl patch that is not JSON, a Secret kubectl would not create: each fails here."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from deploy_tools import BIN, DEPLOY, ROOT, bare_env

README = DEPLOY / "README.md"
SHIM = Path(__file__).parent / "runbook_shim.py"


def blocks() -> list[tuple[int, str]]:
    text = README.read_text()
    found = []
    for match in re.finditer(r"^```sh\n(.*?)^```", text, re.M | re.S):
        found.append((text[: match.start()].count("\n") + 1, match.group(1)))
    return found


def test_the_runbook_has_shell_blocks() -> None:
    assert len(blocks()) >= 10


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("runbook")
    shutil.copytree(DEPLOY, root / "deploy", ignore=shutil.ignore_patterns("README.md"))
    bin_dir = root / ".bin"
    bin_dir.mkdir()
    for name in ("kubectl", "docker", "genting"):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nRUNBOOK_TOOL={name} exec {sys.executable} {SHIM} "$@"\n')
        shim.chmod(0o755)
    python = bin_dir / "python3"  # the project's, with bcrypt (a symlink would lose the venv)
    python.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    shutil.copy(ROOT / "docker-compose.yml", root / "docker-compose.yml")
    # As the runbook's Secrets section has the operator do first.
    shutil.copy(DEPLOY / "secrets.example.env", root / "deploy" / "secrets.env")
    return root


def is_nats_users_recipe(block: str) -> bool:
    return "nats-users" in block and "hash()" in block


def runbook_env(sandbox: Path, out: Path) -> dict[str, str]:
    """A block's environment: the sandbox's shims first on PATH, the shims' output in `out`."""
    env = bare_env()
    env.update(
        PATH=f"{sandbox / '.bin'}:{BIN}:{env['PATH']}",
        RUNBOOK_OUT=str(out),
        RUNBOOK_REAL_BIN=str(BIN),
        RUNBOOK_EXAMPLE_ENV=str(DEPLOY / "secrets.example.env"),
        PYTHONPATH=str(ROOT),
    )
    return env


def run_block(sandbox: Path, name: str, block: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Runs a README block as an operator would paste it (bash, `set -euo pipefail`) in the
    sandbox; its shims write what they were asked into the returned out-<name> directory."""
    out = sandbox / f"out-{name}"
    out.mkdir()
    proc = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + block],
        cwd=sandbox,
        env=runbook_env(sandbox, out),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return proc, out


GENERAL = [(n, b) for n, b in blocks() if not is_nats_users_recipe(b)]  # that one has a test of its own


@pytest.mark.parametrize("line,block", GENERAL, ids=[f"line{n}" for n, _ in GENERAL])
def test_runbook_block_runs(line: int, block: str, sandbox: Path) -> None:
    proc, out = run_block(sandbox, str(line), block)
    assert proc.returncode == 0, f"deploy/README.md line {line}:\n{block}\n--- stderr:\n{proc.stderr}"
    from genting.cli import _parser

    commands = out / "genting.jsonl"
    for args in map(json.loads, commands.read_text().splitlines() if commands.exists() else []):
        try:
            _parser().parse_args(args)
        except SystemExit as exc:
            assert not exc.code, f"deploy/README.md line {line}: `genting {' '.join(args)}` refused by the CLI"
    secrets = out / "secrets.yaml"
    if secrets.exists():
        docs = [d for d in yaml.safe_load_all(secrets.read_text()) if d]
        assert all(d["kind"] == "Secret" for d in docs)
        checked = subprocess.run(
            [str(BIN / "kubernetes-validate"), "--strict", "--quiet", str(secrets)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_nats_users_recipe_hashes_every_users_real_password(sandbox: Path) -> None:
    """The hashes in nats-users are of the passwords the services hold, one per user, quoted."""
    import base64

    import bcrypt

    [(line, block)] = [(n, b) for n, b in blocks() if is_nats_users_recipe(b)]
    proc, out = run_block(sandbox, "nats-users", block)
    assert proc.returncode == 0, f"deploy/README.md line {line}: {proc.stderr}"
    made = {d["metadata"]["name"]: d for d in yaml.safe_load_all((out / "secrets.yaml").read_text()) if d}
    data = {k: base64.b64decode(v).decode() for k, v in made["nats-users"]["data"].items()}
    admin = {k: base64.b64decode(v).decode() for k, v in made["genting-nats-admin"]["data"].items()}
    users = ("REGISTRY", "AID", "FUNDING", "REPORTING", "SUBSCRIBER", "OPERATOR", "ADMIN")
    assert set(data) == {f"{u}_NATS_AUTH" for u in users}
    service_password = b"runbook-test-plain-value-0123456789abcdef"  # what the shim's Secret holds
    printed = dict(re.findall(r"NATS password of (\w+) \(hand it over, then forget it\): (\w+)", proc.stdout))
    assert set(printed) == {"subscriber", "operator"}
    assert admin["SUBSCRIBER_NATS_PASSWORD"] == printed["subscriber"]
    passwords = {**printed, "admin": admin["ADMIN_NATS_PASSWORD"]}
    for user in users:
        value = data[f"{user}_NATS_AUTH"]
        assert value.startswith('"$2b$') and value.endswith('"'), value
        password = passwords[user.lower()].encode() if user.lower() in passwords else service_password
        assert bcrypt.checkpw(password, value.strip('"').encode()), user


def test_inline_compose_commands_name_the_env_file() -> None:
    """Commands quoted in the prose, not in a block, are not run: they must at least carry the
    --env-file without which compose stops on the first missing secret."""
    prose = re.sub(r"^```.*?^```", "", README.read_text(), flags=re.M | re.S)
    inline = re.findall(r"`(docker compose [^`]*)`", prose)
    assert inline
    for command in inline:
        if command in ("docker compose config", "docker compose run|exec"):
            continue  # the tool named in prose, not a command to type
        assert "--env-file deploy/secrets.env" in command, command
