"""The registry's reference data: risk factors, roles and rule limits. The kelurahan are the
deployment's (`shared.programme.Programme`, from GENTING_CITY and the Kemendagri reference data),
never a table here."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from typing import get_args

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.registry import ExitReason, Role, Sex
from shared.programme import Programme
from shared.regions import Kelurahan

__all__ = ["KECAMATAN", "KELURAHAN", "Kelurahan", "default_programme"]


@cache
def default_programme() -> Programme:
    """The programme of a deployment with the kernel's default settings (Kota Pekalongan): what the
    pure domain uses when no programme is given (tests, tools). Services pass their own."""
    from shared.settings import Settings

    return Programme.from_settings(Settings.model_construct())


# The default deployment's kelurahan, for the tools that generate data for it (demo, simulation,
# benchmark). The services never read this: they use their settings' Programme.
KELURAHAN: tuple[Kelurahan, ...] = default_programme().all_kelurahan()
KECAMATAN = default_programme().kecamatan()


# BKKBN family-census risk factors (DOMAIN.md), code -> meaning.
RISK_FACTORS: MappingProxyType[str, str] = MappingProxyType(
    {
        "unsafe_drinking_water": ("main drinking water not bottled/refill, piped, drilled or a protected well"),
        "no_proper_latrine": "latrine without a septic tank, or none",
        "mother_too_young": "wife under 20 (terlalu muda)",
        "mother_too_old": "wife 35 or older (terlalu tua)",
        "births_too_close": "children less than 2 years apart (terlalu dekat)",
        "too_many_children": "more than 3 children (terlalu banyak)",
        "uninhabitable_house": "rumah tidak layak huni",
        "poor": "low welfare level (poor KRS get priority)",
    }
)

ROLES: tuple[Role, ...] = get_args(Role)
# The programme's beneficiaries: a family needs at least one of these to be registered.
TARGET_ROLES: frozenset[Role] = frozenset({"pregnant_mother", "breastfeeding_mother", "baduta"})
MOTHER_ROLES: frozenset[Role] = frozenset({"pregnant_mother", "breastfeeding_mother"})
SEXES: tuple[Sex, ...] = get_args(Sex)
EXIT_REASONS: tuple[ExitReason, ...] = get_args(ExitReason)


class RiskRules(BaseModel):
    """The age rules of the BKKBN "4 terlalu" risk factors (DOMAIN.md). Sources differ on the
    limits, so they are configuration: GENTING_RISK_RULES, a JSON object of these fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mother_too_young_under_years: int = Field(default=20, ge=10, le=30)  # mother_too_young: wife under 20
    mother_too_old_from_years: int = Field(default=35, ge=25, le=50)  # mother_too_old: wife 35 or older
    births_too_close_under_months: int = Field(default=24, ge=1, le=60)  # births_too_close: < 2 years apart
    too_many_children_over: int = Field(default=3, ge=1, le=20)  # too_many_children: more than 3
    child_under_years: int = Field(default=18, ge=1, le=21)  # who counts as a child of the family


@dataclass(frozen=True)
class Rules:
    """Configurable limits. Sources disagree on age limits (DOMAIN.md), so they are data here."""

    baduta_max_months: int = 24  # a baduta is 0-23 completed months old
    mother_min_age_years: int = 15
    mother_max_age_years: int = 49
    max_months_to_delivery: int = 10  # an expected delivery date further out is a typo
    max_name_length: int = 100
    max_address_length: int = 300
    max_note_length: int = 2000
    max_members: int = 30
    risk: RiskRules = field(default_factory=lambda: RiskRules())
    # A pregnant mother stays eligible this long after her expected delivery date (a birth up to
    # 42 weeks is normal); after that the birth must be recorded before the family is enrolled.
    overdue_grace_days: int = 14
    # GENTING_PLAN_UNTIL_CHILD_MONTHS: a family's plan runs until its youngest baduta is this many
    # months old (README, "Plan until a child's age"); None: the programme's fixed GENTING_PLAN_DAYS.
    plan_until_child_months: int | None = None


DEFAULT_RULES = Rules()
