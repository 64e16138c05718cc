"""Token checks (CONTRACT.md, HTTP): ES256 signatures against a JWKS of public keys, issuer,
audience, lifetime cap; the HS256 development option; and the city's identity provider through a
JWKS served by a real local HTTP server with keys made here (fetched asynchronously, cached,
refreshed for an unknown `kid` at most once a minute, its failures never in the answer)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from shared.auth import KeySet, TokenVerifier, Unauthorized, check_jwks_url, issue_token, jwks_document, new_signing_key
from shared.settings import Settings
from shared.testing import TEST_HS256_SECRET, TEST_JWKS_FILE, TEST_SIGNING_KEY, free_port, token_for
from shared.testing.http_stub import LocalServer, QuietHandler

NOW = time.time()
TEST_KID = jwks_document(TEST_SIGNING_KEY)["keys"][0]["kid"]


def claims(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "sub": "kader-17",
        "role": "kader",
        "kelurahan": "33.75.01.1002",
        "iat": int(NOW),
        "exp": int(NOW) + 3600,
        "iss": "genting",
        "aud": "genting",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def es256(**overrides: Any) -> str:
    return jwt.encode(claims(**overrides), TEST_SIGNING_KEY, algorithm="ES256", headers={"kid": TEST_KID})


def hs256(**overrides: Any) -> str:
    return jwt.encode(claims(**overrides), TEST_HS256_SECRET, algorithm="HS256")


def hmac_signed(payload: dict[str, Any], secret: bytes) -> str:
    """An HS256 JWT made by hand (PyJWT refuses to sign with a public key as the HMAC secret)."""

    def part(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    header = part(json.dumps({"alg": "HS256", "typ": "JWT", "kid": TEST_KID}).encode())
    body = part(json.dumps(payload).encode())
    signature = part(hmac.new(secret, header + b"." + body, hashlib.sha256).digest())
    return (header + b"." + body + b"." + signature).decode()


def verifier(**kw: Any) -> TokenVerifier:
    """What a service under test holds: the public half of the test key, nothing that signs."""
    return TokenVerifier(KeySet(file=TEST_JWKS_FILE), **kw)


async def test_a_token_we_issued_is_accepted_with_its_scope() -> None:
    token = issue_token(TEST_SIGNING_KEY, role="lurah", sub="lurah-medono", kelurahan="33.75.01.1002")
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    principal = await verifier().verify(token)
    assert (principal.sub, principal.role, principal.kelurahan) == ("lurah-medono", "lurah", "33.75.01.1002")
    assert (await verifier().verify(token_for("donor", donor_id="d-7"))).donor_id == "d-7"


@pytest.mark.parametrize("missing", ["iss", "aud", "iat", "exp", "sub"])
async def test_a_token_without_a_required_claim_is_refused(missing: str) -> None:
    with pytest.raises(Unauthorized, match=missing):
        await verifier().verify(es256(**{missing: None}))


@pytest.mark.parametrize(("claim", "value"), [("iss", "someone-else"), ("aud", "another-app")])
async def test_a_token_for_another_issuer_or_audience_is_refused(claim: str, value: str) -> None:
    with pytest.raises(Unauthorized):
        await verifier().verify(es256(**{claim: value}))


async def test_a_thirty_year_token_is_refused() -> None:
    with pytest.raises(Unauthorized, match="at most 12 h"):
        await verifier().verify(es256(exp=int(NOW) + 30 * 365 * 86400))


async def test_the_lifetime_cap_is_configuration() -> None:
    token = es256(exp=int(NOW) + 13 * 3600)
    with pytest.raises(Unauthorized):
        await verifier().verify(token)
    assert (await verifier(max_lifetime_seconds=24 * 3600).verify(token)).sub == "kader-17"


@pytest.mark.parametrize(
    "make",
    [lambda: verifier(), lambda: Settings(jwks_file=TEST_JWKS_FILE).token_verifier()],
    ids=["kernel", "settings"],
)
async def test_by_default_a_token_may_live_twelve_hours_and_not_a_second_more(
    make: Callable[[], TokenVerifier],
) -> None:
    assert (await make().verify(es256(exp=int(NOW) + 12 * 3600))).sub == "kader-17"
    with pytest.raises(Unauthorized, match="at most 12 h"):
        await make().verify(es256(exp=int(NOW) + 12 * 3600 + 1))


async def test_an_expired_token_is_refused() -> None:
    with pytest.raises(Unauthorized, match="expired"):
        await verifier().verify(es256(iat=int(NOW) - 7200, exp=int(NOW) - 3600))


async def test_an_unsigned_token_is_refused() -> None:
    with pytest.raises(Unauthorized):
        await verifier().verify(jwt.encode(claims(), "", algorithm="none"))


async def test_a_token_signed_by_another_ec_key_under_our_kid_is_refused() -> None:
    forged = jwt.encode(claims(role="admin"), new_signing_key(), algorithm="ES256", headers={"kid": TEST_KID})
    with pytest.raises(Unauthorized):
        await verifier().verify(forged)


async def test_hs256_is_refused_unless_the_development_option_is_on() -> None:
    with pytest.raises(Unauthorized, match="HS256"):
        await verifier().verify(hs256())
    # The published public key used as an HMAC secret (algorithm confusion) signs nothing either.
    public = open(TEST_JWKS_FILE, "rb").read()  # noqa: ASYNC230
    with pytest.raises(Unauthorized):
        await verifier().verify(hmac_signed(claims(role="admin"), public))
    dev = TokenVerifier(hs256_secret=TEST_HS256_SECRET)
    assert (await dev.verify(hs256())).sub == "kader-17"
    assert (await dev.verify(issue_token(TEST_HS256_SECRET, role="admin", sub="a"))).role == "admin"


@pytest.mark.parametrize("secret", ["x", "short-secret", "a" * 31])
def test_an_hs256_secret_shorter_than_32_bytes_is_refused_at_start(secret: str) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        TokenVerifier(hs256_secret=secret)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://sso.pekalongankota.go.id/certs", True),
        ("http://127.0.0.1:8009/jwks.json", True),
        ("http://localhost:8009/jwks.json", True),
        ("http://sso.pekalongankota.go.id/certs", False),
        ("http://10.0.0.5/certs", False),
        ("ftp://127.0.0.1/certs", False),
    ],
)
def test_a_jwks_url_is_https_outside_loopback(url: str, allowed: bool) -> None:
    if allowed:
        assert check_jwks_url(url) == url
    else:
        with pytest.raises(ValueError, match="https"):
            check_jwks_url(url)


# -- the city's identity provider ---------------------------------------------------------------


class Jwks(LocalServer):
    """A JWKS endpoint on 127.0.0.1 counting its fetches."""

    def __init__(self, keys: list[dict[str, Any]]) -> None:
        self.body = json.dumps({"keys": keys}).encode()
        self.fetches = 0
        owner = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(owner.body)

        super().__init__(Handler)
        self.url += "/realms/pekalongan/protocol/openid-connect/certs"


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
STRANGER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
IDP = "https://sso.pekalongankota.go.id/realms/pekalongan"


def jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
    algorithm = jwt.get_algorithm_by_name(alg)
    public: dict[str, Any] = json.loads(algorithm.to_jwk(key.public_key()))
    return {**public, "kid": kid, "alg": alg, "use": "sig"}


@pytest.fixture
def jwks() -> Iterator[Jwks]:
    server = Jwks([jwk(RSA_KEY, "rsa-1", "RS256"), jwk(EC_KEY, "ec-1", "ES256")])
    try:
        yield server
    finally:
        server.stop()


def idp_token(key: Any, kid: str, alg: str, **overrides: Any) -> str:
    return jwt.encode(claims(iss=IDP, **overrides), key, algorithm=alg, headers={"kid": kid})


@pytest.mark.parametrize(("key", "kid", "alg"), [(RSA_KEY, "rsa-1", "RS256"), (EC_KEY, "ec-1", "ES256")])
async def test_the_city_identity_providers_tokens_are_verified_against_its_jwks(
    jwks: Jwks, key: Any, kid: str, alg: str
) -> None:
    city = TokenVerifier(KeySet(url=jwks.url), issuers=(IDP,))
    assert (await city.verify(idp_token(key, kid, alg))).kelurahan == "33.75.01.1002"
    assert (await city.verify(idp_token(key, kid, alg, sub="kader-18"))).sub == "kader-18"
    assert jwks.fetches == 1  # fetched once, then cached


async def test_a_token_signed_by_a_key_outside_the_jwks_is_refused(jwks: Jwks) -> None:
    city = TokenVerifier(KeySet(url=jwks.url), issuers=(IDP,))
    with pytest.raises(Unauthorized):
        await city.verify(idp_token(STRANGER, "rsa-1", "RS256"))
    with pytest.raises(Unauthorized, match="signing key"):
        await city.verify(idp_token(STRANGER, "unknown-kid", "RS256"))


async def test_an_idp_token_must_name_the_idp_as_issuer(jwks: Jwks) -> None:
    city = TokenVerifier(KeySet(url=jwks.url), issuers=(IDP,))
    with pytest.raises(Unauthorized):
        await city.verify(jwt.encode(claims(iss="genting"), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"}))


async def test_without_the_idps_jwks_its_tokens_are_refused() -> None:
    with pytest.raises(Unauthorized):
        await verifier().verify(idp_token(RSA_KEY, "rsa-1", "RS256"))


async def test_unknown_kids_refetch_the_jwks_at_most_once_a_minute(jwks: Jwks) -> None:
    city = TokenVerifier(KeySet(url=jwks.url), issuers=(IDP,))
    assert (await city.verify(idp_token(EC_KEY, "ec-1", "ES256"))).sub == "kader-17"
    for n in range(20):  # a flood of made-up kids
        with pytest.raises(Unauthorized, match="signing key"):
            await city.verify(idp_token(STRANGER, f"made-up-{n}", "RS256"))
    assert jwks.fetches == 1


async def test_a_rotated_key_is_found_by_a_refresh_for_its_unknown_kid(jwks: Jwks) -> None:
    keys = KeySet(url=jwks.url)
    city = TokenVerifier(keys, issuers=(IDP,))
    assert (await city.verify(idp_token(RSA_KEY, "rsa-1", "RS256"))).role == "kader"
    jwks.body = json.dumps({"keys": [jwk(STRANGER, "rsa-2", "RS256")]}).encode()  # the IdP rotated
    with pytest.raises(Unauthorized):
        await city.verify(idp_token(STRANGER, "rsa-2", "RS256"))  # within the minute: no refetch
    assert jwks.fetches == 1
    assert keys._loaded_at is not None
    keys._loaded_at -= 61  # a minute later (the clock is monotonic: moved back rather than waited)
    assert (await city.verify(idp_token(STRANGER, "rsa-2", "RS256"))).role == "kader"
    assert jwks.fetches == 2


async def test_an_unreachable_jwks_gives_a_plain_401_and_logs_why(caplog: pytest.LogCaptureFixture) -> None:
    url = f"http://127.0.0.1:{free_port()}/certs"  # nothing listens
    city = TokenVerifier(KeySet(url=url, timeout=2), issuers=(IDP,))
    with caplog.at_level(logging.WARNING), pytest.raises(Unauthorized) as refused:
        await city.verify(idp_token(RSA_KEY, "rsa-1", "RS256"))
    assert str(refused.value) == "the token's signing key is unknown"  # nothing of the fetch error


def test_the_settings_read_the_key_set_from_genting_jwks_url_or_its_older_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.settings import Settings

    for name in ("GENTING_JWKS_URL", "GENTING_JWKS_FILE", "GENTING_JWT_ALGORITHM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GENTING_OIDC_JWKS_URL", "https://sso.pekalongankota.go.id/certs")
    assert Settings.from_env().jwks_url == "https://sso.pekalongankota.go.id/certs"
    monkeypatch.setenv("GENTING_JWKS_URL", "http://sso.pekalongankota.go.id/certs")
    with pytest.raises(ValueError, match="https"):
        Settings.from_env()
    monkeypatch.delenv("GENTING_JWKS_URL")
    monkeypatch.delenv("GENTING_OIDC_JWKS_URL")
    with pytest.raises(ValueError, match="GENTING_JWKS_URL or GENTING_JWKS_FILE"):
        Settings.from_env()
