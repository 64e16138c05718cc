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
    Command,
    ErasePersonalData,
    ExitFamily,
    NewMember,
    RecordGrowth,
    RegisterFamily,
    VerifyFamily,
)
from services.registry.domain.errors import (
    FamilyAlreadyExists,
    FamilyNotActive,
    FamilyNotFound,
    FamilyNotPendingVerification,
    PersonalDataAlreadyErased,
)
from services.registry.domain.personal import MemberPersonal, NotePersonal, PersonalPart, RegistrationPersonal
from services.registry.domain.validation import age_in_months, member_errors, registration_errors, text_errors
from services.registry.reference import DEFAULT_RULES, EXIT_REASONS, MOTHER_ROLES, ROLES, Rules, kelurahan
from shared.contracts.registry import (
    ExitReason,
    FamilyEnrolled,
    FamilyExited,
    FamilyRegistered,
    FamilyRejected,
    FamilyVerified,
    GrowthMeasured,
    MemberAdded,
    MemberSummary,
    PersonalDataErased,
    RegistryEvent,
    Role,
    Sex,
)
from shared.errors import FieldError, InvalidCommand
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
    verified_on: date | None = None
    rejected_on: date | None = None
    verification_note: str | None = None
    enrolled_on: date | None = None
    exited_on: date | None = None
    exit_reason: ExitReason | None = None

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


def decide(state: Family, command: Command, rules: Rules = DEFAULT_RULES) -> list[Fact]:
    """The facts a command records on this family, or a raised `DomainError`."""
    if state.status == "none" and not isinstance(command, RegisterFamily):
        raise FamilyNotFound(command.family_id)
    match command:
        case RegisterFamily():
            return _register(state, command, rules)
        case AddMember():
            return _add_member(state, command, rules)
        case VerifyFamily():
            return _verify(state, command, rules)
        case ExitFamily():
            return _exit(state, command)
        case RecordGrowth():
            return _record_growth(state, command)
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


def _register(state: Family, cmd: RegisterFamily, rules: Rules) -> list[Fact]:
    if state.status != "none":
        raise FamilyAlreadyExists(cmd.family_id)
    errors = registration_errors(cmd, rules)
    place = kelurahan(cmd.kelurahan_code)
    if errors or place is None:
        raise InvalidCommand(errors)
    members = [_summary(m, cmd.today) for m in cmd.members]
    counts = Counter(m.role for m in members)
    event = FamilyRegistered(
        family_id=cmd.family_id,
        kelurahan_code=place.code,
        kecamatan_code=place.kecamatan_code,
        members=members,
        member_counts={role: counts[role] for role in ROLES},
        risk_factors=list(cmd.risk_factors),
        registered_on=cmd.today,
        registered_by=cmd.registered_by,
    )
    personal = RegistrationPersonal(
        kk_number=cmd.kk_number,
        head_name=cmd.head_name.strip(),
        address=cmd.address.strip(),
        members=tuple(_personal(m) for m in cmd.members),
    )
    return [Fact(event, personal)]


def _add_member(state: Family, cmd: AddMember, rules: Rules) -> list[Fact]:
    if not state.is_active:
        raise FamilyNotActive(cmd.family_id, state.status)
    if state.erased:  # the family's key is shredded: nothing personal can be sealed any more
        raise PersonalDataAlreadyErased(cmd.family_id)
    errors = member_errors(
        cmd.member,
        cmd.today,
        rules,
        taken_niks=family_niks(state),
        taken_ids=[m.member_id for m in state.members],
    )
    if errors:
        raise InvalidCommand(errors)
    summary = _summary(cmd.member, cmd.today)
    event = MemberAdded(
        family_id=cmd.family_id,
        member_id=summary.member_id,
        role=summary.role,
        sex=summary.sex,
        age_months=summary.age_months,
        kelurahan_code=state.kelurahan_code,
        added_on=cmd.today,
        added_by=cmd.added_by,
    )
    return [Fact(event, _personal(cmd.member))]


def _verify(state: Family, cmd: VerifyFamily, rules: Rules) -> list[Fact]:
    if state.status != "registered":
        raise FamilyNotPendingVerification(cmd.family_id, state.status)
    note = cmd.note.strip() if cmd.note is not None else ""
    errors = text_errors("note", note, rules.max_note_length) if note else []
    if cmd.decision not in ("approve", "reject"):
        errors.insert(0, FieldError("decision", "must be approve or reject"))
    if errors:
        raise InvalidCommand(errors)
    personal = NotePersonal(note=note) if note else None
    if cmd.decision == "reject":
        rejected = FamilyRejected(
            family_id=cmd.family_id,
            kelurahan_code=state.kelurahan_code,
            rejected_on=cmd.today,
            rejected_by=cmd.decided_by,
        )
        return [Fact(rejected, personal)]
    verified = FamilyVerified(
        family_id=cmd.family_id,
        kelurahan_code=state.kelurahan_code,
        verified_on=cmd.today,
        verified_by=cmd.decided_by,
    )
    enrolled = FamilyEnrolled(
        family_id=cmd.family_id,
        kelurahan_code=state.kelurahan_code,
        kecamatan_code=state.kecamatan_code,
        member_counts=member_counts(state),
        risk_factors=list(state.risk_factors),
        enrolled_on=cmd.today,
    )
    return [Fact(verified, personal), Fact(enrolled)]


def _exit(state: Family, cmd: ExitFamily) -> list[Fact]:
    if state.status not in ("registered", "enrolled"):
        raise FamilyNotActive(cmd.family_id, state.status)
    if cmd.reason not in EXIT_REASONS:
        raise InvalidCommand([FieldError("reason", f"must be one of {', '.join(EXIT_REASONS)}")])
    event = FamilyExited(
        family_id=cmd.family_id,
        kelurahan_code=state.kelurahan_code,
        reason=cmd.reason,
        exited_on=cmd.today,
        previous_status=state.status,
        exited_by=cmd.exited_by,
    )
    return [Fact(event)]


def _record_growth(state: Family, cmd: RecordGrowth) -> list[Fact]:
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
            )
        case MemberAdded():
            person = personal if isinstance(personal, MemberPersonal) else None
            member = MemberState(event.member_id, event.role, event.sex, event.age_months, person)
            return replace(state, members=(*state.members, member))
        case FamilyVerified():
            return replace(state, verified_on=event.verified_on, verification_note=_note(personal))
        case FamilyEnrolled():
            return replace(state, status="enrolled", enrolled_on=event.enrolled_on)
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
