"""The Family aggregate: its state, decide() and evolve(). Pure: no I/O, clock or ids."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from functools import reduce
from typing import Literal, assert_never, cast
from uuid import UUID

from services.registry.domain import growth
from services.registry.domain.commands import (
    AddMember,
    AgeOutChildren,
    Command,
    ErasePersonalData,
    ExitFamily,
    NewMember,
    RecordBirth,
    RecordGrowth,
    RegisterFamily,
    VerifyFamily,
)
from services.registry.domain.errors import (
    FamilyAlreadyExists,
    FamilyNotActive,
    FamilyNotFound,
    FamilyNotPendingVerification,
    NoLongerEligible,
    PersonalDataAlreadyErased,
)
from services.registry.domain.personal import MemberPersonal, NotePersonal, PersonalPart, RegistrationPersonal
from services.registry.domain.validation import (
    add_months,
    age_in_months,
    age_in_years,
    implied_risk_factors,
    member_errors,
    registration_errors,
    text_errors,
)
from services.registry.reference import DEFAULT_RULES, EXIT_REASONS, MOTHER_ROLES, ROLES, Rules, default_programme
from shared.contracts.registry import (
    ChildAgedOut,
    ExitReason,
    FamilyEligibilityChanged,
    FamilyEnrolled,
    FamilyExited,
    FamilyRegistered,
    FamilyRejected,
    FamilyVerified,
    GrowthMeasured,
    MemberAdded,
    MemberSummary,
    MotherGaveBirth,
    PersonalDataErased,
    RegistryEvent,
    Role,
    Sex,
)
from shared.errors import FieldError, InvalidCommand
from shared.programme import Programme
from shared.repository import Fact

Status = Literal["none", "registered", "enrolled", "rejected", "exited"]
ACTIVE_STATUSES: frozenset[Status] = frozenset({"registered", "enrolled"})

# -- state --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberState:
    member_id: UUID
    role: Role
    sex: Sex
    age_months_at_registration: int  # at registration, or when added later
    personal: MemberPersonal | None = None  # None once erased
    gave_birth_on: date | None = None  # a mother whose birth was recorded (MotherGaveBirth)


@dataclass(frozen=True)
class Family:
    family_id: UUID | None = None
    status: Status = "none"
    kelurahan_code: str = ""
    kecamatan_code: str = ""
    members: tuple[MemberState, ...] = ()
    risk_factors: tuple[str, ...] = ()
    kk_number: str | None = None
    head_name: str | None = None
    address: str | None = None
    erased: bool = False
    version: int = 0  # number of facts applied = the stream's version
    registered_on: date | None = None
    registered_by: str | None = None
    verified_on: date | None = None
    rejected_on: date | None = None
    verification_note: str | None = None
    enrolled_on: date | None = None
    exited_on: date | None = None
    exit_reason: ExitReason | None = None
    eligible: bool = True  # as last published (FamilyEligibilityChanged); True until one says otherwise
    plan_until: date | None = None  # as last published (FamilyEnrolled, FamilyEligibilityChanged)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


def member_counts(state: Family) -> dict[Role, int]:
    """Members by role, every role present (zero if none)."""
    counts = Counter(m.role for m in state.members)
    return {role: counts[role] for role in ROLES}


def family_niks(state: Family) -> list[str]:
    """The NIKs known for this family's members (none once erased)."""
    return [m.personal.nik for m in state.members if m.personal and m.personal.nik]


def active_niks(state: Family) -> list[str]:
    """The NIKs that must not be registered again elsewhere while this family is active."""
    return family_niks(state) if state.is_active else []


# -- decide -------------------------------------------------------------------------------


