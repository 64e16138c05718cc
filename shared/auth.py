"""JWT bearer authentication: who is calling, with which role and scope (CONTRACT.md claims)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from shared.errors import DomainError, Forbidden

ROLES = ("admin", "lurah", "kader", "donor", "auditor", "agency")
ALGORITHM = "HS256"


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
) -> str:
    """A signed token for dev, tests and `genting token`."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role in ("lurah", "kader") and not kelurahan:
        raise ValueError(f"a {role} token needs a kelurahan code")
    if role == "donor" and not donor_id:
        raise ValueError("a donor token needs a donor id")
    issued = int(now if now is not None else time.time())
    claims: dict[str, object] = {"sub": sub, "role": role, "iat": issued, "exp": issued + ttl_seconds}
    if kelurahan:
        claims["kelurahan"] = kelurahan
    if donor_id:
        claims["donor_id"] = donor_id
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "role"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the token has expired") from None
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"invalid token: {exc}") from None
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
