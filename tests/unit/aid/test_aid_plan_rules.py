"""Issue 12 and 13 rules on the Plan aggregate: the shortfall and its events (13 #2), the window's
start (13 #3), how far ahead a delivery may run (13 #9c), house repair (13 #10), and the property
that entering a past programme late gives what entering it on its days gives (12)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID, uuid5

import pytest
from aid_examples import FAMILY, MEDONO, S1, S2, START
from hypothesis import given, settings
from hypothesis import strategies as st

from services.aid.domain import EndWindow, PlanRules, RecordDelivery, RecordIntervention, ReviewFunding, Sponsorship
from services.aid.domain.plan import Plan, decide, evolve, fold
from shared.contracts.aid import (
    AidDelivered,
    AidPlanBudgetIncreased,
    AidPlanFullyFunded,
    AidPlanOpened,
    AidPlanUnderfunded,
    DeliveredItem,
)
from shared.errors import DomainError, InvalidCommand
from shared.repository import Fact
from shared.testing import refused_fields
from shared.testing.facts import plan_opened

PLAN = UUID("00000000-0000-0000-0000-00000000a001")
RULES = PlanRules()
ITEMS = (DeliveredItem(name="telur", quantity=30, unit="butir"),)


def review(*sponsorships: Sponsorship, enrolled_on: date = START, today: date = date(2025, 12, 31)) -> ReviewFunding:
    return ReviewFunding(PLAN, FAMILY, MEDONO, enrolled_on, False, sponsorships, RULES, today)


def opened(*sponsorships: Sponsorship) -> list[Fact]:
    return decide(Plan(), review(*(sponsorships or (Sponsorship(S1, 2_700_000, START),))))


def deliver(first: date, days: int, value: int, n: int = 1, today: date | None = None) -> RecordDelivery:
    return RecordDelivery(
        PLAN, uuid5(PLAN, str(n)), first, first + timedelta(days=days - 1), value, ITEMS, first, today or first, "k"
    )


class TestShortfall:
    def test_a_delivery_above_the_minimum_is_recorded_and_the_shortfall_shown_at_once(self) -> None:
        # Rp2,700,000; Rp150,000 for 7 days leaves Rp2,550,000 for 173 days,
        # which need Rp2,595,000: Rp45,000 short.
        history = opened()
        facts = decide(fold(history), deliver(START, 7, 150_000))
        assert [type(f.event) for f in facts] == [AidDelivered, AidPlanUnderfunded]
        assert facts[1].event == AidPlanUnderfunded(
            plan_id=PLAN,
            family_id=FAMILY,
            kelurahan_code=MEDONO,
            shortfall_rp=45_000,
            uncovered_days=173,
            remaining_rp=2_550_000,
            detected_on=START,
        )
        assert fold([*history, *facts]).shortfall_rp == 45_000

    def test_an_unchanged_shortfall_is_not_published_again_and_a_larger_one_is(self) -> None:
        history = [*opened(), *decide(fold(opened()), deliver(START, 7, 150_000))]
        same = decide(fold(history), deliver(START + timedelta(days=7), 7, 105_000, n=2))
        assert [type(f.event) for f in same] == [AidDelivered]
        more = decide(fold(history), deliver(START + timedelta(days=7), 7, 110_000, n=2))
        assert isinstance(more[1].event, AidPlanUnderfunded) and more[1].event.shortfall_rp == 50_000

    def test_a_top_up_raises_the_budget_and_clears_the_shortfall(self) -> None:
        history = [*opened(), *decide(fold(opened()), deliver(START, 7, 150_000))]
        top_up = Sponsorship(S2, 45_000, START + timedelta(days=10))
        facts = decide(fold(history), review(Sponsorship(S1, 2_700_000, START), top_up))
        assert [type(f.event) for f in facts] == [AidPlanBudgetIncreased, AidPlanFullyFunded]
        assert facts[1].event == AidPlanFullyFunded(
            plan_id=PLAN, family_id=FAMILY, kelurahan_code=MEDONO, funded_on=START + timedelta(days=10)
        )
        assert fold([*history, *facts]).shortfall_rp == 0

    def test_money_that_is_there_only_after_the_plans_days_does_not_top_it_up(self) -> None:
        after = Sponsorship(S2, 500_000, START + timedelta(days=180))
        assert decide(fold(opened()), review(Sponsorship(S1, 2_700_000, START), after)) == []


class TestWindowStart:
    def test_the_window_starts_no_earlier_than_the_day_the_money_was_given(self) -> None:
        # The donor asked for 1 March, but gave the money on 20 March: days before it were never paid.
        given_late = Sponsorship(S1, 2_700_000, START, sponsored_on=date(2025, 3, 20))
        [fact] = decide(Plan(), review(given_late))
        assert isinstance(fact.event, AidPlanOpened)
        assert (fact.event.start_date, fact.event.opened_on) == (date(2025, 3, 20), date(2025, 3, 20))

    def test_the_window_starts_no_earlier_than_the_effective_enrolment(self) -> None:
        [fact] = decide(Plan(), review(Sponsorship(S1, 2_700_000, START), enrolled_on=date(2025, 4, 2)))
        assert isinstance(fact.event, AidPlanOpened) and fact.event.start_date == date(2025, 4, 2)

    def test_a_start_date_beyond_today_starts_the_plan_today(self) -> None:
        far = Sponsorship(S1, 2_700_000, date(2099, 1, 1))
        [fact] = decide(Plan(), review(far, today=date(2025, 6, 1)))
        assert isinstance(fact.event, AidPlanOpened) and fact.event.start_date == date(2025, 6, 1)

    def test_a_start_before_the_programme_is_the_programme_start(self) -> None:
        early = Sponsorship(S1, 2_700_000, date(2024, 6, 1))
        [fact] = decide(Plan(), review(early, enrolled_on=date(2024, 6, 1)))
        assert isinstance(fact.event, AidPlanOpened) and fact.event.start_date == RULES.programme_start


class TestAhead:
    def test_a_delivery_may_run_fourteen_days_ahead_of_its_handing_over_and_no_more(self) -> None:
        assert decide(fold(opened()), deliver(START, 15, 225_000)) != []
        with pytest.raises(InvalidCommand) as exc:
            decide(fold(opened()), deliver(START, 16, 240_000))
        assert [e.field for e in exc.value.errors] == ["period_to"]

    def test_one_delivery_cannot_complete_the_plan_on_its_second_day(self) -> None:
        with pytest.raises(InvalidCommand):
            decide(fold(opened()), deliver(START, 180, 2_700_000, today=START + timedelta(days=1)))


def test_house_repair_is_an_intervention_kind() -> None:
    cmd = RecordIntervention(PLAN, S2, "house_repair", "atap diganti", START, 3_000_000, START, "k")
    [fact] = decide(fold(opened()), cmd)
    assert fact.event.model_dump()["kind"] == "house_repair"


# -- late entry gives the same state as entry on the day -----------------------------

PLANS = [UUID(int=0xA000 + i) for i in range(3)]
GRACE = 3


@st.composite
def programmes(draw: st.DrawFn) -> list[tuple[date, int, RecordDelivery]]:
    """Up to three plans starting in the first weeks, each with deliveries of 1 to 14 days
    handed over on their first day, sometimes skipping days (gaps), worth the minimum
    or more (shortfalls), stopping at random (plans that end incomplete) or covering all days."""
    records: list[tuple[date, int, RecordDelivery]] = []
    for p, plan_id in enumerate(PLANS[: draw(st.integers(1, 3))]):
        start = START + timedelta(days=draw(st.integers(0, 20)))
        day, n = start, 0
        stop = draw(st.integers(0, 200))
        while day <= start + timedelta(days=179) and (day - start).days < stop:
            day += timedelta(days=draw(st.sampled_from([0, 0, 0, 1, 5])))
            days = min(draw(st.integers(1, 14)), (start + timedelta(days=179) - day).days + 1)
            if days <= 0:
                break
            handed = day  # a delivery covers days from its hand-over on
            value = 15_000 * days + draw(st.sampled_from([0, 0, 0, 5_000]))
            cmd = RecordDelivery(
                plan_id, uuid5(plan_id, str(n)), day, day + timedelta(days=days - 1), value, ITEMS, handed, handed, "k"
            )
            records.append((handed, p, cmd))
            day, n = day + timedelta(days=days), n + 1
        records.append((start, p, RecordDelivery(plan_id, UUID(int=0), start, start, 0, ITEMS, start, start, "open")))
    return records


def open_fact(p: int, start: date) -> Fact:
    budget = 2_700_000 + 50_000 * p
    return Fact(plan_opened(PLANS[p], PLANS[p], start, budget_rp=budget, kelurahan=MEDONO))


def run(records: list[tuple[date, int, RecordDelivery]], clock: list[date] | None, end: date) -> list[list[object]]:
    """Apply the records in effective-date order. `clock` None: late entry, the clock at `end`
    and its step run after every record; else the clock steps through those days, its step
    first each day, then that day's records. Returns each plan's events (the recording's
    `today` is not part of them)."""
    plans: dict[int, Plan] = {}
    log: dict[int, list[object]] = {p: [] for p in range(3)}
    through: date | None = None

    def record(p: int, facts: list[Fact]) -> None:
        for f in facts:
            plans[p] = evolve(plans[p], f)
            log[p].append(f.event)

    def step(today: date) -> None:
        for p, state in plans.items():
            record(p, decide(state, EndWindow(state.plan_id or PLANS[p], today, through, GRACE)))

    ordered = sorted(records, key=lambda r: (r[0], r[2].recorded_by != "open", r[1], r[2].period_from))
    days = clock if clock is not None else [end]
    i = 0
    for today in days:
        if clock is not None:
            step(today)
        while i < len(ordered) and (clock is None or ordered[i][0] <= today):
            on, p, cmd = ordered[i]
            i += 1
            through = on if through is None else max(through, on)
            if cmd.recorded_by == "open":
                plans[p] = Plan()
                record(p, [open_fact(p, cmd.period_from)])
            else:
                try:
                    record(p, decide(plans[p], replace(cmd, today=today, rules=replace(RULES, grace_days=GRACE))))
                except DomainError:
                    pass  # refused the same way in both, or the property below fails
            if clock is None:
                step(today)
    step(days[-1])
    return [log[p] for p in range(3)]


@settings(max_examples=60, deadline=None)
@given(programmes())
def test_entering_a_past_programme_late_gives_the_same_plans_as_entering_it_on_its_days(
    records: list[tuple[date, int, RecordDelivery]],
) -> None:
    end = START + timedelta(days=260)
    days = [START + timedelta(days=n) for n in range((end - START).days + 1)]
    on_their_days = run(records, days, end)
    late = run(records, None, end)
    assert late == on_their_days


class TestDaysAlreadyPast:
    """A delivery covers days from its hand-over on: food is not eaten on days already past."""

    @staticmethod
    def handed_over(on_day: int, first_day: int, days: int, value_rp: int) -> RecordDelivery:
        """Handed over on the plan's day `on_day` (1-based), covering `days` days from `first_day`."""
        handed, first = START + timedelta(days=on_day - 1), START + timedelta(days=first_day - 1)
        return RecordDelivery(
            PLAN,
            uuid5(PLAN, f"{on_day}-{first_day}"),
            first,
            first + timedelta(days=days - 1),
            value_rp,
            ITEMS,
            handed,
            handed,
            "k",
        )

    def test_a_backdated_delivery_cannot_complete_a_whole_plan(self) -> None:
        # Given an open plan; when a delivery handed over on day 170 claims days 1 to 180, then it
        # is refused naming period_from, and the plan does not complete.
        late = self.handed_over(170, 1, 180, 2_700_000)
        assert refused_fields(lambda: decide(fold(opened()), late)) == ["period_from"]

    def test_a_delivery_for_days_a_month_ago_is_refused(self) -> None:
        old = self.handed_over(41, 1, 7, 105_000)
        assert refused_fields(lambda: decide(fold(opened()), old)) == ["period_from"]

    def test_a_delivery_starting_on_its_hand_over_day_is_recorded(self) -> None:
        cmd = self.handed_over(41, 41, 7, 105_000)
        assert any(isinstance(f.event, AidDelivered) for f in decide(fold(opened()), cmd))