def decide(
    state: Family, command: Command, rules: Rules = DEFAULT_RULES, programme: Programme | None = None
) -> list[Fact]:
    """The facts a command records on this family, or a raised `DomainError`. `programme` is the
    deployment's (its kelurahan, its start date); None: the default deployment's."""
    programme = programme or default_programme()
    if state.status == "none" and not isinstance(command, RegisterFamily):
        raise FamilyNotFound(command.family_id)
    match command:
        case RegisterFamily():
            return _register(state, command, rules, programme)
        case AddMember():
            return _add_member(state, command, rules, programme)
        case VerifyFamily():
            return _verify(state, command, rules, programme)
        case ExitFamily():
            return _exit(state, command, programme)
        case RecordGrowth():
            return _record_growth(state, command, programme)
        case RecordBirth():
            return _record_birth(state, command, rules, programme)
        case AgeOutChildren():
            return _age_out(state, command, rules)
        case ErasePersonalData() if state.erased:
            raise PersonalDataAlreadyErased(command.family_id)
        case ErasePersonalData():
            event = PersonalDataErased(
                family_id=command.family_id,
                kelurahan_code=state.kelurahan_code,
                erased_on=command.today,
                erased_by=command.erased_by,
            )
            return [Fact(event)]
        case _:
            assert_never(command)


def _register(state: Family, cmd: RegisterFamily, rules: Rules, programme: Programme) -> list[Fact]:
    if state.status != "none":
        raise FamilyAlreadyExists(cmd.family_id)
    on = cmd.registered_on or cmd.today
    errors = programme.check_effective("registered_on", on, cmd.today)
    errors += registration_errors(cmd, rules, on=on, programme=programme)
    place = programme.kelurahan(cmd.kelurahan_code)
    if errors or place is None:
        raise InvalidCommand(errors)
    members = [_summary(m, on) for m in cmd.members]
    counts = Counter(m.role for m in members)
    # The registry adds the age-rule factors the members' dates show (BKKBN counts them whether
    # or not the enumerator ticked them); claimed ones the dates contradict were refused above.
    implied = [f for f in implied_risk_factors(cmd.members, on, rules.risk) if f not in cmd.risk_factors]
    event = FamilyRegistered(
        family_id=cmd.family_id,
        kelurahan_code=place.code,
        kecamatan_code=place.kecamatan_code,
        members=members,
        member_counts={role: counts[role] for role in ROLES},
        risk_factors=[*cmd.risk_factors, *implied],
        registered_on=on,
        registered_by=cmd.registered_by,
    )
    personal = RegistrationPersonal(
        kk_number=cmd.kk_number,
        head_name=cmd.head_name.strip(),
        address=cmd.address.strip(),
        members=tuple(_personal(m) for m in cmd.members),
    )
    return [Fact(event, personal)]


def _add_member(state: Family, cmd: AddMember, rules: Rules, programme: Programme) -> list[Fact]:
    if not state.is_active:
        raise FamilyNotActive(cmd.family_id, state.status)
    if state.erased:  # the family's key is shredded: nothing personal can be sealed any more
        raise PersonalDataAlreadyErased(cmd.family_id)
    on = cmd.added_on or cmd.today
    errors = programme.check_effective(
        "added_on", on, cmd.today, not_before=state.registered_on, not_before_field="the registration"
    )
    errors += member_errors(
        cmd.member,
        on,
        rules,
        taken_niks=family_niks(state),
        taken_ids=[m.member_id for m in state.members],
    )
    if errors:
        raise InvalidCommand(errors)
    summary = _summary(cmd.member, on)
    event = MemberAdded(
        family_id=cmd.family_id,
        member_id=summary.member_id,
        role=summary.role,
        sex=summary.sex,
        age_months=summary.age_months,
        kelurahan_code=state.kelurahan_code,
        added_on=on,
        added_by=cmd.added_by,
    )
    return _with_eligibility(state, [Fact(event, _personal(cmd.member))], on, rules)


