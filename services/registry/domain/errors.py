"""The registry's errors: they carry ids (`id`, and `state` where the family's state refused);
`detail` renders the sentence."""

from __future__ import annotations

from uuid import UUID

from shared.errors import AboutOne, AboutOneInState, Conflict, FieldError, NotFound


class FamilyNotFound(AboutOne, NotFound, template="Family {id} is not registered."): ...


class FamilyAlreadyExists(AboutOne, Conflict, template="Family {id} is already registered."): ...


class FamilyNotActive(AboutOneInState, Conflict, template="Family {id} is {state}, not registered or enrolled."):
    """The family is rejected or exited, so it can no longer change."""


class FamilyNotPendingVerification(
    AboutOneInState, Conflict, template="Family {id} is {state}, not awaiting verification."
):
    """Only a family that is registered, not yet verified, can be approved or rejected."""


class PersonalDataAlreadyErased(AboutOne, Conflict, template="The personal data of family {id} has been erased."):
    """It cannot be erased or added to again."""


class AlreadyActive(Conflict):
    """A KK number or NIK already belongs to another active family (found by the claims, which
    span families, so this is raised while saving, not by decide)."""

    title = "Already registered in an active family"

    def __init__(self, field: str, what: str) -> None:
        super().__init__(f"this {what} already belongs to an active family")
        self.errors = [FieldError(field, f"this {what} already belongs to an active family")]


class NoLongerEligible(Conflict):
    """At the decision's effective date no member keeps the family in the programme (the baduta
    turned 24 months, the pregnancy is overdue with no birth recorded): approval is refused."""

    title = "No longer eligible"

    def __init__(self, family_id: UUID, on: str, reasons: list[FieldError]) -> None:
        self.family_id = family_id
        super().__init__(
            f"On {on} no member of family {family_id} is a target any more: "
            + "; ".join(f"{r.field} {r.message}" for r in reasons)
        )
        self.errors = reasons
