"""The Plan aggregate: one family's food plan over N consecutive days — its state, `decide` and
`evolve`. Pure: no I/O, clock or ids."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from functools import reduce
from typing import Any, Literal, assert_never, cast, get_args
from uuid import UUID

from services.aid.domain.commands import (
    MAX_DESCRIPTION,
    MAX_PHOTO_REF,
    CloseForExit,
    ConfirmDelivery,
    EndWindow,
    PlanCommand,
    RecordDelivery,
    RecordIntervention,
    ReviewFunding,
    check_effective,
)
from services.aid.domain.coverage import ONE_DAY, Period, day_count, extend, holes
from services.aid.domain.errors import (
    ConfirmerRecordedDelivery,
    DeliveryAlreadyConfirmed,
    DeliveryNotFound,
    DeliveryOverlaps,
    OverBudget,
    PlanEnded,
    PlanNotActive,
    PlanNotFound,
)
from services.aid.domain.notes import ConfirmationNote, DeliveryNote, InterventionNote
from shared import held_money
from shared.contracts.aid import (
    AidDelivered,
    AidEvent,
    AidPlanBudgetIncreased,
    AidPlanClosed,
    AidPlanCompleted,
    AidPlanFullyFunded,
    AidPlanOpened,
    AidPlanUnderfunded,
    CoverageGapDetected,
    DeliveredItem,
    DeliveryConfirmed,
    EducationSessionHeld,
    HomeVisitDone,
    HomeVisitFlagged,
    InterventionKind,
    InterventionRecorded,
    PlanOutcome,
)
from shared.effective import known_through
from shared.errors import FieldError, InvalidCommand
from shared.programme import family_minimum_rp
from shared.repository import Fact

Status = Literal["none", "active", "completed", "incomplete", "closed"]
INTERVENTION_KINDS: tuple[str, ...] = get_args(InterventionKind)

# -- state --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    delivery_id: UUID
    period: Period
    value_rp: int
    delivered_on: date | None = None
    distribution_rp: int = 0  # bringing it: the plan's distribution rate x the days it covers


@dataclass(frozen=True)
class Plan:
    plan_id: UUID | None = None
    family_id: UUID | None = None
    kelurahan_code: str = ""
    status: Status = "none"
    window: Period | None = None
    daily_minimum_rp: int = 0
    # What bringing the food costs a day, as the plan opened with it; the budget pays it too.
    distribution_daily_rp: int = 0
    budget_rp: int = 0
    delivered_rp: int = 0  # the food's value
    distributed_rp: int = 0  # what bringing it cost
    covered: tuple[Period, ...] = ()  # merged, sorted
    # The last day accounted for, by a delivery or a recorded gap; None before the first.
    horizon: date | None = None
    deliveries: tuple[Delivery, ...] = ()
    confirmed: frozenset[UUID] = field(default_factory=frozenset)
    interventions: int = 0
    # What the remaining budget lacks to pay the daily minimum (food and distribution) for the
    # uncovered days, as last published (AidPlanUnderfunded / AidPlanFullyFunded); 0 once the plan
    # has ended.
    shortfall_rp: int = 0
    opened_on: date | None = None
    closed_on: date | None = None
    outcome: PlanOutcome | None = None
    version: int = 0

    @property
    def days(self) -> int:
        return self.window.days if self.window else 0

    @property
    def days_covered(self) -> int:
        return day_count(self.covered)

    @property
    def remaining_rp(self) -> int:
        return self.budget_rp - self.delivered_rp - self.distributed_rp

    @property
    def uncovered_days(self) -> int:
        return self.days - self.days_covered

    def shortfall_now(self) -> int:
        """What the remaining budget lacks to pay the daily minimum and the distribution for every
        uncovered day (gaps included: a late delivery may still fill them). 0 for a plan that has ended."""
        if self.status != "active":
            return 0
        needed = family_minimum_rp(
            self.daily_minimum_rp, self.uncovered_days, distribution_daily_rp=self.distribution_daily_rp
        )
        return max(0, needed - self.remaining_rp)

    @property
    def last_accounted(self) -> date:
        assert self.window is not None
        return self.horizon if self.horizon is not None else self.window.first - ONE_DAY

    @property
    def gaps(self) -> tuple[Period, ...]:
        """Uncovered days up to the last day accounted for; a later delivery may still fill them."""
        if self.window is None or self.horizon is None:
            return ()
        return holes(self.covered, Period(self.window.first, self.horizon))


def photo_ref_error(ref: str) -> str | None:
    """A photo reference names where the proof is kept (an object key, a URL): never the photo."""
    if not 1 <= len(ref) <= MAX_PHOTO_REF:
        return f"must be 1 to {MAX_PHOTO_REF} characters"
    if any(c.isspace() or not c.isprintable() for c in ref):
        return "must not contain spaces or control characters"
    if ref.lower().startswith("data:"):
        return "must reference the photo (an object key or URL), not contain it"
    return None


# -- decide -------------------------------------------------------------------------------


def decide(state: Plan, command: PlanCommand) -> list[Fact]:
    """The facts a command records on this plan: possibly none (reactions are idempotent)."""
    match command:
        case ReviewFunding():
            return _review_funding(state, command)
        case CloseForExit():
            return _close_for_exit(state, command)
        case EndWindow():
            return _end_window(state, command)
        case RecordDelivery():
            return _record_delivery(state, command)
        case ConfirmDelivery():
            return _confirm(state, command)
        case RecordIntervention():
            return _record_intervention(state, command)
        case _:
            assert_never(command)


def _review_funding(state: Plan, cmd: ReviewFunding) -> list[Fact]:
    """Open the plan once the enrolled family's sponsorships reach the minimum; later, follow
    the sponsorship total upwards. Level-based, not delta-based, so a replayed or redelivered
    sponsorship never raises the budget twice."""
    hold = cmd.rules.hold_days
    if state.status == "none":
        if cmd.enrolled_on is None or cmd.exited or not cmd.eligible or cmd.days <= 0:
            return []
        if held_money.reaching_date((s.held for s in cmd.sponsorships), cmd.minimum_rp, hold) is None:
            return []
        start = window_start(cmd)
        end = window_end(cmd, start)
        if end < start:  # the money came after the family's last planned day: nothing to plan
            return []
        # What is still held on the plan's first day: a sponsorship whose hold ended before it
        # goes back to its donor (funding), however long the clock took to notice.
        total = sum(s.amount_rp for s in cmd.sponsorships if held_money.still_held(s.held.sponsored_on, start, hold))
        event = AidPlanOpened(
            plan_id=cmd.plan_id,
            family_id=cmd.family_id,
            kelurahan_code=cmd.kelurahan_code,
            start_date=start,
            end_date=end,
            days=(end - start).days + 1,
            daily_minimum_rp=cmd.rules.daily_minimum_rp,
            budget_rp=total,
            opened_on=start,  # effective: the plan exists from the day it starts
            distribution_daily_rp=cmd.rules.distribution_daily_rp,
        )
        return [Fact(event)]
    if state.status != "active":
        return []  # an ended plan keeps its budget: funding releases what reaches it later
    assert state.window is not None
    # Money that is there only after the plan's last day cannot pay for its days: it is not
    # counted (funding releases it when the plan ends). Also what keeps late entry equal to
    # entry on the day: a top-up never depends on whether the clock step ran first.
    # Nor is money whose hold had ended before the plan started: funding gives it back.
    counted = [
        s
        for s in cmd.sponsorships
        if s.money_from <= state.window.last and held_money.still_held(s.held.sponsored_on, state.window.first, hold)
    ]
    total = sum(s.amount_rp for s in counted)
    if total <= state.budget_rp:
        return []
    increased = AidPlanBudgetIncreased(**_ids(state), increase_rp=total - state.budget_rp, budget_rp=total)
    on = max(state.window.first, *(s.money_from for s in counted))
    return _with_funding(state, [Fact(increased)], on)


def reaching_date(cmd: ReviewFunding) -> date:
    """The day from which, taking the sponsorships in the order their money is there (each until
    its hold ends, `shared.held_money`), the total first reaches the family's minimum: from that
    day the money for the whole plan is there. Independent of the order in which the sponsorships
    arrived."""
    reached = held_money.reaching_date((s.held for s in cmd.sponsorships), cmd.minimum_rp, cmd.rules.hold_days)
    if reached is None:
        raise ValueError("the sponsorships do not reach the minimum")
    return reached


def window_start(cmd: ReviewFunding) -> date:
    """The plan starts no earlier than the family's (effective) enrolment and the
    day the money for the whole plan was there, and within the effective-date bounds: not
    before the programme's start, not after today (funding refuses a future `start_date`; an
    older event that carries one starts the plan today)."""
    assert cmd.enrolled_on is not None
    start = max(cmd.enrolled_on, reaching_date(cmd), cmd.rules.programme_start)
    return min(start, cmd.today)


def window_end(cmd: ReviewFunding, start: date) -> date:
    """The plan's last day: its days after `start`, but never on or after the registry's
    `plan_until` (README, "Plan length"). Money that came late gives a shorter plan; what its
    budget does not spend goes back when it ends, as for any plan."""
    end = start + (cmd.days - 1) * ONE_DAY
    return end if cmd.plan_until is None else min(end, cmd.plan_until - ONE_DAY)


def _with_funding(before: Plan, facts: list[Fact], on: date) -> list[Fact]:
    """`facts` plus the shortfall's change they cause, dated `on` (effective)."""
    after = reduce(evolve, facts, before)
    now = after.shortfall_now()
    if now == after.shortfall_rp:
        return facts
    if now > 0:
        event: AidEvent = AidPlanUnderfunded(
            **_ids(after),
            shortfall_rp=now,
            uncovered_days=after.uncovered_days,
            remaining_rp=after.remaining_rp,
            detected_on=on,
        )
    else:
        event = AidPlanFullyFunded(**_ids(after), funded_on=on)
    return [*facts, Fact(event)]