def _verify(state: Family, cmd: VerifyFamily, rules: Rules, programme: Programme) -> list[Fact]:
    if state.status != "registered":
        raise FamilyNotPendingVerification(cmd.family_id, state.status)
    on = cmd.decided_on or cmd.today
    note = cmd.note.strip() if cmd.note is not None else ""
    errors = programme.check_effective(
        "decided_on", on, cmd.today, not_before=state.registered_on, not_before_field="the registration"
    )
    errors += text_errors("note", note, rules.max_note_length) if note else []
    if cmd.decision not in ("approve", "reject"):
        errors.insert(0, FieldError("decision", "must be approve or reject"))
    if errors:
        raise InvalidCommand(errors)
    if cmd.decision == "approve":
        reasons = ineligibility(state, on, rules)
        if reasons:
            raise NoLongerEligible(cmd.family_id, on.isoformat(), reasons)
    personal = NotePersonal(note=note) if note else None
    if cmd.decision == "reject":
        rejected = FamilyRejected(
            family_id=cmd.family_id,
            kelurahan_code=state.kelurahan_code,
            rejected_on=on,
            rejected_by=cmd.decided_by,
        )
        return [Fact(rejected, personal)]
    verified = FamilyVerified(
        family_id=cmd.family_id,
        kelurahan_code=state.kelurahan_code,
        verified_on=on,
        verified_by=cmd.decided_by,
    )
    enrolled = FamilyEnrolled(
        family_id=cmd.family_id,
        kelurahan_code=state.kelurahan_code,
        kecamatan_code=state.kecamatan_code,
        member_counts=member_counts(state),
        risk_factors=list(state.risk_factors),
        enrolled_on=on,
        plan_until=plan_until(state, rules),
    )
    return [Fact(verified, personal), Fact(enrolled)]


def _exit(state: Family, cmd: ExitFamily, programme: Programme) -> list[Fact]:
    if state.status not in ("registered", "enrolled"):
        raise FamilyNotActive(cmd.family_id, state.status)
    on = cmd.exited_on or cmd.today
    after, what = (
        (state.enrolled_on, "the enrolment") if state.enrolled_on else (state.registered_on, "the registration")
    )
    errors = programme.check_effective("exited_on", on, cmd.today, not_before=after, not_before_field=what)
    if cmd.reason not in EXIT_REASONS:
        errors.append(FieldError("reason", f"must be one of {', '.join(EXIT_REASONS)}"))
    if errors:
        raise InvalidCommand(errors)
    event = FamilyExited(
        family_id=cmd.family_id,
        kelurahan_code=state.kelurahan_code,
        reason=cast(ExitReason, cmd.reason),  # one of EXIT_REASONS: checked above
        exited_on=on,
        previous_status=state.status,
        exited_by=cmd.exited_by,
    )
    return [Fact(event)]


def _record_growth(state: Family, cmd: RecordGrowth, programme: Programme) -> list[Fact]:
    if not state.is_active:
        raise FamilyNotActive(cmd.family_id, state.status)
    if state.erased:  # the birth date is gone with the key: no age, no z-score
        raise PersonalDataAlreadyErased(cmd.family_id)
    child = next((m for m in state.members if m.member_id == cmd.member_id), None)
    if child is None:
        raise InvalidCommand([FieldError("member_id", "is not a member of this family")])
    if child.role in MOTHER_ROLES:
        raise InvalidCommand([FieldError("member_id", "is a mother; growth is measured for children under five")])
    assert child.personal is not None  # a member of a family not erased has its personal part
    born = child.personal.birth_date
    errors = growth.measurement_errors(born, cmd.measured_on, cmd.today, cmd.weight_kg, cmd.length_cm)
    if not any(e.field == "measured_on" for e in errors):
        errors = (
            programme.check_effective(
                "measured_on",
                cmd.measured_on,
                cmd.today,
                not_before=state.registered_on,
                not_before_field="the registration",
            )
            + errors
        )
    if errors:
        raise InvalidCommand(errors)
    result = growth.assess(child.sex, born, cmd.measured_on, cmd.weight_kg, cmd.length_cm, cmd.position)
    if result.implausible:
        raise InvalidCommand(list(result.implausible))
    event = GrowthMeasured(
        family_id=cmd.family_id,
        measurement_id=cmd.measurement_id,
        member_id=cmd.member_id,
        kelurahan_code=state.kelurahan_code,
        measured_on=cmd.measured_on,
        age_months=result.age_months,
        weight_kg=cmd.weight_kg,
        length_cm=cmd.length_cm,
        position=result.position,
        haz=result.haz,
        waz=result.waz,
        stunted=result.stunted,
        severely_stunted=result.severely_stunted,
        measured_by=cmd.measured_by,
    )
    return [Fact(event)]


