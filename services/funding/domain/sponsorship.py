"""The Sponsorship aggregate: a donor's money set aside for one family, drawn as food is delivered
and released when the family's plan closes or the family exits. Pure: no I/O, clock or ids."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import reduce
from typing import assert_never
from uuid import UUID

from services.funding.domain.commands import (
    AllocateFunds,
    Draw,
    PayDelivery,
    Release,
    ReleaseUnplanned,
    SponsorFamily,
    SponsorshipCommand,
)
from services.funding.domain.donor import Donor
from services.funding.domain.donor import decide as decide_donor
from services.funding.domain.errors import DonorNotFound, FamilyNotEligible, FamilyNotSponsorable, PlanEnded
from services.funding.domain.rules import (
    DEFAULT_LIMITS,
    Limits,
    amount_errors,
    character_errors,
    effective_errors,
    start_date_errors,
)
from shared.contracts.funding import (
    DeliveryUnfunded,
    DonorStreamEvent,
    DonorType,
    FamilySponsored,
    ReleaseReason,
    SponsorshipDrawn,
    SponsorshipReleased,
    SponsorshipStreamEvent,
)
from shared.errors import Conflict, InvalidCommand
from shared.held_money import Held, reaching_date, still_held

# -- state --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sponsorship:
    sponsorship_id: UUID | None = None
    donor_id: UUID | None = None
    donor_type: DonorType | None = None
    family_id: UUID | None = None
    sponsored_on: date | None = None
    start_date: date | None = None  # from when the donor's money counts (FamilySponsored.start_date)
    version: int = 0
    amount_rp: int = 0
    drawn_rp: int = 0
    released_rp: int = 0
    released_reason: ReleaseReason | None = None
    deliveries: frozenset[UUID] = frozenset()  # deliveries already paid from this sponsorship

    @property
    def remaining_rp(self) -> int:
        return self.amount_rp - self.drawn_rp - self.released_rp

    @property
    def is_open(self) -> bool:
        return self.released_reason is None and self.remaining_rp > 0

    def held(self) -> Held:
        """Its money as aid counts it towards opening the family's plan."""
        assert self.sponsored_on is not None
        money_from = max(self.sponsored_on, self.start_date or self.sponsored_on)
        return Held(money_from, self.sponsored_on, self.amount_rp)

    def taken_by_plan(self, plan_start: date | None, hold_days: int) -> bool:
        """Whether the family's plan, starting `plan_start` (None: unknown), takes this money: it
        was still waiting when the plan started. Money whose hold ended first goes back instead."""
        assert self.sponsored_on is not None
        return plan_start is None or still_held(self.sponsored_on, plan_start, hold_days)


# -- decide ---------------------------------------------------------------------------------


def sponsor(
    donor: Donor, command: SponsorFamily, limits: Limits = DEFAULT_LIMITS
) -> tuple[list[DonorStreamEvent], list[SponsorshipStreamEvent]]:
    """A new sponsorship and the donor's allocation to it: one decision over both aggregates,
    which the handler appends in one transaction (the donor with its expected version)."""
    sponsored_on = command.effective_on()
    errors = amount_errors("amount_rp", command.amount_rp, limits)
    errors += effective_errors(
        "sponsored_on",
        sponsored_on,
        command.today,
        limits,
        not_before=command.enrolled_on,
        not_before_field="the family's enrolment",
    )
    if not errors:  # start_date is judged against the sponsorship's date, once that is valid
        errors += start_date_errors(command.start_date, sponsored_on, command.today, limits)
    errors += character_errors("note", command.note, allow_newlines=True)
    if errors:
        raise InvalidCommand(errors)
    if donor.donor_type is None:
        raise DonorNotFound(command.donor_id)
    if command.family_status != "enrolled" or command.kelurahan_code is None:
        raise FamilyNotSponsorable(command.family_id, command.family_status)
    if command.plan_last_day is not None and sponsored_on > command.plan_last_day:
        # A sponsorship dated after the plan's last day could never pay for its days. Refused by
        # the date, not by whether the clock has ended the plan yet: entered on its day (the plan
        # still waiting for late records) or late (the plan ended), it is refused alike.
        raise PlanEnded(command.family_id, command.plan_last_day)
    if command.plan_ended:
        raise PlanEnded(command.family_id)
    if not command.eligible:
        raise FamilyNotEligible(command.family_id, command.ineligible_since)
    allocation = decide_donor(
        donor,
        AllocateFunds(
            donor_id=command.donor_id,
            sponsorship_id=command.sponsorship_id,
            family_id=command.family_id,
            amount_rp=command.amount_rp,
            today=command.today,
            on=sponsored_on,
        ),
        limits,
    )
    sponsored = FamilySponsored(
        sponsorship_id=command.sponsorship_id,
        donor_id=command.donor_id,
        donor_type=donor.donor_type,
        family_id=command.family_id,
        amount_rp=command.amount_rp,
        start_date=command.start_date,
        kelurahan_code=command.kelurahan_code,
        sponsored_on=sponsored_on,
    )
    return allocation, [sponsored]


