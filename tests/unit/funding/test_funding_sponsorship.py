"""The Sponsorship aggregate and the sponsoring decision, given/when/then: who can be sponsored, how
deliveries draw (oldest first, never more than remains) and how the rest is released (once)."""

from __future__ import annotations

from functools import reduce
from uuid import UUID

import pytest
from funding_examples import D1, FAMILY, MEDONO, S1, S2, S3, TODAY, WHO, allocated, donor_with, sponsoring
from hypothesis import given
from hypothesis import strategies as st

from services.funding.domain import (
    DonorNotFound,
    Draw,
    FamilyNotSponsorable,
    InsufficientFunds,
    PayDelivery,
    Release,
    Sponsorship,
    pay_delivery,
    split_delivery,
    sponsor,
)
from services.funding.domain import donor as donors
from services.funding.domain.sponsorship import decide, evolve, fold
from shared.contracts.funding import (
    DeliveryUnfunded,
    FamilySponsored,
    SponsorshipDrawn,
    SponsorshipReleased,
    SponsorshipStreamEvent,
)
from shared.errors import InvalidCommand

PLAN = UUID("00000000-0000-0000-0000-0000000b0001")
D2 = UUID("00000000-0000-0000-0000-0000000c0002")

SPONSORED = FamilySponsored(**WHO, amount_rp=2_700_000, start_date=TODAY, kelurahan_code=MEDONO, sponsored_on=TODAY)
DONOR_WITH_3M = donor_with(3_000_000, TODAY)


def draw(amount: int, delivery: UUID = D1) -> Draw:
    return Draw(sponsorship_id=S1, delivery_id=delivery, plan_id=PLAN, amount_rp=amount, drawn_on=TODAY)


def drawn(amount: int, remaining: int, delivery: UUID = D1) -> SponsorshipDrawn:
    return SponsorshipDrawn(
        **WHO, amount_rp=amount, delivery_id=delivery, plan_id=PLAN, drawn_on=TODAY, remaining_rp=remaining
    )


class TestSponsoring:
    def test_an_enrolled_family_is_sponsored_from_the_donors_available_money(self) -> None:
        allocation, sponsorship = sponsor(DONOR_WITH_3M, sponsoring())
        assert allocation == [allocated(2_700_000, TODAY)]
        assert sponsorship == [SPONSORED]
        assert reduce(donors.evolve, allocation, DONOR_WITH_3M).available_rp == 300_000

    @pytest.mark.parametrize("status", ["exited", "unknown"])
    def test_a_family_not_enrolled_or_exited_is_a_conflict(self, status: str) -> None:
        with pytest.raises(FamilyNotSponsorable) as exc:
            sponsor(DONOR_WITH_3M, sponsoring(status=status))
        assert exc.value.status == 409 and exc.value.errors and exc.value.errors[0].field == "family_id"

    def test_more_than_the_donor_has_available_is_a_conflict(self) -> None:
        with pytest.raises(InsufficientFunds):
            sponsor(DONOR_WITH_3M, sponsoring(3_000_001))

    def test_bad_amounts_are_invalid_before_anything_else_is_looked_at(self) -> None:
        for amount in (0, -5, 1.5, "100"):
            with pytest.raises(InvalidCommand):
                sponsor(donors.Donor(), sponsoring(amount, status="exited"))

    def test_an_unknown_donor_is_not_found(self) -> None:
        with pytest.raises(DonorNotFound):
            sponsor(donors.Donor(), sponsoring())


class TestDrawing:
    def test_a_delivery_draws_what_it_costs(self) -> None:
        assert decide(fold([SPONSORED]), draw(450_000)) == [drawn(450_000, 2_250_000)]

    def test_a_draw_never_takes_more_than_remains(self) -> None:
        state = fold([SPONSORED, drawn(2_000_000, 700_000)])
        assert decide(state, draw(1_000_000, D2)) == [drawn(700_000, 0, D2)]
        assert decide(fold([SPONSORED, drawn(2_000_000, 700_000), drawn(700_000, 0, D2)]), draw(1, UUID(int=9))) == []

    def test_the_same_delivery_is_drawn_once(self) -> None:
        assert decide(fold([SPONSORED, drawn(450_000, 2_250_000)]), draw(450_000)) == []

    def test_a_released_sponsorship_pays_nothing_more(self) -> None:
        released = SponsorshipReleased(**WHO, amount_rp=2_700_000, reason="family_exited", released_on=TODAY)
        assert decide(fold([SPONSORED, released]), draw(1)) == []

    def test_deliveries_are_paid_oldest_sponsorship_first_over_several(self) -> None:
        draws, shortfall = split_delivery([(S1, 100), (S2, 250), (S3, 1000)], 300)
        assert (draws, shortfall) == ([(S1, 100), (S2, 200)], 0)

    def test_what_no_sponsorship_holds_is_the_shortfall(self) -> None:
        assert split_delivery([(S1, 100), (S2, 50)], 400) == ([(S1, 100), (S2, 50)], 250)
        assert split_delivery([], 400) == ([], 400)


