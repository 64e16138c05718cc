"""The image: hadolint-clean, dependencies from a hash-locked file, a context without the rest."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from deploy_tools import DEPLOY, ROOT, bare_env, run


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_installed_gateway_serves_the_field_app_where_the_image_puts_it(tmp_path: Path) -> None:
    """What the gateway container runs: the package installed as the image installs it (not the
    checkout), and the app's files where the Dockerfile copies them and says they are."""
    text = (DEPLOY / "Dockerfile").read_text()
    final = text.rsplit("\nFROM ", 1)[1]
    [target] = re.findall(r"^COPY webapp/dist (\S+)$", final, re.M)
    assert re.search(rf"GENTING_WEBAPP_DIR={re.escape(target)}\b", final)
    # The build context: only what .dockerignore lets through (it starts from "*").
    context = tmp_path / "context"
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        if line.startswith("!"):
            name = line[1:].rstrip("/")
            copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
            (context / name).parent.mkdir(parents=True, exist_ok=True)
            copy(ROOT / name, context / name)
    assert (context / "webapp" / "dist" / "index.html").is_file(), ".dockerignore leaves out webapp/dist"
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(context)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    files = tmp_path / target.lstrip("/")
    shutil.copytree(context / "webapp" / "dist", files)
    env = {**bare_env(), "PYTHONPATH": str(site), "GENTING_HOST": "127.0.0.1"}
    command = [sys.executable, "-c", "import sys; from genting.cli import main; sys.exit(main())", "gateway"]

    # Installed, the package has no webapp/ beside it: without the setting it says so and stops.
    alone = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert alone.returncode != 0 and "GENTING_WEBAPP_DIR" in alone.stderr

    port = free_port()
    proc = subprocess.Popen(
        command,
        cwd=tmp_path,
        env={**env, "GENTING_WEBAPP_DIR": str(files), "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                assert time.monotonic() < deadline, "the gateway did not answer"
                time.sleep(0.3)
        assert page.status_code == 200 and "<html" in page.text.lower()
        assert httpx.get(f"http://127.0.0.1:{port}/manifest.webmanifest").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/config.json").json()["client_id"] == "genting-field"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
