"""Money held for a plan, given/when/then: a sponsorship whose family has no plan `hold_days`
after the sponsorship's date goes back to its donor (reason no_plan), dated the day its hold
ends, once the records are known complete past that day; and no new sponsorship for a family the
registry no longer counts a programme target."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID

import pytest
from funding_examples import D1, MEDONO, S1, WHO, donor_with, sponsoring

from services.funding.domain import FamilyNotEligible, ReleaseUnplanned, sponsor
from services.funding.domain.sponsorship import decide, fold
from shared.contracts.funding import (
    FamilySponsored,
    SponsorshipDrawn,
    SponsorshipReleased,
)
from shared.held_money import Held

SPONSORED_ON = date(2025, 3, 1)
HOLD = 60
HOLD_ENDS = SPONSORED_ON + timedelta(days=HOLD)  # 30 April
MINIMUM = 2_700_000
PLAN = UUID("00000000-0000-0000-0000-0000000b0001")
SPONSORED = FamilySponsored(
    **WHO, amount_rp=1_000_000, start_date=SPONSORED_ON, kelurahan_code=MEDONO, sponsored_on=SPONSORED_ON
)


def clock(known_through: date | None, **overrides: object) -> ReleaseUnplanned:
    command = ReleaseUnplanned(
        sponsorship_id=S1,
        hold_days=HOLD,
        known_through=known_through,
        plan_known=False,
        family_held_rp=1_000_000,
        minimum_rp=MINIMUM,
        eligible=True,
    )
    return replace(command, **overrides)  # type: ignore[arg-type]


class TestReleasingWithoutAPlan:
    def test_no_plan_past_the_hold_releases_the_rest_on_the_day_the_hold_ends(self) -> None:
        events = decide(fold([SPONSORED]), clock(HOLD_ENDS + timedelta(days=1)))
        assert events == [
            SponsorshipReleased(**WHO, amount_rp=1_000_000, reason="no_plan", plan_id=None, released_on=HOLD_ENDS)
        ]

    def test_the_date_is_the_same_however_late_the_clock_runs(self) -> None:
        late = decide(fold([SPONSORED]), clock(HOLD_ENDS + timedelta(days=400)))
        assert [e.released_on for e in late if isinstance(e, SponsorshipReleased)] == [HOLD_ENDS]

    @pytest.mark.parametrize("through", [None, SPONSORED_ON, HOLD_ENDS])
    def test_nothing_while_the_records_are_not_known_past_the_hold(self, through: date | None) -> None:
        assert decide(fold([SPONSORED]), clock(through)) == []

    def test_nothing_once_funding_knows_a_plan(self) -> None:
        assert decide(fold([SPONSORED]), clock(date(2026, 1, 1), plan_known=True)) == []

    def test_nothing_while_the_familys_money_reaches_the_minimum_aid_opens_the_plan(self) -> None:
        # The AidPlanOpened may not have reached funding yet: releasing would strand the plan.
        assert decide(fold([SPONSORED]), clock(date(2026, 1, 1), family_held_rp=MINIMUM)) == []

    def test_a_family_no_longer_eligible_gets_no_plan_so_even_enough_money_goes_back(self) -> None:
        events = decide(fold([SPONSORED]), clock(date(2026, 1, 1), family_held_rp=MINIMUM, eligible=False))
        assert [e.reason for e in events if isinstance(e, SponsorshipReleased)] == ["no_plan"]

    def test_released_once(self) -> None:
        released = SponsorshipReleased(
            **WHO, amount_rp=1_000_000, reason="no_plan", plan_id=None, released_on=HOLD_ENDS
        )
        assert decide(fold([SPONSORED, released]), clock(date(2026, 1, 1))) == []

    def test_money_already_drawn_means_a_plan_existed_nothing_is_released(self) -> None:
        drawn = SponsorshipDrawn(
            **WHO, amount_rp=15_000, delivery_id=D1, plan_id=PLAN, drawn_on=SPONSORED_ON, remaining_rp=985_000
        )
        assert decide(fold([SPONSORED, drawn]), clock(date(2026, 1, 1))) == []


class TestJudgedByEffectiveDates:
    """Whether a later sponsorship or a plan keeps this money waiting is judged by their dates, as
    aid opens plans (`shared.held_money`): the same whether they were entered before or after
    the clock noticed the hold's end."""

    LATER = Held(HOLD_ENDS + timedelta(days=28), HOLD_ENDS + timedelta(days=28), 2_000_000)

    def test_money_that_reaches_the_minimum_only_after_the_hold_ended_does_not_keep_it(self) -> None:
        # Given Rp1,000,000 held until 30 April and Rp2,000,000 more given on 28 May;
        money = (fold([SPONSORED]).held(), self.LATER)
        # when the clock is past the hold, then it goes back, dated the hold's end.
        events = decide(fold([SPONSORED]), clock(date(2026, 1, 1), family_held_rp=3_000_000, family_money=money))
        assert [(e.reason, e.released_on) for e in events if isinstance(e, SponsorshipReleased)] == [
            ("no_plan", HOLD_ENDS)
        ]
        # Given on the hold's last day, the two reach the minimum in time: aid opens the plan.
        in_time = replace(self.LATER, money_from=HOLD_ENDS, sponsored_on=HOLD_ENDS)
        waiting = clock(date(2026, 1, 1), family_money=(fold([SPONSORED]).held(), in_time))
        assert decide(fold([SPONSORED]), waiting) == []

    def test_a_plan_that_started_after_the_hold_ended_does_not_take_the_money(self) -> None:
        after = clock(date(2026, 1, 1), plan_known=True, plan_start=HOLD_ENDS + timedelta(days=1))
        assert [e.released_on for e in decide(fold([SPONSORED]), after) if isinstance(e, SponsorshipReleased)] == [
            HOLD_ENDS
        ]
        assert decide(fold([SPONSORED]), replace(after, plan_start=HOLD_ENDS)) == []  # it started in time

    def test_a_plan_pays_its_deliveries_only_from_the_money_it_took(self) -> None:
        state = fold([SPONSORED])
        assert state.taken_by_plan(HOLD_ENDS, HOLD) and state.taken_by_plan(None, HOLD)
        assert not state.taken_by_plan(HOLD_ENDS + timedelta(days=1), HOLD)


class TestEligibility:
    def test_a_family_no_longer_eligible_cannot_be_sponsored(self) -> None:
        donor = donor_with(3_000_000, SPONSORED_ON)
        command = sponsoring(1_000_000, on=SPONSORED_ON)
        _, sponsored = sponsor(donor, command)
        assert sponsored  # eligible (the default): sponsored
        with pytest.raises(FamilyNotEligible) as refused:
            sponsor(donor, replace(command, eligible=False, ineligible_since=date(2025, 2, 20)))
        assert refused.value.status == 409
        errors = refused.value.errors or []
        assert [e.field for e in errors] == ["family_id"]
        assert "2025-02-20" in errors[0].message
