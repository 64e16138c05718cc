"""A family's own minimum in funding's hold, given/when/then: with the registry's plan_until the
money held for a family waits for a plan only while it reaches THAT family's minimum (its days
from enrolment to plan_until at the daily minimum); without one, the fixed days' minimum."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from funding_examples import MEDONO, S1, WHO

from services.funding.domain import ReleaseUnplanned
from services.funding.domain.rules import Limits
from services.funding.domain.sponsorship import decide, fold
from shared.contracts.funding import FamilySponsored, SponsorshipReleased

LIMITS = Limits()  # 180 days at Rp15,000: Rp2,700,000
ENROLLED = date(2025, 3, 1)
UNTIL = ENROLLED + timedelta(days=400)  # Rp6,000,000 for this family
HELD = 2_700_000
SPONSORED = FamilySponsored(**WHO, amount_rp=HELD, start_date=ENROLLED, kelurahan_code=MEDONO, sponsored_on=ENROLLED)


def clock(minimum_rp: int) -> ReleaseUnplanned:
    return ReleaseUnplanned(
        sponsorship_id=S1,
        hold_days=60,
        known_through=date(2026, 1, 1),
        plan_known=False,
        family_held_rp=HELD,
        minimum_rp=minimum_rp,
        eligible=True,
    )


class TestFamilyMinimum:
    def test_the_minimum_is_the_familys_days_from_enrolment_to_plan_until(self) -> None:
        assert LIMITS.minimum_of(ENROLLED, UNTIL) == 400 * 15_000
        assert LIMITS.minimum_of(ENROLLED, None) == 180 * 15_000
        assert LIMITS.plan_days_of(ENROLLED, ENROLLED) == 0  # its last planned day has passed

    def test_the_fixed_minimum_held_does_not_keep_money_for_a_family_that_needs_more(self) -> None:
        # Rp2,700,000 reaches the fixed minimum but not this family's: aid opens no plan from it
        assert decide(fold([SPONSORED]), clock(LIMITS.minimum_of(ENROLLED, None))) == []
        events = decide(fold([SPONSORED]), clock(LIMITS.minimum_of(ENROLLED, UNTIL)))
        assert [e.reason for e in events if isinstance(e, SponsorshipReleased)] == ["no_plan"]

    def test_a_shorter_plan_until_keeps_less_money_waiting(self) -> None:
        soon = ENROLLED + timedelta(days=90)
        assert decide(fold([SPONSORED]), clock(LIMITS.minimum_of(ENROLLED, soon))) == []


class TestMoneyAfterTheLastPlannedDay:
    def test_money_that_reaches_the_minimum_on_or_after_plan_until_does_not_wait_for_a_plan(self) -> None:
        # Given a family planned for 30 days, sponsored with its whole minimum only on its plan_until
        until = ENROLLED + timedelta(days=30)
        late = FamilySponsored(**WHO, amount_rp=HELD, start_date=until, kelurahan_code=MEDONO, sponsored_on=until)
        state = fold([late])
        # When funding's clock passes the sponsorship's hold (aid opens no plan: it would end before it starts)
        command = replace(clock(LIMITS.minimum_of(ENROLLED, until)), family_money=(state.held(),), plan_until=until)
        events = decide(state, command)
        # Then the money goes back to its donor rather than being held without end
        assert [e.reason for e in events if isinstance(e, SponsorshipReleased)] == ["no_plan"]
        # (before plan_until, the same money waits for the plan aid opens from it)
        assert decide(state, replace(command, plan_until=until + timedelta(days=1))) == []
