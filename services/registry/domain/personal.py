"""The personal parts of the registry's facts (`Fact.private`): sealed with the family's own key
by the repository, never published, unreadable for good once that key is destroyed."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from shared.contracts.registry import FamilyRegistered, FamilyRejected, FamilyVerified, MemberAdded


class _Personal(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MemberPersonal(_Personal):
    """Who a member is: name, NIK (None while pending), birth date, expected delivery date."""

    member_id: UUID
    name: str
    nik: str | None
    birth_date: date
    expected_delivery_date: date | None = None


class RegistrationPersonal(_Personal):
    """The personal side of a registration: the family card, head, address and each member."""

    kk_number: str
    head_name: str
    address: str
    members: tuple[MemberPersonal, ...]


class NotePersonal(_Personal):
    """A verifier's free-text note, which may mention people."""

    note: str


PersonalPart = RegistrationPersonal | MemberPersonal | NotePersonal

# Which personal part, if any, goes with each event type: the repository's `private_parts`.
PERSONAL_PARTS: dict[str, type[PersonalPart]] = {
    FamilyRegistered.event_type: RegistrationPersonal,
    MemberAdded.event_type: MemberPersonal,
    FamilyVerified.event_type: NotePersonal,
    FamilyRejected.event_type: NotePersonal,
}