class TestPayingADelivery:
    DELIVERY = UUID("00000000-0000-0000-0000-0000000de001")
    PAY = PayDelivery(DELIVERY, PLAN, FAMILY, 400_000, TODAY, "33.75.01.1002")

    def test_a_delivery_the_sponsorships_cover_draws_on_them_and_nothing_is_unfunded(self) -> None:
        draws, unfunded = pay_delivery([(S1, 300_000), (S2, 250_000)], self.PAY)
        assert draws == [Draw(S1, self.DELIVERY, PLAN, 300_000, TODAY), Draw(S2, self.DELIVERY, PLAN, 100_000, TODAY)]
        assert unfunded == []

    def test_what_no_sponsorship_can_pay_is_recorded_as_an_unfunded_delivery(self) -> None:
        draws, unfunded = pay_delivery([(S1, 100_000), (S2, 50_000)], self.PAY)
        assert [d.amount_rp for d in draws] == [100_000, 50_000]
        assert unfunded == [
            DeliveryUnfunded(
                delivery_id=self.DELIVERY,
                plan_id=PLAN,
                family_id=FAMILY,
                kelurahan_code="33.75.01.1002",
                value_rp=400_000,
                drawn_rp=150_000,
                unfunded_rp=250_000,
                delivered_on=TODAY,
            )
        ]

    def test_a_delivery_with_no_money_held_is_unfunded_whole(self) -> None:
        draws, [unfunded] = pay_delivery([], self.PAY)
        assert (draws, unfunded.drawn_rp, unfunded.unfunded_rp) == ([], 0, 400_000)

    @given(
        remaining=st.lists(st.integers(min_value=0, max_value=3_000_000), max_size=4),
        value=st.integers(min_value=1, max_value=5_000_000),
    )
    def test_every_delivered_rupiah_is_drawn_or_unfunded(self, remaining: list[int], value: int) -> None:
        open_ = [(UUID(int=i + 1), r) for i, r in enumerate(remaining)]
        pay = PayDelivery(self.DELIVERY, PLAN, FAMILY, value, TODAY, "33.75.01.1002")
        draws, unfunded = pay_delivery(open_, pay)
        assert sum(d.amount_rp for d in draws) + sum(u.unfunded_rp for u in unfunded) == value
        assert all(d.amount_rp <= dict(open_)[d.sponsorship_id] for d in draws)


class TestReleasing:
    def test_the_unspent_rest_is_released_once(self) -> None:
        given_: list[SponsorshipStreamEvent] = [SPONSORED, drawn(2_000_000, 700_000)]
        when = Release(sponsorship_id=S1, reason="plan_closed", plan_id=PLAN, on=TODAY)
        [event] = decide(fold(given_), when)
        assert event == SponsorshipReleased(
            **WHO, amount_rp=700_000, reason="plan_closed", plan_id=PLAN, released_on=TODAY
        )
        after = fold([*given_, event])
        assert after.remaining_rp == 0 and not after.is_open
        exit_release = Release(sponsorship_id=S1, reason="family_exited", plan_id=None, on=TODAY)
        assert decide(after, exit_release) == []

    def test_a_fully_drawn_sponsorship_has_nothing_to_release(self) -> None:
        state = fold([SPONSORED, drawn(2_700_000, 0)])
        assert decide(state, Release(sponsorship_id=S1, reason="plan_closed", plan_id=PLAN, on=TODAY)) == []


@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("draw"), st.integers(1, 3_000_000), st.integers(0, 5)),
            st.tuples(st.just("release"), st.just(0), st.just(0)),
        ),
        max_size=30,
    )
)
def test_drawn_plus_remaining_plus_released_is_always_the_sponsored_amount(steps: list[tuple[str, int, int]]) -> None:
    state = fold([SPONSORED])
    for kind, amount, delivery in steps:
        command = (
            draw(amount, UUID(int=delivery + 1))
            if kind == "draw"
            else Release(sponsorship_id=S1, reason="plan_closed", plan_id=PLAN, on=TODAY)
        )
        state = reduce(evolve, decide(state, command), state)
        assert min(state.drawn_rp, state.released_rp, state.remaining_rp) >= 0
        assert state.drawn_rp + state.remaining_rp + state.released_rp == 2_700_000
    assert isinstance(state, Sponsorship)
