"""Structural checks of Indonesian identity numbers: the NIK (a person) and the No. KK (a family card)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.contracts.registry import Sex

# Kemendagri province codes, Aceh (11) to Papua Barat Daya (96).
PROVINCE_CODES: frozenset[str] = frozenset(
    f"{n:02d}"
    for n in (
        *range(11, 20),
        21,
        *range(31, 37),
        *range(51, 54),
        *range(61, 66),
        *range(71, 77),
        81,
        82,
        *range(91, 97),
    )
)

# Women's NIKs carry the birth day plus 40 (41-71).
_WOMAN_DAY_OFFSET = 40


class IdentityNumberInvalid(ValueError):
    """An identity number failed its structural checks; `problems` says which."""

    def __init__(self, kind: str, problems: list[str]) -> None:
        super().__init__(f"invalid {kind}: " + "; ".join(problems))
        self.kind = kind
        self.problems = problems


@dataclass(frozen=True)
class Nik:
    """A parsed NIK: the region of first registration, birth date, sex and serial."""

    province: str
    regency: str
    district: str
    birth_date: date
    sex: Sex
    serial: str


@dataclass(frozen=True)
class KkNumber:
    """A parsed family card number: its region, recording date and serial."""

    province: str
    regency: str
    district: str
    recorded_on: date
    serial: str


def _is_16_digits(value: object) -> bool:
    return isinstance(value, str) and len(value) == 16 and value.isascii() and value.isdigit()


def _region_problems(number: str) -> list[str]:
    problems = []
    if number[0:2] not in PROVINCE_CODES:
        problems.append(f"province code {number[0:2]} does not exist")
    if number[2:4] == "00":
        problems.append("regency code must not be 00")
    if number[4:6] == "00":
        problems.append("district code must not be 00")
    return problems


def _real_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _birth_date(number: str, today: date) -> date | None:
    """The NIK's birth date in the century that does not put it after `today`, if real."""
    day, month, yy = int(number[6:8]), int(number[8:10]), int(number[10:12])
    if day > _WOMAN_DAY_OFFSET:
        day -= _WOMAN_DAY_OFFSET
    for year in (2000 + yy, 1900 + yy):
        born = _real_date(year, month, day)
        if born is not None and born <= today:
            return born
    return None


def _recorded_on(number: str, today: date) -> date | None:
    """The KK's recording date: 20YY unless that year is still to come, then 19YY."""
    day, month, yy = int(number[6:8]), int(number[8:10]), int(number[10:12])
    year = 2000 + yy if 2000 + yy <= today.year else 1900 + yy
    return _real_date(year, month, day)


def validate_nik(nik: str, today: date) -> list[str]:
    """Problems with a NIK (`PP KK CC DDMMYY SSSS`); an empty list means it is well-formed."""
    if not _is_16_digits(nik):
        return ["must be exactly 16 digits"]
    problems = _region_problems(nik)
    if _birth_date(nik, today) is None:
        problems.append("birth date part is not a real date (women's day has 40 added)")
    if nik[12:16] == "0000":
        problems.append("serial number must not be 0000")
    return problems


def validate_kk(kk_number: str, today: date) -> list[str]:
    """Problems with a family card number; an empty list means it is well-formed."""
    if not _is_16_digits(kk_number):
        return ["must be exactly 16 digits"]
    problems = _region_problems(kk_number)
    recorded_on = _recorded_on(kk_number, today)
    if recorded_on is None:
        problems.append("recording date part is not a real date")
    elif recorded_on > today:
        problems.append("recording date part is in the future")
    if kk_number[12:16] == "0000":
        problems.append("serial number must not be 0000")
    return problems


def parse_nik(nik: str, today: date) -> Nik:
    """The parts of a valid NIK; raises `IdentityNumberInvalid` otherwise."""
    problems = validate_nik(nik, today)
    born = None if problems else _birth_date(nik, today)
    if born is None:
        raise IdentityNumberInvalid("NIK", problems)
    return Nik(nik[0:2], nik[2:4], nik[4:6], born, nik_sex(nik), nik[12:16])


def parse_kk(kk_number: str, today: date) -> KkNumber:
    """The parts of a valid family card number; raises `IdentityNumberInvalid` otherwise."""
    problems = validate_kk(kk_number, today)
    recorded_on = None if problems else _recorded_on(kk_number, today)
    if recorded_on is None:
        raise IdentityNumberInvalid("KK number", problems)
    return KkNumber(kk_number[0:2], kk_number[2:4], kk_number[4:6], recorded_on, kk_number[12:16])


def nik_birth_date(nik: str, today: date) -> date:
    """The birth date a NIK encodes, in the century that does not put it after `today`."""
    return parse_nik(nik, today).birth_date


def nik_sex(nik: str) -> Sex:
    """The sex a NIK encodes: "F" when its day has 40 added, else "M"."""
    if not _is_16_digits(nik):
        raise IdentityNumberInvalid("NIK", ["must be exactly 16 digits"])
    return "F" if int(nik[6:8]) > _WOMAN_DAY_OFFSET else "M"