def window_over(state: Plan, today: date, recorded_through: date | None, grace_days: int) -> bool:
    """README, "Plans in time": an active plan's days are over for good once BOTH the city's
    today and the latest effective date among aid's records are past its last day plus the
    recording grace. The clock alone is not enough: while a past programme is being entered in
    order, the records have not reached that day yet, so the plan still takes its deliveries;
    entered on their days, the records keep up with the clock. Either way the plan ends at the
    same point in the sequence of records, so late entry and entry on the day agree."""
    if state.status != "active" or state.window is None or recorded_through is None:
        return False
    deadline = state.window.last + grace_days * ONE_DAY
    return today > deadline and recorded_through > deadline


def _close_for_exit(state: Plan, cmd: CloseForExit) -> list[Fact]:
    """The family left: an active plan closes on the exit's date. An exit dated after the plan's
    last day plus the grace comes after its days were over: the plan ends incomplete on its last
    day, as the clock ends it. Whether the clock step or the exit is recorded first then no longer
    matters, so an exit entered on its day and one entered late give the same plan."""
    if state.status != "active":
        return []
    assert state.window is not None
    if cmd.exited_on > state.window.last + cmd.grace_days * ONE_DAY:
        return _window_ended(state)
    return [Fact(_closed(state, "exited", cmd.exited_on))]


