"""Settings read from the environment (prefix GENTING_), one frozen model per process."""

from __future__ import annotations

import base64
import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """What every service needs; a service extends it with its own fields."""

    model_config = ConfigDict(frozen=True)

    service: str = "registry"
    database_url: str = "postgresql://postgres@127.0.0.1:15432/genting_registry"
    nats_url: str = "nats://127.0.0.1:14222"
    jwt_secret: str = Field(default="", repr=False)
    # 32 random bytes (urlsafe base64): root of the service's data keys (key wrapping, lookup hashes).
    data_key: str = Field(default="", repr=False)
    log_level: str = "info"
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

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Fields from GENTING_<FIELD> variables; explicit overrides win."""
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = os.environ.get(f"GENTING_{name.upper()}")
            if raw is not None:
                values[name] = raw
        values.update(overrides)
        settings = cls.model_validate(values)
        if not settings.jwt_secret:
            raise ValueError("GENTING_JWT_SECRET is not set (genting up creates one)")
        return settings

    def data_key_bytes(self) -> bytes:
        if not self.data_key:
            raise ValueError("GENTING_DATA_KEY is not set (genting up creates one)")
        key = base64.urlsafe_b64decode(self.data_key + "=" * (-len(self.data_key) % 4))
        if len(key) < 32:
            raise ValueError("GENTING_DATA_KEY must hold at least 32 bytes")
        return key
