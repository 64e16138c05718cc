"""The programme one deployment runs: its city and kelurahan, target, calendar and aid rule.

Built once per process from the kernel `Settings` (GENTING_CITY, GENTING_TARGET_FAMILIES,
GENTING_PROGRAMME_START, GENTING_PLAN_DAYS, GENTING_DAILY_MINIMUM_RP, GENTING_DISTRIBUTION_COST_RP);
everything here is pure and cheap to call afterwards. The effective-date rules (CONTRACT.md, "Effective dates and late
entry") live here because every service applies the same three.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Unpack
from zoneinfo import ZoneInfo

from shared import regions
from shared.effective import DependsOn, effective_date_errors
from shared.errors import FieldError, InvalidCommand
from shared.regions import Kelurahan

if TYPE_CHECKING:
    from shared.settings import Settings

__all__ = ["Kecamatan", "Kelurahan", "Programme", "family_minimum_rp", "family_plan_days"]

_NAME_PREFIX = re.compile(r"^(kelurahan|kel\.?|desa)\s+", re.IGNORECASE)


def _name_key(name: str) -> str:
    """Compare names ignoring case, spaces, punctuation and a leading "Kelurahan"/"Kel."/"Desa"."""
    return re.sub(r"[\W_]+", "", _NAME_PREFIX.sub("", name.strip())).casefold()


def family_plan_days(fixed_days: int, enrolled_on: date | None, plan_until: date | None) -> int:
    """The days a family's plan is worth, fixed from what the registry published: `plan_until -
    enrolled_on` when the registry gave the family a `plan_until` (GENTING_PLAN_UNTIL_CHILD_MONTHS,
    the first day it is no longer planned for), else the programme's `fixed_days`
    (GENTING_PLAN_DAYS). From the enrolment, not from the day the money arrives, so funding, aid and
    reporting agree on it without knowing when that is. 0: the family's last planned day has passed
    at its enrolment, and no plan opens for it."""
    if plan_until is None or enrolled_on is None:
        return fixed_days
    return max(0, (plan_until - enrolled_on).days)


def family_minimum_rp(daily_minimum_rp: int, days: int, *, distribution_daily_rp: int) -> int:
    """The least a family's plan of `days` days is worth: the food's daily minimum and the
    distribution cost (GENTING_DISTRIBUTION_COST_RP; 0 = the food alone) for each of its days. The
    one place this is computed: aid opens a plan at it, funding keeps a family's sponsorships for
    it, reporting measures the funding gap with it. The distribution is a required keyword so that
    no caller leaves it out by accident."""
    return (daily_minimum_rp + distribution_daily_rp) * days


@dataclass(frozen=True)
class Kecamatan:
    """A district of the city, by its Kemendagri code (`33.75.01`)."""

    code: str
    name: str


@dataclass(frozen=True)
class Programme:
    """One deployment's programme. A kelurahan of another city is not in it."""

    city_code: str
    city_name: str
    zone: ZoneInfo
    target_families: int
    start: date
    plan_days: int
    daily_minimum_rp: int
    distribution_daily_rp: int  # GENTING_DISTRIBUTION_COST_RP: bringing the food, per family per day
    _kecamatan: tuple[Kecamatan, ...] = dataclasses.field(repr=False)
    _kelurahan: tuple[Kelurahan, ...] = dataclasses.field(repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Programme:
        data = regions.city(settings.city)
        if data is None:  # Settings already refused it; kept for a Settings built without validation
            raise ValueError(f"GENTING_CITY={settings.city!r} is not a kota/kabupaten in Kemendagri data")
        return cls(
            city_code=data.code,
            city_name=data.name,
            zone=settings.zone(),
            target_families=settings.target_families,
            start=settings.programme_start,
            plan_days=settings.plan_days,
            daily_minimum_rp=settings.daily_minimum_rp,
            distribution_daily_rp=settings.distribution_cost_rp,
            _kecamatan=tuple(Kecamatan(code, name) for code, name in data.kecamatan),
            _kelurahan=data.kelurahan,
        )

    @property
    def family_minimum_rp(self) -> int:
        """The least a family's plan is worth: every day of the plan at the daily food minimum
        plus the distribution cost."""
        return family_minimum_rp(
            self.daily_minimum_rp, self.plan_days, distribution_daily_rp=self.distribution_daily_rp
        )

    # -- reference data ------------------------------------------------------------------------

    def kelurahan(self, code: str) -> Kelurahan | None:
        """The city's kelurahan (or desa) with this Kemendagri code (`33.75.01.1002`), or None."""
        return self._by_code.get(code.strip())

    def kelurahan_by_name(self, name: str, kecamatan_code: str | None = None) -> Kelurahan | None:
        """The kelurahan with this name or alias, ignoring case, spaces and punctuation, or None.

        In a kabupaten several desa may share a name: then only a `kecamatan_code` tells them
        apart, and without one the answer is None rather than a guess.
        """
        found = self._by_name.get(_name_key(name), ())
        if kecamatan_code is not None:
            found = tuple(k for k in found if k.kecamatan_code == kecamatan_code.strip())
        return found[0] if len(found) == 1 else None

    def all_kelurahan(self) -> tuple[Kelurahan, ...]:
        """Every kelurahan/desa of the city, sorted by code."""
        return self._kelurahan

    def kecamatan(self) -> tuple[Kecamatan, ...]:
        """Every kecamatan of the city, sorted by code."""
        return self._kecamatan

    @cached_property
    def _by_code(self) -> dict[str, Kelurahan]:
        return {k.code: k for k in self._kelurahan}

    @cached_property
    def _by_name(self) -> dict[str, tuple[Kelurahan, ...]]:
        index: dict[str, tuple[Kelurahan, ...]] = {}
        for k in self._kelurahan:
            for key in {_name_key(spelling) for spelling in (k.name, *k.aliases)}:
                index[key] = (*index.get(key, ()), k)
        return index

    # -- effective dates -----------------------------------------------------------------------

    def check_effective(self, field: str, value: date, today: date, **depends: Unpack[DependsOn]) -> list[FieldError]:
        """What is wrong with an effective date, as at most one error naming `field`.

        It may not be in the future, nor before the programme's start, nor before the record it
        depends on (`not_before`, e.g. the registration a verification follows, named by
        `not_before_field` in the message). Equal dates are fine: things happen on the same day.
        """
        return effective_date_errors(field, value, today, self.start, **depends)

    def require_effective(self, field: str, value: date, today: date, **depends: Unpack[DependsOn]) -> date:
        """`check_effective`, raising `InvalidCommand` (422) instead; returns the date when it is fine."""
        errors = self.check_effective(field, value, today, **depends)
        if errors:
            raise InvalidCommand(errors)
        return value