def _end_window(state: Plan, cmd: EndWindow) -> list[Fact]:
    assert cmd.grace_days >= 0
    through = known_through(cmd.today, cmd.recorded_through, cmd.max_entry_delay_days, cmd.entered_through)
    if not window_over(state, cmd.today, through, cmd.grace_days):
        return []
    return _window_ended(state)


def _window_ended(state: Plan) -> list[Fact]:
    assert state.window is not None
    facts = []
    accounted = state.last_accounted
    if accounted < state.window.last:  # the trailing days: nothing was delivered for them
        facts.append(Fact(_gap(state, Period(accounted + ONE_DAY, state.window.last))))
    # Effective: the plan ended the day after its last day, whenever the step noticed it.
    return [*facts, Fact(_closed(state, "incomplete", state.window.last + ONE_DAY))]


def _record_delivery(state: Plan, cmd: RecordDelivery) -> list[Fact]:
    if state.status == "none":
        raise PlanNotFound(cmd.plan_id)
    assert state.window is not None
    rules = cmd.rules
    errors: list[FieldError] = []
    if cmd.period_to < cmd.period_from:
        errors.append(FieldError("period_to", "must not be before period_from"))
    elif (cmd.period_to - cmd.delivered_on).days > rules.max_ahead_days:
        # Food for months ahead is not a delivery the kader can vouch for, and
        # one record could complete the plan on its second day.
        errors.append(
            FieldError(
                "period_to", f"may be at most {rules.max_ahead_days} days after delivered_on ({cmd.delivered_on})"
            )
        )
    errors += check_effective(
        "delivered_on", cmd.delivered_on, cmd.today, rules, state.window.first, "the plan's start"
    )
    if not errors and cmd.delivered_on > state.window.last + rules.grace_days * ONE_DAY:
        errors.append(FieldError("delivered_on", f"is after the plan's last day, {state.window.last}"))
    if not errors and cmd.period_from < cmd.delivered_on:
        # Food is not eaten on days already past: a delivery covers days from its hand-over on,
        # or one backdated record could fill (and complete) a plan after the fact.
        errors.append(FieldError("period_from", f"must not be before delivered_on ({cmd.delivered_on})"))
    if cmd.value_rp <= 0:
        errors.append(FieldError("value_rp", "must be a positive number of rupiah"))
    items: list[DeliveredItem] = []
    for i, item in enumerate(cmd.items):
        food = rules.catalogue.match(item.name)
        if food is None:
            known = ", ".join(f.name for f in rules.catalogue.foods)
            errors.append(FieldError(f"items[{i}].name", f"is not in the city's food catalogue ({known})"))
        else:  # the catalogue's code and name go on the bus, never the typed text
            items.append(DeliveredItem(code=food.code, name=food.name, quantity=item.quantity, unit=item.unit))
    if errors:
        raise InvalidCommand(errors)
    if state.status != "active":
        raise PlanNotActive(cmd.plan_id, state.status)
    period = Period(cmd.period_from, cmd.period_to)
    if not period.within(state.window):
        where = f"within the plan's days, {state.window.first} to {state.window.last}"
        raise InvalidCommand(
            [
                FieldError(
                    "period_from" if period.first < state.window.first else "period_to", f"the period must lie {where}"
                )
            ]
        )
    minimum = state.daily_minimum_rp * period.days
    if cmd.value_rp < minimum:
        raise InvalidCommand(
            [
                FieldError(
                    "value_rp", f"at least Rp{state.daily_minimum_rp:,} a day: Rp{minimum:,} for {period.days} days"
                )
            ]
        )
    if clash := next((p for p in state.covered if p.overlaps(period)), None):
        raise DeliveryOverlaps(cmd.plan_id, clash)
    # Bringing the food is paid from the same budget, at the rate the plan opened with: computed
    # from the days covered, never typed, so a kader cannot over- or under-state it.
    distribution = state.distribution_daily_rp * period.days
    if cmd.value_rp + distribution > state.remaining_rp:
        raise OverBudget(cmd.plan_id, cmd.value_rp, state.remaining_rp, distribution)
    if any(d.delivery_id == cmd.delivery_id for d in state.deliveries):
        raise ValueError(f"delivery {cmd.delivery_id} is already recorded")  # ids are fresh: a bug

    facts: list[Fact] = []
    accounted = state.last_accounted
    if period.first > accounted + ONE_DAY:  # days passed with nothing delivered for them
        facts.append(Fact(_gap(state, Period(accounted + ONE_DAY, period.first - ONE_DAY))))
    delivered = AidDelivered(
        **_ids(state),
        delivery_id=cmd.delivery_id,
        period_from=period.first,
        period_to=period.last,
        days=period.days,
        value_rp=cmd.value_rp,
        delivered_on=cmd.delivered_on,
        items=items,
        distribution_rp=distribution,
    )
    typed = [item.name for item in cmd.items]  # free text: sealed with the note, erased with the family
    facts.append(Fact(delivered, DeliveryNote(recorded_by=cmd.recorded_by, items_typed=typed)))
    after = reduce(evolve, facts, state)
    if after.days_covered == after.days:
        on = cmd.delivered_on  # effective: the day the last food was handed over
        completed = AidPlanCompleted(
            **_ids(after), completed_on=on, delivered_rp=after.delivered_rp, days_covered=after.days_covered
        )
        return [*facts, Fact(completed), Fact(_closed(after, "completed", on))]
    # The delivery is a fact and is recorded; if what is left cannot pay the
    # daily minimum for the days still uncovered, say so now, not when the last one is refused.
    return _with_funding(state, facts, cmd.delivered_on)


