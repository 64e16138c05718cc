"""`genting serve` refuses missing, short and published secrets, naming the setting; it refuses a
signing secret or key and the HS256 development option (a service verifies with public keys only);
`genting check-secrets` applies the same checks to every secret of a Compose or Kubernetes deployment."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from genting.cli import main
from shared.auth import jwks_document, new_signing_key
from shared.secrets import WeakSecret, check_deployment_secrets, check_serving_secrets, read_k8s_secrets
from shared.testing import TEST_DATA_KEY, TEST_HS256_SECRET, TEST_JWKS_FILE, TEST_SIGNING_KEY

STRONG = "q" * 20 + "Zr81kLmN0pQ7sT2x"  # 36 bytes, nothing known
KEY = base64.urlsafe_b64encode(bytes(range(100, 132))).decode()
GOOD = {
    "GENTING_DATABASE_URL": f"postgresql://genting_aid:{STRONG}@db:5432/genting_aid",
    "GENTING_NATS_URL": f"nats://aid:{STRONG}@nats:4222",
    "GENTING_JWKS_URL": "https://sso.pekalongankota.go.id/realms/pekalongan/protocol/openid-connect/certs",
    "GENTING_DATA_KEY": KEY,
}


def refused(**changes: str | None) -> str:
    env = {k: v for k, v in {**GOOD, **changes}.items() if v is not None}
    with pytest.raises(WeakSecret) as caught:
        check_serving_secrets(env)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_strong_secrets_pass_and_urls_without_password_are_fine() -> None:
    check_serving_secrets(GOOD)
    check_serving_secrets({**GOOD, "GENTING_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/x"})


@pytest.mark.parametrize(
    "setting", ["GENTING_JWKS_URL", "GENTING_DATA_KEY", "GENTING_DATABASE_URL", "GENTING_NATS_URL"]
)
def test_a_missing_setting_is_named(setting: str) -> None:
    assert refused(**{setting: None}).startswith(f"{setting} is not set")


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("GENTING_JWT_SECRET", STRONG),  # even a strong one: with it a service could mint tokens
        ("GENTING_JWT_SECRET", TEST_HS256_SECRET),
        ("GENTING_SIGNING_KEY", new_signing_key()),
        ("GENTING_JWT_ALGORITHM", "HS256"),
        ("GENTING_JWKS_URL", "http://sso.pekalongankota.go.id/certs"),  # plain http off this machine
        ("GENTING_JWKS_URL", "https://sso.CHANGE-ME.go.id/realms/kota/protocol/openid-connect/certs"),
    ],
)
def test_serve_refuses_signing_material_hs256_and_plain_http_jwks(setting: str, value: str) -> None:
    message = refused(**{setting: value})
    assert message.startswith(f"{setting} ")
    assert value not in message or setting == "GENTING_JWT_ALGORITHM"


def test_a_jwks_file_must_hold_public_keys_only(tmp_path: Path) -> None:
    check_serving_secrets({**GOOD, "GENTING_JWKS_URL": "", "GENTING_JWKS_FILE": TEST_JWKS_FILE})
    private = jwks_document(TEST_SIGNING_KEY)
    private["keys"][0]["d"] = "c2VjcmV0"  # a private EC key's scalar
    leaky = tmp_path / "jwks.json"
    leaky.write_text(json.dumps(private))
    assert "public keys only" in refused(GENTING_JWKS_URL=None, GENTING_JWKS_FILE=str(leaky))


@pytest.mark.parametrize(
    "value",
    [
        "change-me-urlsafe-base64-of-32-random-bytes",
        TEST_DATA_KEY,
        base64.urlsafe_b64encode(b"sixteen-bytes-ok").decode(),
        "not base64 at all!!",
    ],
)
def test_data_key_placeholders_test_constant_short_and_malformed_keys_are_refused(value: str) -> None:
    assert refused(GENTING_DATA_KEY=value).startswith("GENTING_DATA_KEY ")


@pytest.mark.parametrize(
    ("setting", "url"),
    [
        ("GENTING_DATABASE_URL", "postgresql://genting:genting@postgres:5432/genting_registry"),
        ("GENTING_DATABASE_URL", "postgresql://genting_aid:genting_aid@postgres:5432/genting_aid"),
        ("GENTING_DATABASE_URL", "postgresql://genting:CHANGE-ME-database-password-0123456789@db/x"),
        ("GENTING_DATABASE_URL", "postgresql://genting:tooshort@db/x"),
        ("GENTING_NATS_URL", "nats://registry:registry@nats:4222"),
        ("GENTING_NATS_URL", "nats://aid:change-me-aid-nats-password-0123456789@nats:4222"),
        ("GENTING_NATS_URL", "nats://aid:@nats:4222"),
    ],
)
def test_passwords_in_urls_that_are_defaults_placeholders_or_short_are_refused(setting: str, url: str) -> None:
    message = refused(**{setting: url})
    assert message.startswith(f"{setting} ")
    password = url.split("//")[1].split("@")[0].split(":")[1]
    assert not password or password not in message  # a secret is never echoed, not even a bad one


# -- every secret of a Compose or Kubernetes deployment -----------------------------------------

COMPOSE_SECRETS = [
    "POSTGRES_PASSWORD",
    "REGISTRY_DB_PASSWORD",
    "REGISTRY_NATS_PASSWORD",
    "SUBSCRIBER_NATS_PASSWORD",
    "OPERATOR_NATS_PASSWORD",
    "ADMIN_NATS_PASSWORD",
]


@pytest.mark.parametrize("name", COMPOSE_SECRETS)
@pytest.mark.parametrize(
    "value", ["CHANGE-ME-postgres-superuser-password-0000", "postgres", "subscriber", "short-9f8a"]
)
def test_each_deployment_password_is_checked_for_examples_and_length(name: str, value: str) -> None:
    problems = check_deployment_secrets({name: value, "AID_NATS_PASSWORD": STRONG})
    assert [p.setting for p in problems] == [name]
    assert value not in str(problems[0])


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REGISTRY_DATA_KEY", TEST_DATA_KEY),
        ("AID_DATA_KEY", base64.urlsafe_b64encode(b"sixteen-bytes-ok").decode()),
        ("SUBSCRIBER_NATS_AUTH", '"CHANGE-ME-bcrypt-hash-of-the-subscriber-password-0000"'),
        ("GENTING_DATABASE_URL", "postgresql://aid:aid@db/aid"),
    ],
)
def test_data_keys_nats_hashes_and_urls_are_checked_by_their_kind(name: str, value: str) -> None:
    assert [p.setting for p in check_deployment_secrets({name: value})] == [name]


def test_strong_deployment_secrets_pass() -> None:
    strong = {name: STRONG for name in COMPOSE_SECRETS}
    strong |= {"REGISTRY_DATA_KEY": KEY, "OPERATOR_NATS_AUTH": '"$2b$11$abcdefghijklmnopqrstuv"'}
    assert check_deployment_secrets(strong) == []


def test_check_secrets_reads_compose_env_files_and_k8s_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = tmp_path / "secrets.env"
    env.write_text(f"# comment\nPOSTGRES_PASSWORD={STRONG}\nOPERATOR_NATS_PASSWORD='operator'\n")
    manifest = tmp_path / "secrets.yaml"
    encoded = base64.b64encode(b"CHANGE-ME-k8s-password-000000000000").decode()
    manifest.write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: genting-aid-pg-owner}\n"
        f"stringData: {{username: aid, password: {STRONG}}}\n---\n"
        f"apiVersion: v1\nkind: Secret\nmetadata: {{name: genting-aid}}\ndata: {{NATS_PASSWORD: {encoded}}}\n"
    )
    assert set(read_k8s_secrets(manifest.read_text())) == {
        "genting-aid-pg-owner/username",
        "genting-aid-pg-owner/password",
        "genting-aid/NATS_PASSWORD",
    }
    assert main(["check-secrets", str(env), str(manifest)]) == 1
    out = capsys.readouterr().out
    assert "OPERATOR_NATS_PASSWORD is a published default" in out
    assert "genting-aid/NATS_PASSWORD is an example placeholder" in out
    assert "POSTGRES_PASSWORD" not in out and STRONG not in out
    env.write_text(f"POSTGRES_PASSWORD={STRONG}\n")
    assert main(["check-secrets", str(env)]) == 0
