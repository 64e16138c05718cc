"""The development OpenID Connect provider `genting up` runs (never `genting serve`).

On the embedded stack it stands in for the city's identity provider: the field app signs in with
the authorization code flow and PKCE (S256) against exactly these endpoints, and the services
verify what it issues with the JWKS it publishes, as they would the city's. It signs with the
development key `genting up` keeps in its data dir (genting/state.py); the services never see it.

    GET  /.well-known/openid-configuration
    GET  /authorize   response_type=code, client_id, redirect_uri, state, code_challenge,
                      code_challenge_method=S256 -> a sign-in page (role, kelurahan, donor id)
    POST /authorize   the page's form -> 302 to redirect_uri?code=..&state=..
    POST /token       grant_type=authorization_code, code, redirect_uri, client_id, code_verifier
                      -> {access_token, id_token, token_type: "Bearer", expires_in}
    GET  /jwks.json

There are no passwords: whoever reaches it picks who to be. That is why it exists only on a
developer's machine, bound to loopback, and redirects only to the allowed origins.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from shared import regions
from shared.auth import ALGORITHM, AUDIENCE, ROLES, issue_token, jwks_document, public_jwk

DEFAULT_PORT = 8009
CODE_TTL_SECONDS = 60.0  # a code is exchanged at once by the app that asked for it
TOKEN_TTL_SECONDS = 8 * 3600  # a field shift; the services accept at most 12 h
ROLE_LABELS = {
    "admin": "Admin kota",
    "lurah": "Lurah",
    "kader": "Kader posyandu",
    "donor": "Donatur",
    "auditor": "Auditor",
    "agency": "Dinas",
    "census": "Petugas sensus",
    "treasurer": "Bendahara",
}


@dataclass(frozen=True)
class Grant:
    """An issued, not yet exchanged authorization code: who signed in, for which client."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    role: str
    kelurahan: str | None
    donor_id: str | None
    expires: float


class OAuthError(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: base64url(SHA-256(verifier)), unpadded."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def create_app(
    signing_key: str,
    *,
    issuer: str,
    city: str = "33.75",
    allowed_origins: Sequence[str] = ("http://127.0.0.1:8000", "http://localhost:8000"),
) -> Starlette:
    issuer = issuer.rstrip("/")
    kid = public_jwk(signing_key)["kid"]
    city_data = regions.city(city)
    kelurahan = [(k.code, f"{k.name} ({k.kecamatan_name})") for k in city_data.kelurahan] if city_data else []
    known_kelurahan = {code for code, _ in kelurahan}
    grants: dict[str, Grant] = {}
    origins = [o.rstrip("/") for o in allowed_origins]

    def check_redirect(uri: str) -> None:
        parts = urlsplit(uri)
        if f"{parts.scheme}://{parts.netloc}" not in origins:
            # Not an open redirect: codes go only to the field app's own origin(s).
            raise OAuthError("invalid_request", f"redirect_uri must be on an allowed origin ({', '.join(origins)})")

    def authorize_params(source: Any) -> dict[str, str]:
        params = {k: str(source.get(k) or "") for k in AUTHORIZE_PARAMS}
        if params["response_type"] != "code":
            raise OAuthError("unsupported_response_type", "response_type must be code")
        for name in ("client_id", "redirect_uri", "state", "code_challenge"):
            if not params[name]:
                raise OAuthError("invalid_request", f"{name} is required")
        if params["code_challenge_method"] != "S256":
            raise OAuthError("invalid_request", "code_challenge_method must be S256")
        check_redirect(params["redirect_uri"])
        return params

    async def configuration(_: Request) -> JSONResponse:
        return JSONResponse(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token",
                "jwks_uri": f"{issuer}/jwks.json",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": [ALGORITHM],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["none"],
                "scopes_supported": ["openid"],
                "claims_supported": ["sub", "role", "kelurahan", "donor_id", "iss", "aud", "iat", "exp"],
            }
        )

    async def jwks(_: Request) -> JSONResponse:
        return JSONResponse(jwks_document(signing_key))

    async def authorize_page(request: Request) -> Response:
        try:
            params = authorize_params(request.query_params)
        except OAuthError as exc:
            return HTMLResponse(_error_page(exc), status_code=400)
        return HTMLResponse(_sign_in_page(params, kelurahan))

    async def authorize_submit(request: Request) -> Response:
        form = await _form(request)
        try:
            params = authorize_params(form)
            role = str(form.get("role") or "")
            chosen_kelurahan = str(form.get("kelurahan") or "") or None
            donor_id = str(form.get("donor_id") or "").strip() or None
            if role not in ROLES:
                raise OAuthError("invalid_request", "pilih peran")
            if role in ("lurah", "kader"):
                if chosen_kelurahan not in known_kelurahan:
                    raise OAuthError("invalid_request", "peran ini perlu kelurahan")
            else:
                chosen_kelurahan = None
            if role == "donor":
                if not donor_id:
                    raise OAuthError("invalid_request", "peran donatur perlu ID donatur")
            else:
                donor_id = None
        except OAuthError as exc:
            return HTMLResponse(_error_page(exc), status_code=400)
        _forget_expired(grants)
        code = secrets.token_urlsafe(32)
        grants[code] = Grant(
            client_id=params["client_id"],
            redirect_uri=params["redirect_uri"],
            code_challenge=params["code_challenge"],
            nonce=params["nonce"] or None,
            role=role,
            kelurahan=chosen_kelurahan,
            donor_id=donor_id,
            expires=time.monotonic() + CODE_TTL_SECONDS,
        )
        separator = "&" if "?" in params["redirect_uri"] else "?"
        target = params["redirect_uri"] + separator + urlencode({"code": code, "state": params["state"]})
        return RedirectResponse(target, status_code=302)

    async def token(request: Request) -> JSONResponse:
        form = await _form(request)
        try:
            if form.get("grant_type") != "authorization_code":
                raise OAuthError("unsupported_grant_type", "grant_type must be authorization_code")
            # Single use: taken out before anything else is checked, so a failed try burns it too.
            grant = grants.pop(str(form.get("code") or ""), None)
            if grant is None or grant.expires < time.monotonic():
                raise OAuthError("invalid_grant", "the code is unknown, used or expired")
            if form.get("client_id") != grant.client_id or form.get("redirect_uri") != grant.redirect_uri:
                raise OAuthError("invalid_grant", "client_id and redirect_uri must be those of the authorization")
            verifier = str(form.get("code_verifier") or "")
            if not secrets.compare_digest(pkce_challenge(verifier), grant.code_challenge):
                raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
        except OAuthError as exc:
            return JSONResponse({"error": exc.error, "error_description": exc.description}, status_code=400)
        sub = f"dev-{grant.role}-{grant.kelurahan or grant.donor_id or 'kota'}"
        access = issue_token(
            signing_key,
            role=grant.role,
            sub=sub,
            kelurahan=grant.kelurahan,
            donor_id=grant.donor_id,
            ttl_seconds=TOKEN_TTL_SECONDS,
            issuer=issuer,
            audience=AUDIENCE,
        )
        now = int(time.time())
        id_claims: dict[str, Any] = {
            "iss": issuer,
            "sub": sub,
            "aud": grant.client_id,
            "iat": now,
            "exp": now + TOKEN_TTL_SECONDS,
            "role": grant.role,
        }
        if grant.nonce:
            id_claims["nonce"] = grant.nonce
        id_token = jwt.encode(id_claims, signing_key, algorithm=ALGORITHM, headers={"kid": kid})
        return JSONResponse(
            {"access_token": access, "id_token": id_token, "token_type": "Bearer", "expires_in": TOKEN_TTL_SECONDS},
            headers={"Cache-Control": "no-store"},
        )

    return Starlette(
        routes=[
            Route("/.well-known/openid-configuration", configuration),
            Route("/jwks.json", jwks),
            Route("/authorize", authorize_page, methods=["GET"]),
            Route("/authorize", authorize_submit, methods=["POST"]),
            Route("/token", token, methods=["POST"]),
        ],
        middleware=[
            # The field app (another origin) calls /token and /jwks.json from the browser.
            Middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"], allow_headers=["*"])
        ],
    )


AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
)


async def _form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (all OAuth sends), at most 64 KiB."""
    body = await request.body()
    if len(body) > 65536:
        return {}
    return dict(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))


def _forget_expired(grants: dict[str, Grant]) -> None:
    now = time.monotonic()
    for code in [c for c, g in grants.items() if g.expires < now]:
        del grants[code]


def _error_page(exc: OAuthError) -> str:
    return (
        '<!doctype html><html lang="id"><meta charset="utf-8"><title>Permintaan tidak sah</title>'
        f"<h1>Permintaan tidak sah</h1><p>{html.escape(exc.error)}: {html.escape(exc.description)}</p></html>"
    )


def _sign_in_page(params: dict[str, str], kelurahan: list[tuple[str, str]]) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items() if v
    )
    roles = "".join(f'<option value="{r}">{html.escape(ROLE_LABELS[r])}</option>' for r in ROLES)
    places = "".join(f'<option value="{html.escape(c)}">{html.escape(n)}</option>' for c, n in kelurahan)
    return f"""<!doctype html>
<html lang="id">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Masuk — Genting (pengembangan)</title>
<style>body{{font-family:sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}}
label{{display:block;margin:1rem 0 .25rem}}select,input,button{{width:100%;padding:.5rem;font-size:1rem}}
button{{margin-top:1.5rem}}.note{{color:#a40;font-size:.9rem}}</style></head>
<body>
<h1>Masuk ke Genting</h1>
<p class="note">Penyedia identitas pengembangan: tanpa kata sandi, hanya untuk komputer pengembang.</p>
<form method="post" action="authorize">
{hidden}
<label for="role">Peran</label>
<select id="role" name="role" required>{roles}</select>
<label for="kelurahan">Kelurahan (untuk lurah dan kader)</label>
<select id="kelurahan" name="kelurahan"><option value="">—</option>{places}</select>
<label for="donor_id">ID donatur (untuk donatur)</label>
<input id="donor_id" name="donor_id" autocomplete="off">
<button type="submit">Masuk</button>
</form>
</body>
</html>"""
