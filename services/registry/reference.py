"""The registry's reference data: Kota Pekalongan's kelurahan, risk factors, roles and rule limits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import get_args

from shared.contracts.registry import ExitReason, Role, Sex


@dataclass(frozen=True)
class Kecamatan:
    """A district (kecamatan) of the city, by its Kemendagri code."""

    code: str
    name: str


@dataclass(frozen=True)
class Kelurahan:
    """An urban village (kelurahan), by its Kemendagri code, with other spellings seen in the wild."""

    code: str
    name: str
    kecamatan_code: str
    aliases: tuple[str, ...] = ()

    @property
    def kecamatan(self) -> Kecamatan:
        return _KECAMATAN_BY_CODE[self.kecamatan_code]


KECAMATAN: tuple[Kecamatan, ...] = (
    Kecamatan("33.75.01", "Pekalongan Barat"),
    Kecamatan("33.75.02", "Pekalongan Timur"),
    Kecamatan("33.75.03", "Pekalongan Utara"),
    Kecamatan("33.75.04", "Pekalongan Selatan"),
)

# Kemendagri codes copied from DOMAIN.md. The numbers have gaps (kelurahan were merged in
# 2014), so they are data, never generated.
KELURAHAN: tuple[Kelurahan, ...] = (
    Kelurahan("33.75.01.1002", "Medono", "33.75.01"),
    Kelurahan("33.75.01.1003", "Podosugih", "33.75.01"),
    Kelurahan("33.75.01.1004", "Sapuro Kebulen", "33.75.01", ("Sapurokebulen",)),
    Kelurahan("33.75.01.1006", "Bendan Kergon", "33.75.01", ("Bendankergon",)),
    Kelurahan("33.75.01.1008", "Pasirkratonkramat", "33.75.01", ("Pasir Kraton Kramat",)),
    Kelurahan("33.75.01.1009", "Tirto", "33.75.01"),
    Kelurahan("33.75.01.1012", "Pringrejo", "33.75.01"),
    Kelurahan("33.75.02.1002", "Noyontaansari", "33.75.02", ("Noyontaan Sari",)),
    Kelurahan("33.75.02.1004", "Kauman", "33.75.02"),
    Kelurahan("33.75.02.1007", "Poncol", "33.75.02"),
    Kelurahan("33.75.02.1008", "Klego", "33.75.02"),
    Kelurahan("33.75.02.1009", "Gamer", "33.75.02"),
    Kelurahan("33.75.02.1010", "Setono", "33.75.02"),
    Kelurahan("33.75.02.1012", "Kali Baros", "33.75.02", ("Kalibaros",)),
    Kelurahan("33.75.03.1002", "Krapyak", "33.75.03"),
    Kelurahan("33.75.03.1003", "Kandang Panjang", "33.75.03", ("Kandangpanjang",)),
    Kelurahan("33.75.03.1004", "Panjang Wetan", "33.75.03", ("Panjangwetan",)),
    Kelurahan("33.75.03.1006", "Padukuhan Kraton", "33.75.03", ("Padukuhankraton",)),
    Kelurahan("33.75.03.1007", "Degayu", "33.75.03"),
    Kelurahan("33.75.03.1009", "Bandengan", "33.75.03"),
    Kelurahan("33.75.03.1010", "Panjang Baru", "33.75.03", ("Panjangbaru",)),
    Kelurahan("33.75.04.1002", "Banyurip", "33.75.04"),
    Kelurahan("33.75.04.1003", "Buaran Kradenan", "33.75.04", ("Buarankradenan",)),
    Kelurahan("33.75.04.1004", "Jenggot", "33.75.04"),
    Kelurahan("33.75.04.1006", "Kuripan Kertoharjo", "33.75.04", ("Kuripankertoharjo",)),
    Kelurahan("33.75.04.1008", "Kuripan Yosorejo", "33.75.04", ("Kuripanyosorejo",)),
    Kelurahan("33.75.04.1010", "Sokoduwet", "33.75.04", ("Soko Duwet",)),
)

_KECAMATAN_BY_CODE = {k.code: k for k in KECAMATAN}
_KELURAHAN_BY_CODE = {k.code: k for k in KELURAHAN}
_PREFIX = re.compile(r"^(kelurahan|kel\.?)\s+", re.IGNORECASE)


def _name_key(name: str) -> str:
    """Compare names ignoring case, spaces, punctuation and a leading "Kelurahan"/"Kel."."""
    return re.sub(r"[\W_]+", "", _PREFIX.sub("", name.strip())).casefold()


_KELURAHAN_BY_NAME = {_name_key(spelling): k for k in KELURAHAN for spelling in (k.name, *k.aliases)}


def kelurahan(code: str) -> Kelurahan | None:
    """The kelurahan with this Kemendagri code (`33.75.01.1002`), or None."""
    return _KELURAHAN_BY_CODE.get(code.strip())


def kelurahan_by_name(name: str) -> Kelurahan | None:
    """The kelurahan with this name or alias, matched ignoring case and spaces, or None."""
    return _KELURAHAN_BY_NAME.get(_name_key(name))


def kecamatan(code: str) -> Kecamatan | None:
    """The kecamatan with this Kemendagri code (`33.75.01`), or None."""
    return _KECAMATAN_BY_CODE.get(code.strip())


def kelurahan_in(kecamatan_code: str) -> tuple[Kelurahan, ...]:
    """The kelurahan of one kecamatan, in code order."""
    return tuple(k for k in KELURAHAN if k.kecamatan_code == kecamatan_code)


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


DEFAULT_RULES = Rules()
