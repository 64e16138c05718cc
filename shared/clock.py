""" "Today" in the city: the only source of the current date for commands, reactions and clock steps.

Every service takes it from the deployment's time zone setting (the city's: WIB, WITA or WIT), so
the four services never disagree about which day it is.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def __call__(self) -> date: ...


class CityClock:
    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone

    def __call__(self) -> date:
        return datetime.now(self.zone).date()


class FixedClock:
    """A clock that says what it is told (tests, simulations); `set` moves it."""

    def __init__(self, today: date) -> None:
        self.today = today

    def set(self, today: date) -> None:
        self.today = today

    def __call__(self) -> date:
        return self.today