def _record_birth(state: Family, cmd: RecordBirth, rules: Rules, programme: Programme) -> list[Fact]:
    if not state.is_active:
        raise FamilyNotActive(cmd.family_id, state.status)
    if state.erased:
        raise PersonalDataAlreadyErased(cmd.family_id)
    errors = programme.check_effective(
        "born_on", cmd.born_on, cmd.today, not_before=state.registered_on, not_before_field="the registration"
    )
    mother = next((m for m in state.members if m.member_id == cmd.mother_id), None)
    # A pregnant mother; or one whose birth on the same day is recorded already (twins).
    twin = mother is not None and mother.gave_birth_on == cmd.born_on
    if mother is None:
        errors.append(FieldError("mother_member_id", "is not a member of this family"))
    elif mother.role != "pregnant_mother" and not twin:
        errors.append(FieldError("mother_member_id", f"is a {mother.role}, not a pregnant_mother"))
    baby = replace(cmd.baby, role="baduta", birth_date=cmd.born_on, expected_delivery_date=None)
    if not errors:
        errors += member_errors(
            baby,
            cmd.born_on,
            rules,
            prefix="baby.",
            taken_niks=family_niks(state),
            taken_ids=[m.member_id for m in state.members],
        )
    if errors:
        raise InvalidCommand(errors)
    facts = []
    if not twin:
        gave_birth = MotherGaveBirth(
            family_id=cmd.family_id, member_id=cmd.mother_id, kelurahan_code=state.kelurahan_code, born_on=cmd.born_on
        )
        facts.append(Fact(gave_birth))
    added = MemberAdded(
        family_id=cmd.family_id,
        member_id=baby.member_id,
        role="baduta",
        sex=cast(Sex, baby.sex),
        age_months=0,
        kelurahan_code=state.kelurahan_code,
        added_on=cmd.born_on,
        added_by=cmd.recorded_by,
    )
    return _with_eligibility(state, [*facts, Fact(added, _personal(baby))], cmd.born_on, rules)


def aging_out_on(member: MemberState, rules: Rules = DEFAULT_RULES) -> date | None:
    """The day a baduta turns `baduta_max_months` (24) and stops being one; None for anyone else
    or once the birth date is erased."""
    if member.role != "baduta" or member.personal is None:
        return None
    return add_months(member.personal.birth_date, rules.baduta_max_months)


def _age_out(state: Family, cmd: AgeOutChildren, rules: Rules) -> list[Fact]:
    """Each baduta whose 24-month birthday is on or before `today` ages out ON that birthday, so
    entering history late gives the same events as entering it on its days. Only while the
    family is registered or enrolled: an exited family's members no longer change."""
    if not state.is_active:
        return []
    due = sorted(
        (day, m.member_id) for m in state.members if (day := aging_out_on(m, rules)) is not None and day <= cmd.today
    )
    facts: list[Fact] = []
    for day, member_id in due:
        aged = ChildAgedOut(
            family_id=cmd.family_id, member_id=member_id, kelurahan_code=state.kelurahan_code, aged_out_on=day
        )
        step = _with_eligibility(state, [Fact(aged)], day, rules)
        state = reduce(evolve, step, state)
        facts += step
    return facts + _eligibility_never_said(state, cmd.today, rules)


