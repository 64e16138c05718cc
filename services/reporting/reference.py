"""The city's kecamatan and kelurahan as reporting lists them: every one, zeros included.

A copy of the registry's table (a service never imports another's package); a unit test keeps
the two in sync. Kemendagri codes from DOMAIN.md: the numbers have gaps, so they are data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Area:
    """A kelurahan with its kecamatan, by Kemendagri code."""

    code: str
    name: str
    kecamatan_code: str
    kecamatan: str


KECAMATAN: tuple[tuple[str, str], ...] = (
    ("33.75.01", "Pekalongan Barat"),
    ("33.75.02", "Pekalongan Timur"),
    ("33.75.03", "Pekalongan Utara"),
    ("33.75.04", "Pekalongan Selatan"),
)
KECAMATAN_NAMES = dict(KECAMATAN)

_KELURAHAN: tuple[tuple[str, str], ...] = (
    ("33.75.01.1002", "Medono"),
    ("33.75.01.1003", "Podosugih"),
    ("33.75.01.1004", "Sapuro Kebulen"),
    ("33.75.01.1006", "Bendan Kergon"),
    ("33.75.01.1008", "Pasirkratonkramat"),
    ("33.75.01.1009", "Tirto"),
    ("33.75.01.1012", "Pringrejo"),
    ("33.75.02.1002", "Noyontaansari"),
    ("33.75.02.1004", "Kauman"),
    ("33.75.02.1007", "Poncol"),
    ("33.75.02.1008", "Klego"),
    ("33.75.02.1009", "Gamer"),
    ("33.75.02.1010", "Setono"),
    ("33.75.02.1012", "Kali Baros"),
    ("33.75.03.1002", "Krapyak"),
    ("33.75.03.1003", "Kandang Panjang"),
    ("33.75.03.1004", "Panjang Wetan"),
    ("33.75.03.1006", "Padukuhan Kraton"),
    ("33.75.03.1007", "Degayu"),
    ("33.75.03.1009", "Bandengan"),
    ("33.75.03.1010", "Panjang Baru"),
    ("33.75.04.1002", "Banyurip"),
    ("33.75.04.1003", "Buaran Kradenan"),
    ("33.75.04.1004", "Jenggot"),
    ("33.75.04.1006", "Kuripan Kertoharjo"),
    ("33.75.04.1008", "Kuripan Yosorejo"),
    ("33.75.04.1010", "Sokoduwet"),
)

KELURAHAN: tuple[Area, ...] = tuple(Area(code, name, code[:8], KECAMATAN_NAMES[code[:8]]) for code, name in _KELURAHAN)
AREAS = {a.code: a for a in KELURAHAN}


def area(code: str) -> Area:
    """The kelurahan with this code; an unknown code (another city's, say) is named by its code."""
    known = AREAS.get(code)
    if known is not None:
        return known
    kecamatan_code = code[:8]
    return Area(code, code, kecamatan_code, KECAMATAN_NAMES.get(kecamatan_code, kecamatan_code))
