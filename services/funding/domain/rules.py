"""What funding accepts as input: donor types, contribution methods and the bounds on an amount."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import get_args

from shared.contracts.funding import ContributionMethod, DonorType
from shared.effective import effective_date_errors
from shared.errors import FieldError
from shared.programme import family_minimum_rp, family_plan_days

DONOR_TYPES: tuple[str, ...] = get_args(DonorType)
METHODS: tuple[str, ...] = get_args(ContributionMethod)

# The programme is funded off-budget (DOMAIN.md): a government budget is never a donor. Named
# so that the refusal can say why instead of only listing the allowed types.
GOVERNMENT_BUDGETS = frozenset(
    {
        "apbd",
        "apbn",
        "apbdes",
        "apbd_provinsi",
        "apbd_kabupaten",
        "apbd_kota",
        "dana_desa",
        "dak",
        "dau",
        "government",
        "pemerintah",
    }
)


@dataclass(frozen=True)
class Limits:
    """Bounds that are configuration, not law (FundingSettings sets them)."""

    # The largest single amount anyone may type: a guard against an extra zero or a pasted
    # account number, far above any real donation to a city programme.
    max_amount_rp: int = 10_000_000_000
    max_text: int = 200
    # No effective date before the programme started (Settings.programme_start).
    programme_start: date = date(2025, 1, 1)
    # A sponsorship's start_date (never in the future) may be at most this many days after the day
    # the sponsorship was made: a past programme entered late names when its money started to count.
    max_start_delay_days: int = 30
    # Money held for a plan that never opened goes back after this many days (no_plan), unless the
    # family holds the plan's minimum (README, "Money held for a plan"): food and distribution for
    # every day of the family's plan (`minimum_of`).
    sponsorship_hold_days: int = 60
    # The programme's plan (GENTING_PLAN_DAYS, GENTING_DAILY_MINIMUM_RP): a family's minimum is its
    # plan days at the daily minimum, its days fixed by the registry's plan_until when it has one.
    plan_days: int = 180
    daily_minimum_rp: int = 15_000
    # GENTING_DISTRIBUTION_COST_RP: bringing the food, per family per plan day, on top of it.
    distribution_daily_rp: int = 0

    def plan_days_of(self, enrolled_on: date | None, plan_until: date | None) -> int:
        """The family's plan days (`shared.programme.family_plan_days`): 0, no plan opens for it."""
        return family_plan_days(self.plan_days, enrolled_on, plan_until)

    def minimum_of(self, enrolled_on: date | None, plan_until: date | None) -> int:
        """What the family's held money must reach for aid to open its plan."""
        return family_minimum_rp(
            self.daily_minimum_rp,
            self.plan_days_of(enrolled_on, plan_until),
            distribution_daily_rp=self.distribution_daily_rp,
        )


DEFAULT_LIMITS = Limits()


def rupiah(amount: int) -> str:
    """`Rp10.000.000.000`, as amounts are written in Indonesia."""
    return "Rp" + f"{amount:,}".replace(",", ".")


def amount_errors(field: str, amount: object, limits: Limits) -> list[FieldError]:
    # bool is an int in Python; True rupiah is not an amount.
    if not isinstance(amount, int) or isinstance(amount, bool):
        return [FieldError(field, "must be a whole number of rupiah")]
    if amount <= 0:
        return [FieldError(field, "must be a positive whole number of rupiah")]
    if amount > limits.max_amount_rp:
        return [FieldError(field, f"must be at most {rupiah(limits.max_amount_rp)}")]
    return []


def effective_errors(
    field: str,
    value: date,
    today: date,
    limits: Limits,
    *,
    not_before: date | None = None,
    not_before_field: str | None = None,
) -> list[FieldError]:
    """`shared.effective`'s rule on the limits' programme start (the domain holds values, not the
    settings). At most one error, naming `field`."""
    return effective_date_errors(
        field, value, today, limits.programme_start, not_before=not_before, not_before_field=not_before_field
    )


def start_date_errors(start_date: date, sponsored_on: date, today: date, limits: Limits) -> list[FieldError]:
    """A sponsorship's money counts for the family's plan from its start_date: never in the future
    (CONTRACT.md: an effective date never is; else the plan's window would depend on the day the
    sponsorship was entered), not before the day the sponsorship was made, and not more than
    `max_start_delay_days` after it."""
    if start_date > today:
        return [FieldError("start_date", f"{start_date.isoformat()} is in the future (today is {today.isoformat()})")]
    if start_date < sponsored_on:
        return [FieldError("start_date", f"must not be before the sponsorship's date ({sponsored_on.isoformat()})")]
    if (start_date - sponsored_on).days > limits.max_start_delay_days:
        return [
            FieldError(
                "start_date",
                f"must be at most {limits.max_start_delay_days} days after the sponsorship's date "
                f"({sponsored_on.isoformat()})",
            )
        ]
    return []


def donor_type_errors(donor_type: str) -> list[FieldError]:
    normalized = donor_type.strip().lower()
    if normalized in GOVERNMENT_BUDGETS or normalized.startswith(("apbd", "apbn")):
        return [
            FieldError(
                "donor_type",
                "a government budget (APBD/APBN) cannot be a donor: the programme is "
                f"funded off-budget; one of {', '.join(DONOR_TYPES)}",
            )
        ]
    if donor_type not in DONOR_TYPES:
        return [FieldError("donor_type", f"must be one of {', '.join(DONOR_TYPES)}")]
    return []


def text_errors(field: str, value: str | None, limits: Limits, *, required: bool) -> list[FieldError]:
    if value is None or not value.strip():
        return [FieldError(field, "must not be empty")] if required else []
    if len(value) > limits.max_text:
        return [FieldError(field, f"must be at most {limits.max_text} characters")]
    return character_errors(field, value, allow_newlines=False)


def character_errors(field: str, value: str | None, *, allow_newlines: bool) -> list[FieldError]:
    """Control characters (a NUL cannot even be stored) and lone surrogates (not text) are refused;
    a free-text note may keep its line breaks and tabs."""
    allowed = "\t\n\r" if allow_newlines else ""
    for char in value or "":
        code = ord(char)
        if (code < 0x20 or code == 0x7F) and char not in allowed:
            return [FieldError(field, "must not contain control characters")]
        if 0xD800 <= code <= 0xDFFF:
            return [FieldError(field, "must be valid text (no lone surrogates)")]
    return []
