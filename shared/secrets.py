"""Refuse to serve with a weak secret: missing, shorter than 32 bytes, or a value known from an
example, a default or the tests. `genting serve` checks this before it starts anything, so a
deployment that forgot to replace a placeholder stops at once with one line naming the setting.
`genting check-secrets` runs the same checks over a Compose env file or Kubernetes Secret
manifests (every secret of every deployment mode: database, NATS, data keys) before they are used.

A service verifies tokens with public keys only (shared/auth.py): `genting serve` refuses a
signing secret or key in its environment and the HS256 development option."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from shared.testing import TEST_DATA_KEY, TEST_HS256_SECRET, TEST_SIGNING_KEY

MIN_BYTES = 32
# Every example placeholder in deploy/ and docs contains this marker (case-insensitive).
PLACEHOLDER_MARK = "change-me"
# Old compose defaults and the constants the tests and dev tools use: public, so never secret.
KNOWN_VALUES = frozenset(
    {"genting", "postgres", "password", "secret", "changeme", "admin", "operator", "subscriber"}
    | {"registry", "aid", "funding", "reporting"}
    | {TEST_HS256_SECRET, TEST_DATA_KEY, TEST_SIGNING_KEY}
)
# What a service must never hold: whoever has one of these can mint any token.
SIGNING_SETTINGS = ("GENTING_JWT_SECRET", "GENTING_SIGNING_KEY")
# Members of a JWK that belong to a private or symmetric key (RFC 7518 6.2.2, 6.3.2, 6.4).
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


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


def check_token_keys(env: Mapping[str, str]) -> None:
    """A serving service verifies with a JWKS of public keys and holds nothing that signs."""
    if env.get("GENTING_JWT_ALGORITHM", "").upper() == "HS256":
        raise WeakSecret(
            "GENTING_JWT_ALGORITHM",
            "is HS256, a development option: every holder of the secret could mint any token; "
            "give GENTING_JWKS_URL (the identity provider's public keys)",
        )
    for setting in SIGNING_SETTINGS:
        if env.get(setting):
            raise WeakSecret(setting, "must not be given to a service: it signs tokens; services only verify")
    url = env.get("GENTING_JWKS_URL") or env.get("GENTING_OIDC_JWKS_URL")
    file = env.get("GENTING_JWKS_FILE")
    if not url and not file:
        raise WeakSecret("GENTING_JWKS_URL", "is not set (the identity provider's JWKS, https)")
    if url and PLACEHOLDER_MARK in url.lower():
        raise WeakSecret(
            "GENTING_JWKS_URL", "is an example placeholder (contains CHANGE-ME); set your identity provider's"
        )
    if url:
        from shared.auth import check_jwks_url

        try:
            check_jwks_url(url)
        except ValueError:
            raise WeakSecret("GENTING_JWKS_URL", "must use https (plain http only to this machine)") from None
    if file:
        check_public_jwks("GENTING_JWKS_FILE", file)


def check_public_jwks(setting: str, path: str) -> None:
    """A JWKS file a service reads must hold public keys only."""
    try:
        document = json.loads(Path(path).read_text())
        keys = document["keys"]
    except (OSError, ValueError, KeyError, TypeError):
        raise WeakSecret(setting, "is not a readable JWKS file") from None
    for key in keys:
        if PRIVATE_JWK_MEMBERS & set(key):
            raise WeakSecret(setting, "holds a private or symmetric key: a service must hold public keys only")


def check_serving_secrets(env: Mapping[str, str]) -> None:
    """Everything `genting serve` needs to be secret; raises WeakSecret for the first bad one."""
    check_url_password("GENTING_DATABASE_URL", env.get("GENTING_DATABASE_URL"))
    check_url_password("GENTING_NATS_URL", env.get("GENTING_NATS_URL"))
    check_data_key("GENTING_DATA_KEY", env.get("GENTING_DATA_KEY"))
    # Roots being rotated out still open every family key wrapped under them: just as secret.
    previous = [k.strip() for k in env.get("GENTING_DATA_KEYS_PREVIOUS", "").split(",") if k.strip()]
    for i, key in enumerate(previous):
        check_data_key(f"GENTING_DATA_KEYS_PREVIOUS[{i}]", key)
    if env.get("GENTING_LOOKUP_KEY"):
        check_data_key("GENTING_LOOKUP_KEY", env.get("GENTING_LOOKUP_KEY"))
    check_token_keys(env)


def check_deployment_secret(name: str, value: str) -> None:
    """One secret of a Compose env file or a Kubernetes Secret, by the kind its name says:
    a data key (urlsafe base64 of 32+ bytes), a connection URL (its password), a NATS bcrypt hash
    (no placeholder), or any other password, key or token (32+ bytes, not a known value)."""
    upper = name.upper()
    if upper.endswith(("DATA_KEY", "LOOKUP_KEY")):
        check_data_key(name, value)
    elif upper.endswith("DATA_KEYS_PREVIOUS"):
        for i, key in enumerate(k.strip() for k in value.split(",") if k.strip()):
            check_data_key(f"{name}[{i}]", key)
    elif upper.endswith("_URL"):
        check_url_password(name, value)
    elif upper.endswith("_NATS_AUTH"):
        # The bcrypt hash NATS holds: it is derived, not chosen, so only placeholders are wrong.
        if why := _known(value.strip('"')):
            raise WeakSecret(name, why)
    elif upper.rsplit("/", 1)[-1] in ("USERNAME", "GENTING_OIDC_ISSUER", "ISSUER"):
        return  # a name, not a secret
    elif upper.endswith("ACCESS_KEY_ID"):
        if why := _known(value):
            raise WeakSecret(name, why)
    else:
        check_secret(name, value)


def check_deployment_secrets(secrets: Mapping[str, str]) -> list[WeakSecret]:
    """Every problem among a deployment's secrets (not just the first), each naming its secret."""
    problems: list[WeakSecret] = []
    for name, value in secrets.items():
        try:
            check_deployment_secret(name, value)
        except WeakSecret as exc:
            problems.append(exc)
    return problems


def read_env_file(text: str) -> dict[str, str]:
    """KEY=VALUE lines of a Compose env file (comments and blank lines skipped, quotes removed)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        found[key.strip()] = value
    return found


def read_k8s_secrets(text: str) -> dict[str, str]:
    """The values of every Secret in a manifest (stringData, and data base64-decoded), named
    `secret-name/KEY`."""
    import yaml

    found: dict[str, str] = {}
    for doc in yaml.safe_load_all(text):
        if not isinstance(doc, dict) or doc.get("kind") != "Secret":
            continue
        name = doc.get("metadata", {}).get("name", "?")
        for key, value in (doc.get("stringData") or {}).items():
            found[f"{name}/{key}"] = str(value)
        for key, value in (doc.get("data") or {}).items():
            found[f"{name}/{key}"] = base64.b64decode(str(value)).decode(errors="replace")
    return found
