"""The Donor aggregate: an orang tua asuh and its money (state, decide, evolve). Pure: no I/O, clock or ids."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from functools import reduce
from typing import TypedDict, assert_never, cast
from uuid import UUID

from services.funding.domain.commands import (
    AllocateFunds,
    DonorCommand,
    MakePledge,
    ReceiveContribution,
    RegisterDonor,
    ReturnFunds,
)
from services.funding.domain.errors import DonorAlreadyRegistered, DonorNotFound, InsufficientFunds, UnknownAllocation
from services.funding.domain.rules import (
    DEFAULT_LIMITS,
    METHODS,
    Limits,
    amount_errors,
    character_errors,
    donor_type_errors,
    effective_errors,
    rupiah,
    text_errors,
)
from shared.contracts.funding import (
    ContributionMethod,
    ContributionReceived,
    DonorRegistered,
    DonorStreamEvent,
    DonorType,
    FundsAllocated,
    FundsReturned,
    PledgeMade,
)
from shared.errors import Conflict, FieldError, InvalidCommand

# -- state --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Donor:
    donor_id: UUID | None = None
    donor_type: DonorType | None = None
    version: int = 0  # events applied = the stream's version
    registered_on: date | None = None
    pledged_rp: int = 0
    received_rp: int = 0
    # One meaning everywhere: set aside for sponsorships NET of releases, i.e.
    # sponsored − released. Drawn money stays allocated (it was spent on the family).
    allocated_rp: int = 0
    returned_rp: int = 0  # what came back from sponsorships when they were released
    allocated_to: frozenset[UUID] = frozenset()
    returned_from: frozenset[UUID] = frozenset()
    receipts: tuple[tuple[date, int], ...] = ()  # (received_on, amount) of each contribution
    # Every dated change to the money not set aside: + received_on, − allocated_on, + returned_on.
    ledger: tuple[tuple[date, int], ...] = ()

    @property
    def registered(self) -> bool:
        return self.donor_id is not None

    @property
    def available_rp(self) -> int:
        """Received and not set aside: what a new sponsorship may take."""
        return self.received_rp - self.allocated_rp

    def balance_on(self, day: date) -> int:
        """Received and not set aside at the end of `day`, each movement counted from its own date:
        money returned on 1 August is not there on 15 March."""
        return sum(amount for on, amount in self.ledger if on <= day)

    def available_on(self, day: date) -> int:
        """The money a sponsorship made on `day` may use: the least balance from that day on. Exact
        with records entered out of order: it was there on `day` (received by then, not promised
        elsewhere, a return counted only from its date), and taking it leaves every later
        allocation still covered on its own date."""
        later = {on for on, _ in self.ledger if on > day}
        return min(self.balance_on(t) for t in {day, *later})


# -- decide -------------------------------------------------------------------------------


def decide(state: Donor, command: DonorCommand, limits: Limits = DEFAULT_LIMITS) -> list[DonorStreamEvent]:
    """The events a command records on the donor's stream, or a raised DomainError."""
    match command:
        case RegisterDonor():
            return _register(state, command, limits)
        case MakePledge():
            pledged_on = command.pledged_on or command.today
            _invalid_if(
                amount_errors("amount_rp", command.amount_rp, limits)
                + effective_errors("pledged_on", pledged_on, command.today, limits)
                + character_errors("note", command.note, allow_newlines=True)
            )
            donor = _existing(state, command.donor_id)
            return [
                PledgeMade(
                    **donor,
                    pledge_id=command.pledge_id,
                    amount_rp=command.amount_rp,
                    pledged_on=pledged_on,
                )
            ]
        case ReceiveContribution():
            return _receive(state, command, limits)
        case AllocateFunds():
            _invalid_if(amount_errors("amount_rp", command.amount_rp, limits))
            donor = _existing(state, command.donor_id)
            if command.sponsorship_id in state.allocated_to:
                raise Conflict(f"Sponsorship {command.sponsorship_id} is already funded by donor {command.donor_id}.")
            if command.amount_rp > state.available_rp:
                raise InsufficientFunds(command.donor_id, state.available_rp, command.amount_rp)
            on = command.on or command.today
            if command.amount_rp > state.available_on(on):
                raise InvalidCommand(
                    [
                        FieldError(
                            "sponsored_on",
                            f"on {on.isoformat()} the donor had {rupiah(max(state.available_on(on), 0))} received "
                            f"and not allocated; the money this sponsorship uses was received later",
                        )
                    ]
                )
            return [
                FundsAllocated(
                    **donor,
                    sponsorship_id=command.sponsorship_id,
                    family_id=command.family_id,
                    amount_rp=command.amount_rp,
                    allocated_on=on,
                )
            ]
        case ReturnFunds():
            donor = _existing(state, command.donor_id)
            if command.sponsorship_id not in state.allocated_to:
                raise UnknownAllocation(command.donor_id, command.sponsorship_id)
            # A sponsorship is released once, so its money comes back once: a repeat is a no-op.
            if command.sponsorship_id in state.returned_from or command.amount_rp <= 0:
                return []
            return [
                FundsReturned(
                    **donor,
                    sponsorship_id=command.sponsorship_id,
                    amount_rp=command.amount_rp,
                    reason=command.reason,
                    returned_on=command.on,
                )
            ]
        case _:
            assert_never(command)


