"""JWT bearer authentication: who is calling, with which role and scope (CONTRACT.md claims)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt

from shared.errors import DomainError, Forbidden

ROLES = ("admin", "lurah", "kader", "donor", "auditor", "agency", "census", "treasurer")
ALGORITHM = "HS256"
# Asymmetric algorithms accepted from the city's identity provider (OIDC JWKS); never "none" or HS* there.
OIDC_ALGORITHMS = ("RS256", "ES256")
ISSUER = "genting"
AUDIENCE = "genting"
MIN_SECRET_BYTES = 32


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


def issue_token(
    secret: str,
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
    """A signed token for dev, tests and `genting token`."""
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
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class TokenVerifier:
    """Checks a bearer token: signature (our HS256 secret, or the city's OIDC JWKS when configured),
    `exp`, `iat`, `iss`, `aud`, and a lifetime no longer than `max_lifetime_seconds`."""

    def __init__(
        self,
        secret: str,
        *,
        issuer: str = ISSUER,
        audience: str = AUDIENCE,
        max_lifetime_seconds: float = 12 * 3600,
        jwks_url: str | None = None,
        oidc_issuer: str | None = None,
    ) -> None:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"GENTING_JWT_SECRET must hold at least {MIN_SECRET_BYTES} bytes")
        self.secret = secret
        self.issuer = issuer
        self.audience = audience
        self.max_lifetime_seconds = max_lifetime_seconds
        self.oidc_issuer = oidc_issuer or issuer
        # PyJWKClient fetches the key set once and caches it (and refetches for an unknown `kid`).
        self.jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600) if jwks_url else None

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") in OIDC_ALGORITHMS and self.jwks is not None:
                key: Any = self.jwks.get_signing_key_from_jwt(token).key
                claims = self._decode(token, key, list(OIDC_ALGORITHMS), self.oidc_issuer)
            else:
                claims = self._decode(token, self.secret, [ALGORITHM], self.issuer)
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired") from None
        except jwt.PyJWKClientError as exc:
            raise Unauthorized(f"the token's signing key is unknown: {exc}") from None
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from None
        lifetime = claims["exp"] - claims["iat"]
        if lifetime > self.max_lifetime_seconds:
            raise Unauthorized(
                f"the token lives {lifetime / 3600:g} h; at most {self.max_lifetime_seconds / 3600:g} h is accepted"
            )
        return _principal(claims)

    def _decode(self, token: str, key: Any, algorithms: list[str], issuer: str) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            issuer=issuer,
            audience=self.audience,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "role"]},
        )
        return claims


def verify_token(secret: str, token: str) -> Principal:
    """Our own HS256 tokens with the default issuer, audience and lifetime cap."""
    return TokenVerifier(secret).verify(token)


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