def _eligibility_never_said(state: Family, today: date, rules: Rules) -> list[Fact]:
    """An enrolled family whose children all aged out before the registry published eligibility
    changes has a ChildAgedOut but no FamilyEligibilityChanged: it still counts as eligible. Say it
    now, dated as it would have been then: the day its youngest child turned 24 months (the
    day its last target member went), never before its enrolment. Only when no baduta and no
    pregnant mother is left, so the clock never declares a pregnancy overdue; once said, the
    family's `eligible` is False and a second run records nothing."""
    if state.status != "enrolled" or not state.eligible or state.family_id is None or state.enrolled_on is None:
        return []
    if any(m.role in ("baduta", "pregnant_mother") for m in state.members):
        return []
    if not ineligibility(state, today, rules):
        return []
    children = [m.personal.birth_date for m in state.members if m.personal and m.role == "other"]
    went = add_months(max(children), rules.baduta_max_months) if children else state.enrolled_on
    changed = FamilyEligibilityChanged(
        family_id=state.family_id,
        kelurahan_code=state.kelurahan_code,
        eligible=False,
        effective_on=min(today, max(went, state.enrolled_on)),
    )
    return [Fact(changed)]


def _with_eligibility(state: Family, facts: list[Fact], on: date, rules: Rules) -> list[Fact]:
    """`facts`, followed by a FamilyEligibilityChanged when they make an enrolled family stop (or
    start again) being a programme target on `on`: its last baduta aged out with no pregnant or
    breastfeeding mother left; a newborn or a pregnancy made it one again (README, "Eligibility")."""
    after = reduce(evolve, facts, state)
    if after.status != "enrolled" or after.family_id is None:
        return facts
    eligible = not ineligibility(after, on, rules)
    # A plan_until only moves later (a newborn is the youngest): once the youngest baduta ages
    # out, the date published for it stays the family's.
    until = plan_until(after, rules)
    if after.plan_until is not None and (until is None or until < after.plan_until):
        until = after.plan_until
    if eligible == after.eligible and until == after.plan_until:
        return facts
    changed = FamilyEligibilityChanged(
        family_id=after.family_id,
        kelurahan_code=after.kelurahan_code,
        eligible=eligible,
        effective_on=on,
        plan_until=until,
    )
    return [*facts, Fact(changed)]


def plan_until(state: Family, rules: Rules = DEFAULT_RULES) -> date | None:
    """The first day the family is no longer planned for: the day its youngest baduta turns
    `plan_until_child_months` months (README, "Plan until a child's age"), by the registry's month
    arithmetic (`add_months`: born 31 January, one month old on the last day of February). So the
    plan's last day is the day before that birthday. None when the setting is off, or when the
    family has no baduta with a birth date (a pregnancy only: the fixed plan days apply until the
    birth is recorded)."""
    months = rules.plan_until_child_months
    births = [m.personal.birth_date for m in state.members if m.role == "baduta" and m.personal is not None]
    if months is None or not births:
        return None
    return add_months(max(births), months)


def ineligibility(state: Family, on: date, rules: Rules = DEFAULT_RULES) -> list[FieldError]:
    """Why no member keeps the family a programme target on `on` (an empty list: one does).

    A baduta while under 24 months; a pregnant mother until `overdue_grace_days` after her
    expected delivery (then the birth must be recorded: POST /families/{id}/births); a
    breastfeeding mother while the family's youngest listed child is under 24 months (or when
    it lists no child). A member whose birth date is erased counts as eligible (nothing to check).
    """
    reasons = []
    children = [
        m.personal.birth_date
        for m in state.members
        if m.personal and m.role in ("baduta", "other") and age_in_years(m.personal.birth_date, on) < 18
    ]
    for i, m in enumerate(state.members):
        field = f"members[{i}]"
        if m.role == "baduta":
            if m.personal is None or age_in_months(m.personal.birth_date, on) < rules.baduta_max_months:
                return []
            months = age_in_months(m.personal.birth_date, on)
            reasons.append(FieldError(field, f"(baduta {m.member_id}) was {months} months old"))
        elif m.role == "pregnant_mother":
            due = m.personal.expected_delivery_date if m.personal else None
            if due is None or (on - due).days <= rules.overdue_grace_days:
                return []
            reasons.append(
                FieldError(
                    field,
                    f"(pregnant_mother {m.member_id}) was due on {due.isoformat()}: record the birth "
                    "(POST /families/{id}/births) before approving",
                )
            )
        elif m.role == "breastfeeding_mother":
            if not children or age_in_months(max(children), on) < rules.baduta_max_months:
                return []
            reasons.append(
                FieldError(
                    field, f"(breastfeeding_mother {m.member_id}) has no child under {rules.baduta_max_months} months"
                )
            )
    if not reasons:
        reasons.append(FieldError("members", "no pregnant mother, breastfeeding mother or baduta"))
    return reasons


