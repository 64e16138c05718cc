"""Input rules of the registry's commands: every problem at once, each named by its JSON path."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from itertools import pairwise
from uuid import UUID

from services.registry.domain.commands import NewMember, RegisterFamily
from services.registry.domain.identity import nik_matches_birth_date, nik_sex, validate_kk, validate_nik
from services.registry.reference import (
    DEFAULT_RULES,
    MOTHER_ROLES,
    RISK_FACTORS,
    ROLES,
    SEXES,
    TARGET_ROLES,
    RiskRules,
    Rules,
    default_programme,
)
from shared.errors import FieldError
from shared.programme import Programme


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


def registration_errors(
    cmd: RegisterFamily, rules: Rules = DEFAULT_RULES, *, on: date | None = None, programme: Programme | None = None
) -> list[FieldError]:
    """Everything wrong with a family registration effective `on` (default: its `registered_on`,
    else `today`); an empty list means it may be recorded. Ages, the baduta rule and the risk
    factors' age rules are read at `on`. `programme`: the deployment's (default: the default one)."""
    on = on or cmd.registered_on or cmd.today
    programme = programme or default_programme()
    errors = [FieldError("kk_number", p) for p in validate_kk(cmd.kk_number, on)]
    errors += text_errors("head_name", cmd.head_name, rules.max_name_length)
    errors += text_errors("address", cmd.address, rules.max_address_length)
    if programme.kelurahan(cmd.kelurahan_code) is None:
        errors.append(
            FieldError("kelurahan_code", f"is not a kelurahan of {programme.city_name} ({programme.city_code})")
        )
    members_problems = _members_errors(cmd.members, on, rules)
    errors += members_problems
    # The factors the members' dates imply count toward "at least one" as much as claimed ones.
    derived = implied_risk_factors(cmd.members, on, rules.risk) if not members_problems else []
    claimed_errors = _risk_factor_errors(cmd.risk_factors, derived)
    errors += claimed_errors
    if not claimed_errors or claimed_errors[0].field != "risk_factors":
        errors += contradicted_risk_factors(cmd.risk_factors, cmd.members, on, rules.risk)
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
        errors.append(FieldError(f"{prefix}birth_date", f"must not be after the effective date ({today.isoformat()})"))
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
    if not nik_matches_birth_date(member.nik, member.birth_date):
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
        return [FieldError(field, f"must be after the effective date ({today.isoformat()})")]
    if due > add_months(today, rules.max_months_to_delivery):
        return [FieldError(field, f"must be within {rules.max_months_to_delivery} months of the effective date")]
    return []


def _risk_factor_errors(risk_factors: Sequence[str], derived: Sequence[str] = ()) -> list[FieldError]:
    if not risk_factors and not derived:
        return [
            FieldError(
                "risk_factors", "at least one risk factor is required (claimed, or implied by the members' dates)"
            )
        ]
    errors = []
    for i, code in enumerate(risk_factors):
        if code not in RISK_FACTORS:
            errors.append(FieldError(f"risk_factors[{i}]", "is not a known risk factor code"))
        elif code in risk_factors[:i]:
            errors.append(FieldError(f"risk_factors[{i}]", "is listed twice"))
    return errors


# -- the "4 terlalu": risk factors the members' dates decide ------------------------------


def _mother_ages(members: Sequence[NewMember], on: date) -> list[int]:
    return [age_in_years(m.birth_date, on) for m in members if m.role in MOTHER_ROLES]


def _births(members: Sequence[NewMember], on: date, risk: RiskRules) -> list[date]:
    """The family's births the members show: each child's birth date (a baduta, or an `other`
    under `child_under_years`) and each pregnancy's expected delivery, distinct (twins are one birth)."""
    births = {
        m.birth_date
        for m in members
        if m.role == "baduta" or (m.role == "other" and age_in_years(m.birth_date, on) < risk.child_under_years)
    }
    births |= {m.expected_delivery_date for m in members if m.expected_delivery_date is not None}
    return sorted(births)


def _children(members: Sequence[NewMember], on: date, risk: RiskRules) -> int:
    return sum(
        1
        for m in members
        if m.role == "baduta" or (m.role == "other" and age_in_years(m.birth_date, on) < risk.child_under_years)
    )


def implied_risk_factors(members: Sequence[NewMember], on: date, risk: RiskRules) -> list[str]:
    """The age-rule factors the members' dates show on `on`, in RISK_FACTORS order."""
    ages = _mother_ages(members, on)
    births = _births(members, on, risk)
    implied = []
    if any(a < risk.mother_too_young_under_years for a in ages):
        implied.append("mother_too_young")
    if any(a >= risk.mother_too_old_from_years for a in ages):
        implied.append("mother_too_old")
    if any(add_months(a, risk.births_too_close_under_months) > b for a, b in pairwise(births)):
        implied.append("births_too_close")
    if _children(members, on, risk) > risk.too_many_children_over:
        implied.append("too_many_children")
    return implied


def contradicted_risk_factors(
    claimed: Sequence[str], members: Sequence[NewMember], on: date, risk: RiskRules
) -> list[FieldError]:
    """A claimed age-rule factor the members' dates contradict, each named `risk_factors[i]`:
    `mother_too_young`/`mother_too_old` when the family lists a mother and none has that age;
    `births_too_close` when it lists two births or more (children, expected deliveries) and none
    follows another that closely. With fewer dates nothing contradicts the claim (grown children
    are often not on the family card), and `too_many_children` is never refused, for that reason."""
    ages = _mother_ages(members, on)
    births = _births(members, on, risk)
    implied = set(implied_risk_factors(members, on, risk))
    errors = []
    for i, code in enumerate(claimed):
        if code in implied:
            continue
        if code == "mother_too_young" and ages:
            errors.append(
                FieldError(
                    f"risk_factors[{i}]", f"no mother of the family is under {risk.mother_too_young_under_years}"
                )
            )
        elif code == "mother_too_old" and ages:
            errors.append(
                FieldError(
                    f"risk_factors[{i}]", f"no mother of the family is {risk.mother_too_old_from_years} or older"
                )
            )
        elif code == "births_too_close" and len(births) >= 2:
            errors.append(
                FieldError(
                    f"risk_factors[{i}]",
                    f"no two of the family's births are less than {risk.births_too_close_under_months} months apart",
                )
            )
    return errors
