"""Funding's settings: the kernel's (programme start among them), plus the bounds on amounts
(GENTING_MAX_AMOUNT_RP) and on a sponsorship's start_date (GENTING_MAX_START_DELAY_DAYS)."""

from __future__ import annotations

from pydantic import Field

from services.funding.domain.rules import Limits
from shared.settings import Settings


class FundingSettings(Settings):
    service: str = "funding"
    database_url: str = "postgresql://postgres@127.0.0.1:15432/genting_funding"
    # The largest amount one pledge, contribution or sponsorship may carry (Rp10 billion).
    max_amount_rp: int = Field(default=10_000_000_000, gt=0)
    # How many days after the day a sponsorship is made its start_date may be (GENTING_MAX_START_DELAY_DAYS).
    max_start_delay_days: int = Field(default=30, ge=0)

    def limits(self) -> Limits:
        return Limits(
            max_amount_rp=self.max_amount_rp,
            programme_start=self.programme_start,
            max_start_delay_days=self.max_start_delay_days,
            sponsorship_hold_days=self.sponsorship_hold_days,
            plan_days=self.plan_days,
            daily_minimum_rp=self.daily_minimum_rp,
            distribution_daily_rp=self.distribution_cost_rp,
        )
