"""Numbers as an Indonesian reader writes them: 1.330, Rp2.700.000, Rp1,2 M, 1 Mar 2025 09:30:00 WIB.

A moment is shown in the city's time zone (the kernel's `time_zone` setting), with that zone's
abbreviation: WIB in Pekalongan, WITA or WIT in a city further east."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

MONTHS = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


def number(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def rupiah(n: int) -> str:
    return ("-" if n < 0 else "") + "Rp" + number(abs(n))


def rupiah_short(n: int) -> str:
    """Rp950 rb, Rp2,7 jt, Rp1,2 M: for chart labels, where a full amount would not fit."""
    for size, unit in ((10**12, "T"), (10**9, "M"), (10**6, "jt"), (10**3, "rb")):
        if abs(n) >= size:
            return f"Rp{_decimal(n / size)} {unit}"
    return rupiah(n)


def percent(part: int, whole: int) -> str:
    if whole <= 0:
        return "0%"
    return f"{_decimal(100 * part / whole)}%"


def _decimal(x: float) -> str:
    """One decimal with a comma, none when it is zero: 2,7 and 3 (not 3,0)."""
    text = f"{x:.1f}"
    return (text[:-2] if text.endswith(".0") else text).replace(".", ",")


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local.day} {MONTHS[local.month - 1]} {local.year} {local:%H:%M:%S} {local.tzname()}"
