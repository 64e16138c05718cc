"""Input rules of the registry's commands: every problem at once, each named by its JSON path."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from uuid import UUID

from services.registry.domain.commands import NewMember, RegisterFamily
from services.registry.domain.identity import nik_sex, parse_nik, validate_kk, validate_nik
from services.registry.reference import (
    MOTHER_ROLES,
    RISK_FACTORS,
    ROLES,
    SEXES,
    TARGET_ROLES,
    Rules,
    kelurahan,
)
from shared.errors import FieldError


def age_in_months(born: date, today: date) -> int:
    """Completed months from `born` to `today` (born 31 Jan, on 28 Feb: 0)."""
    months = (today.year - born.year) * 12 + today.month - born.month
    return months - 1 if today.day < born.day else months


def age_in_years(born: date, today: date) -> int:
    """Completed years from `born` to `today`."""
    return age_in_months(born, today) // 12


def add_months(start: date, months: int) -> date:
    """The same day `months` later, or the last day of that month when it is shorter."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    for day in (start.day, 30, 29, 28):
        try:
            return date(year, month + 1, day)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def registration_errors(cmd: RegisterFamily, rules: Rules) -> list[FieldError]:
    """Everything wrong with a family registration; an empty list means it may be recorded."""
    errors = [FieldError("kk_number", p) for p in validate_kk(cmd.kk_number, cmd.today)]
    errors += text_errors("head_name", cmd.head_name, rules.max_name_length)
    errors += text_errors("address", cmd.address, rules.max_address_length)
    if kelurahan(cmd.kelurahan_code) is None:
        errors.append(FieldError("kelurahan_code", "is not a known kelurahan code"))
    errors += _members_errors(cmd.members, cmd.today, rules)
    errors += _risk_factor_errors(cmd.risk_factors)
    if cmd.consent is not True:
        errors.append(FieldError("consent", "the family's consent is required"))
    return errors


def member_errors(
    member: NewMember,
    today: date,
    rules: Rules,
    *,
    prefix: str = "",
    taken_niks: Collection[str] = (),
    taken_ids: Collection[UUID] = (),
) -> list[FieldError]:
    """Everything wrong with one new member; `taken_*` are those already in the family."""
    errors = text_errors(f"{prefix}name", member.name, rules.max_name_length)
    if member.member_id in taken_ids:
        errors.append(FieldError(f"{prefix}member_id", "is already used in this family"))
    if member.role not in ROLES:
        errors.append(FieldError(f"{prefix}role", f"must be one of {', '.join(ROLES)}"))
    if member.sex not in SEXES:
        errors.append(FieldError(f"{prefix}sex", "must be M or F"))
    errors += _nik_errors(member, today, prefix, taken_niks)
    if member.birth_date > today:
        errors.append(FieldError(f"{prefix}birth_date", "must not be after today"))
    else:
        errors += _age_errors(member, today, rules, prefix)
    errors += _delivery_errors(member, today, rules, prefix)
    return errors


def text_errors(field: str, value: str, max_length: int) -> list[FieldError]:
    """A required free-text field: not blank, and bounded."""
    if not value.strip():
        return [FieldError(field, "must not be blank")]
    if len(value.strip()) > max_length:
        return [FieldError(field, f"must be at most {max_length} characters")]
    return []


def _members_errors(members: Sequence[NewMember], today: date, rules: Rules) -> list[FieldError]:
    if not members:
        return [FieldError("members", "at least one member is required")]
    errors = []
    if len(members) > rules.max_members:
        errors.append(FieldError("members", f"at most {rules.max_members} members"))
    if not any(m.role in TARGET_ROLES for m in members):
        errors.append(FieldError("members", "needs a pregnant mother, a breastfeeding mother or a baduta"))
    niks: list[str] = []
    ids: list[UUID] = []
    for i, member in enumerate(members):
        errors += member_errors(member, today, rules, prefix=f"members[{i}].", taken_niks=niks, taken_ids=ids)
        if member.nik is not None:
            niks.append(member.nik)
        ids.append(member.member_id)
    return errors


def _nik_errors(member: NewMember, today: date, prefix: str, taken: Collection[str]) -> list[FieldError]:
    field = f"{prefix}nik"
    if member.nik is None:
        if member.role == "baduta":
            return []  # a newborn's NIK may still be pending
        return [FieldError(field, "is required (only a baduta may have none yet)")]
    problems = validate_nik(member.nik, today)
    if problems:
        return [FieldError(field, p) for p in problems]
    errors = []
    if parse_nik(member.nik, today).birth_date != member.birth_date:
        errors.append(FieldError(field, "does not match birth_date"))
    if member.sex in SEXES and nik_sex(member.nik) != member.sex:
        errors.append(FieldError(field, "does not match sex"))
    if member.nik in taken:
        errors.append(FieldError(field, "already belongs to another member of this family"))
    return errors


def _age_errors(member: NewMember, today: date, rules: Rules, prefix: str) -> list[FieldError]:
    errors = []
    if member.role == "baduta" and age_in_months(member.birth_date, today) >= (rules.baduta_max_months):
        errors.append(
            FieldError(
                f"{prefix}birth_date",
                f"a baduta must be under {rules.baduta_max_months} months old",
            )
        )
    if member.role in MOTHER_ROLES:
        if member.sex == "M":
            errors.append(FieldError(f"{prefix}sex", "a mother must be F"))
        years = age_in_years(member.birth_date, today)
        if not rules.mother_min_age_years <= years <= rules.mother_max_age_years:
            errors.append(
                FieldError(
                    f"{prefix}birth_date",
                    f"a mother must be {rules.mother_min_age_years} to {rules.mother_max_age_years} years old",
                )
            )
    return errors


def _delivery_errors(member: NewMember, today: date, rules: Rules, prefix: str) -> list[FieldError]:
    field = f"{prefix}expected_delivery_date"
    due = member.expected_delivery_date
    if member.role != "pregnant_mother":
        return [] if due is None else [FieldError(field, "only for a pregnant_mother")]
    if due is None:
        return [FieldError(field, "is required for a pregnant_mother")]
    if due <= today:
        return [FieldError(field, "must be after today")]
    if due > add_months(today, rules.max_months_to_delivery):
        return [FieldError(field, f"must be within {rules.max_months_to_delivery} months from today")]
    return []


def _risk_factor_errors(risk_factors: Sequence[str]) -> list[FieldError]:
    if not risk_factors:
        return [FieldError("risk_factors", "at least one risk factor is required")]
    errors = []
    for i, code in enumerate(risk_factors):
        if code not in RISK_FACTORS:
            errors.append(FieldError(f"risk_factors[{i}]", "is not a known risk factor code"))
        elif code in risk_factors[:i]:
            errors.append(FieldError(f"risk_factors[{i}]", "is listed twice"))
    return errors
