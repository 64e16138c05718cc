"""Settings read from the environment (prefix GENTING_), one frozen model per process.

Each service extends `Settings` with its own fields in `services/<svc>/settings.py`; the values
come from GENTING_<FIELD> variables (pydantic-settings), explicit arguments win. Secrets are
`SecretStr`, so they never show in a repr or a log line.
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared import regions
from shared.auth import KeySet, TokenVerifier, check_jwks_url
from shared.clock import CityClock
from shared.crypto import Keyring
from shared.programme import family_minimum_rp

# Kota Salatiga: the deployment's city when GENTING_CITY is unset.
DEFAULT_CITY = "33.75"


def decode_key(setting: str, raw: str) -> bytes:
    """A root key: urlsafe base64 of at least 32 bytes."""
    key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    if len(key) < 32:
        raise ValueError(f"{setting} must hold at least 32 bytes")
    return key


class Settings(BaseSettings):
    """What every service needs."""

    model_config = SettingsConfigDict(env_prefix="GENTING_", frozen=True, extra="ignore")

    service: str = "registry"
    database_url: str = "postgresql://postgres@127.0.0.1:15432/genting_registry"
    nats_url: str = "nats://127.0.0.1:14222"
    # Only with GENTING_JWT_ALGORITHM=HS256, a development option `genting serve` refuses.
    jwt_secret: SecretStr = SecretStr("")
    # 32 random bytes (urlsafe base64): root of the service's data keys (key wrapping, lookup hashes).
    data_key: SecretStr = SecretStr("")
    # Older roots, comma-separated, while a rotation is under way (deploy/README.md, "Rotating a data
    # key"): what was made under them still opens; nothing new is made under them.
    data_keys_previous: SecretStr = SecretStr("")
    # The registry's KK/NIK/import lookup hashes' own key (urlsafe base64, 32 bytes), so that rotating
    # the root does not change them; unset, it is derived from GENTING_DATA_KEY (services/registry/lookup_hashes.py).
    lookup_key: SecretStr = SecretStr("")
    # Tokens (CONTRACT.md, HTTP): ES256/RS256, verified with the public keys of a JWKS fetched from
    # GENTING_JWKS_URL (the city's identity provider; https, or http to loopback only) and/or read
    # from GENTING_JWKS_FILE (the embedded stack's development key, the tests' key). A service
    # holds no private key. Issuer `jwt_issuer` or `oidc_issuer`, audience `jwt_audience`.
    # GENTING_JWT_ALGORITHM=HS256 accepts HS256 tokens signed with GENTING_JWT_SECRET instead:
    # development only (every holder of the secret can mint any token); `genting serve` refuses it.
    jwt_algorithm: Literal["ES256", "HS256"] = "ES256"
    jwt_issuer: str = "genting"
    jwt_audience: str = "genting"
    jwt_max_lifetime_hours: float = Field(default=12.0, gt=0)
    jwks_url: str | None = Field(
        default=None,
        # GENTING_OIDC_JWKS_URL is the name this setting had first; it still works.
        validation_alias=AliasChoices("jwks_url", "oidc_jwks_url", "GENTING_JWKS_URL", "GENTING_OIDC_JWKS_URL"),
    )
    jwks_file: str | None = None
    jwks_timeout_seconds: float = Field(default=5.0, gt=0)
    oidc_issuer: str | None = None
    # How long a POST's Idempotency-Key keeps its first response (then the record is deleted).
    idempotency_ttl_days: float = Field(default=7.0, gt=0)
    log_level: str = "info"
    # How often a service's clock step runs (GENTING_CLOCK_INTERVAL_SECONDS): aid's plan windows and
    # grievance escalations, funding's release of money held for no plan, the registry's ageing out.
    clock_interval_seconds: float = Field(default=60.0, gt=0)
    # When set, /metrics is served on this port only (`genting serve` listens on it too), so the
    # API port an Ingress publishes does not expose it; the ServiceMonitor scrapes this one.
    metrics_port: int | None = Field(default=None, gt=0, lt=65536)
    # The programme (CONTRACT.md, "The programme's settings"); shared.programme builds on these.
    # The city by Kemendagri code: its kelurahan come from the reference data (shared/regions.py).
    city: str = DEFAULT_CITY
    target_families: int = Field(default=1330, gt=0)
    programme_start: date = date(2025, 1, 1)  # the earliest effective date accepted
    plan_days: int = Field(default=180, gt=0)
    # Late entry is on time, within a bound (CONTRACT.md, "Effective dates and late entry"):
    # records are entered at most this many days late (GENTING_MAX_ENTRY_DELAY_DAYS), so what
    # waits for the records (a plan's end) is decided by the clock alone after it; and an
    # operator may declare every record up to a day entered (GENTING_ENTERED_THROUGH).
    max_entry_delay_days: int = Field(default=30, ge=0)
    entered_through: date | None = None
    # Whether the city enters its records in date order (GENTING_ENTERED_IN_DATE_ORDER: a past
    # programme entered book by book, the demo): only then does the latest effective date entered
    # say that everything before it is in. Off (the default), records come in any order within
    # the bound, so only the bound and the operator's date say it.
    entered_in_date_order: bool = False
    # A sponsorship whose family still has no plan this many days after the sponsorship's date goes
    # back to its donor (GENTING_SPONSORSHIP_HOLD_DAYS; funding's README, "Money held for a plan").
    sponsorship_hold_days: int = Field(default=60, ge=0)
    daily_minimum_rp: int = Field(default=15_000, gt=0)
    # What bringing the food costs, rupiah per family per plan day (GENTING_DISTRIBUTION_COST_RP;
    # DOMAIN.md: Maluku's Rp20,000 food + Rp5,000 distribution). A plan's budget pays both, so the
    # minimum to open one rises with it; 0 (the default): the food alone, as in Pekalongan.
    distribution_cost_rp: int = Field(default=0, ge=0)
    # The city's time zone: the programme's calendar day ("today") in every service. Unset, it
    # follows the city's province (WIB, WITA or WIT); GENTING_TIME_ZONE overrides it.
    time_zone: str = regions.WIB
    db_pool_min: int = 2
    db_pool_max: int = 10
    # Off only to hold committed events in the outbox on purpose (crash tests, maintenance);
    # the stream is still declared, and the next start with the relay on publishes them.
    relay_enabled: bool = True
    relay_batch: int = 500
    relay_poll_seconds: float = 1.0
    projection_batch: int = 200
    projection_max_deliver: int = 8
    stream_replicas: int = 1

    @model_validator(mode="before")
    @classmethod
    def _zone_from_city(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("time_zone"):
            zone = regions.time_zone(str(data.get("city", cls.model_fields["city"].default)))
            if zone is not None:  # else the city is refused below, with its own message
                data = {**data, "time_zone": zone}
        return data

    @field_validator("city", mode="before")
    @classmethod
    def _known_city(cls, value: Any) -> str:
        code = regions.normalize_city_code(str(value))
        if regions.city_name(code) is None:
            raise ValueError(
                f"GENTING_CITY={value!r} is not a kota/kabupaten in the Kemendagri reference data "
                "(a code like 33.75, Kota Pekalongan)"
            )
        return code

    @field_validator("jwks_url")
    @classmethod
    def _jwks_over_https(cls, value: str | None) -> str | None:
        return check_jwks_url(value) if value else value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"GENTING_TIME_ZONE={value!r} is not an IANA time zone (e.g. Asia/Jakarta)") from None
        return value

    @classmethod
    def from_env(cls, **overrides: Any) -> Self:
        """GENTING_<FIELD> variables; explicit overrides win. A service cannot run without the keys
        it verifies tokens with."""
        settings = cls(**overrides)
        if settings.jwt_algorithm == "HS256":
            if not settings.jwt_secret.get_secret_value():
                raise ValueError("GENTING_JWT_ALGORITHM=HS256 needs GENTING_JWT_SECRET")
        elif not (settings.jwks_url or settings.jwks_file):
            raise ValueError("GENTING_JWKS_URL or GENTING_JWKS_FILE is not set (genting up publishes one)")
        return settings

    def data_key_bytes(self) -> bytes:
        raw = self.data_key.get_secret_value()
        if not raw:
            raise ValueError("GENTING_DATA_KEY is not set (genting up creates one)")
        return decode_key("GENTING_DATA_KEY", raw)

    def previous_data_keys(self) -> list[bytes]:
        raw = self.data_keys_previous.get_secret_value()
        return [decode_key("GENTING_DATA_KEYS_PREVIOUS", k.strip()) for k in raw.split(",") if k.strip()]

    def data_keyring(self) -> Keyring:
        """The current root (GENTING_DATA_KEY) and the ones being rotated out."""
        return Keyring(self.data_key_bytes(), self.previous_data_keys())

    def plan_minimum_rp(self) -> int:
        """The least a family's plan is worth: food and distribution for every day of the plan."""
        return family_minimum_rp(self.daily_minimum_rp, self.plan_days, distribution_daily_rp=self.distribution_cost_rp)

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def clock(self) -> CityClock:
        return CityClock(self.zone())

    def token_verifier(self) -> TokenVerifier:
        hs256 = self.jwt_algorithm == "HS256"
        keys = None
        if self.jwks_url or self.jwks_file:
            keys = KeySet(url=self.jwks_url, file=self.jwks_file, timeout=self.jwks_timeout_seconds)
        return TokenVerifier(
            keys,
            hs256_secret=self.jwt_secret.get_secret_value() if hs256 else None,
            issuers=(self.jwt_issuer, self.oidc_issuer or ""),
            audience=self.jwt_audience,
            max_lifetime_seconds=self.jwt_max_lifetime_hours * 3600,
        )
