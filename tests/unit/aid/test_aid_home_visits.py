"""The no-weight-gain rule and the HomeVisit aggregate, given/when/then."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID

import pytest
from aid_examples import FAMILY, MEDONO

from services.aid.domain import (
    FlagHomeVisit,
    HomeVisitAlreadyDone,
    HomeVisitNotFound,
    RecordVisit,
    VisitNote,
    flag_id_for,
)
from services.aid.domain.growth import Measurement, NoGain, flags_due, monthly, no_gain
from services.aid.domain.home_visit import decide, fold
from shared.contracts.aid import HomeVisitDone, HomeVisitFlagged
from shared.errors import InvalidCommand
from shared.repository import Fact

PLAN = UUID("00000000-0000-0000-0000-00000000a001")
CHILD = UUID("00000000-0000-0000-0000-00000000c001")
JAN1 = date(2025, 1, 1)


def on(days: int) -> date:
    return JAN1 + timedelta(days=days)


def m(days: int, kg: float) -> Measurement:
    return Measurement(on(days), kg)


def when_arrives(history: list[Measurement], arrived: Measurement, flagged: tuple[date, ...] = ()) -> list[NoGain]:
    """`arrived` is recorded after `history`; what it calls for."""
    return flags_due([*history, arrived], arrived, flagged)


def d(month: int, day: int, kg: float) -> Measurement:
    return Measurement(date(2025, month, day), kg)


class TestTheRule:
    """The posyandu rule: two consecutive monthly weighings without gain."""

    def test_the_same_weight_on_the_first_of_three_months_is_flagged_on_the_third(self) -> None:
        # 1 Jan / 1 Feb / 1 Mar is 59 days: the old 60-day rule flagged nothing until April.
        then = when_arrives([d(1, 1, 8.0), d(2, 1, 8.0)], d(3, 1, 8.0))
        assert then == [NoGain(flagged_on=date(2025, 3, 1), weight_now_kg=8.0, since=JAN1, weight_then_kg=8.0)]

    def test_a_falling_weight_weighed_on_shifting_days_is_flagged(self) -> None:
        # 10 Jan / 8 Feb / 8 Mar: the old rule never found a weight 60 days before 8 March.
        then = when_arrives([d(1, 10, 8.4), d(2, 8, 8.2)], d(3, 8, 8.0))
        assert then == [
            NoGain(flagged_on=date(2025, 3, 8), weight_now_kg=8.0, since=date(2025, 1, 10), weight_then_kg=8.4)
        ]

    def test_one_month_without_gain_is_not_yet_two(self) -> None:
        assert when_arrives([d(1, 1, 8.0)], d(2, 1, 8.0)) == []
        assert when_arrives([d(1, 1, 7.8), d(2, 1, 8.0)], d(3, 1, 8.0)) == []  # January to February gained

    def test_any_gain_in_the_last_month_is_not_flagged(self) -> None:
        assert when_arrives([d(1, 1, 8.0), d(2, 1, 8.0)], d(3, 1, 8.01)) == []

    def test_a_month_without_a_weighing_breaks_the_run(self) -> None:
        assert when_arrives([d(1, 1, 8.0), d(2, 1, 8.0)], d(4, 1, 7.9)) == []

    def test_a_month_counts_by_its_last_weighing(self) -> None:
        # Two weighings in February: the later (8.1) is February's, so March's 8.0 is no gain.
        assert when_arrives([d(1, 5, 8.2), d(2, 3, 7.6), d(2, 25, 8.1)], d(3, 5, 8.0)) != []
        assert when_arrives([d(1, 5, 8.2), d(2, 25, 8.1), d(2, 3, 7.6)], d(3, 5, 8.0)) != []
        assert when_arrives([d(1, 5, 7.0), d(2, 3, 8.1), d(2, 25, 7.5)], d(3, 5, 7.6)) == []

    def test_a_day_already_flagged_is_not_flagged_again(self) -> None:
        assert when_arrives([d(1, 1, 8.0), d(2, 1, 8.0)], d(3, 1, 8.0), flagged=(date(2025, 3, 1),)) == []

    def test_a_late_record_of_an_earlier_weighing_completes_a_later_run(self) -> None:
        # February and March were judged without January; January, recorded late, completes the run.
        then = when_arrives([d(2, 1, 8.0), d(3, 1, 8.0)], d(1, 1, 8.0))
        assert [f.flagged_on for f in then] == [date(2025, 3, 1)]

    def test_months_before_the_arrival_are_not_judged_again(self) -> None:
        assert when_arrives([d(1, 1, 8.0), d(2, 1, 8.0), d(3, 1, 8.0)], d(4, 1, 9.0)) == []

    def test_a_child_with_fewer_than_three_months_is_not_judged(self) -> None:
        assert no_gain(monthly([d(1, 1, 7.0)]), 2025 * 12) is None


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