def decide(state: Sponsorship, command: SponsorshipCommand) -> list[SponsorshipStreamEvent]:
    """Reactions to aid and registry facts. A draw or release that has nothing to do is no event."""
    if state.sponsorship_id is None or state.donor_id is None or state.donor_type is None or state.family_id is None:
        raise Conflict(f"Sponsorship {command.sponsorship_id} does not exist.")
    sid, donor_id, donor_type, family_id = state.sponsorship_id, state.donor_id, state.donor_type, state.family_id
    match command:
        case Draw():
            amount = min(command.amount_rp, state.remaining_rp)
            if command.delivery_id in state.deliveries or state.released_reason is not None or amount <= 0:
                return []
            return [
                SponsorshipDrawn(
                    sponsorship_id=sid,
                    donor_id=donor_id,
                    donor_type=donor_type,
                    family_id=family_id,
                    amount_rp=amount,
                    delivery_id=command.delivery_id,
                    plan_id=command.plan_id,
                    drawn_on=command.drawn_on,
                    remaining_rp=state.remaining_rp - amount,
                    # Food first: a draw cut short by what remains pays less distribution.
                    distribution_rp=max(0, command.distribution_rp - (command.amount_rp - amount)),
                )
            ]
        case Release():
            # Released once: a plan closing after the family's exit (or the reverse) finds nothing left.
            if state.released_reason is not None or state.remaining_rp <= 0:
                return []
            return [
                SponsorshipReleased(
                    sponsorship_id=sid,
                    donor_id=donor_id,
                    donor_type=donor_type,
                    family_id=family_id,
                    amount_rp=state.remaining_rp,
                    reason=command.reason,
                    plan_id=command.plan_id,
                    released_on=command.on,
                )
            ]
        case ReleaseUnplanned():
            return _release_unplanned(state, command)
        case _:
            assert_never(command)


def hold_ends(sponsored_on: date, hold_days: int) -> date:
    """The last day a sponsorship waits for its family's plan."""
    return sponsored_on + timedelta(days=hold_days)


def _release_unplanned(state: Sponsorship, cmd: ReleaseUnplanned) -> list[SponsorshipStreamEvent]:
    """README, "Money held for a plan": released on the day its hold ends (an effective date, the
    same whenever the clock runs), once the records are known complete past that day."""
    assert state.sponsored_on is not None
    if state.released_reason is not None or state.remaining_rp <= 0 or state.drawn_rp > 0:
        return []
    if cmd.plan_known and state.taken_by_plan(cmd.plan_start, cmd.hold_days):
        return []
    ends = hold_ends(state.sponsored_on, cmd.hold_days)
    if cmd.known_through is None or cmd.known_through <= ends:
        return []
    if cmd.eligible and not cmd.plan_known and _reaches_by(cmd, ends):
        return []  # aid opens the plan from this money (it may not have told funding yet)
    return decide(state, Release(state.sponsorship_id or cmd.sponsorship_id, "no_plan", None, ends))


