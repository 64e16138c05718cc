"""The distribution cost on the Plan aggregate, given/when/then (DOMAIN.md: Maluku pays Rp20,000 of
food + Rp5,000 of distribution a day). The budget pays both: the minimum to open a plan, each
delivery's computed distribution_rp, the remaining budget a delivery must fit in, the shortfall."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from aid_examples import FAMILY, MEDONO, S1, START

from services.aid.domain import OverBudget, PlanRules, RecordDelivery, ReviewFunding, Sponsorship, plan_id_for
from services.aid.domain.plan import decide, fold
from shared.contracts.aid import (
    AidDelivered,
    AidPlanClosed,
    AidPlanCompleted,
    AidPlanOpened,
    AidPlanUnderfunded,
    DeliveredItem,
)
from shared.errors import InvalidCommand
from shared.repository import Fact

PLAN = plan_id_for(FAMILY)
D1 = UUID("00000000-0000-0000-0000-0000000000d1")
D2 = UUID("00000000-0000-0000-0000-0000000000d2")
MALUKU = PlanRules(daily_minimum_rp=20_000, distribution_daily_rp=5_000, days=180)
MINIMUM = (20_000 + 5_000) * 180  # Rp4,500,000
END = START + timedelta(days=179)
ITEMS = (DeliveredItem(name="telur", quantity=30, unit="butir"),)
IDS: dict[str, Any] = {"plan_id": PLAN, "family_id": FAMILY, "kelurahan_code": MEDONO}


def day(n: int) -> date:
    return START + timedelta(days=n - 1)


def review(amount: int, rules: PlanRules = MALUKU) -> ReviewFunding:
    money = (Sponsorship(S1, amount, START),)
    return ReviewFunding(PLAN, FAMILY, MEDONO, START, False, money, rules, date(2025, 12, 31))


def opened(budget: int = MINIMUM, rate: int = 5_000) -> Fact:
    return Fact(
        AidPlanOpened(
            **IDS,
            start_date=START,
            end_date=END,
            days=180,
            daily_minimum_rp=20_000,
            budget_rp=budget,
            opened_on=START,
            distribution_daily_rp=rate,
        )
    )


def delivered(delivery_id: UUID, first: int, last: int, food: int, distribution: int) -> Fact:
    days = last - first + 1
    return Fact(
        AidDelivered(
            **IDS,
            delivery_id=delivery_id,
            period_from=day(first),
            period_to=day(last),
            days=days,
            value_rp=food,
            delivered_on=day(first),
            distribution_rp=distribution,
        )
    )


def deliver(first: int, last: int, food: int, delivery_id: UUID = D2) -> RecordDelivery:
    return RecordDelivery(
        plan_id=PLAN,
        delivery_id=delivery_id,
        period_from=day(first),
        period_to=day(last),
        value_rp=food,
        items=ITEMS,
        delivered_on=day(first),
        today=day(first),
        recorded_by="kader-1",
        rules=MALUKU,
    )


class TestOpening:
    def test_the_minimum_is_food_and_distribution_for_every_day(self) -> None:
        assert MALUKU.minimum_rp == 4_500_000
        assert PlanRules(daily_minimum_rp=20_000, days=180).minimum_rp == 3_600_000  # no distribution: food alone

    def test_sponsorships_that_pay_the_food_but_not_its_distribution_open_nothing(self) -> None:
        assert decide(fold([]), review(MINIMUM - 1)) == []

    def test_the_plan_opens_at_the_minimum_recording_its_distribution_rate(self) -> None:
        [fact] = decide(fold([]), review(MINIMUM))
        assert isinstance(fact.event, AidPlanOpened)
        assert (fact.event.daily_minimum_rp, fact.event.distribution_daily_rp) == (20_000, 5_000)
        assert fact.event.budget_rp == MINIMUM

    def test_without_a_distribution_cost_the_plan_records_none(self) -> None:
        [fact] = decide(fold([]), review(3_600_000, PlanRules(daily_minimum_rp=20_000, days=180)))
        assert isinstance(fact.event, AidPlanOpened) and fact.event.distribution_daily_rp == 0


class TestDelivery:
    def test_a_delivery_adds_the_distribution_of_its_days_to_the_food_it_records(self) -> None:
        # Given a Maluku plan; when a kader records 7 days of food worth the daily minimum;
        [fact] = decide(fold([opened()]), deliver(1, 7, 140_000))
        # then the food's value stays what was typed, and the distribution is computed, apart.
        assert isinstance(fact.event, AidDelivered)
        assert (fact.event.value_rp, fact.event.distribution_rp) == (140_000, 35_000)

    def test_the_food_minimum_stays_the_daily_food_minimum(self) -> None:
        with pytest.raises(InvalidCommand) as refused:
            decide(fold([opened()]), deliver(1, 7, 139_999))
        assert [e.field for e in refused.value.errors] == ["value_rp"]

    def test_the_plan_uses_the_rate_it_opened_with_not_todays_setting(self) -> None:
        [fact] = decide(fold([opened(rate=4_000)]), deliver(1, 7, 140_000))
        assert isinstance(fact.event, AidDelivered) and fact.event.distribution_rp == 28_000

    def test_the_remaining_budget_is_what_food_and_distribution_left(self) -> None:
        plan = fold([opened(), delivered(D1, 1, 170, 3_400_000, 850_000)])
        assert (plan.delivered_rp, plan.distributed_rp, plan.remaining_rp) == (3_400_000, 850_000, 250_000)

    def test_a_delivery_whose_food_fits_but_not_with_its_distribution_is_refused(self) -> None:
        plan = fold([opened(), delivered(D1, 1, 170, 3_400_000, 850_000)])
        with pytest.raises(OverBudget) as refused:
            decide(plan, deliver(171, 180, 200_001))  # Rp200,001 + Rp50,000 > Rp250,000 left
        assert "Rp50,000 distribution" in str(refused.value)

    def test_the_last_delivery_that_fits_completes_the_plan_with_food_and_distribution_apart(self) -> None:
        plan = fold([opened(), delivered(D1, 1, 170, 3_400_000, 850_000)])
        facts = decide(plan, deliver(171, 180, 200_000))
        assert [type(f.event) for f in facts] == [AidDelivered, AidPlanCompleted, AidPlanClosed]
        closed = facts[-1].event
        assert isinstance(closed, AidPlanClosed)
        assert (closed.delivered_rp, closed.unspent_rp) == (3_600_000, 0)  # the food; nothing left

    def test_the_shortfall_counts_the_distribution_of_the_uncovered_days(self) -> None:
        # Given a plan funded at the minimum; when 7 days of dearer food are delivered;
        facts = decide(fold([opened()]), deliver(1, 7, 500_000))
        # then what is left (4,500,000 - 500,000 - 35,000) cannot pay 173 days at Rp25,000.
        underfunded = facts[-1].event
        assert isinstance(underfunded, AidPlanUnderfunded)
        assert underfunded.remaining_rp == 3_965_000
        assert underfunded.shortfall_rp == 173 * 25_000 - 3_965_000
