"""Funding's settings: the kernel's, plus the bounds on amounts (GENTING_MAX_AMOUNT_RP)."""

from __future__ import annotations

from pydantic import Field

from services.funding.domain.rules import Limits
from shared.settings import Settings


class FundingSettings(Settings):
    service: str = "funding"
    database_url: str = "postgresql://postgres@127.0.0.1:15432/genting_funding"
    # The largest amount one pledge, contribution or sponsorship may carry (Rp10 billion).
    max_amount_rp: int = Field(default=10_000_000_000, gt=0)

    def limits(self) -> Limits:
        return Limits(max_amount_rp=self.max_amount_rp)
