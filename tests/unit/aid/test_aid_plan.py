"""The Plan aggregate, given/when/then: opening from sponsorships, deliveries, gaps, completion,
the clock's end of the window, exits, confirmations and interventions."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from aid_examples import FAMILY, MEDONO, S1, S2, START

from services.aid.domain import (
    CloseForExit,
    ConfirmationNote,
    ConfirmDelivery,
    ConfirmerRecordedDelivery,
    DeliveryAlreadyConfirmed,
    DeliveryNote,
    DeliveryNotFound,
    DeliveryOverlaps,
    EndWindow,
    InterventionNote,
    OverBudget,
    PlanEnded,
    PlanNotActive,
    PlanNotFound,
    PlanRules,
    RecordDelivery,
    RecordIntervention,
    ReviewFunding,
    Sponsorship,
    plan_id_for,
)
from services.aid.domain.coverage import Period
from services.aid.domain.plan import decide, fold
from shared.contracts.aid import (
    AidDelivered,
    AidPlanBudgetIncreased,
    AidPlanClosed,
    AidPlanCompleted,
    AidPlanOpened,
    CoverageGapDetected,
    DeliveredItem,
    DeliveryConfirmed,
    InterventionRecorded,
)
from shared.errors import InvalidCommand
from shared.repository import Fact

PLAN = plan_id_for(FAMILY)
D1 = UUID("00000000-0000-0000-0000-0000000000d1")
D2 = UUID("00000000-0000-0000-0000-0000000000d2")
D3 = UUID("00000000-0000-0000-0000-0000000000d3")
PHOTO = UUID("00000000-0000-0000-0000-0000000000f7")
RULES = PlanRules()
END = START + timedelta(days=179)
TODAY = date(2025, 3, 1)
LATER = date(2025, 12, 31)  # the clock when a plan opens from sponsorships: after any start it tests
ITEMS = (DeliveredItem(name="eggs", quantity=30, unit="piece"),)
IDS: dict[str, Any] = {"plan_id": PLAN, "family_id": FAMILY, "kelurahan_code": MEDONO}


def day(n: int) -> date:
    """The plan's n-th day, 1-based."""
    return START + timedelta(days=n - 1)


def opened(budget: int = 2_700_000) -> AidPlanOpened:
    return AidPlanOpened(
        **IDS, start_date=START, end_date=END, days=180, daily_minimum_rp=15_000, budget_rp=budget, opened_on=START
    )


def delivered(delivery_id: UUID, first: int, last: int, value: int | None = None) -> Fact:
    days = last - first + 1
    event = AidDelivered(
        **IDS,
        delivery_id=delivery_id,
        period_from=day(first),
        period_to=day(last),
        days=days,
        value_rp=value if value is not None else 15_000 * days,
        delivered_on=day(first),
        items=list(ITEMS),
    )
    return Fact(event, DeliveryNote(recorded_by="kader-1"))


def review(
    *sponsorships: Sponsorship, enrolled_on: date | None = START, exited: bool = False, rules: PlanRules = RULES
) -> ReviewFunding:
    return ReviewFunding(
        plan_id=PLAN,
        family_id=FAMILY,
        kelurahan_code=MEDONO,
        enrolled_on=enrolled_on,
        exited=exited,
        sponsorships=sponsorships,
        rules=rules,
        today=LATER,
    )


def deliver(
    first: int, last: int, value: int | None = None, *, delivery_id: UUID = D2, today: date | None = None
) -> RecordDelivery:
    days = last - first + 1
    # Handed over on its first day: a delivery covers days from its hand-over on.
    handed_over = max(START, day(first))
    return RecordDelivery(
        plan_id=PLAN,
        delivery_id=delivery_id,
        period_from=day(first),
        period_to=day(last),
        value_rp=value if value is not None else 15_000 * days,
        items=ITEMS,
        delivered_on=handed_over,
        today=today or handed_over,
        recorded_by="kader-1",
    )


def events(facts: list[Fact]) -> list[object]:
    return [f.event for f in facts]


def given(*facts: Fact | AidPlanOpened) -> list[Fact]:
    return [f if isinstance(f, Fact) else Fact(f) for f in facts]


def fields_of(exc: pytest.ExceptionInfo[InvalidCommand]) -> list[str]:
    return [e.field for e in exc.value.errors]


