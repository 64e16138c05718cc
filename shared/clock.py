""" "Today" in the city and "now" on the wall: the only sources of the current date and instant
for commands, reactions and clock steps.

Every service takes the day from the deployment's time zone setting (the city's: WIB, WITA or
WIT), so the four services never disagree about which day it is. The instant an event is stamped
with (`Metadata.occurred_at`) is UTC, read through `now()` here and nowhere else.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

from shared import regions


def now() -> datetime:
    """The wall-clock instant, timezone-aware in UTC (event stamps, file names, reports)."""
    return datetime.now(UTC)


class Clock(Protocol):
    def __call__(self) -> date: ...


class CityClock:
    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone

    def __call__(self) -> date:
        return datetime.now(self.zone).date()

    def now(self) -> datetime:
        """The instant, in UTC (the city's zone only decides which day it is)."""
        return now()


def city_clock(city_code: str) -> CityClock:
    """The clock of a kota/kabupaten, in its province's zone (WIB for an unknown province): for
    tools outside a service (the demo loader, the benches) that must count days as the services do."""
    return CityClock(ZoneInfo(regions.time_zone(city_code) or regions.WIB))


class FixedClock:
    """A clock that says what it is told (tests, simulations); `set` moves it."""

    def __init__(self, today: date) -> None:
        self.today = today

    def set(self, today: date) -> None:
        self.today = today

    def __call__(self) -> date:
        return self.today

    def now(self) -> datetime:
        """Noon UTC of the day it is told: an instant that is on `today` in every Indonesian zone."""
        return datetime.combine(self.today, time(12), UTC)
