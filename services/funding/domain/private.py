"""The private parts of funding's facts (the kernel's `Fact.private`): a donor's name and contact,
a pledge's note, a contribution's bank reference, a sponsorship's note. The repository seals them
into the event store's never-published `sealed` column (donors' under a key per donor, a
sponsorship's note under its family's key: app.py wires the ciphers); the published events carry
none of them. Pure: which part goes with which event is decided here, from the command."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from services.funding.domain.commands import MakePledge, ReceiveContribution, RegisterDonor, SponsorFamily
from shared.contracts.base import Event
from shared.contracts.funding import ContributionReceived, DonorRegistered, FamilySponsored, PledgeMade
from shared.repository import Fact


class _Private(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DonorDetails(_Private):
    """Who the donor is. The consent travels with the name: once the name is erased there is
    nothing left to show publicly."""

    name: str
    contact: str | None = None
    public_name_consent: bool = False


class PledgeNote(_Private):
    note: str


class BankReference(_Private):
    """The transfer's reference as the donor's bank printed it: printed on the donor's receipt."""

    reference: str


class SponsorshipNote(_Private):
    """Free text that may describe the family: sealed under the family's key, not the donor's."""

    note: str


PRIVATE_PARTS: dict[str, type[BaseModel]] = {
    DonorRegistered.event_type: DonorDetails,
    PledgeMade.event_type: PledgeNote,
    ContributionReceived.event_type: BankReference,
}
SPONSORSHIP_PRIVATE_PARTS: dict[str, type[BaseModel]] = {FamilySponsored.event_type: SponsorshipNote}

Command = RegisterDonor | MakePledge | ReceiveContribution | SponsorFamily


def _text(value: str | None) -> str | None:
    """Trimmed; blank is nothing (an empty note is not kept)."""
    return value.strip() or None if value else None


def private_part(command: Command, event: Event) -> BaseModel | None:
    """The private part the command gives its event, if any."""
    match command, event:
        case RegisterDonor(), DonorRegistered():
            name = _text(command.name)
            assert name is not None  # required: the decision refused a blank one
            consent = command.public_name_consent
            return DonorDetails(name=name, contact=_text(command.contact), public_name_consent=consent)
        case MakePledge(), PledgeMade() if (note := _text(command.note)) is not None:
            return PledgeNote(note=note)
        case ReceiveContribution(), ContributionReceived():
            reference = _text(command.reference)
            assert reference is not None  # required: the decision refused a blank one
            return BankReference(reference=reference)
        case SponsorFamily(), FamilySponsored() if (note := _text(command.note)) is not None:
            return SponsorshipNote(note=note)
    return None


def with_private(command: Command, events: Sequence[Event]) -> list[Fact]:
    """The decided events as facts, each with the private part the command gives it."""
    return [Fact(e, private_part(command, e)) for e in events]
