"""`genting serve` refuses missing, short and published secrets, naming the setting."""

from __future__ import annotations

import base64

import pytest

from shared.secrets import WeakSecret, check_serving_secrets
from shared.testing import TEST_DATA_KEY, TEST_JWT_SECRET

STRONG = "q" * 20 + "Zr81kLmN0pQ7sT2x"  # 36 bytes, nothing known
KEY = base64.urlsafe_b64encode(bytes(range(100, 132))).decode()
GOOD = {
    "GENTING_DATABASE_URL": f"postgresql://genting_aid:{STRONG}@db:5432/genting_aid",
    "GENTING_NATS_URL": f"nats://aid:{STRONG}@nats:4222",
    "GENTING_JWT_SECRET": STRONG,
    "GENTING_DATA_KEY": KEY,
}


def refused(**changes: str | None) -> str:
    env = {**GOOD, **changes}
    env = {k: v for k, v in env.items() if v is not None}
    with pytest.raises(WeakSecret) as caught:
        check_serving_secrets(env)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_strong_secrets_pass_and_urls_without_password_are_fine() -> None:
    check_serving_secrets(GOOD)
    check_serving_secrets({**GOOD, "GENTING_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/x"})


@pytest.mark.parametrize(
    "setting", ["GENTING_JWT_SECRET", "GENTING_DATA_KEY", "GENTING_DATABASE_URL", "GENTING_NATS_URL"]
)
def test_a_missing_setting_is_named(setting: str) -> None:
    assert refused(**{setting: None}).startswith(f"{setting} is not set")


@pytest.mark.parametrize(
    "value",
    [
        "change-me-to-32-or-more-random-characters",
        "CHANGE-ME-0123456789-0123456789-0123456789",
        "xxxxxxxxxxxxxxxxChange-Me-xxxxxxxxxxxxxxxxxxxx",
        TEST_JWT_SECRET,
        "short-but-random-9f8a",
    ],
)
def test_jwt_secret_placeholders_test_constants_and_short_values_are_refused(value: str) -> None:
    assert refused(GENTING_JWT_SECRET=value).startswith("GENTING_JWT_SECRET ")


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
