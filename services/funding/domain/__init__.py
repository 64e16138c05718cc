"""Funding's pure domain: `commands`, `errors`, `rules` (accepted input and limits), and one module
per aggregate with its state, decide and evolve: `donor` (its money) and `sponsorship` (a donor's
money set aside for one family). No I/O, clock or ids: those come on the commands."""

from services.funding.domain import donor, sponsorship
from services.funding.domain.commands import (
    AllocateFunds,
    ClosePlan,
    DonorCommand,
    Draw,
    MakePledge,
    PayDelivery,
    ReceiveContribution,
    RecordEligibility,
    RecordEnrolment,
    RecordExit,
    RecordPlan,
    RegisterDonor,
    Release,
    ReleaseFamily,
    ReleaseUnplanned,
    ReturnFunds,
    SponsorFamily,
    SponsorshipCommand,
)
from services.funding.domain.donor import Donor
from services.funding.domain.errors import (
    DonorAlreadyRegistered,
    DonorNotFound,
    DuplicateContribution,
    FamilyNotEligible,
    FamilyNotSponsorable,
    InsufficientFunds,
    PlanEnded,
    UnknownAllocation,
)
from services.funding.domain.rules import DEFAULT_LIMITS, Limits
from services.funding.domain.sponsorship import Sponsorship, pay_delivery, split_delivery, sponsor

__all__ = [
    "DEFAULT_LIMITS",
    "AllocateFunds",
    "ClosePlan",
    "Donor",
    "DonorAlreadyRegistered",
    "DonorCommand",
    "DonorNotFound",
    "Draw",
    "DuplicateContribution",
    "FamilyNotEligible",
    "FamilyNotSponsorable",
    "InsufficientFunds",
    "Limits",
    "MakePledge",
    "PayDelivery",
    "PlanEnded",
    "ReceiveContribution",
    "RecordEligibility",
    "RecordEnrolment",
    "RecordExit",
    "RecordPlan",
    "RegisterDonor",
    "Release",
    "ReleaseFamily",
    "ReleaseUnplanned",
    "ReturnFunds",
    "SponsorFamily",
    "Sponsorship",
    "SponsorshipCommand",
    "UnknownAllocation",
    "donor",
    "pay_delivery",
    "split_delivery",
    "sponsor",
    "sponsorship",
]
