"""The facts funding publishes: donors, pledges, contributions and the sponsorship ledger.

Money is integer rupiah. No payload carries a donor's name or contact (personal data of
individual donors stays inside funding); donors are known on the bus by id and type.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import Field

from shared.contracts.base import Event, EventCatalog

DonorType = Literal["individual", "community", "bumd", "bumn", "csr", "university", "media", "other"]
ContributionMethod = Literal["transfer", "cash", "in_kind"]
# no_plan: the family had no plan `sponsorship_hold_days` after the sponsorship's date (funding's clock).
ReleaseReason = Literal["plan_closed", "family_exited", "no_plan"]
Rupiah = Annotated[int, Field(ge=0)]
PositiveRupiah = Annotated[int, Field(gt=0)]


class DonorEvent(Event):
    """A fact about one donor (orang tua asuh) — base class, never published itself."""

    context: ClassVar[str] = "funding"
    aggregate: ClassVar[str] = "donor"
    id_field: ClassVar[str] = "donor_id"

    donor_id: UUID
    donor_type: DonorType


class DonorRegistered(DonorEvent):
    """An orang tua asuh (a person, community, BUMD, CSR programme, …) joined the programme."""

    event_type: ClassVar[str] = "DonorRegistered"

    registered_on: date


class PledgeMade(DonorEvent):
    """A donor promised an amount; nothing is received or allocated yet."""

    event_type: ClassVar[str] = "PledgeMade"

    pledge_id: UUID
    amount_rp: PositiveRupiah
    pledged_on: date


class ContributionReceived(DonorEvent):
    """Money (or food in kind, valued in rupiah) from a donor arrived and may now be allocated."""

    event_type: ClassVar[str] = "ContributionReceived"

    contribution_id: UUID
    amount_rp: PositiveRupiah
    received_on: date
    method: ContributionMethod


class FundsAllocated(DonorEvent):
    """Received money of the donor was set aside for a sponsorship: the donor's side of FamilySponsored.

    Recorded on the donor's own stream, in the same transaction as FamilySponsored, so that two
    sponsorships racing for the same money collide on the donor's stream version. Totals count
    either these or FamilySponsored, never both.
    """

    event_type: ClassVar[str] = "FundsAllocated"

    sponsorship_id: UUID
    family_id: UUID
    amount_rp: PositiveRupiah
    allocated_on: date


class FundsReturned(DonorEvent):
    """The unspent rest of a sponsorship is the donor's available money again (not paid back):
    the donor's side of SponsorshipReleased, recorded in the same transaction."""

    event_type: ClassVar[str] = "FundsReturned"

    sponsorship_id: UUID
    amount_rp: PositiveRupiah
    reason: ReleaseReason
    returned_on: date


class SponsorshipEvent(Event):
    """A fact about one sponsorship: a donor's money set aside for one family — base class."""

    context: ClassVar[str] = "funding"
    aggregate: ClassVar[str] = "sponsorship"
    id_field: ClassVar[str] = "sponsorship_id"

    sponsorship_id: UUID
    donor_id: UUID
    donor_type: DonorType
    family_id: UUID


class FamilySponsored(SponsorshipEvent):
    """An orang tua asuh took on an enrolled family, allocating received money to its food."""

    event_type: ClassVar[str] = "FamilySponsored"

    amount_rp: PositiveRupiah
    start_date: date
    kelurahan_code: str
    sponsored_on: date


class SponsorshipDrawn(SponsorshipEvent):
    """Food delivered to the family, and bringing it, was paid from this sponsorship (oldest
    sponsorship first; a delivery's food before its distribution)."""

    event_type: ClassVar[str] = "SponsorshipDrawn"

    amount_rp: PositiveRupiah
    delivery_id: UUID
    plan_id: UUID
    drawn_on: date
    remaining_rp: Rupiah  # what is left of this sponsorship after the draw
    # Of `amount_rp`, what paid the delivery's distribution (aid's AidDelivered.distribution_rp);
    # the rest paid its food. 0: food alone.
    distribution_rp: Rupiah = 0


class SponsorshipReleased(SponsorshipEvent):
    """The unspent rest of a sponsorship went back to the donor's available money."""

    event_type: ClassVar[str] = "SponsorshipReleased"

    amount_rp: PositiveRupiah
    reason: ReleaseReason
    plan_id: UUID | None = None
    released_on: date


class DeliveryEvent(Event):
    """A fact funding records about one of aid's deliveries — base class, never published itself."""

    context: ClassVar[str] = "funding"
    aggregate: ClassVar[str] = "delivery"
    id_field: ClassVar[str] = "delivery_id"

    delivery_id: UUID
    plan_id: UUID
    family_id: UUID
    kelurahan_code: str


class DeliveryUnfunded(DeliveryEvent):
    """Food aid delivered that no sponsorship could pay in full: `unfunded_rp` of its food
    (`value_rp`) and distribution (`distribution_rp`) was drawn from nothing (the money had been
    released, or was never held). For every delivery, `value_rp` + `distribution_rp` = the
    SponsorshipDrawn amounts for it + `unfunded_rp`; the programme office settles it."""

    event_type: ClassVar[str] = "DeliveryUnfunded"

    value_rp: PositiveRupiah
    drawn_rp: Rupiah  # what the family's sponsorships paid of it
    unfunded_rp: PositiveRupiah
    delivered_on: date  # the delivery's effective date (AidDelivered.delivered_on)
    distribution_rp: Rupiah = 0  # the delivery's distribution cost (AidDelivered.distribution_rp)
    # Of `unfunded_rp`, what was distribution (the food is paid first, so this is unpaid first).
    unfunded_distribution_rp: Rupiah = 0


DonorStreamEvent = DonorRegistered | PledgeMade | ContributionReceived | FundsAllocated | FundsReturned
SponsorshipStreamEvent = FamilySponsored | SponsorshipDrawn | SponsorshipReleased
DeliveryStreamEvent = DeliveryUnfunded
FundingEvent = DonorStreamEvent | SponsorshipStreamEvent | DeliveryStreamEvent

CATALOG = EventCatalog(
    "funding",
    [
        DonorRegistered,
        PledgeMade,
        ContributionReceived,
        FundsAllocated,
        FundsReturned,
        FamilySponsored,
        SponsorshipDrawn,
        SponsorshipReleased,
        DeliveryUnfunded,
    ],
)
