"""Money held for a plan, pure, as aid and funding both judge it (funding's README, "Money held for
a plan"): a sponsorship waits for its family's plan until its hold ends (`sponsored_on` plus
GENTING_SPONSORSHIP_HOLD_DAYS), then goes back to its donor. Judged by effective dates alone, so
that the plan aid opens and the money funding gives back do not depend on whether a later
sponsorship was entered before or after the clock noticed the hold's end."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Held:
    """One sponsorship's money for the family: from when it may pay, when it was made, how much."""

    money_from: date
    sponsored_on: date
    amount_rp: int


def still_held(sponsored_on: date, on: date, hold_days: int | None) -> bool:
    """Whether a sponsorship made on `sponsored_on` still waits for its family's plan on `on` (its
    hold's last day included); `hold_days` None: it waits without end."""
    return hold_days is None or on <= sponsored_on + timedelta(days=hold_days)


def reaching_date(money: Iterable[Held], minimum_rp: int, hold_days: int | None) -> date | None:
    """The first day on which the money there and still held reaches the plan's minimum: taking
    each sponsorship from its `money_from` until its hold ends. None: it never does (each hold
    ended before the rest came). Independent of the order the sponsorships were entered in."""
    money = list(money)
    for day in sorted({m.money_from for m in money}):
        total = sum(m.amount_rp for m in money if m.money_from <= day and still_held(m.sponsored_on, day, hold_days))
        if total >= minimum_rp:
            return day
    return None
