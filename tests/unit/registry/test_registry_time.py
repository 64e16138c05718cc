"""The registry in time (issues 12 and 13 #8, #9, #10): effective dates, eligibility at the
verification's date, births and aging out, the NIK's century, unrounded stunting, the risk
factors' age rules, and a deployment for another city."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registry.domain import (
    AgeOutChildren,
    ExitFamily,
    Fact,
    Family,
    InvalidCommand,
    NewMember,
    NoLongerEligible,
    RecordBirth,
    RegisterFamily,
    VerifyFamily,
    decide,
    fold,
    growth,
)
from services.registry.domain.validation import member_errors
from services.registry.reference import DEFAULT_RULES
from shared.contracts.registry import ChildAgedOut, FamilyEnrolled, FamilyRegistered, MemberAdded, MotherGaveBirth
from shared.programme import Programme
from shared.settings import Settings
from shared.testing import refused_fields

TODAY = date(2025, 9, 30)
FAMILY = UUID(int=0xF001)
MOTHER, BABY, FATHER, TWIN = UUID(int=0xA1), UUID(int=0xB1), UUID(int=0xC1), UUID(int=0xB2)
MEDONO = "33.75.01.1002"


def nik_for(born: date, sex: str, serial: str = "0001") -> str:
    day = born.day + 40 if sex == "F" else born.day
    return f"337501{day:02d}{born:%m%y}{serial}"


def woman(role: str, born: date = date(1996, 5, 14), **kw: Any) -> NewMember:
    return NewMember(MOTHER, "Siti", nik_for(born, "F"), role, born, "F", **kw)


def child(born: date, member_id: UUID = BABY, role: str = "baduta") -> NewMember:
    nik = nik_for(born, "M", f"{member_id.int % 9000 + 1:04d}") if role == "other" else None
    return NewMember(member_id, "Anak", nik, role, born, "M")


def register(members: tuple[NewMember, ...], **changes: Any) -> RegisterFamily:
    command = RegisterFamily(
        FAMILY, TODAY, "kader", "3375011203150007", "Bapak", "Jl. Medono 1", MEDONO, members, ("poor",), True
    )
    return replace(command, **changes)


def refused(state: Family, command: Any) -> list[str]:
    return refused_fields(lambda: decide(state, command))


# -- effective dates ------------------------------------------------------------


class TestEffectiveDates:
    def test_a_registration_carries_its_effective_date_and_ages_at_that_date(self) -> None:
        on = date(2025, 3, 1)
        [fact] = decide(Family(), register((woman("breastfeeding_mother"), child(date(2024, 6, 1))), registered_on=on))
        event = fact.event
        assert isinstance(event, FamilyRegistered)
        assert event.registered_on == on
        assert [m.age_months for m in event.members] == [345, 9]  # at 1 March, not at 30 September

    def test_a_baduta_under_24_months_on_the_registration_date_is_accepted_though_older_today(self) -> None:
        members = (woman("breastfeeding_mother"), child(date(2023, 5, 1)))  # 28 months today, 22 on 2025-03-01
        assert refused(Family(), register(members)) == ["members[1].birth_date"]
        assert len(decide(Family(), register(members, registered_on=date(2025, 3, 1)))) == 1

    @pytest.mark.parametrize("on", [TODAY + timedelta(days=1), date(2024, 12, 31)])
    def test_a_registration_in_the_future_or_before_the_programme_is_refused(self, on: date) -> None:
        members = (woman("breastfeeding_mother"), child(date(2024, 6, 1)))
        assert refused(Family(), register(members, registered_on=on)) == ["registered_on"]

    def test_a_decision_before_the_registration_is_refused_and_one_after_carries_its_date(self) -> None:
        given = fold(
            decide(
                Family(),
                register((woman("breastfeeding_mother"), child(date(2025, 1, 1))), registered_on=date(2025, 4, 1)),
            )
        )
        assert refused(given, VerifyFamily(FAMILY, TODAY, "lurah", "approve", decided_on=date(2025, 3, 31))) == [
            "decided_on"
        ]
        facts = decide(given, VerifyFamily(FAMILY, TODAY, "lurah", "approve", decided_on=date(2025, 4, 2)))
        enrolled = facts[1].event
        assert isinstance(enrolled, FamilyEnrolled) and enrolled.enrolled_on == date(2025, 4, 2)

    def test_an_exit_is_not_before_the_enrolment(self) -> None:
        registered = decide(
            Family(), register((woman("breastfeeding_mother"), child(date(2025, 1, 1))), registered_on=date(2025, 4, 1))
        )
        enrolled = registered + decide(
            fold(registered), VerifyFamily(FAMILY, TODAY, "lurah", "approve", decided_on=date(2025, 5, 1))
        )
        exit_ = ExitFamily(FAMILY, TODAY, "kader", "moved_away", exited_on=date(2025, 4, 20))
        assert refused(fold(enrolled), exit_) == ["exited_on"]
        [fact] = decide(fold(enrolled), replace(exit_, exited_on=date(2025, 5, 1)))
        assert fact.event.exited_on == date(2025, 5, 1)  # type: ignore[attr-defined]


class TestAnotherCity:
    def test_a_semarang_programme_registers_its_kelurahan_and_refuses_pekalongans(self) -> None:
        semarang = Programme.from_settings(Settings.model_construct(city="33.74"))
        tembalang = semarang.kelurahan_by_name("Tembalang")
        assert tembalang is not None
        members = (woman("breastfeeding_mother"), child(date(2025, 1, 1)))
        [fact] = decide(Family(), register(members, kelurahan_code=tembalang.code), programme=semarang)
        assert isinstance(fact.event, FamilyRegistered) and fact.event.kecamatan_code == tembalang.kecamatan_code
        with pytest.raises(InvalidCommand) as error:
            decide(Family(), register(members), programme=semarang)
        assert [e.field for e in error.value.errors] == ["kelurahan_code"]


# -- eligibility at the verification's date ----------------------------------


class TestEligibilityAtVerification:
    def test_a_baduta_of_22_months_at_registration_is_not_enrolled_at_26_months(self) -> None:
        father = NewMember(FATHER, "Bapak", nik_for(date(1990, 1, 2), "M", "0002"), "other", date(1990, 1, 2), "M")
        given = fold(decide(Family(), register((father, child(date(2023, 5, 1))), registered_on=date(2025, 3, 1))))
        with pytest.raises(NoLongerEligible) as error:
            decide(given, VerifyFamily(FAMILY, TODAY, "lurah", "approve", decided_on=date(2025, 7, 1)))
        assert error.value.status == 409 and "26 months" in error.value.detail
        # decided while still 23 months old, it is enrolled
        assert len(decide(given, VerifyFamily(FAMILY, TODAY, "lurah", "approve", decided_on=date(2025, 3, 31)))) == 2

    def test_a_baduta_is_one_until_the_day_before_the_24_month_birthday(self) -> None:
        father = NewMember(FATHER, "Bapak", nik_for(date(1990, 1, 2), "M", "0002"), "other", date(1990, 1, 2), "M")
        given = fold(decide(Family(), register((father, child(date(2023, 5, 1))), registered_on=date(2025, 3, 1))))
        on_the_eve = VerifyFamily(FAMILY, TODAY, "lurah", "approve", decided_on=date(2025, 4, 30))
        assert len(decide(given, on_the_eve)) == 2
        with pytest.raises(NoLongerEligible) as error:
            decide(given, replace(on_the_eve, decided_on=date(2025, 5, 1)))
        assert "24 months" in error.value.detail

    def test_a_pregnant_mother_long_after_her_due_date_is_not_enrolled_until_the_birth_is_recorded(self) -> None:
        pregnant = woman("pregnant_mother", expected_delivery_date=date(2025, 5, 1))
        given = decide(Family(), register((pregnant,), registered_on=date(2025, 3, 1)))
        late = VerifyFamily(FAMILY, TODAY, "lurah", "approve", decided_on=date(2025, 6, 1))
        with pytest.raises(NoLongerEligible):
            decide(fold(given), late)
        # within the grace of 14 days she is still a pregnant mother
        assert len(decide(fold(given), replace(late, decided_on=date(2025, 5, 15)))) == 2
        # once the birth is recorded the family qualifies: a breastfeeding mother with a baduta
        birth = RecordBirth(FAMILY, TODAY, "kader", MOTHER, date(2025, 5, 20), child(date(2025, 5, 20)))
        born = given + decide(fold(given), birth)
        assert len(decide(fold(born), late)) == 2

    def test_another_member_keeps_the_family_eligible(self) -> None:
        members = (woman("breastfeeding_mother"), child(date(2023, 5, 1)), child(date(2024, 12, 1), UUID(int=0xB3)))
        given = fold(decide(Family(), register(members, registered_on=date(2025, 3, 1))))
        assert len(decide(given, VerifyFamily(FAMILY, TODAY, "lurah", "approve", decided_on=date(2025, 7, 1)))) == 2

    def test_a_rejection_is_not_refused_for_eligibility(self) -> None:
        given = fold(
            decide(
                Family(),
                register(
                    (woman("pregnant_mother", expected_delivery_date=date(2025, 5, 1)),), registered_on=date(2025, 3, 1)
                ),
            )
        )
        assert len(decide(given, VerifyFamily(FAMILY, TODAY, "lurah", "reject", decided_on=date(2025, 9, 1)))) == 1


# -- members change as time passes ---------------------------------------------------------


class TestBirthsAndAgingOut:
    def registered_pregnant(self) -> list[Fact]:
        pregnant = woman("pregnant_mother", expected_delivery_date=date(2025, 6, 1))
        return decide(Family(), register((pregnant,), registered_on=date(2025, 3, 1)))

    def test_a_birth_makes_the_mother_breastfeeding_and_adds_a_baduta(self) -> None:
        given = self.registered_pregnant()
        facts = decide(
            fold(given), RecordBirth(FAMILY, TODAY, "kader", MOTHER, date(2025, 6, 3), child(date(2025, 6, 3)))
        )
        gave_birth, added = (f.event for f in facts)
        assert isinstance(gave_birth, MotherGaveBirth) and gave_birth.born_on == date(2025, 6, 3)
        assert isinstance(added, MemberAdded) and (added.role, added.age_months, added.added_on) == (
            "baduta",
            0,
            date(2025, 6, 3),
        )
        assert facts[1].private is not None and facts[0].private is None
        after = fold(given + facts)
        assert [m.role for m in after.members] == ["breastfeeding_mother", "baduta"]

    def test_a_twin_adds_a_second_baduta_and_no_second_birth_of_the_mother(self) -> None:
        given = self.registered_pregnant()
        given += decide(
            fold(given), RecordBirth(FAMILY, TODAY, "kader", MOTHER, date(2025, 6, 3), child(date(2025, 6, 3)))
        )
        twin = decide(
            fold(given), RecordBirth(FAMILY, TODAY, "kader", MOTHER, date(2025, 6, 3), child(date(2025, 6, 3), TWIN))
        )
        assert [type(f.event) for f in twin] == [MemberAdded]

    @pytest.mark.parametrize(
        ("mother", "born_on", "field"),
        [
            (BABY, date(2025, 6, 3), "mother_member_id"),
            (UUID(int=1), date(2025, 6, 3), "mother_member_id"),
            (MOTHER, date(2025, 2, 1), "born_on"),  # before the registration
            (MOTHER, TODAY + timedelta(days=1), "born_on"),
        ],
    )
    def test_a_birth_that_cannot_be_is_refused_naming_the_field(self, mother: UUID, born_on: date, field: str) -> None:
        given = self.registered_pregnant()
        given += decide(
            fold(given), RecordBirth(FAMILY, TODAY, "kader", MOTHER, date(2025, 6, 3), child(date(2025, 6, 3)))
        )
        command = RecordBirth(FAMILY, TODAY, "kader", mother, born_on, child(born_on, TWIN))
        assert field in refused(fold(given), command)

    def test_a_child_ages_out_on_its_24_month_birthday_whenever_the_clock_notices(self) -> None:
        members = (woman("breastfeeding_mother"), child(date(2023, 4, 15)))
        given = decide(Family(), register(members, registered_on=date(2025, 3, 1)))
        assert decide(fold(given), AgeOutChildren(FAMILY, date(2025, 4, 14))) == []
        on_the_day = decide(fold(given), AgeOutChildren(FAMILY, date(2025, 4, 15)))
        months_late = decide(fold(given), AgeOutChildren(FAMILY, TODAY))
        assert on_the_day == months_late
        [fact] = months_late
        assert isinstance(fact.event, ChildAgedOut) and fact.event.aged_out_on == date(2025, 4, 15)
        after = fold(given + months_late)
        assert [m.role for m in after.members] == ["breastfeeding_mother", "other"]
        assert decide(after, AgeOutChildren(FAMILY, TODAY)) == []  # once only

    @given(st.dates(date(2023, 4, 1), date(2025, 3, 1)), st.integers(0, 400))
    def test_the_aging_out_events_do_not_depend_on_the_day_they_are_recorded(self, born: date, late: int) -> None:
        members = (woman("breastfeeding_mother"), child(born))
        state = fold(decide(Family(), register(members, registered_on=date(2025, 3, 1), today=date(2027, 6, 1))))
        turned = (
            date(born.year + 2, born.month, born.day)
            if (born.month, born.day) != (2, 29)
            else date(born.year + 2, 2, 28)
        )
        later = decide(state, AgeOutChildren(FAMILY, turned + timedelta(days=late)))
        assert [f.event for f in later] == [f.event for f in decide(state, AgeOutChildren(FAMILY, turned))]
        assert [f.event.aged_out_on for f in later] == [turned]  # type: ignore[attr-defined]


# -- edge cases of dates in NIKs and ages ----------------------------------------------------------


class TestEdgeCases:
    def test_a_member_born_1925_with_nik_010125_is_accepted(self) -> None:
        grandmother = NewMember(UUID(int=5), "Mbah", "3375014101250001", "other", date(1925, 1, 1), "F")
        assert member_errors(grandmother, TODAY, DEFAULT_RULES) == []
        baby_2025 = replace(grandmother, birth_date=date(2025, 1, 1), role="baduta")
        assert member_errors(baby_2025, TODAY, DEFAULT_RULES) == []
        wrong_year = replace(grandmother, birth_date=date(1935, 1, 1))
        assert [e.field for e in member_errors(wrong_year, TODAY, DEFAULT_RULES)] == ["nik"]

    def test_stunting_is_decided_on_the_unrounded_z_score(self) -> None:
        exact = growth.GrowthAssessment(400, 13, "recumbent", haz=-2.0, waz=None, haz_exact=-2.0049)
        assert exact.haz == -2.0 and exact.stunted
        severe = growth.GrowthAssessment(400, 13, "recumbent", haz=-3.0, waz=None, haz_exact=-3.004)
        assert severe.severely_stunted
        assert not growth.GrowthAssessment(400, 13, "recumbent", haz=-2.0, waz=None, haz_exact=-1.995).stunted

    def test_assess_keeps_the_unrounded_score(self) -> None:
        result = growth.assess("M", date(2024, 1, 1), date(2025, 1, 1), 8.1, 70.5)
        assert result.haz_exact is not None and round(result.haz_exact, 2) == result.haz
        assert result.stunted == (result.haz_exact < -2)


# -- the risk factors' age rules ---------------------------------------------


class TestRiskFactorAgeRules:
    def registered(self, members: tuple[NewMember, ...], *factors: str) -> FamilyRegistered:
        [fact] = decide(Family(), register(members, risk_factors=factors or ("poor",)))
        assert isinstance(fact.event, FamilyRegistered)
        return fact.event

    def test_a_claimed_mother_too_young_that_the_birth_date_contradicts_is_refused(self) -> None:
        members = (woman("breastfeeding_mother", date(1996, 5, 14)), child(date(2025, 1, 1)))
        assert refused(Family(), register(members, risk_factors=("poor", "mother_too_young"))) == ["risk_factors[1]"]

    def test_a_claimed_mother_too_old_that_the_birth_date_contradicts_is_refused(self) -> None:
        members = (woman("breastfeeding_mother", date(1996, 5, 14)), child(date(2025, 1, 1)))
        assert refused(Family(), register(members, risk_factors=("mother_too_old",))) == ["risk_factors[0]"]

    def test_births_too_close_is_refused_when_the_births_are_far_apart(self) -> None:
        members = (
            woman("breastfeeding_mother"),
            child(date(2025, 1, 1)),
            child(date(2020, 1, 1), UUID(int=0xB4), "other"),
        )
        assert refused(Family(), register(members, risk_factors=("births_too_close",))) == ["risk_factors[0]"]

    def test_the_dates_imply_factors_the_registry_adds(self) -> None:
        young = woman("breastfeeding_mother", date(2007, 3, 1))  # 18 on TODAY
        kids = tuple(
            child(
                date(2025 - 2 * i, 1, 1) if i else date(2025, 1, 1),
                UUID(int=0xB10 + i),
                "baduta" if i == 0 else "other",
            )
            for i in range(4)
        )
        close = child(date(2024, 3, 1), UUID(int=0xB20))  # 10 months before the first
        event = self.registered((young, *kids, close))
        assert event.risk_factors == ["poor", "mother_too_young", "births_too_close", "too_many_children"]

    def test_a_mother_35_or_older_implies_mother_too_old_and_a_claim_is_kept_once(self) -> None:
        members = (woman("breastfeeding_mother", date(1988, 1, 1)), child(date(2025, 1, 1)))
        assert self.registered(members, "mother_too_old").risk_factors == ["mother_too_old"]

    def test_a_factor_the_dates_imply_counts_as_the_required_one(self) -> None:
        # Given an 18-year-old mother; when the kader claims no risk factor;
        members = (woman("breastfeeding_mother", date(2007, 3, 1)), child(date(2025, 1, 1)))
        # then the family is registered with the factor the registry derives, not refused.
        assert self.registered_without_claims(members).risk_factors == ["mother_too_young"]

    def test_with_nothing_claimed_or_implied_a_risk_factor_is_still_required(self) -> None:
        members = (woman("breastfeeding_mother", date(1996, 5, 14)), child(date(2025, 1, 1)))
        assert refused(Family(), register(members, risk_factors=())) == ["risk_factors"]

    def registered_without_claims(self, members: tuple[NewMember, ...]) -> FamilyRegistered:
        [fact] = decide(Family(), register(members, risk_factors=()))
        assert isinstance(fact.event, FamilyRegistered)
        return fact.event

    def test_the_limits_are_configuration(self) -> None:
        from services.registry.reference import RiskRules, Rules

        members = (woman("breastfeeding_mother", date(2004, 3, 1)), child(date(2025, 1, 1)))  # 21
        rules = Rules(risk=RiskRules(mother_too_young_under_years=22))
        [fact] = decide(Family(), register(members, risk_factors=("mother_too_young",)), rules)
        assert fact.event.risk_factors == ["mother_too_young"]  # type: ignore[attr-defined]
