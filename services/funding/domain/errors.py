"""Funding's refusals: each a DomainError, answered as a problem (404, 409 or 422) naming the field."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from services.funding.domain.rules import rupiah
from shared.errors import AboutOne, Conflict, FieldError, NotFound


class DonorNotFound(AboutOne, NotFound, template="Donor {id} is not registered."): ...


class DonorAlreadyRegistered(AboutOne, Conflict, template="Donor {id} is already registered."): ...


class InsufficientFunds(Conflict):
    """The donor's received, unallocated money is less than the amount asked for."""

    title = "Not enough available money"

    def __init__(self, donor_id: UUID, available_rp: int, requested_rp: int) -> None:
        self.donor_id = donor_id
        self.available_rp = available_rp
        self.requested_rp = requested_rp
        super().__init__(
            f"Donor {donor_id} has {rupiah(available_rp)} received and not yet allocated; "
            f"{rupiah(requested_rp)} was asked for."
        )
        self.errors = [FieldError("amount_rp", f"exceeds the donor's available {rupiah(available_rp)}")]


class UnknownAllocation(Conflict):
    """Money can only come back from a sponsorship this donor's money went to (a bug otherwise)."""

    def __init__(self, donor_id: UUID, sponsorship_id: UUID) -> None:
        super().__init__(f"Donor {donor_id} never allocated money to sponsorship {sponsorship_id}.")


class DuplicateContribution(Conflict):
    """This donor already has a contribution with this bank reference: it was recorded before."""

    title = "Contribution already recorded"

    def __init__(self, donor_id: UUID, reference: str) -> None:
        super().__init__(f"Donor {donor_id} already has a contribution with reference {reference!r}.")
        self.errors = [FieldError("reference", "already recorded for this donor")]


class FamilyNotEligible(Conflict):
    """The registry said the family is no longer a programme target (FamilyEligibilityChanged):
    no member is a baduta, a pregnant or a breastfeeding mother any more. No new sponsorship."""

    title = "Family is no longer eligible"

    def __init__(self, family_id: UUID, since: date | None) -> None:
        self.family_id = family_id
        when = f" since {since.isoformat()}" if since else ""
        super().__init__(
            f"Family {family_id} is no longer a programme target{when}: no baduta, pregnant or breastfeeding"
            " mother; it cannot be sponsored until the registry records one again."
        )
        self.errors = [FieldError("family_id", f"family is no longer eligible{when}")]


class FamilyNotSponsorable(Conflict):
    """Only a family the registry has enrolled, and that has not exited, can be sponsored."""

    title = "Family cannot be sponsored"

    def __init__(self, family_id: UUID, family_status: str) -> None:
        self.family_id = family_id
        self.family_status = family_status  # `status` is the HTTP status on DomainError
        why = "has exited the programme" if family_status == "exited" else "is not enrolled"
        super().__init__(f"Family {family_id} {why}.")
        self.errors = [FieldError("family_id", f"family {why}")]


class PlanEnded(Conflict):
    """The family's aid plan has ended (completed, incomplete or closed): money given now could never
    be spent on it and would be stranded, so the sponsorship is refused."""

    title = "The family's plan has ended"

    def __init__(self, family_id: UUID, last_day: date | None = None) -> None:
        self.family_id = family_id
        if last_day is None:
            super().__init__(
                f"Family {family_id}'s aid plan has ended (completed, incomplete or closed): it cannot be sponsored."
            )
            self.errors = [FieldError("family_id", "the family's aid plan has ended")]
        else:  # dated after the plan's last day, whether or not the plan has ended yet
            super().__init__(
                f"Family {family_id}'s aid plan's last day was {last_day.isoformat()}: "
                "a sponsorship dated after it could never pay for the plan's days."
            )
            self.errors = [FieldError("family_id", f"the family's aid plan's last day was {last_day.isoformat()}")]
