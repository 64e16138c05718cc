"""The image: hadolint-clean, dependencies from a hash-locked file, a context without the rest."""

from __future__ import annotations

import re

from deploy_tools import DEPLOY, ROOT, run


def test_dockerfile_is_hadolint_clean() -> None:
    proc = run("hadolint", "--failure-threshold", "info", str(DEPLOY / "Dockerfile"), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dockerfile_runs_genting_as_a_non_root_user_with_an_exec_healthcheck() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^USER 10001", text, re.M)
    assert re.search(r"^HEALTHCHECK .*\n?\s*CMD \[", text, re.M), "HEALTHCHECK must use the JSON (exec) form"
    assert 'ENTRYPOINT ["genting"]' in text
    assert "--require-hashes" in text


def test_every_locked_requirement_is_pinned_with_hashes() -> None:
    lock = (DEPLOY / "requirements.lock").read_text()
    entries = re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+) \\\n((?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", lock, re.M)
    names = {name.lower() for name, _, _ in entries}
    assert {"fastapi", "asyncpg", "nats-py", "uvicorn", "setuptools"} <= names
    requirement_lines = [ln for ln in lock.splitlines() if ln and not ln.startswith((" ", "#"))]
    assert len(requirement_lines) == len(entries), "a requirement without a version or hashes"


def test_the_build_context_leaves_out_data_and_virtualenvs() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignore  # everything is left out unless named
    assert "!deploy/requirements.lock" in ignore
    assert not any(line.startswith("!.") for line in ignore)  # never .venv, .genting, .git


def test_the_lock_covers_every_dependency_of_the_project() -> None:
    import tomllib

    lock = (DEPLOY / "requirements.lock").read_text().lower()
    for requirement in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]:
        name = re.split(r"[\[<>=~ ;]", requirement, maxsplit=1)[0].lower()
        assert f"\n{name}==" in lock, f"{name} is not in deploy/requirements.lock: regenerate it (deploy/README.md)"