def _invalid_if(errors: list[FieldError]) -> None:
    if errors:
        raise InvalidCommand(errors)


class _DonorIds(TypedDict):
    """What every event of a donor's stream carries after its registration."""

    donor_id: UUID
    donor_type: DonorType


def _existing(state: Donor, donor_id: UUID) -> _DonorIds:
    if state.donor_type is None:
        raise DonorNotFound(donor_id)
    return _DonorIds(donor_id=donor_id, donor_type=state.donor_type)


def _register(state: Donor, cmd: RegisterDonor, limits: Limits) -> list[DonorStreamEvent]:
    errors = text_errors("name", cmd.name, limits, required=True)
    errors += donor_type_errors(cmd.donor_type)
    errors += text_errors("contact", cmd.contact, limits, required=False)
    _invalid_if(errors)
    if state.registered:
        raise DonorAlreadyRegistered(cmd.donor_id)
    return [DonorRegistered(donor_id=cmd.donor_id, donor_type=cast(DonorType, cmd.donor_type), registered_on=cmd.today)]


def _receive(state: Donor, cmd: ReceiveContribution, limits: Limits) -> list[DonorStreamEvent]:
    errors = amount_errors("amount_rp", cmd.amount_rp, limits)
    errors += effective_errors("received_on", cmd.received_on, cmd.today, limits)
    if cmd.method not in METHODS:
        errors.append(FieldError("method", f"must be one of {', '.join(METHODS)}"))
    errors += text_errors("reference", cmd.reference, limits, required=True)
    _invalid_if(errors)
    donor = _existing(state, cmd.donor_id)
    return [
        ContributionReceived(
            **donor,
            contribution_id=cmd.contribution_id,
            amount_rp=cmd.amount_rp,
            received_on=cmd.received_on,
            method=cast(ContributionMethod, cmd.method),
        )
    ]


# -- evolve -------------------------------------------------------------------------------


def evolve(state: Donor, event: DonorStreamEvent) -> Donor:
    """Apply one recorded event. Never fails."""
    state = replace(state, version=state.version + 1)
    match event:
        case DonorRegistered():
            return replace(
                state, donor_id=event.donor_id, donor_type=event.donor_type, registered_on=event.registered_on
            )
        case PledgeMade():
            return replace(state, pledged_rp=state.pledged_rp + event.amount_rp)
        case ContributionReceived():
            return replace(
                state,
                received_rp=state.received_rp + event.amount_rp,
                receipts=(*state.receipts, (event.received_on, event.amount_rp)),
                ledger=(*state.ledger, (event.received_on, event.amount_rp)),
            )
        case FundsAllocated():
            return replace(
                state,
                allocated_rp=state.allocated_rp + event.amount_rp,
                allocated_to=state.allocated_to | {event.sponsorship_id},
                ledger=(*state.ledger, (event.allocated_on, -event.amount_rp)),
            )
        case FundsReturned():
            return replace(
                state,
                allocated_rp=state.allocated_rp - event.amount_rp,
                returned_rp=state.returned_rp + event.amount_rp,
                returned_from=state.returned_from | {event.sponsorship_id},
                ledger=(*state.ledger, (event.returned_on, event.amount_rp)),
            )
        case _:
            assert_never(event)


def fold(events: Iterable[DonorStreamEvent]) -> Donor:
    return reduce(evolve, events, Donor())
