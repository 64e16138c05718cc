"""Aid's settings: the kernel's, plus the city's aid rule (DOMAIN.md: other regions differ)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import Field

from services.aid.domain.plan_model import Policy
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
    time_zone: str = "Asia/Jakarta"  # the programme's calendar day is the city's

    def policy(self) -> Policy:
        return Policy(daily_minimum_rp=self.daily_minimum_rp, days=self.plan_days)

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def load_settings() -> AidSettings:
    settings = AidSettings.from_env(service="aid")
    assert isinstance(settings, AidSettings)
    return settings
