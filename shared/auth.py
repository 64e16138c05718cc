"""JWT bearer authentication: who is calling, with which role and scope (CONTRACT.md claims).

Services hold public keys only. They verify ES256 (or RS256) tokens against a JWKS: the city's
identity provider's in production (GENTING_JWKS_URL), the development key `genting up` keeps in its
data dir on the embedded stack (GENTING_JWKS_FILE). Whoever holds the private key mints tokens:
`genting token`, the development OIDC provider (genting/devidp.py) and the tests, never a service.
HS256 with a shared secret stays only as an explicit development option (GENTING_JWT_ALGORITHM=HS256),
which `genting serve` refuses: with it, every service could mint any token.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.errors import DomainError, Forbidden

ROLES = ("admin", "lurah", "kader", "donor", "auditor", "agency", "census", "treasurer")
# What our own signing key (genting up, genting token, the tests) signs with.
ALGORITHM = "ES256"
# Asymmetric algorithms accepted from a JWKS; never "none", and HS* only by the explicit option.
JWKS_ALGORITHMS = ("ES256", "RS256")
HS256 = "HS256"
ISSUER = "genting"
AUDIENCE = "genting"
MIN_SECRET_BYTES = 32
# A refetch for a `kid` the cached key set lacks happens at most this often: a flood of tokens
# naming made-up kids must not become a flood of requests to the identity provider.
REFRESH_INTERVAL_SECONDS = 60.0

log = structlog.get_logger("auth")


class Unauthorized(DomainError):
    """No bearer token, or one that is expired, malformed or badly signed."""

    status = 401
    title = "Unauthorized"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    sub: str
    role: str
    kelurahan: str | None = None
    donor_id: str | None = None

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise Forbidden(f"role {self.role!r} may not do this (needs one of {', '.join(roles)})")

    def acts_in(self, kelurahan_code: str) -> bool:
        """Admins act everywhere; lurah and kader only in their own kelurahan."""
        if self.role == "admin":
            return True
        return self.role in ("lurah", "kader") and self.kelurahan == kelurahan_code


def require_acts_in(actor: Principal, kelurahan_code: str, *roles: str) -> None:
    """The actor has one of `roles` (any role when none is named) and acts in this kelurahan (an
    admin anywhere); else 403. The one kelurahan check every service's handlers use."""
    if roles:
        actor.require(*roles)
    if not actor.acts_in(kelurahan_code):
        raise Forbidden(f"a {actor.role} acts only in kelurahan {actor.kelurahan}")


# --- signing keys (held by genting up / genting token / the dev IdP / tests, never a service) ---


def is_private_key(key: str) -> bool:
    """A PEM private key (signs ES256), as opposed to an HS256 development secret."""
    return key.lstrip().startswith("-----BEGIN") and "PRIVATE KEY-----" in key


def new_signing_key() -> str:
    """A fresh P-256 private key, PEM (PKCS#8)."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem.decode()


def public_jwk(private_pem: str) -> dict[str, str]:
    """The public half of a signing key as a JWK, with its RFC 7638 thumbprint as `kid`."""
    private = serialization.load_pem_private_key(private_pem.encode(), password=None)
    if not isinstance(private, ec.EllipticCurvePrivateKey) or private.curve.name != "secp256r1":
        raise ValueError("the signing key must be an EC P-256 private key (ES256)")
    jwk: dict[str, str] = jwt.algorithms.ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    members = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest()
    kid = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return {**members, "kid": kid, "alg": ALGORITHM, "use": "sig"}


def jwks_document(*private_pems: str) -> dict[str, list[dict[str, str]]]:
    """The JWKS publishing these keys' public halves (what services are given)."""
    return {"keys": [public_jwk(pem) for pem in private_pems]}