def _confirm(state: Plan, cmd: ConfirmDelivery) -> list[Fact]:
    if state.status == "none":
        raise PlanNotFound(cmd.plan_id)
    delivery = next((d for d in state.deliveries if d.delivery_id == cmd.delivery_id), None)
    if delivery is None:
        raise DeliveryNotFound(cmd.delivery_id)
    if cmd.delivery_id in state.confirmed:
        raise DeliveryAlreadyConfirmed(cmd.delivery_id)
    if cmd.recorded_by is not None and cmd.recorded_by == cmd.confirmed_by:
        raise ConfirmerRecordedDelivery(cmd.delivery_id)
    errors = check_effective(
        "confirmed_on", cmd.confirmed_on, cmd.today, cmd.rules, delivery.delivered_on, "the delivery"
    )
    photo_ref = cmd.photo_ref.strip() if cmd.photo_ref is not None else None
    if photo_ref is not None and (problem := photo_ref_error(photo_ref)):
        errors.append(FieldError("photo_ref", problem))
    if errors:
        raise InvalidCommand(errors)
    # Confirming receipt stays possible after the plan ended: the last delivery often ends it.
    # The photo reference is free text: it stays in aid, sealed; the bus gets an opaque id.
    photo_id = (cmd.photo_id or cmd.delivery_id) if photo_ref is not None else None
    confirmed = DeliveryConfirmed(
        **_ids(state),
        delivery_id=cmd.delivery_id,
        confirmed_on=cmd.confirmed_on,
        confirmed_by=cmd.confirmed_by,
        photo_id=photo_id,
        has_photo=photo_ref is not None,
    )
    return [Fact(confirmed, ConfirmationNote(photo_ref=photo_ref) if photo_ref is not None else None)]


