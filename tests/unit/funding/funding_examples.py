"""The fixed ids and dates funding's domain tests share (fixed, so a failure repeats exactly)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from services.funding.domain import Donor
from services.funding.domain import donor as donors
from shared.contracts.funding import ContributionReceived, DonorRegistered

TODAY = date(2025, 6, 2)
MEDONO = "33.75.01.1002"
DONOR = UUID("00000000-0000-0000-0000-0000000d0001")
FAMILY = UUID("00000000-0000-0000-0000-0000000f0001")
S1 = UUID("00000000-0000-0000-0000-0000000a0001")
S2 = UUID("00000000-0000-0000-0000-0000000a0002")
S3 = UUID("00000000-0000-0000-0000-0000000a0003")
D1 = UUID("00000000-0000-0000-0000-0000000c0001")
# Whose money a sponsorship's events name.
WHO: dict[str, Any] = {"sponsorship_id": S1, "donor_id": DONOR, "donor_type": "community", "family_id": FAMILY}


def donor_with(received_rp: int, on: date) -> Donor:
    """DONOR, registered and given `received_rp` in cash on `on` (contribution D1)."""
    return donors.fold(
        [
            DonorRegistered(donor_id=DONOR, donor_type="community", registered_on=on),
            ContributionReceived(
                donor_id=DONOR,
                donor_type="community",
                contribution_id=D1,
                amount_rp=received_rp,
                received_on=on,
                method="cash",
            ),
        ]
    )
