"""The development OIDC provider `genting up` runs: the authorization code flow with PKCE (S256) a
field app goes through, ending in an access token the services accept with the published JWKS."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from genting.devidp import create_app
from shared.auth import KeySet, TokenVerifier
from shared.testing import TEST_SIGNING_KEY

ISSUER = "http://127.0.0.1:8009"
APP = "http://127.0.0.1:8000"
REDIRECT = f"{APP}/masuk"
MEDONO = "33.75.01.1002"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_query(challenge: str, **changes: str) -> dict[str, str]:
    query = {
        "response_type": "code",
        "client_id": "genting-field",
        "redirect_uri": REDIRECT,
        "state": "s-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return {**query, **changes}


@pytest.fixture
async def idp() -> httpx.AsyncClient:
    app = create_app(TEST_SIGNING_KEY, issuer=ISSUER, allowed_origins=[APP])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER)


async def sign_in(idp: httpx.AsyncClient, challenge: str, **choice: str) -> str:
    """The sign-in page, then the user's choice posted: the code the app's redirect receives."""
    page = await idp.get("/authorize", params=authorize_query(challenge))
    assert page.status_code == 200 and 'lang="id"' in page.text and "Masuk" in page.text
    assert "Medono" in page.text  # the city's kelurahan are offered
    answer = await idp.post("/authorize", data={**authorize_query(challenge), **choice})
    assert answer.status_code == 302
    target = urlsplit(answer.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == REDIRECT
    params = parse_qs(target.query)
    assert params["state"] == ["s-123"]
    return params["code"][0]


def exchange(code: str, verifier: str, **changes: str) -> dict[str, str]:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": "genting-field",
        "code_verifier": verifier,
    }
    return {**form, **changes}


async def test_a_kader_signs_in_and_the_services_accept_the_access_token(idp: httpx.AsyncClient) -> None:
    config = (await idp.get("/.well-known/openid-configuration")).json()
    assert config["issuer"] == ISSUER
    assert config["token_endpoint"] == f"{ISSUER}/token"
    assert config["code_challenge_methods_supported"] == ["S256"]
    verifier, challenge = pkce()
    code = await sign_in(idp, challenge, role="kader", kelurahan=MEDONO)
    answer = await idp.post("/token", data=exchange(code, verifier), headers={"Origin": APP})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == APP  # the field app calls it from the browser
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert (claims["role"], claims["kelurahan"], claims["iss"], claims["aud"]) == ("kader", MEDONO, ISSUER, "genting")
    # A service verifies it with the published JWKS only, as with the city's provider.
    jwks = (await idp.get("/jwks.json")).json()
    assert all("d" not in key for key in jwks["keys"])
    keys = KeySet(url=f"{ISSUER}/jwks.json")
    keys._fetch_url = lambda: _json(idp.get("/jwks.json"))  # type: ignore[method-assign]  # in-process
    principal = await TokenVerifier(keys, issuers=("genting", ISSUER)).verify(body["access_token"])
    assert (principal.role, principal.kelurahan) == ("kader", MEDONO)
    id_claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert id_claims["aud"] == "genting-field"


async def _json(response: object) -> dict[str, object]:
    return (await response).json()  # type: ignore[misc,no-any-return]


async def test_a_code_is_single_use_and_needs_the_pkce_verifier(idp: httpx.AsyncClient) -> None:
    verifier, challenge = pkce()
    code = await sign_in(idp, challenge, role="donor", donor_id="d-42")
    wrong = await idp.post("/token", data=exchange(code, "not-the-verifier-" + verifier))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    # A failed try burns the code: the right verifier afterwards gets nothing either.
    assert (await idp.post("/token", data=exchange(code, verifier))).status_code == 400

    code = await sign_in(idp, challenge, role="donor", donor_id="d-42")
    assert (await idp.post("/token", data=exchange(code, verifier))).status_code == 200
    again = await idp.post("/token", data=exchange(code, verifier))
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "changes",
    [
        {"redirect_uri": "https://evil.example/steal"},
        {"code_challenge_method": "plain"},
        {"response_type": "token"},
        {"code_challenge": ""},
    ],
)
async def test_the_sign_in_page_refuses_foreign_redirects_and_weak_pkce(
    idp: httpx.AsyncClient, changes: dict[str, str]
) -> None:
    _, challenge = pkce()
    answer = await idp.get("/authorize", params=authorize_query(challenge, **changes))
    assert answer.status_code == 400
    assert "location" not in answer.headers


async def test_a_kader_without_a_kelurahan_gets_no_code(idp: httpx.AsyncClient) -> None:
    _, challenge = pkce()
    answer = await idp.post("/authorize", data={**authorize_query(challenge), "role": "kader"})
    assert answer.status_code == 400 and "kelurahan" in answer.text