def _record_intervention(state: Plan, cmd: RecordIntervention) -> list[Fact]:
    if state.status == "none":
        raise PlanNotFound(cmd.plan_id)
    description = cmd.description.strip()
    errors: list[FieldError] = []
    if cmd.kind not in INTERVENTION_KINDS:
        errors.append(FieldError("kind", f"must be one of {', '.join(INTERVENTION_KINDS)}"))
    if not description or len(description) > MAX_DESCRIPTION:
        errors.append(FieldError("description", f"must be 1 to {MAX_DESCRIPTION} characters"))
    if state.window is not None:
        errors += check_effective("done_on", cmd.done_on, cmd.today, cmd.rules, state.window.first, "the plan's start")
    if cmd.value_rp < 0:
        errors.append(FieldError("value_rp", "must not be negative"))
    errors += _source_errors(cmd)
    if errors:
        raise InvalidCommand(errors)
    # After completion a family may still get a latrine or a referral; after its exit, not.
    if state.status == "closed":
        raise PlanEnded(cmd.plan_id)
    event = InterventionRecorded(
        **_ids(state),
        intervention_id=cmd.intervention_id,
        kind=cast(InterventionKind, cmd.kind),
        done_on=cmd.done_on,
        value_rp=cmd.value_rp,
        funded_by="in_kind",
        source_donor_id=cmd.source_donor_id,
        source_organisation=cmd.source_organisation,
    )
    return [Fact(event, InterventionNote(description=description, recorded_by=cmd.recorded_by))]


