"""The registry's settings: the kernel's (database, NATS, secrets, the programme: GENTING_CITY and
its kelurahan, GENTING_PROGRAMME_START, the city's time zone that gives the one "today"), plus the
risk factors' age rules, the clock step that ages children out, and how long a family's plan runs
(GENTING_PLAN_UNTIL_CHILD_MONTHS)."""

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
    # GENTING_PLAN_UNTIL_CHILD_MONTHS: a family's plan runs until its youngest baduta is this many
    # months old (README, "Plan until a child's age"); unset: every plan is GENTING_PLAN_DAYS long.
    # At most 24: a baduta is a target until then.
    plan_until_child_months: int | None = Field(default=None, gt=0, le=24)


def load_settings() -> RegistrySettings:
    return RegistrySettings.from_env(service="registry")