class TestOpening:
    def test_a_plan_opens_when_the_enrolled_familys_sponsorship_reaches_the_minimum(self) -> None:
        when = review(Sponsorship(S1, 2_700_000, START))
        assert events(decide(fold([]), when)) == [opened()]

    def test_sponsorships_below_the_minimum_open_nothing(self) -> None:
        assert decide(fold([]), review(Sponsorship(S1, 2_699_999, START))) == []

    def test_an_unenrolled_or_exited_family_gets_no_plan(self) -> None:
        money = Sponsorship(S1, 3_000_000, START)
        assert decide(fold([]), review(money, enrolled_on=None)) == []
        assert decide(fold([]), review(money, exited=True)) == []

    def test_a_family_no_longer_eligible_gets_no_new_plan_but_a_running_one_takes_its_top_up(self) -> None:
        money = Sponsorship(S1, 3_000_000, START)
        assert decide(fold([]), replace(review(money), eligible=False)) == []
        running = fold([Fact(opened())])
        [fact] = decide(running, replace(review(money), eligible=False))
        assert isinstance(fact.event, AidPlanBudgetIncreased) and fact.event.budget_rp == 3_000_000

    def test_the_budget_is_the_familys_total_sponsorship(self) -> None:
        [fact] = decide(fold([]), review(Sponsorship(S1, 2_000_000, START), Sponsorship(S2, 1_500_000, START)))
        assert isinstance(fact.event, AidPlanOpened) and fact.event.budget_rp == 3_500_000

    def test_the_start_is_the_day_the_sponsorships_reach_the_minimum_in_start_date_order(self) -> None:
        later, earlier = Sponsorship(S1, 1_500_000, date(2025, 3, 20)), Sponsorship(S2, 1_500_000, date(2025, 3, 5))
        for order in ((later, earlier), (earlier, later)):  # the same, whichever arrived first
            [fact] = decide(fold([]), review(*order, enrolled_on=date(2025, 3, 1)))
            assert isinstance(fact.event, AidPlanOpened)
            assert fact.event.start_date == date(2025, 3, 20)
            assert fact.event.end_date == date(2025, 3, 20) + timedelta(days=179)

    def test_the_start_is_never_before_the_enrolment(self) -> None:
        [fact] = decide(fold([]), review(Sponsorship(S1, 2_700_000, date(2025, 2, 1)), enrolled_on=START))
        assert isinstance(fact.event, AidPlanOpened) and fact.event.start_date == START

    def test_another_city_configures_its_own_minimum_and_duration(self) -> None:
        maluku = PlanRules(daily_minimum_rp=20_000, days=200)
        assert decide(fold([]), review(Sponsorship(S1, 3_999_999, START), rules=maluku)) == []
        [fact] = decide(fold([]), review(Sponsorship(S1, 4_000_000, START), rules=maluku))
        assert isinstance(fact.event, AidPlanOpened)
        assert (fact.event.days, fact.event.daily_minimum_rp) == (200, 20_000)
        assert fact.event.end_date == START + timedelta(days=199)

    def test_a_review_of_an_open_plan_with_the_same_money_changes_nothing(self) -> None:
        assert decide(fold(given(opened())), review(Sponsorship(S1, 2_700_000, START))) == []


class TestHeldMoney:
    """Funding gives back a sponsorship still without a plan when its hold ends (60 days); aid
    counts it towards a plan only while it is held, so the plan does not depend on whether a
    later sponsorship was entered before or after funding's clock noticed that end."""

    HELD = PlanRules(hold_days=60)

    def test_money_whose_hold_ended_does_not_open_a_plan_with_money_given_later(self) -> None:
        # Given Rp1,500,000 sponsored on the first day (held 60 days more, not yet given back);
        early = Sponsorship(S1, 1_500_000, START, START)
        # when Rp1,500,000 more comes 88 days later, then no plan opens: on that day only it is held.
        late = Sponsorship(S2, 1_500_000, day(89), day(89))
        assert decide(fold([]), review(early, late, rules=self.HELD)) == []
        # On the hold's last day, the two open the plan on the day the second came.
        within = Sponsorship(S2, 1_500_000, day(61), day(61))
        [fact] = decide(fold([]), review(early, within, rules=self.HELD))
        assert isinstance(fact.event, AidPlanOpened) and fact.event.start_date == day(61)
        assert fact.event.budget_rp == 3_000_000

    def test_a_plan_opened_after_a_hold_ended_neither_counts_that_money_nor_is_topped_up_by_it(self) -> None:
        early = Sponsorship(S1, 1_500_000, START, START)
        enough = Sponsorship(S2, 2_700_000, day(89), day(89))
        [fact] = decide(fold([]), review(early, enough, rules=self.HELD))
        assert isinstance(fact.event, AidPlanOpened) and fact.event.budget_rp == 2_700_000
        assert decide(fold([fact]), review(early, enough, rules=self.HELD)) == []


