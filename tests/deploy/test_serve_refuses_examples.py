"""`genting serve` refuses to start on any example secret from deploy/ (CONTRACT.md): a city that
copies an example unchanged gets one line naming the setting, not a running service."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
from urllib.parse import urlsplit

import pytest
import yaml
from deploy_tools import BIN, DEPLOY, ROOT, SERVICES, example_secrets

from shared.testing import free_port

pytestmark = pytest.mark.e2e


def examples() -> list[tuple[str, str, str]]:
    """(service, setting, example value) for every JWT secret and data key the examples show."""
    compose = example_secrets()
    k8s = {
        d["metadata"]["name"]: d["stringData"]
        for d in yaml.safe_load_all((DEPLOY / "k8s" / "examples" / "secrets.example.yaml").read_text())
        if d
    }
    out = []
    for service in SERVICES:
        out += [
            (service, "GENTING_DATA_KEY", compose[f"{service.upper()}_DATA_KEY"]),
            (service, "GENTING_DATA_KEY", k8s[f"genting-{service}"]["GENTING_DATA_KEY"]),
            # The passwords inside the URLs, as Compose and the Deployments build them.
            (
                service,
                "GENTING_DATABASE_URL",
                f"postgresql://{service}:{compose[f'{service.upper()}_DB_PASSWORD']}@db/x",
            ),
            (service, "GENTING_NATS_URL", f"nats://{service}:{compose[f'{service.upper()}_NATS_PASSWORD']}@nats:4222"),
            (
                service,
                "GENTING_DATABASE_URL",
                f"postgresql://{service}:{k8s[f'genting-{service}-pg-owner']['password']}@db/x",
            ),
            (service, "GENTING_NATS_URL", f"nats://{service}:{k8s[f'genting-{service}']['NATS_PASSWORD']}@nats:4222"),
        ]
    return out


@pytest.mark.parametrize(("service", "setting", "value"), examples())
def test_serve_refuses_an_example_secret(service: str, setting: str, value: str) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "GENTING_JWKS_URL": "https://sso.example.go.id/realms/kota/protocol/openid-connect/certs",
        "GENTING_DATA_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        # Nothing listens there: the refusal must come before any connection is tried.
        "GENTING_DATABASE_URL": f"postgresql://{service}:{secrets.token_hex(16)}@127.0.0.1:{free_port()}/genting_{service}",
        "GENTING_NATS_URL": f"nats://{service}:{secrets.token_hex(16)}@127.0.0.1:{free_port()}",
        "PORT": str(free_port()),
        setting: value,
    }
    proc = subprocess.run(
        [str(BIN / "genting"), "serve", service], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert setting in output, f"the refusal does not name {setting}: {output}"
    secret = urlsplit(value).password or value if "://" in value else value
    assert secret not in output, "the secret itself was printed"
