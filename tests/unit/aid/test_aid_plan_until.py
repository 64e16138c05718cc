"""A plan that runs until the family's youngest baduta is N months old (README, "Plan length"),
given/when/then: the registry's `plan_until` fixes the family's days from its enrolment (its
minimum is those days at the daily minimum), and the plan never runs on or past that day, so money
that came late gives a shorter plan; without a `plan_until`, the fixed days."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from aid_examples import FAMILY, MEDONO, S1, S2, START

from services.aid.domain import PlanRules, ReviewFunding, Sponsorship, plan_id_for
from services.aid.domain.plan import decide, fold
from shared.contracts.aid import AidPlanOpened

RULES = PlanRules()  # Rp15,000 a day; 180 fixed days
UNTIL = START + timedelta(days=400)  # the youngest baduta's N-month birthday
MINIMUM = 400 * 15_000


def review(*sponsorships: Sponsorship, plan_until: date | None = UNTIL) -> ReviewFunding:
    return ReviewFunding(
        plan_id=plan_id_for(FAMILY),
        family_id=FAMILY,
        kelurahan_code=MEDONO,
        enrolled_on=START,
        exited=False,
        sponsorships=sponsorships,
        rules=RULES,
        today=date(2026, 12, 31),
        plan_until=plan_until,
    )


def opened(command: ReviewFunding) -> AidPlanOpened:
    [fact] = decide(fold([]), command)
    assert isinstance(fact.event, AidPlanOpened)
    return fact.event


class TestPlanUntil:
    def test_the_family_minimum_is_its_days_from_enrolment_at_the_daily_minimum(self) -> None:
        assert review().days == 400 and review().minimum_rp == MINIMUM
        # the fixed days' minimum no longer opens it
        assert decide(fold([]), review(Sponsorship(S1, RULES.minimum_rp, START))) == []
        assert decide(fold([]), review(Sponsorship(S1, MINIMUM - 1, START))) == []

    def test_money_there_at_enrolment_plans_every_day_until_the_day_before_plan_until(self) -> None:
        event = opened(review(Sponsorship(S1, MINIMUM, START)))
        assert (event.start_date, event.end_date, event.days) == (START, UNTIL - timedelta(days=1), 400)
        assert event.budget_rp == MINIMUM and event.daily_minimum_rp == 15_000

    def test_money_that_came_late_gives_a_shorter_plan_that_still_ends_before_plan_until(self) -> None:
        late = START + timedelta(days=100)
        event = opened(review(Sponsorship(S1, MINIMUM // 2, START), Sponsorship(S2, MINIMUM // 2, late)))
        assert (event.start_date, event.end_date, event.days) == (late, UNTIL - timedelta(days=1), 300)
        assert event.budget_rp == MINIMUM  # the unspent rest goes back when the plan ends

    def test_money_that_came_on_or_after_plan_until_opens_no_plan(self) -> None:
        assert decide(fold([]), review(Sponsorship(S1, MINIMUM, UNTIL))) == []

    def test_a_plan_until_on_or_before_the_enrolment_opens_no_plan(self) -> None:
        assert review(plan_until=START).days == 0
        assert decide(fold([]), review(Sponsorship(S1, MINIMUM, START), plan_until=START)) == []

    def test_without_plan_until_the_fixed_days_apply(self) -> None:
        event = opened(review(Sponsorship(S1, RULES.minimum_rp, START), plan_until=None))
        assert (event.end_date, event.days) == (START + timedelta(days=179), 180)

    def test_a_plan_until_sooner_than_the_fixed_days_shortens_the_plan_and_its_minimum(self) -> None:
        soon = START + timedelta(days=90)
        event = opened(review(Sponsorship(S1, 90 * 15_000, START), plan_until=soon))
        assert (event.end_date, event.days) == (soon - timedelta(days=1), 90)
        assert replace(review(plan_until=soon), rules=PlanRules(daily_minimum_rp=20_000)).minimum_rp == 90 * 20_000