def _reaches_by(cmd: ReleaseUnplanned, ends: date) -> bool:
    """Whether the family's money reached the plan's minimum by `ends`, as aid opens plans: by
    effective dates, so a sponsorship made after this hold ended does not keep it waiting (entered
    before or after the clock noticed, it would otherwise decide differently)."""
    if cmd.family_money is None:
        return cmd.family_held_rp >= cmd.minimum_rp
    reached = reaching_date(cmd.family_money, cmd.minimum_rp, cmd.hold_days)
    # Reached on or after the family's last planned day, aid opens no plan (its window would end
    # before it starts): waiting for one would hold the money without end.
    too_late = reached is not None and cmd.plan_until is not None and reached >= cmd.plan_until
    return reached is not None and reached <= ends and not too_late


def split_delivery(open_remaining: Sequence[tuple[UUID, int]], value_rp: int) -> tuple[list[tuple[UUID, int]], int]:
    """Pay `value_rp` from sponsorships oldest first, never more than each one's remaining.

    Returns the draws and the shortfall (what no sponsorship could pay).
    """
    draws: list[tuple[UUID, int]] = []
    unpaid = value_rp
    for sponsorship_id, remaining in open_remaining:
        if unpaid <= 0:
            break
        amount = min(remaining, unpaid)
        if amount > 0:
            draws.append((sponsorship_id, amount))
            unpaid -= amount
    return draws, unpaid


def distribution_share(paid_before: int, amount: int, food_rp: int) -> int:
    """Of a draw of `amount` that starts `paid_before` rupiah into a delivery's cost, what pays
    distribution: the cost is the food (its first `food_rp` rupiah), then the distribution."""
    return max(0, paid_before + amount - max(food_rp, paid_before))


def pay_delivery(
    open_remaining: Sequence[tuple[UUID, int]], command: PayDelivery
) -> tuple[list[Draw], list[DeliveryUnfunded]]:
    """A delivery's payment: its food, then its distribution, from each sponsorship touched,
    oldest first, and, when they cannot pay it all, the unpaid rest as a fact. Food already
    delivered is never refused, so the shortfall is recorded rather than raised: `value_rp` +
    `distribution_rp` = the draws + `unfunded_rp`, always, and each draw says what of it paid
    distribution. Food first, so that what the donors' money paid is food before transport."""
    draws, unpaid = split_delivery(open_remaining, command.cost_rp)
    commands: list[Draw] = []
    paid = 0
    for sponsorship_id, amount in draws:
        share = distribution_share(paid, amount, command.value_rp)
        commands.append(Draw(sponsorship_id, command.delivery_id, command.plan_id, amount, command.delivered_on, share))
        paid += amount
    if unpaid <= 0:
        return commands, []
    unfunded = DeliveryUnfunded(
        delivery_id=command.delivery_id,
        plan_id=command.plan_id,
        family_id=command.family_id,
        kelurahan_code=command.kelurahan_code,
        value_rp=command.value_rp,
        drawn_rp=paid,
        unfunded_rp=unpaid,
        delivered_on=command.delivered_on,
        distribution_rp=command.distribution_rp,
        unfunded_distribution_rp=min(unpaid, command.distribution_rp),
    )
    return commands, [unfunded]


# -- evolve ---------------------------------------------------------------------------------


def evolve(state: Sponsorship, event: SponsorshipStreamEvent) -> Sponsorship:
    state = replace(state, version=state.version + 1)
    match event:
        case FamilySponsored():
            return replace(
                state,
                sponsorship_id=event.sponsorship_id,
                donor_id=event.donor_id,
                donor_type=event.donor_type,
                family_id=event.family_id,
                sponsored_on=event.sponsored_on,
                start_date=event.start_date,
                amount_rp=event.amount_rp,
            )
        case SponsorshipDrawn():
            return replace(
                state, drawn_rp=state.drawn_rp + event.amount_rp, deliveries=state.deliveries | {event.delivery_id}
            )
        case SponsorshipReleased():
            return replace(state, released_rp=state.released_rp + event.amount_rp, released_reason=event.reason)
        case _:
            assert_never(event)


def fold(events: Iterable[SponsorshipStreamEvent]) -> Sponsorship:
    return reduce(evolve, events, Sponsorship())
