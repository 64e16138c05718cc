"""The deployment's kecamatan and kelurahan as reporting lists them: every one, zeros included.

A thin adapter over the kernel's `Programme` (GENTING_CITY and the Kemendagri reference data):
reporting names a row by kelurahan and kecamatan, and must still name a code that is not the
city's (a record from before a boundary change, say) rather than drop its families.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypedDict

from shared.programme import Programme


@dataclass(frozen=True)
class Area:
    """A kelurahan with its kecamatan, by Kemendagri code."""

    code: str
    name: str
    kecamatan_code: str
    kecamatan: str


class Named(TypedDict):
    """How a report's row names its kelurahan: by code, by name and by its kecamatan's name."""

    kelurahan_code: str
    kelurahan: str
    kecamatan: str


class Areas:
    """One city's kecamatan (code, name) and kelurahan, both in code order."""

    def __init__(self, programme: Programme) -> None:
        self.city_code = programme.city_code
        self.kecamatan: tuple[tuple[str, str], ...] = tuple((k.code, k.name) for k in programme.kecamatan())
        self.kecamatan_names = dict(self.kecamatan)
        self.kelurahan: tuple[Area, ...] = tuple(
            Area(k.code, k.name, k.kecamatan_code, k.kecamatan_name) for k in programme.all_kelurahan()
        )
        self.codes = tuple(a.code for a in self.kelurahan)
        self._by_code = {a.code: a for a in self.kelurahan}

    def area(self, code: str) -> Area:
        """The kelurahan with this code; an unknown code (another city's, say) is named by its code."""
        known = self._by_code.get(code)
        if known is not None:
            return known
        kecamatan_code = code[:8]
        return Area(code, code, kecamatan_code, self.kecamatan_names.get(kecamatan_code, kecamatan_code))

    def named(self, code: str | None) -> Named:
        """The names a report's row carries for this kelurahan (no code: named as the empty code)."""
        area = self.area(code or "")
        return Named(kelurahan_code=area.code, kelurahan=area.name, kecamatan=area.kecamatan)

    def ordered(self, found: Iterable[str]) -> list[str]:
        """Every kelurahan of the city in code order, then any other code found in the data."""
        return list(self.codes) + sorted(set(found) - set(self.codes))
