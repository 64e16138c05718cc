"""Refuse to serve with a weak secret: missing, shorter than 32 bytes, or a value known from an
example, a default or the tests. `genting serve` checks this before it starts anything, so a
deployment that forgot to replace a placeholder stops at once with one line naming the setting."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from shared.testing import TEST_DATA_KEY, TEST_JWT_SECRET

MIN_BYTES = 32
# Every example placeholder in deploy/ and docs contains this marker (case-insensitive).
PLACEHOLDER_MARK = "change-me"
# Old compose defaults and the constants the tests and dev tools use: public, so never secret.
KNOWN_VALUES = frozenset(
    {"genting", "postgres", "password", "secret", "registry", "aid", "funding", "reporting", "subscriber"}
    | {TEST_JWT_SECRET, TEST_DATA_KEY}
)


class WeakSecret(ValueError):
    """A secret setting that must not be used; the message names the setting and why."""

    def __init__(self, setting: str, why: str) -> None:
        super().__init__(f"{setting} {why}")
        self.setting = setting


def _known(value: str, user: str | None = None) -> str | None:
    if PLACEHOLDER_MARK in value.lower():
        return "is an example placeholder (contains CHANGE-ME); set a random value"
    if value in KNOWN_VALUES or value.lower() in KNOWN_VALUES or (user is not None and value == user):
        return "is a published default value; set a random value"
    return None


def check_secret(setting: str, value: str | None) -> None:
    """A plain secret (the JWT signing key): present, 32+ bytes, not a known value."""
    if not value:
        raise WeakSecret(setting, "is not set")
    if why := _known(value):
        raise WeakSecret(setting, why)
    if len(value.encode()) < MIN_BYTES:
        raise WeakSecret(setting, f"is shorter than {MIN_BYTES} bytes")


def check_data_key(setting: str, value: str | None) -> None:
    """The data key is urlsafe base64 of 32+ random bytes: the decoded key is what must be long."""
    if not value:
        raise WeakSecret(setting, "is not set")
    if why := _known(value):
        raise WeakSecret(setting, why)
    try:
        key = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise WeakSecret(setting, "is not urlsafe base64") from None
    if len(key) < MIN_BYTES:
        raise WeakSecret(setting, f"holds fewer than {MIN_BYTES} bytes (urlsafe base64 of 32 random bytes)")


def check_url_password(setting: str, url: str | None) -> None:
    """The password inside a connection URL, when there is one (a URL without one is fine:
    the server may authenticate otherwise, e.g. by a client certificate or a local socket)."""
    if not url:
        raise WeakSecret(setting, "is not set")
    parts = urlsplit(url)
    if parts.password is None:
        return
    password = unquote(parts.password)
    user = unquote(parts.username) if parts.username else None
    if not password:
        raise WeakSecret(setting, "has an empty password")
    if why := _known(password, user):
        raise WeakSecret(setting, f"password {why}")
    if len(password.encode()) < MIN_BYTES:
        raise WeakSecret(setting, f"password is shorter than {MIN_BYTES} bytes")


def check_serving_secrets(env: Mapping[str, str]) -> None:
    """Everything `genting serve` needs to be secret; raises WeakSecret for the first bad one."""
    check_url_password("GENTING_DATABASE_URL", env.get("GENTING_DATABASE_URL"))
    check_url_password("GENTING_NATS_URL", env.get("GENTING_NATS_URL"))
    check_secret("GENTING_JWT_SECRET", env.get("GENTING_JWT_SECRET"))
    check_data_key("GENTING_DATA_KEY", env.get("GENTING_DATA_KEY"))
    # Roots being rotated out still open every family key wrapped under them: just as secret.
    previous = [k.strip() for k in env.get("GENTING_DATA_KEYS_PREVIOUS", "").split(",") if k.strip()]
    for i, key in enumerate(previous):
        check_data_key(f"GENTING_DATA_KEYS_PREVIOUS[{i}]", key)
    if env.get("GENTING_LOOKUP_KEY"):
        check_data_key("GENTING_LOOKUP_KEY", env.get("GENTING_LOOKUP_KEY"))
