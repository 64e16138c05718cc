"""Aid's settings: the kernel's (including the city's `time_zone`, the one "today"), plus the
city's aid rule (DOMAIN.md: other regions differ) and the clock step's timing."""

from __future__ import annotations

from pydantic import Field

from services.aid.domain import Policy
from shared.settings import Settings


class AidSettings(Settings):
    service: str = "aid"
    database_url: str = "postgresql://postgres@127.0.0.1:15432/genting_aid"
    # Kota Pekalongan: at least Rp15,000 a day for 180 consecutive days. Maluku pays Rp20,000;
    # some regions run until the child is 23 months. A plan keeps the numbers it opened with.
    daily_minimum_rp: int = Field(default=15_000, gt=0)
    plan_days: int = Field(default=180, gt=0)
    # Days after a plan's last day before the clock ends it incomplete: deliveries are often
    # recorded late, and a late record can still fill a gap. 0 = the day after the window.
    recording_grace_days: int = Field(default=0, ge=0)
    clock_interval_seconds: float = Field(default=60.0, gt=0)

    def policy(self) -> Policy:
        return Policy(daily_minimum_rp=self.daily_minimum_rp, days=self.plan_days)


def load_settings() -> AidSettings:
    return AidSettings.from_env(service="aid")
