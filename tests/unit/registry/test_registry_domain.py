"""The Family aggregate, given/when/then: decide() on recorded facts, and evolve() replaying them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registry.domain import (
    AddMember,
    Command,
    ErasePersonalData,
    ExitFamily,
    Fact,
    Family,
    FamilyAlreadyExists,
    FamilyNotActive,
    FamilyNotFound,
    FamilyNotPendingVerification,
    InvalidCommand,
    MemberPersonal,
    NewMember,
    NotePersonal,
    PersonalDataAlreadyErased,
    RegisterFamily,
    RegistrationPersonal,
    VerifyFamily,
    active_niks,
    decide,
    fold,
    member_counts,
)
from services.registry.domain.validation import age_in_months
from services.registry.reference import Rules
from shared.contracts.registry import (
    CATALOG,
    FamilyEnrolled,
    FamilyExited,
    FamilyRegistered,
    FamilyRejected,
    FamilyVerified,
    MemberAdded,
    MemberSummary,
    PersonalDataErased,
)
from shared.errors import Conflict, NotFound
from shared.testing import refused_fields as refused_by
from shared.testing.facts import exit_of

TODAY = date(2025, 3, 10)
FAMILY = UUID("00000000-0000-0000-0000-00000000f001")
MOTHER = UUID("00000000-0000-0000-0000-00000000a001")
BABY = UUID("00000000-0000-0000-0000-00000000b001")
NEWBORN = UUID("00000000-0000-0000-0000-00000000b002")
OTHER = UUID("00000000-0000-0000-0000-00000000c001")
MEDONO, BARAT = "33.75.01.1002", "33.75.01"
KADER, LURAH, ADMIN = "kader-medono-1", "lurah-medono", "admin-1"
KK = "3375011203150007"
MOTHER_BORN, BABY_BORN = date(1996, 5, 14), date(2024, 6, 1)
HEAD, ADDRESS = "Ahmad Fauzi", "Jl. Medono Gg. 3 No. 12"


def nik_for(born: date, sex: str, serial: str = "0001") -> str:
    day = born.day + 40 if sex == "F" else born.day
    return f"337501{day:02d}{born:%m%y}{serial}"


MOTHER_NIK = nik_for(MOTHER_BORN, "F")


def mother(**changes: Any) -> NewMember:
    member = NewMember(MOTHER, "Siti Aminah", MOTHER_NIK, "breastfeeding_mother", MOTHER_BORN, "F")
    return replace(member, **changes)


def baby(**changes: Any) -> NewMember:
    return replace(NewMember(BABY, "Rizky", None, "baduta", BABY_BORN, "M"), **changes)


def other(**changes: Any) -> NewMember:
    born = date(1990, 8, 17)
    return replace(NewMember(OTHER, HEAD, nik_for(born, "M", "0002"), "other", born, "M"), **changes)


def pregnant(**changes: Any) -> NewMember:
    born = date(2001, 2, 3)
    member = NewMember(MOTHER, "Dewi", nik_for(born, "F"), "pregnant_mother", born, "F", date(2025, 7, 20))
    return replace(member, **changes)


def register(**changes: Any) -> RegisterFamily:
    command = RegisterFamily(
        family_id=FAMILY,
        today=TODAY,
        registered_by=KADER,
        kk_number=KK,
        head_name=HEAD,
        address=ADDRESS,
        kelurahan_code=MEDONO,
        members=(mother(), baby()),
        risk_factors=("unsafe_drinking_water", "poor"),
        consent=True,
    )
    return replace(command, **changes)


def counts(**by_role: int) -> dict[str, int]:
    return {"pregnant_mother": 0, "breastfeeding_mother": 0, "baduta": 0, "other": 0, **by_role}


REGISTERED = Fact(
    FamilyRegistered(
        family_id=FAMILY,
        kelurahan_code=MEDONO,
        kecamatan_code=BARAT,
        members=[
            MemberSummary(member_id=MOTHER, role="breastfeeding_mother", sex="F", age_months=345),
            MemberSummary(member_id=BABY, role="baduta", sex="M", age_months=9),
        ],
        member_counts=counts(breastfeeding_mother=1, baduta=1),  # type: ignore[arg-type]
        risk_factors=["unsafe_drinking_water", "poor"],
        registered_on=TODAY,
        registered_by=KADER,
    ),
    RegistrationPersonal(
        kk_number=KK,
        head_name=HEAD,
        address=ADDRESS,
        members=(
            MemberPersonal(member_id=MOTHER, name="Siti Aminah", nik=MOTHER_NIK, birth_date=MOTHER_BORN),
            MemberPersonal(member_id=BABY, name="Rizky", nik=None, birth_date=BABY_BORN),
        ),
    ),
)
VERIFIED = Fact(FamilyVerified(family_id=FAMILY, kelurahan_code=MEDONO, verified_on=TODAY, verified_by=LURAH))
ENROLLED = Fact(
    FamilyEnrolled(
        family_id=FAMILY,
        kelurahan_code=MEDONO,
        kecamatan_code=BARAT,
        member_counts=counts(breastfeeding_mother=1, baduta=1),  # type: ignore[arg-type]
        risk_factors=["unsafe_drinking_water", "poor"],
        enrolled_on=TODAY,
    )
)
REJECTED = Fact(FamilyRejected(family_id=FAMILY, kelurahan_code=MEDONO, rejected_on=TODAY, rejected_by=LURAH))
EXITED = Fact(exit_of(FAMILY, TODAY, kelurahan=MEDONO, by=ADMIN))
ERASED = Fact(PersonalDataErased(family_id=FAMILY, kelurahan_code=MEDONO, erased_on=TODAY, erased_by=ADMIN))


def refused_fields(given: list[Fact], when: Command, rules: Rules | None = None) -> list[str]:
    return refused_by(lambda: decide(fold(given), when, rules) if rules else decide(fold(given), when))


def refusal_messages(given: list[Fact], when: Command) -> list[str]:
    with pytest.raises(InvalidCommand) as caught:
        decide(fold(given), when)
    return [e.message for e in caught.value.errors]


class TestRegisterFamily:
    def test_registering_records_the_public_summary_and_seals_the_personal_data(self) -> None:
        assert decide(Family(), register()) == [REGISTERED]

    def test_the_published_event_carries_no_name_nik_kk_address_or_birth_date(self) -> None:
        [fact] = decide(Family(), register(members=(mother(), baby(), other())))

        published = fact.event.model_dump_json()

        for secret in ("Siti", "Rizky", HEAD, MOTHER_NIK, other().nik, KK, ADDRESS, "1996-05-14", "2024-06-01"):
            assert secret is not None and secret not in published

    def test_names_and_address_are_kept_without_surrounding_spaces(self) -> None:
        [fact] = decide(Family(), register(head_name="  Ahmad Fauzi ", address=" Jl. Medono\t"))

        assert isinstance(fact.private, RegistrationPersonal)
        assert (fact.private.head_name, fact.private.address) == ("Ahmad Fauzi", "Jl. Medono")

    def test_a_pregnant_mother_alone_is_enough(self) -> None:
        [fact] = decide(Family(), register(members=(pregnant(),)))

        assert isinstance(fact.event, FamilyRegistered)
        assert fact.event.member_counts == counts(pregnant_mother=1)

    def test_registering_a_family_id_twice_is_refused(self) -> None:
        with pytest.raises(FamilyAlreadyExists):
            decide(fold([REGISTERED]), register())

    def test_every_problem_is_reported_at_once(self) -> None:
        when = register(
            kk_number="12345",
            head_name=" ",
            address="",
            kelurahan_code="33.75.01.1001",
            members=(mother(nik=MOTHER_NIK[:12] + "0000"), baby()),
            risk_factors=("poor", "poor", "smoking"),
            consent=False,
        )

        assert refused_fields([], when) == [
            "kk_number",
            "head_name",
            "address",
            "kelurahan_code",
            "members[0].nik",
            "risk_factors[1]",
            "risk_factors[2]",
            "consent",
        ]

    def test_a_family_without_members_is_refused(self) -> None:
        assert refused_fields([], register(members=())) == ["members"]

    def test_a_family_without_a_mother_or_baduta_is_refused(self) -> None:
        assert refused_fields([], register(members=(other(),))) == ["members"]

    def test_a_baduta_may_have_no_nik_yet_but_a_mother_must_have_one(self) -> None:
        assert refused_fields([], register(members=(mother(nik=None), baby(nik=None)))) == ["members[0].nik"]

    def test_a_babys_nik_is_checked_when_given(self) -> None:
        accepted = decide(Family(), register(members=(mother(), baby(nik=nik_for(BABY_BORN, "M")))))

        assert len(accepted) == 1
        assert refused_fields([], register(members=(mother(), baby(nik=nik_for(BABY_BORN, "F"))))) == ["members[1].nik"]

    def test_a_baduta_of_24_months_is_refused(self) -> None:
        assert refused_fields([], register(members=(mother(), baby(birth_date=date(2023, 3, 10))))) == [
            "members[1].birth_date"
        ]

    def test_a_baduta_of_23_months_is_accepted(self) -> None:
        [fact] = decide(Family(), register(members=(mother(), baby(birth_date=date(2023, 3, 11)))))

        assert isinstance(fact.event, FamilyRegistered)
        assert fact.event.members[1].age_months == 23

    def test_the_baduta_age_limit_comes_from_the_rules(self) -> None:
        when = register(members=(mother(), baby(birth_date=date(2024, 2, 1))))

        assert len(decide(Family(), when)) == 1
        assert refused_fields([], when, Rules(baduta_max_months=12)) == ["members[1].birth_date"]

    def test_a_nik_whose_birth_date_differs_from_the_members_is_refused(self) -> None:
        when = register(members=(mother(birth_date=date(1996, 5, 15)), baby()))

        assert refusal_messages([], when) == ["does not match birth_date"]

    def test_a_nik_whose_sex_differs_from_the_members_is_refused(self) -> None:
        when = register(members=(mother(), baby(), other(sex="F")))

        assert refused_fields([], when) == ["members[2].nik"]
        assert refusal_messages([], when) == ["does not match sex"]

    def test_the_same_nik_twice_in_one_family_is_refused(self) -> None:
        twin = other(nik=MOTHER_NIK, birth_date=MOTHER_BORN, sex="F")

        assert refused_fields([], register(members=(mother(), baby(), twin))) == ["members[2].nik"]

    def test_the_same_member_id_twice_is_refused(self) -> None:
        assert refused_fields([], register(members=(mother(), baby(member_id=MOTHER)))) == ["members[1].member_id"]

    def test_a_mother_must_be_a_woman(self) -> None:
        male = mother(sex="M", nik=nik_for(MOTHER_BORN, "M"))

        assert refused_fields([], register(members=(male, baby()))) == ["members[0].sex"]

    @pytest.mark.parametrize(
        ("born", "accepted"),
        [
            (date(2010, 3, 10), True),  # 15 today
            (date(2010, 3, 11), False),  # 15 tomorrow
            (date(1975, 3, 11), True),  # 49, 50 tomorrow
            (date(1975, 3, 10), False),  # 50 today
        ],
    )
    def test_a_mother_must_be_15_to_49_years_old(self, born: date, accepted: bool) -> None:
        when = register(members=(mother(birth_date=born, nik=nik_for(born, "F")), baby()))

        if accepted:
            assert len(decide(Family(), when)) == 1
        else:
            assert refused_fields([], when) == ["members[0].birth_date"]

    @pytest.mark.parametrize(
        ("due", "message"),
        [
            (None, "is required for a pregnant_mother"),
            (TODAY, "must be after the effective date (2025-03-10)"),
            (date(2026, 1, 11), "must be within 10 months of the effective date"),
        ],
    )
    def test_a_pregnant_mother_needs_a_plausible_expected_delivery_date(self, due: date | None, message: str) -> None:
        when = register(members=(pregnant(expected_delivery_date=due),))

        assert refused_fields([], when) == ["members[0].expected_delivery_date"]
        assert refusal_messages([], when) == [message]

    def test_an_expected_delivery_date_ten_months_ahead_is_accepted(self) -> None:
        assert len(decide(Family(), register(members=(pregnant(expected_delivery_date=date(2026, 1, 10)),)))) == 1

    def test_only_a_pregnant_mother_has_an_expected_delivery_date(self) -> None:
        when = register(members=(mother(), baby(expected_delivery_date=date(2025, 5, 1))))

        assert refused_fields([], when) == ["members[1].expected_delivery_date"]

    def test_a_birth_date_after_today_is_refused(self) -> None:
        assert refused_fields([], register(members=(mother(), baby(birth_date=TODAY + timedelta(days=1))))) == [
            "members[1].birth_date"
        ]

    def test_an_unknown_role_or_sex_is_refused(self) -> None:
        when = register(members=(mother(), baby(role="grandchild", sex="X")))

        assert refused_fields([], when) == ["members[1].role", "members[1].sex", "members[1].nik"]

    def test_an_overlong_head_name_is_refused(self) -> None:
        assert refused_fields([], register(head_name="A" * 101)) == ["head_name"]

    def test_at_least_one_risk_factor_is_required(self) -> None:
        assert refused_fields([], register(risk_factors=())) == ["risk_factors"]

    def test_registration_needs_the_familys_consent(self) -> None:
        assert refused_fields([], register(consent=False)) == ["consent"]


def newborn(**changes: Any) -> NewMember:
    return replace(NewMember(NEWBORN, "Putri", None, "baduta", date(2025, 3, 1), "F"), **changes)


def add(member: NewMember) -> AddMember:
    return AddMember(family_id=FAMILY, today=TODAY, added_by=KADER, member=member)


class TestAddMember:
    def test_a_newborn_joins_an_enrolled_family(self) -> None:
        then = [
            Fact(
                MemberAdded(
                    family_id=FAMILY,
                    member_id=NEWBORN,
                    role="baduta",
                    sex="F",
                    age_months=0,
                    kelurahan_code=MEDONO,
                    added_on=TODAY,
                    added_by=KADER,
                ),
                MemberPersonal(member_id=NEWBORN, name="Putri", nik=None, birth_date=date(2025, 3, 1)),
            )
        ]

        assert decide(fold([REGISTERED, VERIFIED, ENROLLED]), add(newborn())) == then

    def test_adding_to_an_unknown_family_is_refused(self) -> None:
        with pytest.raises(FamilyNotFound):
            decide(Family(), add(newborn()))

    @pytest.mark.parametrize("given", [[REGISTERED, REJECTED], [REGISTERED, VERIFIED, ENROLLED, EXITED]])
    def test_adding_to_a_rejected_or_exited_family_is_refused(self, given: list[Fact]) -> None:
        with pytest.raises(FamilyNotActive):
            decide(fold(given), add(newborn()))

    def test_adding_after_the_personal_data_was_erased_is_refused(self) -> None:
        with pytest.raises(PersonalDataAlreadyErased):
            decide(fold([REGISTERED, ERASED]), add(newborn()))

    def test_a_nik_already_in_the_family_is_refused(self) -> None:
        twin = other(nik=MOTHER_NIK, birth_date=MOTHER_BORN, sex="F")

        assert refused_fields([REGISTERED], add(twin)) == ["nik"]

    def test_member_problems_are_named_by_the_members_own_fields(self) -> None:
        when = add(newborn(member_id=BABY, name="", birth_date=date(2022, 1, 1)))

        assert refused_fields([REGISTERED], when) == ["name", "member_id", "birth_date"]


def verify(decision: str, note: str | None = None) -> VerifyFamily:
    return VerifyFamily(family_id=FAMILY, today=TODAY, decided_by=LURAH, decision=decision, note=note)


class TestVerifyFamily:
    def test_approval_verifies_and_enrolls_the_family(self) -> None:
        assert decide(fold([REGISTERED]), verify("approve")) == [VERIFIED, ENROLLED]

    def test_enrollment_counts_the_members_added_since_registration(self) -> None:
        given = [REGISTERED, *decide(fold([REGISTERED]), add(newborn()))]

        [_, enrolled] = decide(fold(given), verify("approve"))

        assert isinstance(enrolled.event, FamilyEnrolled)
        assert enrolled.event.member_counts == counts(breastfeeding_mother=1, baduta=2)

    def test_rejection_keeps_the_note_personal(self) -> None:
        then = [Fact(REJECTED.event, NotePersonal(note="Bu Siti sudah pindah ke Batang"))]

        assert decide(fold([REGISTERED]), verify("reject", "  Bu Siti sudah pindah ke Batang ")) == then

    def test_a_blank_note_is_no_note(self) -> None:
        assert decide(fold([REGISTERED]), verify("reject", "   ")) == [REJECTED]

    @pytest.mark.parametrize("given", [[REGISTERED, VERIFIED, ENROLLED], [REGISTERED, REJECTED]])
    def test_only_a_registered_family_awaits_verification(self, given: list[Fact]) -> None:
        with pytest.raises(FamilyNotPendingVerification):
            decide(fold(given), verify("approve"))

    def test_an_unknown_decision_is_refused(self) -> None:
        assert refused_fields([REGISTERED], verify("maybe")) == ["decision"]

    def test_an_overlong_note_is_refused(self) -> None:
        assert refused_fields([REGISTERED], verify("approve", "x" * 2001)) == ["note"]

    def test_verifying_an_unknown_family_is_refused(self) -> None:
        with pytest.raises(FamilyNotFound):
            decide(Family(), verify("approve"))


def exit_(reason: str = "moved_away") -> ExitFamily:
    return ExitFamily(family_id=FAMILY, today=TODAY, exited_by=ADMIN, reason=reason)


class TestExitFamily:
    def test_an_enrolled_family_exits_with_its_reason(self) -> None:
        assert decide(fold([REGISTERED, VERIFIED, ENROLLED]), exit_()) == [EXITED]

    def test_a_registered_family_may_exit_before_verification(self) -> None:
        [fact] = decide(fold([REGISTERED]), exit_("duplicate"))

        assert isinstance(fact.event, FamilyExited)
        assert (fact.event.reason, fact.event.previous_status) == ("duplicate", "registered")

    @pytest.mark.parametrize("given", [[REGISTERED, REJECTED], [REGISTERED, VERIFIED, ENROLLED, EXITED]])
    def test_a_rejected_or_exited_family_cannot_exit(self, given: list[Fact]) -> None:
        with pytest.raises(FamilyNotActive):
            decide(fold(given), exit_())

    def test_an_unknown_reason_is_refused(self) -> None:
        assert refused_fields([REGISTERED], exit_("bored")) == ["reason"]


ERASE = ErasePersonalData(family_id=FAMILY, today=TODAY, erased_by=ADMIN)


class TestErasePersonalData:
    @pytest.mark.parametrize("given", [[REGISTERED], [REGISTERED, VERIFIED, ENROLLED, EXITED]])
    def test_erasure_is_recorded_for_any_family(self, given: list[Fact]) -> None:
        assert decide(fold(given), ERASE) == [ERASED]

    def test_erasing_twice_is_refused(self) -> None:
        with pytest.raises(PersonalDataAlreadyErased):
            decide(fold([REGISTERED, ERASED]), ERASE)

    def test_erasing_an_unknown_family_is_refused(self) -> None:
        with pytest.raises(FamilyNotFound):
            decide(Family(), ERASE)


class TestEvolve:
    def test_a_registered_family_has_its_members_and_personal_data(self) -> None:
        family = fold([REGISTERED])

        assert (family.family_id, family.status, family.version) == (FAMILY, "registered", 1)
        assert (family.kelurahan_code, family.kecamatan_code, family.kk_number) == (MEDONO, BARAT, KK)
        assert [(m.member_id, m.role, m.age_months_at_registration) for m in family.members] == [
            (MOTHER, "breastfeeding_mother", 345),
            (BABY, "baduta", 9),
        ]
        assert family.members[0].personal is not None and family.members[0].personal.nik == MOTHER_NIK
        assert active_niks(family) == [MOTHER_NIK]

    def test_approval_enrolls_and_exit_records_the_reason(self) -> None:
        family = fold([REGISTERED, VERIFIED, ENROLLED, EXITED])

        assert (family.status, family.version, family.verified_on, family.enrolled_on) == ("exited", 4, TODAY, TODAY)
        assert (family.exited_on, family.exit_reason) == (TODAY, "moved_away")
        assert active_niks(family) == []

    def test_rejection_keeps_the_note(self) -> None:
        family = fold([REGISTERED, Fact(REJECTED.event, NotePersonal(note="pindah"))])

        assert (family.status, family.rejected_on, family.verification_note) == ("rejected", TODAY, "pindah")

    def test_erasure_forgets_personal_data_but_keeps_counts_and_history(self) -> None:
        family = fold([REGISTERED, Fact(VERIFIED.event, NotePersonal(note="ok")), ENROLLED, ERASED])

        assert family.erased and family.version == 4 and family.status == "enrolled"
        assert (family.kk_number, family.head_name, family.address, family.verification_note) == (None,) * 4
        assert [m.personal for m in family.members] == [None, None]
        assert member_counts(family) == counts(breastfeeding_mother=1, baduta=1)
        assert active_niks(family) == []

    def test_a_history_whose_personal_parts_were_shredded_still_replays(self) -> None:
        newborn_added = decide(fold([REGISTERED]), add(newborn()))[0]
        shredded = [replace(f, private=None) for f in (REGISTERED, newborn_added, REJECTED, ERASED)]

        family = fold(shredded)

        assert (family.status, family.version, family.kk_number) == ("rejected", 4, None)
        assert [m.member_id for m in family.members] == [MOTHER, BABY, NEWBORN]
        assert all(m.personal is None for m in family.members)

    def test_decide_leaves_the_state_it_was_given_untouched(self) -> None:
        family = fold([REGISTERED])

        decide(family, add(newborn()))

        assert family == fold([REGISTERED])


@pytest.mark.parametrize(
    "fact", [REGISTERED, VERIFIED, ENROLLED, REJECTED, EXITED, ERASED], ids=lambda f: f.event.event_type
)
def test_every_published_event_round_trips_through_the_registry_catalog(fact: Fact) -> None:
    event = fact.event

    parsed = CATALOG.parse(event.event_type, event.schema_version, event.model_dump(mode="json"))

    assert parsed == event
    assert event.subject() == f"genting.registry.family.{FAMILY}.{event.event_type}"


class TestErrors:
    def test_errors_carry_ids_and_render_a_sentence(self) -> None:
        error = FamilyNotActive(FAMILY, "exited")

        assert isinstance(error, Conflict) and (error.id, error.state) == (FAMILY, "exited")
        assert error.detail == f"Family {FAMILY} is exited, not registered or enrolled."
        assert str(error) == error.detail

    @pytest.mark.parametrize(
        ("error", "kind"),
        [
            (FamilyNotFound(FAMILY), NotFound),
            (FamilyAlreadyExists(FAMILY), Conflict),
            (FamilyNotPendingVerification(FAMILY, "enrolled"), Conflict),
            (PersonalDataAlreadyErased(FAMILY), Conflict),
        ],
    )
    def test_each_error_maps_to_its_http_kind(self, error: Exception, kind: type[Exception]) -> None:
        assert isinstance(error, kind)
        assert str(FAMILY) in str(error)


class TestAgeInMonths:
    @pytest.mark.parametrize(
        ("born", "today", "months"),
        [
            (date(2025, 1, 31), date(2025, 2, 28), 0),
            (date(2025, 1, 31), date(2025, 3, 31), 2),
            (date(2024, 6, 1), date(2025, 3, 10), 9),
            (date(2023, 3, 10), date(2025, 3, 10), 24),
            (date(2023, 3, 11), date(2025, 3, 10), 23),
        ],
    )
    def test_age_counts_completed_months(self, born: date, today: date, months: int) -> None:
        assert age_in_months(born, today) == months

    @given(
        born=st.dates(min_value=date(1950, 1, 1), max_value=date(2030, 1, 1)),
        days=st.integers(0, 4000),
        later=st.integers(0, 400),
    )
    def test_age_never_goes_down_and_gains_at_most_a_month_per_31_days(self, born: date, days: int, later: int) -> None:
        today = born + timedelta(days=days)
        then = today + timedelta(days=later)

        assert 0 <= age_in_months(born, today) <= age_in_months(born, then)
        assert age_in_months(born, then) - age_in_months(born, today) <= later // 28 + 1
