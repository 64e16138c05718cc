"""Growth: z-scores against the WHO 2006 Child Growth Standards' published values, the length/height
switch, the stunting cut-offs, and RecordGrowth's rules in decide()."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from services.registry.domain import (
    AddMember,
    ErasePersonalData,
    ExitFamily,
    Fact,
    Family,
    FamilyNotActive,
    NewMember,
    PersonalDataAlreadyErased,
    RecordGrowth,
    RegisterFamily,
    decide,
    fold,
    growth,
)
from shared.contracts.registry import CATALOG, GrowthMeasured
from shared.testing import refused_fields
from shared.testing.registry_examples import kk, nik

TODAY = date(2026, 11, 28)
FAMILY = UUID("00000000-0000-0000-0000-00000000f001")
MOTHER, BOY, GIRL, BROTHER, UNCLE = (UUID(f"00000000-0000-0000-0000-00000000000{i}") for i in range(1, 6))
MEASUREMENT = UUID("00000000-0000-0000-0000-0000000000aa")
BORN_12_MONTHS_AGO = date(2025, 11, 28)  # 365 days before TODAY: 12 months in WHO's 30.4375-day months


def measured_haz(sex: str, length_cm: float, born: date = BORN_12_MONTHS_AGO, on: date = TODAY) -> float:
    return growth.assess(sex, born, on, 9.0, length_cm).haz  # type: ignore[arg-type]


class TestWhoPublishedValues:
    # WHO 2006 length-for-age simplified field tables (lhfa_boys/girls_0_to_2_zscores, 12 months)
    # and height-for-age (hfa_boys_2_to_5, 24 months). They print lengths to 0.1 cm, which is about
    # 0.02 SD at these ages, so a printed length lands within 0.03 of its z-score.
    @pytest.mark.parametrize(
        ("sex", "length_cm", "z"),
        [
            ("M", 75.7, 0.0),  # boys, 12 months: median
            ("M", 71.0, -2.0),  # -2 SD: the stunting line
            ("M", 68.6, -3.0),  # -3 SD: severe stunting
            ("F", 74.0, 0.0),  # girls, 12 months: median
            ("F", 68.9, -2.0),
            ("F", 66.3, -3.0),
        ],
    )
    def test_a_one_year_old_at_a_published_length_gets_that_z_score(self, sex: str, length_cm: float, z: float) -> None:
        assert measured_haz(sex, length_cm) == pytest.approx(z, abs=0.03)

    @pytest.mark.parametrize(("length_cm", "z"), [(87.1, 0.0), (81.0, -2.0), (78.0, -3.0)])
    def test_a_two_year_old_is_read_against_the_standing_height_table(self, length_cm: float, z: float) -> None:
        two_years_and_a_day = TODAY - timedelta(days=731)
        assert measured_haz("M", length_cm, born=two_years_and_a_day) == pytest.approx(z, abs=0.03)

    # The WHO expanded tables (lhfa_boys_z_exp / lhfa_girls_z_exp) give day 365 as L=1 and
    # M=75.7391, S=0.03137 (boys) and M=74.0049, S=0.03479 (girls): a length of M(1 + zS) has
    # z-score z exactly, so to 2 decimals.
    @pytest.mark.parametrize(("sex", "median", "cv"), [("M", 75.7391, 0.03137), ("F", 74.0049, 0.03479)])
    @pytest.mark.parametrize("z", [-3.0, -2.5, -2.0, -1.0, 0.0, 1.0, 2.0])
    def test_z_scores_match_the_published_lms_parameters_to_two_decimals(
        self, sex: str, median: float, cv: float, z: float
    ) -> None:
        assert measured_haz(sex, median * (1 + z * cv)) == z

    def test_weight_for_age_is_read_against_the_who_tables_too(self) -> None:
        # wfa_boys_0_to_5_zscores, 12 months: median 9.6 kg, -2 SD 7.7 kg (0.1 kg is about 0.1 SD)
        assert growth.assess("M", BORN_12_MONTHS_AGO, TODAY, 9.6, 75.7).waz == pytest.approx(0.0, abs=0.06)
        assert growth.assess("M", BORN_12_MONTHS_AGO, TODAY, 7.7, 75.7).waz == pytest.approx(-2.0, abs=0.06)


class TestLengthOrHeight:
    def test_who_measures_lying_down_before_day_731_and_standing_from_it(self) -> None:
        assert growth.default_position(TODAY - timedelta(days=730), TODAY) == "recumbent"
        assert growth.default_position(TODAY - timedelta(days=731), TODAY) == "standing"

    def test_a_two_year_old_measured_lying_down_is_read_0_7_cm_shorter(self) -> None:
        born = TODAY - timedelta(days=800)
        lying = growth.assess("F", born, TODAY, 11.0, 85.7, "recumbent").haz
        assert lying == growth.assess("F", born, TODAY, 11.0, 85.0, "standing").haz

    def test_a_baby_measured_standing_is_read_0_7_cm_longer(self) -> None:
        standing = growth.assess("M", BORN_12_MONTHS_AGO, TODAY, 9.0, 74.3, "standing").haz
        assert standing == growth.assess("M", BORN_12_MONTHS_AGO, TODAY, 9.0, 75.0, "recumbent").haz


class TestCutOffs:
    @pytest.mark.parametrize(
        ("haz", "stunted", "severely"),
        [(0.0, False, False), (-2.0, False, False), (-2.01, True, False), (-3.0, True, False), (-3.01, True, True)],
    )
    def test_stunting_is_below_minus_two_and_severe_below_minus_three(
        self, haz: float, stunted: bool, severely: bool
    ) -> None:
        assessment = growth.GrowthAssessment(age_days=365, age_months=12, position="recumbent", haz=haz, waz=None)
        assert (assessment.stunted, assessment.severely_stunted) == (stunted, severely)

    def test_a_child_just_below_minus_two_is_stunted_though_reported_as_minus_two(self) -> None:
        # A boy of 300 days at 68.53 cm scores -2.0034: WHO reports -2.00 and counts him stunted,
        # because the cut-off reads the unrounded score.
        born = date(2025, 1, 10)
        assessment = growth.assess("M", born, born + timedelta(days=300), 8.0, 68.53)
        assert assessment.haz == -2.0
        assert assessment.stunted


# -- RecordGrowth in decide() ---------------------------------------------------------------


def member(member_id: UUID, role: str, born: date, sex: str, serial: int, **kw: Any) -> NewMember:
    return NewMember(member_id, f"Anggota {serial}", nik(born, sex, serial), role, born, sex, **kw)


def registration() -> list[Fact]:
    members = (
        member(MOTHER, "breastfeeding_mother", date(1998, 3, 4), "F", 1),
        NewMember(BOY, "Bayi Laki", None, "baduta", BORN_12_MONTHS_AGO, "M"),
        member(GIRL, "baduta", date(2025, 6, 1), "F", 3),
        member(BROTHER, "other", date(2022, 2, 14), "M", 4),  # a child under five, not a baduta
        member(UNCLE, "other", date(2015, 1, 9), "M", 5),  # eleven: beyond the WHO 0-5 standards
    )
    command = RegisterFamily(
        FAMILY,
        TODAY - timedelta(days=30),
        "kader",
        kk(date(2024, 5, 6), 7),
        "Bapak",
        "Jl. Medono 1",
        "33.75.01.1002",
        members,
        ("poor",),
        True,
    )
    return decide(Family(), command)


def registered(*later: RecordGrowth | ExitFamily | ErasePersonalData) -> Family:
    """The registered family, after the `later` commands."""
    facts = registration()
    for command in later:
        facts += decide(fold(facts), command)
    return fold(facts)


def record(**changes: Any) -> RecordGrowth:
    command = RecordGrowth(FAMILY, TODAY, "kader-1", MEASUREMENT, BOY, TODAY, 8.1, 70.5)
    return replace(command, **changes)


def invalid_fields(state: Family, command: RecordGrowth) -> list[str]:
    return refused_fields(lambda: decide(state, command))


class TestRecordGrowth:
    def test_a_measured_baduta_is_recorded_with_z_scores_and_no_personal_data(self) -> None:
        [fact] = decide(registered(), record())
        assert fact.private is None
        event = fact.event
        assert isinstance(event, GrowthMeasured)
        assert event.model_dump(mode="json", exclude={"haz", "waz"}) == {
            "family_id": str(FAMILY),
            "measurement_id": str(MEASUREMENT),
            "member_id": str(BOY),
            "kelurahan_code": "33.75.01.1002",
            "measured_on": "2026-11-28",
            "age_months": 12,
            "weight_kg": 8.1,
            "length_cm": 70.5,
            "position": "recumbent",
            "stunted": True,
            "severely_stunted": False,
            "measured_by": "kader-1",
        }
        assert event.haz == growth.assess("M", BORN_12_MONTHS_AGO, TODAY, 8.1, 70.5).haz
        assert -3 < event.haz < -2 and event.waz is not None
        assert CATALOG.parse("GrowthMeasured", 1, event.model_dump(mode="json")) == event

    def test_a_child_under_five_who_is_not_a_baduta_may_be_measured(self) -> None:
        [fact] = decide(registered(), record(member_id=BROTHER, weight_kg=14.0, length_cm=96.0))
        assert isinstance(fact.event, GrowthMeasured)
        assert fact.event.position == "standing" and fact.event.age_months == 57

    def test_the_family_is_unchanged_but_its_version(self) -> None:
        state, after = registered(), registered(record())
        assert replace(after, version=state.version) == state and after.version == state.version + 1

    def test_an_earlier_measurement_gets_the_age_on_that_day(self) -> None:
        [fact] = decide(registered(), record(measured_on=TODAY - timedelta(days=20)))
        assert isinstance(fact.event, GrowthMeasured) and fact.event.age_months == 11

    def test_a_measurement_before_the_registration_is_refused_naming_measured_on(self) -> None:
        # effective dates: not before the record it depends on
        assert invalid_fields(registered(), record(measured_on=TODAY - timedelta(days=31))) == ["measured_on"]

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"measured_on": TODAY + timedelta(days=1)}, "measured_on"),
            ({"measured_on": BORN_12_MONTHS_AGO - timedelta(days=1)}, "measured_on"),
            ({"weight_kg": 0.2}, "weight_kg"),
            ({"weight_kg": 8100.0}, "weight_kg"),  # grams
            ({"weight_kg": float("nan")}, "weight_kg"),
            ({"length_cm": 705.0}, "length_cm"),  # millimetres
            ({"length_cm": 50.0}, "length_cm"),  # a one-year-old of 50 cm: haz -10, WHO's implausible
            ({"weight_kg": 30.0}, "weight_kg"),  # waz beyond +5
            ({"member_id": MOTHER}, "member_id"),
            ({"member_id": UNCLE}, "member_id"),
            ({"member_id": UUID(int=99)}, "member_id"),
        ],
    )
    def test_an_impossible_measurement_is_refused_naming_the_field(self, changes: dict[str, Any], field: str) -> None:
        assert invalid_fields(registered(), record(**changes)) == [field]

    def test_a_child_is_measurable_from_the_day_of_birth(self) -> None:
        born_on = TODAY - timedelta(days=10)
        newborn = NewMember(UUID(int=77), "Bayi", None, "baduta", born_on, "F")
        facts = [*registration(), *decide(registered(), AddMember(FAMILY, TODAY, "kader", newborn, added_on=born_on))]
        [fact] = decide(
            fold(facts), record(member_id=newborn.member_id, measured_on=born_on, weight_kg=3.2, length_cm=49.1)
        )
        assert isinstance(fact.event, GrowthMeasured) and fact.event.age_months == 0

    def test_an_exited_family_is_not_measured(self) -> None:
        exited = registered(ExitFamily(FAMILY, TODAY, "kader", "moved_away"))
        with pytest.raises(FamilyNotActive):
            decide(exited, record())

    def test_without_personal_data_there_is_no_birth_date_to_measure_from(self) -> None:
        erased = registered(ErasePersonalData(FAMILY, TODAY, "admin"))
        with pytest.raises(PersonalDataAlreadyErased):
            decide(erased, record())