# An organisation's code: it goes on the bus and into reports, so a code, never a sentence.
ORGANISATION_CODE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def _source_errors(cmd: RecordIntervention) -> list[FieldError]:
    """An intervention is given in kind (sponsorships pay food only), from at most one named source."""
    if cmd.funded_by != "in_kind":
        return [FieldError("funded_by", "must be in_kind: sponsorships pay the family's food only")]
    if cmd.source_organisation is None:
        return []
    if cmd.source_donor_id is not None:
        return [FieldError("source_organisation", "name one source: a donor or an organisation, not both")]
    if not ORGANISATION_CODE.fullmatch(cmd.source_organisation):
        return [
            FieldError(
                "source_organisation",
                "must be an organisation's code: 1 to 64 lowercase letters, digits, '.', '_' or '-'",
            )
        ]
    return []


def _ids(state: Plan) -> dict[str, Any]:
    return {"plan_id": state.plan_id, "family_id": state.family_id, "kelurahan_code": state.kelurahan_code}


def _gap(state: Plan, gap: Period) -> CoverageGapDetected:
    return CoverageGapDetected(**_ids(state), gap_from=gap.first, gap_to=gap.last, days=gap.days)


def _closed(state: Plan, outcome: PlanOutcome, on: date) -> AidPlanClosed:
    return AidPlanClosed(
        **_ids(state),
        outcome=outcome,
        closed_on=on,
        delivered_rp=state.delivered_rp,
        unspent_rp=state.remaining_rp,
        days_covered=state.days_covered,
    )


# -- evolve -------------------------------------------------------------------------------

_OUTCOME_STATUS: dict[PlanOutcome, Status] = {"completed": "completed", "incomplete": "incomplete", "exited": "closed"}


def evolve(state: Plan, fact: Fact) -> Plan:
    """Apply one recorded fact. Never fails."""
    event = cast(AidEvent, fact.event)
    return _apply(replace(state, version=state.version + 1), event)


def _apply(state: Plan, event: AidEvent) -> Plan:
    match event:
        case AidPlanOpened():
            return replace(
                state,
                plan_id=event.plan_id,
                family_id=event.family_id,
                kelurahan_code=event.kelurahan_code,
                status="active",
                window=Period(event.start_date, event.end_date),
                daily_minimum_rp=event.daily_minimum_rp,
                distribution_daily_rp=event.distribution_daily_rp,
                budget_rp=event.budget_rp,
                opened_on=event.opened_on,
            )
        case AidPlanBudgetIncreased():
            return replace(state, budget_rp=event.budget_rp)
        case AidPlanUnderfunded():
            return replace(state, shortfall_rp=event.shortfall_rp)
        case AidPlanFullyFunded():
            return replace(state, shortfall_rp=0)
        case AidDelivered():
            period = Period(event.period_from, event.period_to)
            delivery = Delivery(event.delivery_id, period, event.value_rp, event.delivered_on, event.distribution_rp)
            return replace(
                state,
                delivered_rp=state.delivered_rp + event.value_rp,
                distributed_rp=state.distributed_rp + event.distribution_rp,
                covered=extend(state.covered, period),
                deliveries=(*state.deliveries, delivery),
                horizon=max(state.last_accounted, period.last),
            )
        case DeliveryConfirmed():
            return replace(state, confirmed=state.confirmed | {event.delivery_id})
        case CoverageGapDetected():
            return replace(state, horizon=max(state.last_accounted, event.gap_to))
        case AidPlanCompleted():
            return state  # the AidPlanClosed that follows it ends the plan
        case AidPlanClosed():
            return replace(
                state,
                status=_OUTCOME_STATUS[event.outcome],
                outcome=event.outcome,
                closed_on=event.closed_on,
                shortfall_rp=0,
            )
        case InterventionRecorded():
            return replace(state, interventions=state.interventions + 1)
        case EducationSessionHeld() | HomeVisitFlagged() | HomeVisitDone():
            return state  # a session's or a home visit's stream; never on a plan stream
        case _:
            assert_never(event)


def fold(facts: Iterable[Fact]) -> Plan:
    """The plan as its recorded facts leave it."""
    return reduce(evolve, facts, Plan())


__all__ = [
    "Delivery",
    "Plan",
    "Status",
    "decide",
    "evolve",
    "fold",
    "known_through",
    "photo_ref_error",
    "reaching_date",
    "window_over",
    "window_start",
]
