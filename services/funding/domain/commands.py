"""What funding can be asked to do. Ids, dates and data owned by other services (a family's status,
its kelurahan) are stamped on the command by the handler, so `decide` stays pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from shared.contracts.funding import ReleaseReason
from shared.held_money import Held

# -- the donor's stream ----------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterDonor:
    donor_id: UUID
    donor_type: str
    name: str  # personal data: the event's private part (domain/private.py), never its public data
    contact: str | None
    today: date
    public_name_consent: bool = False  # the name may be shown on the public page (kept with the name)


@dataclass(frozen=True)
class MakePledge:
    donor_id: UUID
    pledge_id: UUID
    amount_rp: int
    today: date
    note: str | None = None  # free text: the event's private part, never its public data
    pledged_on: date | None = None  # the effective date (default: today)


@dataclass(frozen=True)
class ReceiveContribution:
    donor_id: UUID
    contribution_id: UUID
    amount_rp: int
    received_on: date
    method: str
    reference: str
    today: date


@dataclass(frozen=True)
class AllocateFunds:
    """Set received money aside for a sponsorship (decided together with it, see sponsorship.sponsor)."""

    donor_id: UUID
    sponsorship_id: UUID
    family_id: UUID
    amount_rp: int
    today: date
    on: date | None = None  # the sponsorship's effective date (default: today)


@dataclass(frozen=True)
class ReturnFunds:
    donor_id: UUID
    sponsorship_id: UUID
    amount_rp: int
    reason: ReleaseReason
    on: date


DonorCommand = RegisterDonor | MakePledge | ReceiveContribution | AllocateFunds | ReturnFunds

# -- the sponsorship's stream ----------------------------------------------------------------


@dataclass(frozen=True)
class SponsorFamily:
    sponsorship_id: UUID
    donor_id: UUID
    family_id: UUID
    amount_rp: int
    start_date: date
    today: date
    # Owned by the registry, learned from its events into funding's own table.
    family_status: str  # "enrolled" | "exited" | "unknown"
    kelurahan_code: str | None
    sponsored_on: date | None = None  # the effective date the sponsorship was made (default: see below)
    enrolled_on: date | None = None  # when the registry enrolled the family (a sponsorship is not before it)
    plan_ended: bool = False  # learned from aid: the family's plan completed or closed (409)
    # Learned from aid's AidPlanOpened: the last day of the family's plan. A sponsorship dated
    # after it is refused (409) as one for an ended plan is, even before the plan has ended.
    plan_last_day: date | None = None
    eligible: bool = True  # learned from the registry's FamilyEligibilityChanged (409 when False)
    ineligible_since: date | None = None
    # Family-bound free text: the event's private part, sealed under the family's key.
    note: str | None = None

    def effective_on(self) -> date:
        """The day the sponsorship was made: as given; else its `start_date` when that is not in the
        future (a past programme entered late names the day its money started to count), else today."""
        return self.sponsored_on or min(self.start_date, self.today)


@dataclass(frozen=True)
class Draw:
    """Pay (part of) a delivery from this sponsorship; `amount_rp` is what is still unpaid, of
    which `distribution_rp` is for bringing the food."""

    sponsorship_id: UUID
    delivery_id: UUID
    plan_id: UUID
    amount_rp: int
    drawn_on: date
    distribution_rp: int = 0


@dataclass(frozen=True)
class Release:
    sponsorship_id: UUID
    reason: ReleaseReason
    plan_id: UUID | None
    on: date


@dataclass(frozen=True)
class ReleaseUnplanned:
    """Funding's clock: a sponsorship whose family still has no plan `hold_days` after the
    sponsorship's date goes back to its donor (reason `no_plan`), once the records are known
    complete past that day (`known_through`, as aid's plan windows: late entry is on time).

    The handler stamps what funding knows of the family: whether aid opened a plan for it, the
    unreleased total of its sponsorships, and whether the registry still counts it eligible. While
    that total reaches the plan's minimum for an eligible family, aid opens (or has opened) its
    plan, so nothing is released: the AidPlanOpened may simply not have reached funding yet."""

    sponsorship_id: UUID
    hold_days: int
    known_through: date | None
    plan_known: bool
    family_held_rp: int
    minimum_rp: int
    eligible: bool
    # The first day of the family's plan, when funding knows it (AidPlanOpened.start_date): a plan
    # that started after this sponsorship's hold ended does not take it, and it goes back.
    plan_start: date | None = None
    # The family's unreleased sponsorships, as aid counts them towards opening a plan: when given,
    # the money waits only if it reaches the minimum by this sponsorship's hold's end
    # (`shared.held_money.reaching_date`), not merely when it reaches it now.
    family_money: tuple[Held, ...] | None = None
    # The registry's plan_until (the family's first day no longer planned for): money that reaches
    # the minimum only on or after it opens no plan at aid, so it does not wait for one.
    plan_until: date | None = None


SponsorshipCommand = Draw | Release | ReleaseUnplanned

# -- the ledger: reactions to registry and aid facts, each spanning a family's sponsorships --------


@dataclass(frozen=True)
class RecordEnrolment:
    """The registry enrolled the family: it may now be sponsored."""

    family_id: UUID
    kelurahan_code: str
    enrolled_on: date
    # The registry's plan_until: the family's plan days (and minimum) run from enrolled_on to it.
    plan_until: date | None = None


@dataclass(frozen=True)
class RecordExit:
    """The family left the programme: its sponsorships are released unless a plan is still open."""

    family_id: UUID
    kelurahan_code: str
    exited_on: date


@dataclass(frozen=True)
class RecordPlan:
    """Aid opened a plan for the family."""

    plan_id: UUID
    family_id: UUID
    end_date: date | None = None  # its last day
    start_date: date | None = None  # its first day


@dataclass(frozen=True)
class RecordEligibility:
    """The registry said the family stopped (or started again) being a programme target."""

    family_id: UUID
    kelurahan_code: str
    eligible: bool
    effective_on: date
    plan_until: date | None = None  # the registry's, as of effective_on


@dataclass(frozen=True)
class ClosePlan:
    """Aid closed the plan (any outcome): what is left of the family's sponsorships is released."""

    plan_id: UUID
    family_id: UUID
    closed_on: date


@dataclass(frozen=True)
class PayDelivery:
    """Pay a delivery from the family's sponsorships, oldest first (a Draw on each one touched)."""

    delivery_id: UUID
    plan_id: UUID
    family_id: UUID
    value_rp: int
    delivered_on: date
    kelurahan_code: str
    # What bringing the food cost (AidDelivered.distribution_rp): drawn with it, after the food.
    distribution_rp: int = 0

    @property
    def cost_rp(self) -> int:
        return self.value_rp + self.distribution_rp


@dataclass(frozen=True)
class ReleaseFamily:
    """Release every sponsorship of the family to its donor (a Release, then the donor's ReturnFunds)."""

    family_id: UUID
    reason: ReleaseReason
    plan_id: UUID | None
    on: date