def _summary(member: NewMember, today: date) -> MemberSummary:
    # role and sex were validated before this is called
    return MemberSummary(
        member_id=member.member_id,
        role=cast(Role, member.role),
        sex=cast(Sex, member.sex),
        age_months=age_in_months(member.birth_date, today),
    )


def _personal(member: NewMember) -> MemberPersonal:
    return MemberPersonal(
        member_id=member.member_id,
        name=member.name.strip(),
        nik=member.nik,
        birth_date=member.birth_date,
        expected_delivery_date=member.expected_delivery_date,
    )


# -- evolve -------------------------------------------------------------------------------


def evolve(state: Family, fact: Fact) -> Family:
    """Apply one recorded fact. Never fails; `fact.private` is None once data is erased."""
    # A family stream holds registry events only; anything else is a store bug (assert_never).
    event = cast(RegistryEvent, fact.event)
    return _apply(replace(state, version=state.version + 1), event, cast(PersonalPart | None, fact.private))


def _apply(state: Family, event: RegistryEvent, personal: PersonalPart | None) -> Family:
    match event:
        case FamilyRegistered():
            reg = personal if isinstance(personal, RegistrationPersonal) else None
            people = {m.member_id: m for m in reg.members} if reg else {}
            return replace(
                state,
                family_id=event.family_id,
                status="registered",
                kelurahan_code=event.kelurahan_code,
                kecamatan_code=event.kecamatan_code,
                members=tuple(
                    MemberState(m.member_id, m.role, m.sex, m.age_months, people.get(m.member_id))
                    for m in event.members
                ),
                risk_factors=tuple(event.risk_factors),
                kk_number=reg.kk_number if reg else None,
                head_name=reg.head_name if reg else None,
                address=reg.address if reg else None,
                registered_on=event.registered_on,
                registered_by=event.registered_by,
            )
        case MemberAdded():
            person = personal if isinstance(personal, MemberPersonal) else None
            member = MemberState(event.member_id, event.role, event.sex, event.age_months, person)
            return replace(state, members=(*state.members, member))
        case FamilyVerified():
            return replace(state, verified_on=event.verified_on, verification_note=_note(personal))
        case FamilyEnrolled():
            return replace(state, status="enrolled", enrolled_on=event.enrolled_on, plan_until=event.plan_until)
        case FamilyRejected():
            return replace(
                state,
                status="rejected",
                rejected_on=event.rejected_on,
                verification_note=_note(personal),
            )
        case FamilyExited():
            return replace(state, status="exited", exited_on=event.exited_on, exit_reason=event.reason)
        case GrowthMeasured():
            return state  # the measurement is the reporting's to keep; the family is unchanged
        case MotherGaveBirth():
            return replace(
                state,
                members=tuple(
                    replace(m, role="breastfeeding_mother", gave_birth_on=event.born_on)
                    if m.member_id == event.member_id
                    else m
                    for m in state.members
                ),
            )
        case ChildAgedOut():
            return replace(
                state,
                members=tuple(replace(m, role="other") if m.member_id == event.member_id else m for m in state.members),
            )
        case FamilyEligibilityChanged():
            return replace(state, eligible=event.eligible, plan_until=event.plan_until)
        case PersonalDataErased():
            return replace(
                state,
                erased=True,
                kk_number=None,
                head_name=None,
                address=None,
                verification_note=None,
                members=tuple(replace(m, personal=None) for m in state.members),
            )
        case _:
            assert_never(event)


def _note(personal: PersonalPart | None) -> str | None:
    return personal.note if isinstance(personal, NotePersonal) else None


def fold(facts: Iterable[Fact]) -> Family:
    """The family as its recorded facts leave it."""
    return reduce(evolve, facts, Family())
