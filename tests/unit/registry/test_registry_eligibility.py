"""A family's eligibility in time, given/when/then: when an enrolled family's last baduta ages out
with no pregnant or breastfeeding mother left, the registry says so (FamilyEligibilityChanged,
eligible false, on the birthday, whenever the clock notices); a pregnancy or a birth makes it a
target again. Another member that keeps it a target: no event."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from services.registry.domain import AddMember, AgeOutChildren, Family, NewMember, RegisterFamily, VerifyFamily, decide
from services.registry.domain import fold as fold_family
from shared.contracts.registry import ChildAgedOut, FamilyEligibilityChanged
from shared.repository import Fact

FAMILY = UUID(int=0xF001)
MOTHER, BABY, SISTER, NEWBORN = UUID(int=0xA1), UUID(int=0xB1), UUID(int=0xB2), UUID(int=0xB3)
MEDONO = "33.75.01.1002"
BORN = date(2023, 4, 15)
TURNS_24_MONTHS = date(2025, 4, 15)


def nik_for(born: date, sex: str, serial: str = "0001") -> str:
    day = born.day + 40 if sex == "F" else born.day
    return f"337501{day:02d}{born:%m%y}{serial}"


def adult() -> NewMember:
    born = date(1990, 1, 10)
    return NewMember(MOTHER, "Budi", nik_for(born, "M"), "other", born, "M")


def baduta(born: date, member_id: UUID = BABY) -> NewMember:
    return NewMember(member_id, "Anak", None, "baduta", born, "M")


def enrolled(*members: NewMember) -> list[Any]:
    registered = decide(
        Family(),
        RegisterFamily(
            FAMILY, date(2025, 3, 1), "kader", "3375011203150007", "Bapak", "Jl. Medono 1", MEDONO,
            members, ("poor",), True, registered_on=date(2025, 3, 1),
        ),
    )  # fmt: skip
    state = fold_family(registered)
    return registered + decide(state, VerifyFamily(FAMILY, date(2025, 3, 2), "lurah", "approve"))


def changes(facts: list[Any]) -> list[tuple[bool, date]]:
    return [(f.event.eligible, f.event.effective_on) for f in facts if isinstance(f.event, FamilyEligibilityChanged)]


class TestEligibility:
    def test_the_last_baduta_aging_out_makes_the_family_no_longer_eligible_on_the_birthday(self) -> None:
        given = enrolled(adult(), baduta(BORN))
        late = decide(fold_family(given), AgeOutChildren(FAMILY, TURNS_24_MONTHS + timedelta(days=90)))
        assert [type(f.event) for f in late] == [ChildAgedOut, FamilyEligibilityChanged]
        assert changes(late) == [(False, TURNS_24_MONTHS)]
        assert late == decide(fold_family(given), AgeOutChildren(FAMILY, TURNS_24_MONTHS))  # late entry = on time
        assert decide(fold_family(given + late), AgeOutChildren(FAMILY, date(2025, 9, 1))) == []  # once

    def test_a_younger_baduta_keeps_the_family_eligible(self) -> None:
        given = enrolled(adult(), baduta(BORN), baduta(date(2024, 6, 1), SISTER))
        assert changes(decide(fold_family(given), AgeOutChildren(FAMILY, date(2025, 5, 1)))) == []

    def test_a_family_only_registered_publishes_nothing_its_verification_checks_eligibility(self) -> None:
        registered = enrolled(adult(), baduta(BORN))[:1]
        assert changes(decide(fold_family(registered), AgeOutChildren(FAMILY, date(2025, 5, 1)))) == []

    def test_a_new_baduta_makes_it_eligible_again(self) -> None:
        given = enrolled(adult(), baduta(BORN))
        given += decide(fold_family(given), AgeOutChildren(FAMILY, date(2025, 5, 1)))
        added = decide(
            fold_family(given),
            AddMember(
                FAMILY, date(2025, 6, 1), "kader", baduta(date(2025, 5, 20), NEWBORN), added_on=date(2025, 5, 25)
            ),
        )
        assert changes(added) == [(True, date(2025, 5, 25))]
        assert fold_family(given + added).eligible


class TestAgedOutBeforeEligibilityWasPublished:
    """A deployment upgraded from a version that recorded ChildAgedOut but no eligibility change:
    its enrolled families whose children all aged out still count as eligible until the clock's
    step says otherwise, dated as it would have said it then."""

    def legacy(self, *members: NewMember) -> list[Any]:
        given = enrolled(*members)
        aged = ChildAgedOut(family_id=FAMILY, member_id=BABY, kelurahan_code=MEDONO, aged_out_on=TURNS_24_MONTHS)
        return [*given, Fact(aged)]  # what the older version's step recorded: no FamilyEligibilityChanged

    def test_the_step_says_it_is_no_longer_eligible_on_the_day_its_last_baduta_turned_24_months(self) -> None:
        given = self.legacy(adult(), baduta(BORN))
        assert fold_family(given).eligible  # never said
        said = decide(fold_family(given), AgeOutChildren(FAMILY, date(2026, 1, 10)))
        assert changes(said) == [(False, TURNS_24_MONTHS)]
        assert decide(fold_family(given + said), AgeOutChildren(FAMILY, date(2026, 1, 11))) == []  # once

    def test_a_pregnant_mother_keeps_it_eligible_and_the_clock_never_declares_her_overdue(self) -> None:
        born = date(1995, 2, 2)
        pregnant = NewMember(SISTER, "Ibu", nik_for(born, "F", "0002"), "pregnant_mother", born, "F", date(2025, 5, 1))
        given = self.legacy(adult(), baduta(BORN), pregnant)
        assert changes(decide(fold_family(given), AgeOutChildren(FAMILY, date(2026, 1, 10)))) == []