class TestBudget:
    def test_a_later_sponsorship_raises_the_budget_by_its_amount(self) -> None:
        when = review(Sponsorship(S1, 2_700_000, START), Sponsorship(S2, 500_000, START))
        assert events(decide(fold(given(opened())), when)) == [
            AidPlanBudgetIncreased(**IDS, increase_rp=500_000, budget_rp=3_200_000)
        ]

    def test_the_same_sponsorship_seen_again_does_not_raise_it_twice(self) -> None:
        raised = AidPlanBudgetIncreased(**IDS, increase_rp=500_000, budget_rp=3_200_000)
        when = review(Sponsorship(S1, 2_700_000, START), Sponsorship(S2, 500_000, START))
        assert decide(fold(given(opened(), Fact(raised))), when) == []

    def test_an_ended_plan_keeps_its_budget(self) -> None:
        closed = AidPlanClosed(
            **IDS, outcome="exited", closed_on=TODAY, delivered_rp=0, unspent_rp=2_700_000, days_covered=0
        )
        when = review(Sponsorship(S1, 2_700_000, START), Sponsorship(S2, 500_000, START))
        assert decide(fold(given(opened(), Fact(closed))), when) == []

    def test_a_delivery_beyond_the_remaining_budget_is_refused(self) -> None:
        history = given(opened(), delivered(D1, 1, 170, value=2_600_000))
        with pytest.raises(OverBudget):
            decide(fold(history), deliver(171, 180))  # Rp150,000 needed, Rp100,000 left


