"""On a real `genting up`: a service holds no key that signs tokens, so a compromised service cannot
mint one; the tokens the stack accepts come from the key `up` keeps (`genting token`) and from the
development OIDC provider it runs, verified with the published public keys."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from up_support import SERVICES, genting_up

from genting.state import load_secrets
from shared.auth import issue_token
from shared.secrets import check_public_jwks

pytestmark = pytest.mark.e2e

MEDONO = "33.75.01.1002"
FIELD_APP = "http://127.0.0.1:8000"


def environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(): v.decode(errors="replace") for k, v in pairs}


def forgeries(value: str) -> list[str]:
    """Admin tokens signed with one value a service holds, every way it could be used to sign."""
    found = []
    if len(value.encode()) >= 32:  # PyJWT refuses shorter HMAC keys; the services refuse HS256 anyway
        try:
            found.append(issue_token(value, role="admin", sub="forged"))
        except jwt.InvalidKeyError:
            pass  # a value PyJWT will not use as an HMAC secret (a PEM or JWK)
    if "PRIVATE KEY" in value:
        found.append(issue_token(value, role="admin", sub="forged"))
    return found


async def test_a_service_holds_no_signing_key_and_nothing_it_holds_mints_an_accepted_token(tmp_path: Path) -> None:
    async with genting_up(tmp_path) as up:
        signing_key = load_secrets(up.data_dir).signing_key
        pids = up.pids()
        async with httpx.AsyncClient(base_url=up.urls["registry"], timeout=10) as http:
            real = issue_token(signing_key, role="admin", sub="real-admin")
            assert (await http.get("/families", headers={"Authorization": f"Bearer {real}"})).status_code == 200
            tried = 0
            for name in SERVICES:
                env = environment(pids[f"{name}[1]"])
                assert env["GENTING_JWKS_FILE"].endswith("jwks.json")
                for setting in ("GENTING_JWT_SECRET", "GENTING_SIGNING_KEY"):
                    assert setting not in env, (name, setting)
                for key, value in env.items():
                    assert "PRIVATE KEY" not in value, (name, key)
                    assert signing_key.strip() not in value
                    for token in forgeries(value):
                        tried += 1
                        answer = await http.get("/families", headers={"Authorization": f"Bearer {token}"})
                        assert answer.status_code == 401, (name, key)
                # The JWKS file it reads holds public keys only.
                check_public_jwks("GENTING_JWKS_FILE", env["GENTING_JWKS_FILE"])
            assert tried > 0  # the data keys and passwords at least were tried as HMAC secrets


async def test_the_development_sign_in_gives_a_token_the_services_accept(tmp_path: Path) -> None:
    async with genting_up(tmp_path) as up:
        issuer = up.idp_url
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = {
            "response_type": "code",
            "client_id": "genting-field",
            "redirect_uri": f"{FIELD_APP}/",
            "state": "xyz",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        async with httpx.AsyncClient(timeout=10) as http:
            config = (await http.get(f"{issuer}/.well-known/openid-configuration")).json()
            assert config["issuer"] == issuer
            page = await http.get(config["authorization_endpoint"], params=query)
            assert page.status_code == 200 and "Peran" in page.text
            chosen = await http.post(
                config["authorization_endpoint"], data={**query, "role": "kader", "kelurahan": MEDONO}
            )
            assert chosen.status_code == 302
            code = parse_qs(urlsplit(chosen.headers["location"]).query)["code"][0]
            form = {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": f"{FIELD_APP}/",
                "client_id": "genting-field",
                "code_verifier": verifier,
            }
            tokens = (await http.post(config["token_endpoint"], data=form, headers={"Origin": FIELD_APP})).json()
            bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
            assert (await http.get(f"{up.urls['registry']}/families", headers=bearer)).status_code == 200
            claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
            assert (claims["iss"], claims["role"], claims["kelurahan"]) == (issuer, "kader", MEDONO)
            # The same claims made into an admin's, without the key: refused.
            header, _, signature = tokens["access_token"].split(".")
            forged_claims = base64.urlsafe_b64encode(json.dumps({**claims, "role": "admin"}).encode())
            forged = f"{header}.{forged_claims.rstrip(b'=').decode()}.{signature}"
            answer = await http.get(f"{up.urls['registry']}/families", headers={"Authorization": f"Bearer {forged}"})
            assert answer.status_code == 401
