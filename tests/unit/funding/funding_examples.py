"""The fixed ids and dates funding's domain tests share (fixed, so a failure repeats exactly)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from services.funding.domain import Donor, SponsorFamily
from services.funding.domain import donor as donors
from shared.contracts.funding import (
    ContributionMethod,
    ContributionReceived,
    DonorRegistered,
    DonorType,
    FundsAllocated,
)

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
        [DonorRegistered(donor_id=DONOR, donor_type="community", registered_on=on), received(received_rp, on)]
    )


def received(
    amount_rp: int,
    on: date,
    *,
    contribution_id: UUID = D1,
    donor_type: DonorType = "community",
    method: ContributionMethod = "cash",
) -> ContributionReceived:
    """DONOR gave `amount_rp` on `on`."""
    return ContributionReceived(
        donor_id=DONOR,
        donor_type=donor_type,
        contribution_id=contribution_id,
        amount_rp=amount_rp,
        received_on=on,
        method=method,
    )


def allocated(amount_rp: int, on: date, *, donor_type: DonorType = "community") -> FundsAllocated:
    """DONOR's money set aside for FAMILY's sponsorship S1 on `on`."""
    return FundsAllocated(**{**WHO, "donor_type": donor_type}, amount_rp=amount_rp, allocated_on=on)


def sponsoring(amount: object = 2_700_000, status: str = "enrolled", on: date = TODAY) -> SponsorFamily:
    """The command: DONOR sponsors FAMILY (S1) with `amount` from `on`, entered that day, while the
    family has `status` (a family funding does not know has no kelurahan)."""
    return SponsorFamily(
        sponsorship_id=S1,
        donor_id=DONOR,
        family_id=FAMILY,
        amount_rp=amount,  # type: ignore[arg-type]
        start_date=on,
        today=on,
        family_status=status,
        kelurahan_code=MEDONO if status != "unknown" else None,
    )
