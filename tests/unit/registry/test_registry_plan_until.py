"""How long a family's plan runs, given/when/then (README, "Plan until a child's age"): with
GENTING_PLAN_UNTIL_CHILD_MONTHS = N the registry publishes the day the family's youngest baduta
turns N months (`plan_until`, a programme date, never the birth date) on FamilyEnrolled, and again
on FamilyEligibilityChanged when a newborn moves it; unset, or with no baduta yet, it is None and
the fixed GENTING_PLAN_DAYS apply."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID

from services.registry.domain import (
    AddMember,
    AgeOutChildren,
    Family,
    NewMember,
    RecordBirth,
    RegisterFamily,
    VerifyFamily,
    decide,
    fold,
)
from services.registry.reference import DEFAULT_RULES, Rules
from shared.contracts.registry import FamilyEligibilityChanged, FamilyEnrolled

FAMILY = UUID(int=0xF002)
MOTHER, OLDER, YOUNGER, NEWBORN = UUID(int=0xA1), UUID(int=0xB1), UUID(int=0xB2), UUID(int=0xB3)
MEDONO = "33.75.01.1002"
TODAY = date(2025, 9, 30)
UNTIL_23 = replace(DEFAULT_RULES, plan_until_child_months=23)


def nik_for(born: date, sex: str, serial: str = "0001") -> str:
    day = born.day + 40 if sex == "F" else born.day
    return f"337501{day:02d}{born:%m%y}{serial}"


def mother(role: str, **kw: Any) -> NewMember:
    born = date(1996, 5, 14)
    return NewMember(MOTHER, "Siti", nik_for(born, "F"), role, born, "F", **kw)


def baduta(born: date, member_id: UUID) -> NewMember:
    return NewMember(member_id, "Anak", None, "baduta", born, "M")


def enrol(members: tuple[NewMember, ...], rules: Rules, on: date = date(2025, 3, 2)) -> list[Any]:
    registered = decide(
        Family(),
        RegisterFamily(
            FAMILY, TODAY, "kader", "3375011203150007", "Bapak", "Jl. Medono 1", MEDONO, members, ("poor",), True,
            registered_on=date(2025, 3, 1),
        ),
        rules,
    )  # fmt: skip
    return registered + decide(fold(registered), VerifyFamily(FAMILY, TODAY, "lurah", "approve", decided_on=on), rules)


def enrolment(facts: list[Any]) -> FamilyEnrolled:
    (event,) = [f.event for f in facts if isinstance(f.event, FamilyEnrolled)]
    return event


def changes(facts: list[Any]) -> list[FamilyEligibilityChanged]:
    return [f.event for f in facts if isinstance(f.event, FamilyEligibilityChanged)]


class TestPlanUntil:
    def test_the_plan_runs_until_the_youngest_baduta_turns_n_months(self) -> None:
        members = (mother("breastfeeding_mother"), baduta(date(2024, 1, 10), OLDER), baduta(date(2024, 11, 5), YOUNGER))
        facts = enrol(members, UNTIL_23)
        # the youngest, born 5 Nov 2024, is 23 months on 5 Oct 2026: its plan's last day is 4 Oct
        assert enrolment(facts).plan_until == date(2026, 10, 5)
        assert fold(facts).plan_until == date(2026, 10, 5)

    def test_a_month_is_counted_as_the_registry_counts_ages(self) -> None:
        # born 31 Dec: 14 months old on the last day of February (add_months, like the ages)
        rules = replace(DEFAULT_RULES, plan_until_child_months=14)
        facts = enrol((mother("breastfeeding_mother"), baduta(date(2024, 12, 31), OLDER)), rules)
        assert enrolment(facts).plan_until == date(2026, 2, 28)

    def test_unset_it_is_none_the_fixed_plan_days_apply(self) -> None:
        facts = enrol((mother("breastfeeding_mother"), baduta(date(2024, 11, 5), YOUNGER)), DEFAULT_RULES)
        assert enrolment(facts).plan_until is None
        newborn = AddMember(FAMILY, TODAY, "kader", baduta(date(2025, 8, 1), NEWBORN), added_on=date(2025, 8, 2))
        assert changes(decide(fold(facts), newborn)) == []

    def test_a_pregnancy_only_family_has_none_until_the_birth_gives_a_date(self) -> None:
        pregnant = mother("pregnant_mother", expected_delivery_date=date(2025, 6, 1))
        facts = enrol((pregnant,), UNTIL_23)
        assert enrolment(facts).plan_until is None
        birth = RecordBirth(FAMILY, TODAY, "kader", MOTHER, date(2025, 6, 3), baduta(date(2025, 6, 3), NEWBORN))
        born = decide(fold(facts), birth, UNTIL_23)
        # still eligible (a breastfeeding mother, a baduta): published for the date alone
        assert [(c.eligible, c.effective_on, c.plan_until) for c in changes(born)] == [
            (True, date(2025, 6, 3), date(2027, 5, 3))
        ]
        assert fold(facts + born).plan_until == date(2027, 5, 3)

    def test_an_older_child_added_later_does_not_move_it_its_aging_out_keeps_it(self) -> None:
        facts = enrol((mother("breastfeeding_mother"), baduta(date(2024, 11, 5), YOUNGER)), UNTIL_23)
        older = AddMember(FAMILY, TODAY, "kader", baduta(date(2024, 2, 1), OLDER), added_on=date(2025, 4, 1))
        added = decide(fold(facts), older, UNTIL_23)
        assert changes(added) == []
        # the youngest ages out (the last baduta), with a breastfeeding mother left ineligible:
        # the published date stays the family's
        aged = decide(fold(facts + added), AgeOutChildren(FAMILY, date(2026, 12, 1)), UNTIL_23)
        assert [c.plan_until for c in changes(aged)] == [date(2026, 10, 5)]
        assert fold(facts + added + aged).plan_until == date(2026, 10, 5)