class TestDeliveries:
    def test_a_delivery_of_at_least_the_daily_minimum_is_recorded(self) -> None:
        facts = decide(fold(given(opened())), deliver(1, 7))
        assert events(facts) == [
            AidDelivered(
                **IDS,
                delivery_id=D2,
                period_from=day(1),
                period_to=day(7),
                days=7,
                value_rp=105_000,
                delivered_on=day(1),
                items=[DeliveredItem(code="TELUR", name="telur ayam", quantity=30, unit="piece")],
            )
        ]
        assert facts[0].private == DeliveryNote(recorded_by="kader-1", items_typed=["eggs"])

    def test_items_are_matched_to_the_food_catalogue_and_only_its_codes_go_on_the_bus(self) -> None:
        # Given a kader who types a name the catalogue knows by an alias, and one it does not know;
        typed = (
            DeliveredItem(name="  Beras ", quantity=5, unit="kg"),
            DeliveredItem(name="beras untuk Ibu Siti", quantity=1, unit="kg"),
        )
        # when the delivery is recorded, then 422 names the unknown line;
        with pytest.raises(InvalidCommand) as exc:
            decide(fold(given(opened())), replace(deliver(1, 7), items=typed))
        assert fields_of(exc) == ["items[1].name"]
        # and with known names only, the event carries the catalogue's code and name; the typed
        # text stays in the sealed note.
        [fact] = decide(fold(given(opened())), replace(deliver(1, 7), items=typed[:1]))
        assert isinstance(fact.event, AidDelivered)
        assert [(i.code, i.name) for i in fact.event.items] == [("BERAS", "beras")]
        assert "  Beras " not in fact.event.model_dump_json()
        assert fact.private == DeliveryNote(recorded_by="kader-1", items_typed=["  Beras "])

    def test_under_the_daily_minimum_is_refused_naming_the_value(self) -> None:
        with pytest.raises(InvalidCommand) as exc:
            decide(fold(given(opened())), deliver(1, 7, value=104_999))
        assert fields_of(exc) == ["value_rp"]

    @pytest.mark.parametrize(
        ("first", "last", "field"),
        [(0, 5, "period_from"), (175, 181, "period_to")],
    )
    def test_a_period_outside_the_plan_is_refused(self, first: int, last: int, field: str) -> None:
        with pytest.raises(InvalidCommand) as exc:
            decide(fold(given(opened())), replace(deliver(first, last), today=END))
        assert fields_of(exc) == [field]

    def test_a_period_ending_before_it_starts_is_refused(self) -> None:
        cmd = replace(deliver(5, 5), period_from=day(5), period_to=day(4))
        with pytest.raises(InvalidCommand) as exc:
            decide(fold(given(opened())), cmd)
        assert fields_of(exc) == ["period_to"]

    def test_a_delivery_recorded_before_it_happened_is_refused(self) -> None:
        with pytest.raises(InvalidCommand) as exc:
            decide(fold(given(opened())), deliver(1, 7, today=day(1) - timedelta(days=1)))
        assert fields_of(exc) == ["delivered_on"]

    def test_a_delivery_overlapping_covered_days_is_refused(self) -> None:
        history = given(opened(), delivered(D1, 1, 7))
        with pytest.raises(DeliveryOverlaps) as exc:
            decide(fold(history), deliver(7, 14))
        assert exc.value.covered == Period(day(1), day(7))

    def test_a_delivery_after_uncovered_days_is_accepted_and_the_gap_recorded(self) -> None:
        facts = decide(fold(given(opened(), delivered(D1, 1, 7))), deliver(11, 17))
        assert events(facts)[0] == CoverageGapDetected(**IDS, gap_from=day(8), gap_to=day(10), days=3)
        assert isinstance(events(facts)[1], AidDelivered)
        after = fold([*given(opened(), delivered(D1, 1, 7)), *facts])
        assert after.gaps == (Period(day(8), day(10)),) and after.days_covered == 14

    def test_a_first_delivery_after_the_start_records_the_days_before_it(self) -> None:
        [gap, _] = events(decide(fold(given(opened())), deliver(3, 9)))
        assert gap == CoverageGapDetected(**IDS, gap_from=day(1), gap_to=day(2), days=2)

    def test_a_late_record_fills_a_gap_without_a_new_one(self) -> None:
        gap = Fact(CoverageGapDetected(**IDS, gap_from=day(8), gap_to=day(10), days=3))
        history = given(opened(), delivered(D1, 1, 7), gap, delivered(D2, 11, 17))
        facts = decide(fold(history), deliver(8, 10, delivery_id=D3, today=day(20)))
        assert [type(e) for e in events(facts)] == [AidDelivered]
        assert fold([*history, *facts]).gaps == ()

    def test_no_delivery_on_a_plan_that_is_not_active(self) -> None:
        closed = AidPlanClosed(
            **IDS, outcome="exited", closed_on=TODAY, delivered_rp=0, unspent_rp=2_700_000, days_covered=0
        )
        with pytest.raises(PlanNotActive):
            decide(fold(given(opened(), Fact(closed))), deliver(1, 7))

    def test_no_delivery_on_an_unknown_plan(self) -> None:
        with pytest.raises(PlanNotFound):
            decide(fold([]), deliver(1, 7))


class TestCompletion:
    def test_covering_the_last_days_completes_and_closes_the_plan_with_the_unspent_budget(self) -> None:
        history = given(opened(budget=3_000_000), delivered(D1, 1, 166))
        facts = decide(fold(history), deliver(167, 180, today=day(170)))
        assert events(facts)[1:] == [  # dated the day the last food was handed over
            AidPlanCompleted(**IDS, completed_on=day(167), delivered_rp=2_700_000, days_covered=180),
            AidPlanClosed(
                **IDS,
                outcome="completed",
                closed_on=day(167),
                delivered_rp=2_700_000,
                unspent_rp=300_000,
                days_covered=180,
            ),
        ]
        assert fold([*history, *facts]).status == "completed"

    def test_filling_the_last_gap_completes_the_plan(self) -> None:
        gap = Fact(CoverageGapDetected(**IDS, gap_from=day(8), gap_to=day(10), days=3))
        history = given(opened(), delivered(D1, 1, 7), gap, delivered(D2, 11, 180))
        facts = decide(fold(history), deliver(8, 10, delivery_id=D3, today=day(30)))
        assert [type(e) for e in events(facts)] == [AidDelivered, AidPlanCompleted, AidPlanClosed]


