"""Funding's pure domain, one module per aggregate: `donor` (its money) and `sponsorship` (a donor's
money set aside for one family). No I/O, clock or ids: those come on the commands."""

from services.funding.domain import donor, sponsorship
from services.funding.domain.donor import (
    AllocateFunds,
    Donor,
    DonorAlreadyRegistered,
    DonorNotFound,
    InsufficientFunds,
    MakePledge,
    ReceiveContribution,
    RegisterDonor,
    ReturnFunds,
)
from services.funding.domain.rules import DEFAULT_LIMITS, Limits
from services.funding.domain.sponsorship import (
    Draw,
    FamilyNotSponsorable,
    Release,
    SponsorFamily,
    Sponsorship,
    split_delivery,
    sponsor,
)

__all__ = [
    "DEFAULT_LIMITS",
    "AllocateFunds",
    "Donor",
    "DonorAlreadyRegistered",
    "DonorNotFound",
    "Draw",
    "FamilyNotSponsorable",
    "InsufficientFunds",
    "Limits",
    "MakePledge",
    "ReceiveContribution",
    "RegisterDonor",
    "Release",
    "ReturnFunds",
    "SponsorFamily",
    "Sponsorship",
    "donor",
    "split_delivery",
    "sponsor",
    "sponsorship",
]
