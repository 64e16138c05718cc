"""The no-weight-gain rule and the HomeVisit aggregate, given/when/then."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID

import pytest

from services.aid.domain import (
    FlagHomeVisit,
    HomeVisitAlreadyDone,
    HomeVisitNotFound,
    RecordVisit,
    VisitNote,
    flag_id_for,
)
from services.aid.domain.growth import Measurement, NoGain, flags_due, no_gain
from services.aid.domain.home_visit import decide, fold
from shared.contracts.aid import HomeVisitDone, HomeVisitFlagged
from shared.errors import InvalidCommand
from shared.repository import Fact

PLAN = UUID("00000000-0000-0000-0000-00000000a001")
FAMILY = UUID("00000000-0000-0000-0000-00000000f001")
CHILD = UUID("00000000-0000-0000-0000-00000000c001")
MEDONO = "33.75.01.1002"
JAN1 = date(2025, 1, 1)


def on(days: int) -> date:
    return JAN1 + timedelta(days=days)


def m(days: int, kg: float) -> Measurement:
    return Measurement(on(days), kg)


def when_arrives(history: list[Measurement], arrived: Measurement, flagged: tuple[date, ...] = ()) -> list[NoGain]:
    """`arrived` is recorded after `history`; what it calls for."""
    return flags_due([*history, arrived], arrived, flagged)


class TestTheRule:
    def test_the_same_weight_two_months_later_is_flagged(self) -> None:
        then = when_arrives([m(0, 7.5)], m(60, 7.5))
        assert then == [NoGain(flagged_on=on(60), weight_now_kg=7.5, since=on(0), weight_then_kg=7.5)]

    def test_a_lower_weight_is_flagged(self) -> None:
        assert when_arrives([m(0, 7.5)], m(75, 7.2))[0].weight_now_kg == 7.2

    def test_any_gain_is_not_flagged(self) -> None:
        assert when_arrives([m(0, 7.5)], m(60, 7.51)) == []

    def test_less_than_sixty_days_is_too_soon_to_judge(self) -> None:
        assert when_arrives([m(0, 7.5)], m(59, 7.0)) == []

    def test_the_reference_is_the_latest_weight_at_least_sixty_days_before(self) -> None:
        # Day 30's weight is within two months of day 80: day 10's is the one compared.
        history = [m(0, 7.0), m(10, 7.4), m(30, 8.0)]
        assert when_arrives(history, m(80, 7.4)) == [
            NoGain(flagged_on=on(80), weight_now_kg=7.4, since=on(10), weight_then_kg=7.4)
        ]
        assert when_arrives(history, m(80, 7.5)) == []

    def test_of_two_weights_on_the_reference_day_the_last_recorded_counts(self) -> None:
        assert when_arrives([m(0, 7.0), m(0, 7.3)], m(60, 7.2)) != []
        assert when_arrives([m(0, 7.3), m(0, 7.0)], m(60, 7.2)) == []

    def test_a_day_already_flagged_is_not_flagged_again(self) -> None:
        assert when_arrives([m(0, 7.5)], m(60, 7.5), flagged=(on(60),)) == []

    def test_a_late_record_of_an_earlier_weighing_flags_the_later_one_it_is_two_months_before(self) -> None:
        # Day 70 was judged against nothing; the day-5 weighing, recorded late, is its reference now.
        then = when_arrives([m(70, 7.0)], m(5, 7.1))
        assert then == [NoGain(flagged_on=on(70), weight_now_kg=7.0, since=on(5), weight_then_kg=7.1)]

    def test_a_late_record_is_judged_itself_and_a_later_one_that_gained_is_not_flagged(self) -> None:
        history = [m(0, 8.0), m(100, 9.0)]
        assert when_arrives(history, m(80, 7.9)) == [
            NoGain(flagged_on=on(80), weight_now_kg=7.9, since=on(0), weight_then_kg=8.0)
        ]

    def test_measurements_dated_before_the_arrival_are_not_judged_again(self) -> None:
        # Day 70 (no gain since day 0) was judged when it arrived, before the family was enrolled, say.
        assert when_arrives([m(0, 8.0), m(70, 7.9)], m(100, 9.5)) == []

    def test_no_gain_without_an_earlier_weight_is_nothing(self) -> None:
        assert no_gain([m(0, 7.0)], m(0, 7.0)) is None


FLAG = FlagHomeVisit(
    plan_id=PLAN,
    family_id=FAMILY,
    kelurahan_code=MEDONO,
    member_id=CHILD,
    no_gain=NoGain(flagged_on=on(60), weight_now_kg=7.4, since=on(0), weight_then_kg=7.5),
)
FLAG_ID = flag_id_for(CHILD, on(60))
VISIT = RecordVisit(
    flag_id=FLAG_ID, visited_on=on(62), note=" Ibu sakit; anak rewel ", today=on(63), recorded_by="kader-1"
)


def flagged() -> list[Fact]:
    return decide(fold([]), FLAG)


class TestFlagging:
    def test_a_child_with_no_gain_is_flagged_on_the_measurement_day(self) -> None:
        [fact] = flagged()
        assert fact.event == HomeVisitFlagged(
            flag_id=FLAG_ID,
            plan_id=PLAN,
            family_id=FAMILY,
            kelurahan_code=MEDONO,
            member_id=CHILD,
            flagged_on=on(60),
            since=on(0),
            weight_then_kg=7.5,
            weight_now_kg=7.4,
        )
        assert fact.event.subject() == f"genting.aid.homevisit.{FLAG_ID}.HomeVisitFlagged"

    def test_a_family_without_a_plan_is_flagged_too(self) -> None:
        [fact] = decide(fold([]), replace(FLAG, plan_id=None))
        assert isinstance(fact.event, HomeVisitFlagged) and fact.event.plan_id is None

    def test_flagging_again_records_nothing(self) -> None:
        assert decide(fold(flagged()), FLAG) == []

    def test_the_flag_id_is_one_per_child_and_day(self) -> None:
        assert FLAG.flag_id == FLAG_ID == flag_id_for(CHILD, on(60))
        assert flag_id_for(CHILD, on(61)) != FLAG_ID


class TestVisiting:
    def test_a_visit_is_recorded_and_the_note_stays_private(self) -> None:
        [fact] = decide(fold(flagged()), VISIT)
        assert fact.event == HomeVisitDone(
            flag_id=FLAG_ID, plan_id=PLAN, family_id=FAMILY, kelurahan_code=MEDONO, member_id=CHILD, visited_on=on(62)
        )
        assert fact.private == VisitNote(note="Ibu sakit; anak rewel", recorded_by="kader-1")
        assert "sakit" not in fact.event.model_dump_json()
        assert fold([*flagged(), fact]).status == "visited"

    def test_an_empty_note_is_no_note(self) -> None:
        [fact] = decide(fold(flagged()), replace(VISIT, note="   "))
        assert fact.private == VisitNote(note=None, recorded_by="kader-1")

    def test_a_visit_for_no_flag_is_not_found(self) -> None:
        with pytest.raises(HomeVisitNotFound):
            decide(fold([]), VISIT)

    def test_a_second_visit_is_a_conflict(self) -> None:
        history = [*flagged(), *decide(fold(flagged()), VISIT)]
        with pytest.raises(HomeVisitAlreadyDone):
            decide(fold(history), VISIT)

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"visited_on": on(64)}, "visited_on"),  # tomorrow
            ({"visited_on": on(59)}, "visited_on"),  # before the child was flagged
            ({"note": "x" * 2001}, "note"),
        ],
    )
    def test_bad_input_names_the_field(self, change: dict[str, object], field: str) -> None:
        with pytest.raises(InvalidCommand) as exc:
            decide(fold(flagged()), replace(VISIT, **change))  # type: ignore[arg-type]
        assert [e.field for e in exc.value.errors] == [field]