class TestWindow:
    def test_the_clock_ends_a_plan_with_uncovered_days_as_incomplete_recording_the_trailing_gap(self) -> None:
        history = given(opened(), delivered(D1, 1, 100))
        after_end = END + timedelta(days=1)
        assert events(decide(fold(history), EndWindow(PLAN, after_end, after_end))) == [
            CoverageGapDetected(**IDS, gap_from=day(101), gap_to=END, days=80),
            AidPlanClosed(
                **IDS,
                outcome="incomplete",
                closed_on=after_end,
                delivered_rp=1_500_000,
                unspent_rp=1_200_000,
                days_covered=100,
            ),
        ]

    def test_an_earlier_gap_with_the_last_day_covered_ends_incomplete_without_a_trailing_gap(self) -> None:
        gap = Fact(CoverageGapDetected(**IDS, gap_from=day(1), gap_to=day(10), days=10))
        history = given(opened(), gap, delivered(D1, 11, 180))
        facts = decide(fold(history), EndWindow(PLAN, END + timedelta(days=1), END + timedelta(days=1)))
        assert [type(e) for e in events(facts)] == [AidPlanClosed]
        after = fold([*history, *facts])
        assert after.status == "incomplete" and after.gaps == (Period(day(1), day(10)),)

    def test_the_clock_does_nothing_before_the_window_and_grace_have_passed(self) -> None:
        assert decide(fold(given(opened())), EndWindow(PLAN, END, END)) == []
        after3, after4 = END + timedelta(days=3), END + timedelta(days=4)
        assert decide(fold(given(opened())), EndWindow(PLAN, after3, after3, grace_days=3)) == []
        assert decide(fold(given(opened())), EndWindow(PLAN, after4, after4, grace_days=3)) != []

    def test_the_clock_alone_does_not_end_a_plan_while_history_is_still_entered(self) -> None:
        # Entering a past programme late, the clock is long past the window but the
        # records entered so far are not: the plan still takes the deliveries that follow.
        late = END + timedelta(days=200)
        assert decide(fold(given(opened())), EndWindow(PLAN, late, recorded_through=END)) == []
        assert decide(fold(given(opened())), EndWindow(PLAN, late, recorded_through=None)) == []
        [_, closed] = decide(fold(given(opened())), EndWindow(PLAN, late, END + timedelta(days=1)))
        assert isinstance(closed.event, AidPlanClosed) and closed.event.closed_on == END + timedelta(days=1)

    def test_a_plan_ends_once_the_entry_delay_has_passed_though_no_record_came_after_it(self) -> None:
        # Given a plan whose city stopped entering records on its last day; when the clock is
        # past its last day plus the 30 days records may be late; then it ends incomplete.
        history = given(opened())
        waiting = EndWindow(PLAN, END + timedelta(days=30), recorded_through=END, max_entry_delay_days=30)
        assert decide(fold(history), waiting) == []  # a record dated after END may still come
        due = replace(waiting, today=END + timedelta(days=31))
        [gap, closed] = decide(fold(history), due)
        assert isinstance(gap.event, CoverageGapDetected)
        assert isinstance(closed.event, AidPlanClosed) and closed.event.outcome == "incomplete"
        assert closed.event.closed_on == END + timedelta(days=1)  # effective: the day after its last

    def test_an_operators_entered_through_date_ends_the_wait_at_once(self) -> None:
        history = given(opened())
        declared = EndWindow(PLAN, END + timedelta(days=2), None, entered_through=END + timedelta(days=1))
        assert [type(e) for e in events(decide(fold(history), declared))] == [CoverageGapDetected, AidPlanClosed]
        assert decide(fold(history), replace(declared, entered_through=END)) == []

    def test_a_delivery_handed_over_after_the_plans_days_and_grace_is_refused(self) -> None:
        cmd = replace(deliver(170, 180), delivered_on=END + timedelta(days=1), today=END + timedelta(days=1))
        with pytest.raises(InvalidCommand) as exc:
            decide(fold(given(opened())), cmd)
        assert fields_of(exc) == ["delivered_on"]

    def test_the_clock_leaves_ended_and_unknown_plans_alone(self) -> None:
        closed = AidPlanClosed(
            **IDS, outcome="exited", closed_on=TODAY, delivered_rp=0, unspent_rp=2_700_000, days_covered=0
        )
        later = END + timedelta(days=9)
        assert decide(fold(given(opened(), Fact(closed))), EndWindow(PLAN, later, later)) == []
        assert decide(fold([]), EndWindow(PLAN, later, later)) == []


