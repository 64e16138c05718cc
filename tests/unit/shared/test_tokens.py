"""Token checks (CONTRACT.md, HTTP): issuer, audience, lifetime cap, secret length, and the city's
identity provider through a JWKS served by a real local HTTP server with keys made here."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from shared.auth import TokenVerifier, Unauthorized, issue_token
from shared.testing import TEST_JWT_SECRET

NOW = time.time()


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


def hs256(**overrides: Any) -> str:
    return jwt.encode(claims(**overrides), TEST_JWT_SECRET, algorithm="HS256")


VERIFIER = TokenVerifier(TEST_JWT_SECRET)


def test_a_token_we_issued_is_accepted_with_its_scope() -> None:
    token = issue_token(TEST_JWT_SECRET, role="lurah", sub="lurah-medono", kelurahan="33.75.01.1002")
    principal = VERIFIER.verify(token)
    assert (principal.sub, principal.role, principal.kelurahan) == ("lurah-medono", "lurah", "33.75.01.1002")


@pytest.mark.parametrize("missing", ["iss", "aud", "iat", "exp", "sub"])
def test_a_token_without_a_required_claim_is_refused(missing: str) -> None:
    with pytest.raises(Unauthorized, match=missing):
        VERIFIER.verify(hs256(**{missing: None}))


@pytest.mark.parametrize(("claim", "value"), [("iss", "someone-else"), ("aud", "another-app")])
def test_a_token_for_another_issuer_or_audience_is_refused(claim: str, value: str) -> None:
    with pytest.raises(Unauthorized):
        VERIFIER.verify(hs256(**{claim: value}))


def test_a_thirty_year_token_is_refused() -> None:
    with pytest.raises(Unauthorized, match="at most 12 h"):
        VERIFIER.verify(hs256(exp=int(NOW) + 30 * 365 * 86400))


def test_the_lifetime_cap_is_configuration() -> None:
    token = hs256(exp=int(NOW) + 13 * 3600)
    with pytest.raises(Unauthorized):
        VERIFIER.verify(token)
    assert TokenVerifier(TEST_JWT_SECRET, max_lifetime_seconds=24 * 3600).verify(token).sub == "kader-17"


def test_an_expired_token_is_refused() -> None:
    with pytest.raises(Unauthorized, match="expired"):
        VERIFIER.verify(hs256(iat=int(NOW) - 7200, exp=int(NOW) - 3600))


@pytest.mark.parametrize("secret", ["x", "short-secret", "a" * 31])
def test_an_hs256_secret_shorter_than_32_bytes_is_refused_at_start(secret: str) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        TokenVerifier(secret)


def test_an_unsigned_token_is_refused() -> None:
    with pytest.raises(Unauthorized):
        VERIFIER.verify(jwt.encode(claims(), None, algorithm="none"))


# -- the city's identity provider ---------------------------------------------------------------


class Jwks:
    """A JWKS endpoint on 127.0.0.1 counting its fetches."""

    def __init__(self, keys: list[dict[str, Any]]) -> None:
        self.body = json.dumps({"keys": keys}).encode()
        self.fetches = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(owner.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/realms/pekalongan/protocol/openid-connect/certs"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


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
        server.close()


def idp_token(key: Any, kid: str, alg: str, **overrides: Any) -> str:
    return jwt.encode(claims(iss=IDP, **overrides), key, algorithm=alg, headers={"kid": kid})


@pytest.mark.parametrize(("key", "kid", "alg"), [(RSA_KEY, "rsa-1", "RS256"), (EC_KEY, "ec-1", "ES256")])
def test_the_city_identity_providers_tokens_are_verified_against_its_jwks(
    jwks: Jwks, key: Any, kid: str, alg: str
) -> None:
    verifier = TokenVerifier(TEST_JWT_SECRET, jwks_url=jwks.url, oidc_issuer=IDP)
    assert verifier.verify(idp_token(key, kid, alg)).kelurahan == "33.75.01.1002"
    assert verifier.verify(idp_token(key, kid, alg, sub="kader-18")).sub == "kader-18"
    assert jwks.fetches == 1  # fetched once, then cached


def test_a_token_signed_by_a_key_outside_the_jwks_is_refused(jwks: Jwks) -> None:
    verifier = TokenVerifier(TEST_JWT_SECRET, jwks_url=jwks.url, oidc_issuer=IDP)
    with pytest.raises(Unauthorized):
        verifier.verify(idp_token(STRANGER, "rsa-1", "RS256"))
    with pytest.raises(Unauthorized, match="signing key"):
        verifier.verify(idp_token(STRANGER, "unknown-kid", "RS256"))


def test_an_idp_token_must_name_the_idp_as_issuer(jwks: Jwks) -> None:
    verifier = TokenVerifier(TEST_JWT_SECRET, jwks_url=jwks.url, oidc_issuer=IDP)
    with pytest.raises(Unauthorized):
        verifier.verify(jwt.encode(claims(iss="genting"), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"}))


def test_without_a_jwks_an_rs256_token_is_refused() -> None:
    with pytest.raises(Unauthorized):
        VERIFIER.verify(idp_token(RSA_KEY, "rsa-1", "RS256"))