def issue_token(
    key: str,
    *,
    role: str,
    sub: str,
    kelurahan: str | None = None,
    donor_id: str | None = None,
    ttl_seconds: int = 43200,
    now: float | None = None,
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
) -> str:
    """A signed token for dev, tests and `genting token`. The algorithm follows the key: a PEM
    EC private key signs ES256 (with its `kid`); anything else is an HS256 development secret."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role in ("lurah", "kader") and not kelurahan:
        raise ValueError(f"a {role} token needs a kelurahan code")
    if role == "donor" and not donor_id:
        raise ValueError("a donor token needs a donor id")
    issued = int(now if now is not None else time.time())
    claims: dict[str, object] = {
        "sub": sub,
        "role": role,
        "iat": issued,
        "exp": issued + ttl_seconds,
        "iss": issuer,
        "aud": audience,
    }
    if kelurahan:
        claims["kelurahan"] = kelurahan
    if donor_id:
        claims["donor_id"] = donor_id
    if is_private_key(key):
        return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": public_jwk(key)["kid"]})
    return jwt.encode(claims, key, algorithm=HS256)


# --- verification (what a service holds: public keys) ---


def check_jwks_url(url: str) -> str:
    """https, or plain http to this machine only (the embedded stack's dev provider)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host:
        return url
    if parts.scheme == "http" and _loopback(host):
        return url
    raise ValueError(f"GENTING_JWKS_URL must use https (plain http only for 127.0.0.1 or localhost): {url!r}")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class KeySet:
    """The public keys tokens may be signed with, by `kid`: from a JWKS file, a JWKS URL, or both.

    Loaded on first use and kept for `lifespan` seconds; a token naming a `kid` the set lacks
    triggers a reload at most once per `refresh_interval`. The URL is fetched asynchronously with a
    timeout; a failed fetch keeps the keys already held and is logged (never put in an answer)."""

    def __init__(
        self,
        *,
        url: str | None = None,
        file: str | Path | None = None,
        timeout: float = 5.0,
        lifespan: float = 3600.0,
        refresh_interval: float = REFRESH_INTERVAL_SECONDS,
    ) -> None:
        if not url and not file:
            raise ValueError("a key set needs GENTING_JWKS_URL or GENTING_JWKS_FILE")
        self.url = check_jwks_url(url) if url else None
        self.file = Path(file) if file else None
        self.timeout = timeout
        self.lifespan = lifespan
        self.refresh_interval = refresh_interval
        self._keys: dict[str, jwt.PyJWK] = {}
        self._loaded_at: float | None = None
        self._lock = asyncio.Lock()
        self.loads = 0  # how many reloads ran (tests check the refresh limit with it)

    async def key_for(self, kid: str | None, algorithm: str) -> Any:
        """The verification key a token with this header must be checked with; Unauthorized if none."""
        now = time.monotonic()
        if self._loaded_at is None or now - self._loaded_at > self.lifespan:
            await self._reload(self._loaded_at)
        elif kid not in self._keys and now - self._loaded_at >= self.refresh_interval:
            await self._reload(self._loaded_at)
        elif kid not in self._keys and self._lock.locked():
            # The first load is under way (concurrent first requests): wait for it rather than
            # answer 401 from the still-empty set.
            async with self._lock:
                pass
        key = self._keys.get(kid) if kid is not None else self._only_key()
        if key is None:
            raise Unauthorized("the token's signing key is unknown")
        if key.algorithm_name != algorithm:
            raise Unauthorized("the token's algorithm does not match its signing key")
        return key.key

    def _only_key(self) -> jwt.PyJWK | None:
        keys = list(self._keys.values())
        return keys[0] if len(keys) == 1 else None

    async def _reload(self, seen: float | None) -> None:
        async with self._lock:
            if self._loaded_at != seen:
                return  # another request reloaded while this one waited
            self._loaded_at = time.monotonic()
            self.loads += 1
            keys: dict[str, jwt.PyJWK] = {}
            for name, document in (("file", self._read_file), ("url", self._fetch_url)):
                try:
                    found = await document()
                except Exception as exc:  # logged for the operator; the caller only learns "unknown key"
                    log.warning("jwks_unavailable", source=name, error_type=type(exc).__name__)
                    if self._keys:
                        return  # keep what was held rather than lock everyone out
                    continue
                keys.update(_parse_jwks(found))
            if keys:
                self._keys = keys

    async def _read_file(self) -> dict[str, Any]:
        if self.file is None:
            return {"keys": []}
        document: dict[str, Any] = json.loads(await asyncio.to_thread(self.file.read_text))
        return document

    async def _fetch_url(self) -> dict[str, Any]:
        if self.url is None:
            return {"keys": []}
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
            response = await client.get(self.url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document: dict[str, Any] = response.json()
            return document


def _parse_jwks(document: dict[str, Any]) -> dict[str, jwt.PyJWK]:
    """Signing keys of the accepted algorithms, by kid (a key of another kind is skipped)."""
    keys: dict[str, jwt.PyJWK] = {}
    for data in document.get("keys", []):
        if data.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(data)
        except jwt.PyJWTError:
            continue
        if key.algorithm_name in JWKS_ALGORITHMS:
            keys[str(data.get("kid", ""))] = key
    return keys


class TokenVerifier:
    """Checks a bearer token: signature (a key from the JWKS, or the HS256 development secret when
    that option is on), `exp`, `iat`, `iss` (one of `issuers`), `aud`, and a lifetime no longer than
    `max_lifetime_seconds`."""

    def __init__(
        self,
        keys: KeySet | None = None,
        *,
        hs256_secret: str | None = None,
        issuers: tuple[str, ...] = (ISSUER,),
        audience: str = AUDIENCE,
        max_lifetime_seconds: float = 12 * 3600,
    ) -> None:
        if keys is None and not hs256_secret:
            raise ValueError("a token verifier needs a JWKS (GENTING_JWKS_URL or GENTING_JWKS_FILE)")
        if hs256_secret is not None and len(hs256_secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"GENTING_JWT_SECRET must hold at least {MIN_SECRET_BYTES} bytes")
        self.keys = keys
        self.hs256_secret = hs256_secret
        self.issuers = tuple(dict.fromkeys(i for i in issuers if i))
        self.audience = audience
        self.max_lifetime_seconds = max_lifetime_seconds

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            algorithm = header.get("alg")
            key: Any
            if algorithm in JWKS_ALGORITHMS and self.keys is not None:
                key = await self.keys.key_for(header.get("kid"), algorithm)
            elif algorithm == HS256 and self.hs256_secret:
                key = self.hs256_secret
            else:
                raise Unauthorized(f"tokens signed with {algorithm!r} are not accepted")
            claims = self._decode(token, key, algorithm)
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired") from None
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from None
        lifetime = claims["exp"] - claims["iat"]
        if lifetime > self.max_lifetime_seconds:
            raise Unauthorized(
                f"the token lives {lifetime / 3600:g} h; at most {self.max_lifetime_seconds / 3600:g} h is accepted"
            )
        return _principal(claims)

    def _decode(self, token: str, key: Any, algorithm: str) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=self.audience,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "role"]},
        )
        if claims["iss"] not in self.issuers:
            raise jwt.InvalidIssuerError("Invalid issuer")
        return claims


def _principal(claims: dict[str, Any]) -> Principal:
    role = claims.get("role")
    if role not in ROLES:
        raise Unauthorized(f"unknown role {role!r}")
    kelurahan = claims.get("kelurahan")
    if role in ("lurah", "kader") and not kelurahan:
        raise Unauthorized(f"a {role} token must carry a kelurahan claim")
    donor_id = claims.get("donor_id")
    if role == "donor" and not donor_id:
        raise Unauthorized("a donor token must carry a donor_id claim")
    return Principal(sub=str(claims["sub"]), role=role, kelurahan=kelurahan, donor_id=donor_id)