class TestExit:
    def test_an_exit_closes_the_active_plan_returning_the_unspent_budget(self) -> None:
        history = given(opened(), delivered(D1, 1, 30))
        assert events(decide(fold(history), CloseForExit(PLAN, day(31)))) == [
            AidPlanClosed(
                **IDS, outcome="exited", closed_on=day(31), delivered_rp=450_000, unspent_rp=2_250_000, days_covered=30
            )
        ]
        assert fold([*history, *decide(fold(history), CloseForExit(PLAN, day(31)))]).status == "closed"

    def test_an_exit_dated_after_the_plans_days_ends_it_as_the_clock_would(self) -> None:
        # Whether the clock step or the late-entered exit comes first, the plan ends the same way:
        # incomplete the day after its last day, its trailing days a gap.
        history = given(opened(), delivered(D1, 1, 30))
        after_grace = END + timedelta(days=4)
        by_exit = events(decide(fold(history), CloseForExit(PLAN, after_grace, grace_days=3)))
        by_clock = events(decide(fold(history), EndWindow(PLAN, after_grace, after_grace, grace_days=3)))
        assert by_exit == by_clock
        assert [type(e).__name__ for e in by_exit] == ["CoverageGapDetected", "AidPlanClosed"]
        assert by_exit[-1] == AidPlanClosed(
            **IDS,
            outcome="incomplete",
            closed_on=END + timedelta(days=1),
            delivered_rp=450_000,
            unspent_rp=2_250_000,
            days_covered=30,
        )
        within_grace = events(decide(fold(history), CloseForExit(PLAN, END + timedelta(days=3), grace_days=3)))
        assert [e.outcome for e in within_grace] == ["exited"]  # type: ignore[attr-defined]

    def test_an_exit_seen_again_or_before_any_plan_changes_nothing(self) -> None:
        closed = AidPlanClosed(
            **IDS, outcome="exited", closed_on=TODAY, delivered_rp=0, unspent_rp=2_700_000, days_covered=0
        )
        assert decide(fold(given(opened(), Fact(closed))), CloseForExit(PLAN, TODAY)) == []
        assert decide(fold([]), CloseForExit(PLAN, TODAY)) == []


class TestConfirmation:
    def confirm(self, delivery_id: UUID = D1, photo_ref: str | None = "s3://proof/d1.jpg") -> ConfirmDelivery:
        return ConfirmDelivery(PLAN, delivery_id, day(3), day(4), "lurah-medono", photo_ref, PHOTO)

    def test_the_lurah_confirms_a_delivery_with_a_photo_reference_kept_out_of_the_event(self) -> None:
        [fact] = decide(fold(given(opened(), delivered(D1, 1, 7))), self.confirm())
        assert fact.event == DeliveryConfirmed(
            **IDS, delivery_id=D1, confirmed_on=day(3), confirmed_by="lurah-medono", photo_id=PHOTO, has_photo=True
        )
        assert fact.private == ConfirmationNote(photo_ref="s3://proof/d1.jpg")
        assert "s3://" not in fact.event.model_dump_json()  # Free text never on the bus

    def test_a_confirmation_without_a_photo_has_no_photo_id(self) -> None:
        [fact] = decide(fold(given(opened(), delivered(D1, 1, 7))), self.confirm(photo_ref=None))
        assert isinstance(fact.event, DeliveryConfirmed)
        assert (fact.event.photo_id, fact.event.has_photo, fact.private) == (None, False, None)

    @pytest.mark.parametrize("confirmed_on", [date(2025, 2, 28), date(2025, 3, 5)])
    def test_a_confirmation_before_the_delivery_or_in_the_future_names_confirmed_on(self, confirmed_on: date) -> None:
        with pytest.raises(InvalidCommand) as exc:
            decide(fold(given(opened(), delivered(D1, 1, 7))), replace(self.confirm(), confirmed_on=confirmed_on))
        assert fields_of(exc) == ["confirmed_on"]

    def test_a_second_confirmation_is_refused(self) -> None:
        confirmed = DeliveryConfirmed(**IDS, delivery_id=D1, confirmed_on=day(3), confirmed_by="lurah-medono")
        with pytest.raises(DeliveryAlreadyConfirmed):
            decide(fold(given(opened(), delivered(D1, 1, 7), Fact(confirmed))), self.confirm(photo_ref=None))

    def test_the_lurah_who_recorded_a_delivery_does_not_confirm_it(self) -> None:
        # Given a delivery the lurah recorded herself; when she confirms it with the same account;
        own = replace(self.confirm(), recorded_by="lurah-medono")
        # then 409 saying another person must confirm it, and nothing is recorded.
        with pytest.raises(ConfirmerRecordedDelivery, match="another person"):
            decide(fold(given(opened(), delivered(D1, 1, 7))), own)

    def test_another_account_confirms_a_delivery_the_kader_recorded(self) -> None:
        facts = decide(fold(given(opened(), delivered(D1, 1, 7))), replace(self.confirm(), recorded_by="kader-1"))
        assert [type(f.event) for f in facts] == [DeliveryConfirmed]

    def test_an_unknown_delivery_cannot_be_confirmed(self) -> None:
        with pytest.raises(DeliveryNotFound):
            decide(fold(given(opened())), self.confirm())

    @pytest.mark.parametrize("ref", ["", "a b.jpg", "data:image/jpeg;base64,AAAA", "x" * 513])
    def test_a_photo_reference_must_be_a_short_reference(self, ref: str) -> None:
        with pytest.raises(InvalidCommand) as exc:
            decide(fold(given(opened(), delivered(D1, 1, 7))), self.confirm(photo_ref=ref))
        assert fields_of(exc) == ["photo_ref"]


