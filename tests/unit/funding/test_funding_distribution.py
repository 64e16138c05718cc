"""A delivery's distribution cost in funding, given/when/then: the sponsorships pay the food and
then its distribution, oldest first, each draw saying what of it paid distribution; what they
cannot pay is unfunded, distribution first; and the hold keeps money up to the minimum that
counts the distribution (Settings.plan_minimum_rp)."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from funding_examples import FAMILY, MEDONO, S1, S2, S3, TODAY, WHO
from hypothesis import given
from hypothesis import strategies as st

from services.funding.domain import Draw, PayDelivery, pay_delivery
from services.funding.domain.sponsorship import decide, distribution_share, fold
from services.funding.settings import FundingSettings
from shared.contracts.funding import DeliveryUnfunded, FamilySponsored, SponsorshipDrawn

PLAN = UUID("00000000-0000-0000-0000-0000000b0001")
DELIVERY = UUID("00000000-0000-0000-0000-0000000de001")
# Seven days in Maluku: Rp140,000 of food and Rp35,000 to bring it.
PAY = PayDelivery(DELIVERY, PLAN, FAMILY, 140_000, TODAY, MEDONO, distribution_rp=35_000)


def draws_of(open_: list[tuple[UUID, int]]) -> list[tuple[UUID, int, int]]:
    draws, _ = pay_delivery(open_, PAY)
    return [(d.sponsorship_id, d.amount_rp, d.distribution_rp) for d in draws]


class TestDrawing:
    def test_one_sponsorship_pays_the_food_and_its_distribution(self) -> None:
        assert draws_of([(S1, 1_000_000)]) == [(S1, 175_000, 35_000)]

    def test_the_food_is_paid_first_and_the_distribution_after_it_oldest_sponsorship_first(self) -> None:
        # Given three sponsorships; when the delivery's Rp175,000 is drawn;
        # then the first pays food only, the second the rest of the food and some distribution.
        assert draws_of([(S1, 100_000), (S2, 50_000), (S3, 1_000_000)]) == [
            (S1, 100_000, 0),
            (S2, 50_000, 10_000),
            (S3, 25_000, 25_000),
        ]

    def test_the_draw_event_carries_its_distribution(self) -> None:
        sponsored = FamilySponsored(
            **WHO, amount_rp=1_000_000, start_date=TODAY, kelurahan_code=MEDONO, sponsored_on=TODAY
        )
        [event] = decide(fold([sponsored]), Draw(S1, DELIVERY, PLAN, 175_000, TODAY, 35_000))
        assert isinstance(event, SponsorshipDrawn)
        assert (event.amount_rp, event.distribution_rp, event.remaining_rp) == (175_000, 35_000, 825_000)

    def test_a_draw_cut_short_by_what_remains_pays_less_distribution_not_less_food(self) -> None:
        sponsored = FamilySponsored(
            **WHO, amount_rp=170_000, start_date=TODAY, kelurahan_code=MEDONO, sponsored_on=TODAY
        )
        [event] = decide(fold([sponsored]), Draw(S1, DELIVERY, PLAN, 175_000, TODAY, 35_000))
        assert isinstance(event, SponsorshipDrawn)
        assert (event.amount_rp, event.distribution_rp) == (170_000, 30_000)

    def test_without_a_distribution_cost_a_draw_is_food_alone(self) -> None:
        draws, _ = pay_delivery([(S1, 1_000_000)], PayDelivery(DELIVERY, PLAN, FAMILY, 140_000, TODAY, MEDONO))
        assert [(d.amount_rp, d.distribution_rp) for d in draws] == [(140_000, 0)]


class TestUnfunded:
    def test_what_no_sponsorship_pays_is_unfunded_distribution_first(self) -> None:
        draws, unfunded = pay_delivery([(S1, 150_000)], PAY)
        assert [(d.amount_rp, d.distribution_rp) for d in draws] == [(150_000, 10_000)]
        assert unfunded == [
            DeliveryUnfunded(
                delivery_id=DELIVERY,
                plan_id=PLAN,
                family_id=FAMILY,
                kelurahan_code=MEDONO,
                value_rp=140_000,
                distribution_rp=35_000,
                drawn_rp=150_000,
                unfunded_rp=25_000,
                unfunded_distribution_rp=25_000,
                delivered_on=TODAY,
            )
        ]

    def test_with_nothing_held_the_food_and_its_distribution_are_unfunded_whole(self) -> None:
        _, [unfunded] = pay_delivery([], PAY)
        assert (unfunded.drawn_rp, unfunded.unfunded_rp, unfunded.unfunded_distribution_rp) == (0, 175_000, 35_000)

    @given(
        remaining=st.lists(st.integers(min_value=0, max_value=300_000), max_size=4),
        food=st.integers(min_value=1, max_value=500_000),
        distribution=st.integers(min_value=0, max_value=200_000),
    )
    def test_every_rupiah_of_food_and_distribution_is_drawn_or_unfunded_and_each_part_adds_up(
        self, remaining: list[int], food: int, distribution: int
    ) -> None:
        open_ = [(UUID(int=i + 1), r) for i, r in enumerate(remaining)]
        draws, unfunded = pay_delivery(open_, PayDelivery(DELIVERY, PLAN, FAMILY, food, TODAY, MEDONO, distribution))
        unpaid = sum(u.unfunded_rp for u in unfunded)
        unpaid_distribution = sum(u.unfunded_distribution_rp for u in unfunded)
        assert sum(d.amount_rp for d in draws) + unpaid == food + distribution
        assert sum(d.distribution_rp for d in draws) + unpaid_distribution == distribution
        assert all(0 <= d.distribution_rp <= d.amount_rp for d in draws)

    def test_a_draws_share_of_distribution_is_what_it_pays_past_the_food(self) -> None:
        assert distribution_share(0, 100, 140) == 0
        assert distribution_share(100, 50, 140) == 10
        assert distribution_share(150, 25, 140) == 25


class TestTheHold:
    def test_the_hold_keeps_money_up_to_the_minimum_with_its_distribution(self) -> None:
        maluku = FundingSettings(daily_minimum_rp=20_000, distribution_cost_rp=5_000, plan_days=180)
        assert maluku.limits().minimum_of(None, None) == 4_500_000
        assert FundingSettings(daily_minimum_rp=20_000, plan_days=180).limits().minimum_of(None, None) == 3_600_000
        # A family with its own days (the registry's plan_until) pays its distribution for each of them.
        enrolled = date(2025, 3, 1)
        assert maluku.limits().minimum_of(enrolled, enrolled + timedelta(days=300)) == 300 * 25_000
