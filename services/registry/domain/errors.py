"""The registry's errors: they carry ids; `detail` renders the sentence."""

from __future__ import annotations

from uuid import UUID

from shared.errors import Conflict, FieldError, NotFound


class FamilyNotFound(NotFound):
    """No family is registered under this id."""

    def __init__(self, family_id: UUID) -> None:
        self.family_id = family_id
        super().__init__(self.detail)

    @property
    def detail(self) -> str:
        return f"Family {self.family_id} is not registered."


class FamilyAlreadyExists(Conflict):
    """A family is already registered under this id."""

    def __init__(self, family_id: UUID) -> None:
        self.family_id = family_id
        super().__init__(self.detail)

    @property
    def detail(self) -> str:
        return f"Family {self.family_id} is already registered."


class FamilyNotActive(Conflict):
    """The family is rejected or exited, so it can no longer change."""

    def __init__(self, family_id: UUID, status: str) -> None:
        self.family_id = family_id
        self.family_status = status  # `status` is the HTTP status code on DomainError
        super().__init__(self.detail)

    @property
    def detail(self) -> str:
        return f"Family {self.family_id} is {self.family_status}, not registered or enrolled."


class FamilyNotPendingVerification(Conflict):
    """Only a family that is registered, not yet verified, can be approved or rejected."""

    def __init__(self, family_id: UUID, status: str) -> None:
        self.family_id = family_id
        self.family_status = status  # `status` is the HTTP status code on DomainError
        super().__init__(self.detail)

    @property
    def detail(self) -> str:
        return f"Family {self.family_id} is {self.family_status}, not awaiting verification."


class PersonalDataAlreadyErased(Conflict):
    """The family's personal data has been erased; it cannot be erased or added to again."""

    def __init__(self, family_id: UUID) -> None:
        self.family_id = family_id
        super().__init__(self.detail)

    @property
    def detail(self) -> str:
        return f"The personal data of family {self.family_id} has been erased."


class AlreadyActive(Conflict):
    """A KK number or NIK already belongs to another active family (found by the claims, which
    span families, so this is raised while saving, not by decide)."""

    title = "Already registered in an active family"

    def __init__(self, field: str, what: str) -> None:
        super().__init__(f"this {what} already belongs to an active family")
        self.errors = [FieldError(field, f"this {what} already belongs to an active family")]
