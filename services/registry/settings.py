"""The registry's settings: the kernel's (database, NATS, secrets, the programme: GENTING_CITY and
its kelurahan, GENTING_PROGRAMME_START, the city's time zone that gives the one "today"), plus the
risk factors' age rules and the clock step that ages children out."""

from __future__ import annotations

from pydantic import Field

from services.registry.reference import RiskRules
from shared.settings import Settings


class RegistrySettings(Settings):
    service: str = "registry"
    database_url: str = "postgresql://postgres@127.0.0.1:15432/genting_registry"
    # GENTING_RISK_RULES: a JSON object, e.g. {"mother_too_young_under_years": 21}; DOMAIN.md's
    # limits by default (sources differ on them).
    risk_rules: RiskRules = Field(default_factory=lambda: RiskRules())


def load_settings() -> RegistrySettings:
    return RegistrySettings.from_env(service="registry")