class TestInterventions:
    def intervene(self, **kw: object) -> RecordIntervention:
        values: dict[str, object] = {
            "plan_id": PLAN,
            "intervention_id": D3,
            "kind": "sanitation",
            "description": "a healthy latrine",
            "done_on": day(5),
            "value_rp": 1_200_000,
            "today": day(5),
            "recorded_by": "kader-1",
        }
        return RecordIntervention(**(values | kw))  # type: ignore[arg-type]

    def test_an_intervention_is_recorded_with_its_description_kept_private(self) -> None:
        [fact] = decide(fold(given(opened())), self.intervene())
        assert fact.event == InterventionRecorded(
            **IDS, intervention_id=D3, kind="sanitation", done_on=day(5), value_rp=1_200_000
        )
        assert fact.private == InterventionNote(description="a healthy latrine", recorded_by="kader-1")
        assert "latrine" not in fact.event.model_dump_json()

    def test_bad_input_names_every_field(self) -> None:
        with pytest.raises(InvalidCommand) as exc:
            decide(
                fold(given(opened())), self.intervene(kind="house_paint", description=" ", done_on=day(6), value_rp=-1)
            )
        assert fields_of(exc) == ["kind", "description", "done_on", "value_rp"]

    def test_an_intervention_is_in_kind_from_the_source_it_names(self) -> None:
        donor = UUID("00000000-0000-0000-0000-0000000d0001")
        [by_donor] = decide(fold(given(opened())), self.intervene(source_donor_id=donor))
        [by_pdam] = decide(fold(given(opened())), self.intervene(source_organisation="pdam"))
        [unnamed] = decide(fold(given(opened())), self.intervene())
        assert isinstance(by_donor.event, InterventionRecorded)
        assert (by_donor.event.funded_by, by_donor.event.source_donor_id) == ("in_kind", donor)
        assert isinstance(by_pdam.event, InterventionRecorded) and by_pdam.event.source_organisation == "pdam"
        assert isinstance(unnamed.event, InterventionRecorded)
        assert (unnamed.event.funded_by, unnamed.event.source_donor_id, unnamed.event.source_organisation) == (
            "in_kind",
            None,
            None,
        )

    @pytest.mark.parametrize(
        ("kw", "field"),
        [
            ({"funded_by": "sponsorship"}, "funded_by"),
            ({"source_organisation": "Pak Budi, Jl. Merdeka 5"}, "source_organisation"),
            ({"source_organisation": ""}, "source_organisation"),
            ({"source_organisation": "pdam", "source_donor_id": UUID(int=7)}, "source_organisation"),
        ],
    )
    def test_a_source_is_one_code_or_one_donor_and_never_a_sentence(self, kw: dict[str, object], field: str) -> None:
        with pytest.raises(InvalidCommand) as exc:
            decide(fold(given(opened())), self.intervene(**kw))
        assert fields_of(exc) == [field]

    def test_after_the_familys_exit_no_intervention_is_recorded(self) -> None:
        closed = AidPlanClosed(
            **IDS, outcome="exited", closed_on=TODAY, delivered_rp=0, unspent_rp=2_700_000, days_covered=0
        )
        with pytest.raises(PlanEnded):
            decide(fold(given(opened(), Fact(closed))), self.intervene())
