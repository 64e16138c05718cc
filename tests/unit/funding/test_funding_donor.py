"""The Donor aggregate, given/when/then: who may be a donor, what money is accepted, what is available."""

from __future__ import annotations

from datetime import timedelta
from functools import reduce
from uuid import UUID

import pytest
from funding_examples import DONOR, FAMILY, S1, S2, TODAY
from hypothesis import given
from hypothesis import strategies as st

from services.funding.domain import (
    AllocateFunds,
    Donor,
    DonorAlreadyRegistered,
    DonorNotFound,
    InsufficientFunds,
    Limits,
    MakePledge,
    ReceiveContribution,
    RegisterDonor,
    ReturnFunds,
    UnknownAllocation,
)
from services.funding.domain.donor import decide, evolve, fold
from shared.contracts.funding import (
    ContributionReceived,
    DonorRegistered,
    DonorStreamEvent,
    FundsAllocated,
    FundsReturned,
    PledgeMade,
)
from shared.errors import InvalidCommand

PLEDGE = UUID("00000000-0000-0000-0000-0000000e0001")
GIFT = UUID("00000000-0000-0000-0000-0000000c0001")

REGISTERED = DonorRegistered(donor_id=DONOR, donor_type="csr", registered_on=TODAY)


def received(amount: int) -> ContributionReceived:
    return ContributionReceived(
        donor_id=DONOR, donor_type="csr", contribution_id=GIFT, amount_rp=amount, received_on=TODAY, method="transfer"
    )


def allocated(sponsorship: UUID, amount: int) -> FundsAllocated:
    return FundsAllocated(
        donor_id=DONOR,
        donor_type="csr",
        sponsorship_id=sponsorship,
        family_id=FAMILY,
        amount_rp=amount,
        allocated_on=TODAY,
    )


def contribution(amount: object, **kw: object) -> ReceiveContribution:
    values: dict[str, object] = {
        "donor_id": DONOR,
        "contribution_id": GIFT,
        "amount_rp": amount,
        "received_on": TODAY,
        "method": "transfer",
        "reference": "BCA-001",
        "today": TODAY,
    }
    return ReceiveContribution(**(values | kw))  # type: ignore[arg-type]


def fields(exc: pytest.ExceptionInfo[InvalidCommand]) -> list[str]:
    return [e.field for e in exc.value.errors]


class TestRegistration:
    @pytest.mark.parametrize(
        "donor_type", ["individual", "community", "bumd", "bumn", "csr", "university", "media", "other"]
    )
    def test_every_off_budget_donor_type_is_registered(self, donor_type: str) -> None:
        when = RegisterDonor(donor_id=DONOR, donor_type=donor_type, name="Bu Sri", contact=None, today=TODAY)
        assert decide(Donor(), when) == [
            DonorRegistered(
                donor_id=DONOR,
                donor_type=donor_type,  # type: ignore[arg-type]
                registered_on=TODAY,
            )
        ]

    @pytest.mark.parametrize("donor_type", ["apbd", "APBN", "apbd_kota", "apbdes", "dana_desa", "pemerintah"])
    def test_a_government_budget_is_refused_because_the_programme_is_off_budget(self, donor_type: str) -> None:
        when = RegisterDonor(donor_id=DONOR, donor_type=donor_type, name="Pemkot", contact=None, today=TODAY)
        with pytest.raises(InvalidCommand) as exc:
            decide(Donor(), when)
        [error] = exc.value.errors
        assert error.field == "donor_type" and "off-budget" in error.message

    def test_an_unknown_type_is_refused_listing_the_allowed_ones(self) -> None:
        when = RegisterDonor(donor_id=DONOR, donor_type="bank", name="X", contact=None, today=TODAY)
        with pytest.raises(InvalidCommand) as exc:
            decide(Donor(), when)
        assert "individual" in exc.value.errors[0].message and "off-budget" not in exc.value.errors[0].message

    def test_a_blank_name_is_refused(self) -> None:
        with pytest.raises(InvalidCommand) as exc:
            decide(Donor(), RegisterDonor(donor_id=DONOR, donor_type="csr", name="  ", contact=None, today=TODAY))
        assert fields(exc) == ["name"]

    @pytest.mark.parametrize("name", ["Budi\x00", "Bu\ndi", "Budi\x7f", "Budi\ud800"])
    def test_control_characters_or_lone_surrogates_in_a_name_are_refused(self, name: str) -> None:
        with pytest.raises(InvalidCommand) as exc:
            decide(Donor(), RegisterDonor(donor_id=DONOR, donor_type="csr", name=name, contact=None, today=TODAY))
        assert fields(exc) == ["name"]

    def test_a_pledge_note_keeps_its_line_breaks_but_not_a_nul(self) -> None:
        def pledge(note: str) -> MakePledge:
            return MakePledge(donor_id=DONOR, pledge_id=PLEDGE, amount_rp=1_000, today=TODAY, note=note)

        assert decide(fold([REGISTERED]), pledge("janji\n\tlunas Desember"))
        with pytest.raises(InvalidCommand) as exc:
            decide(fold([REGISTERED]), pledge("janji\x00"))
        assert fields(exc) == ["note"]

    def test_the_event_carries_no_name_or_contact(self) -> None:
        [event] = decide(
            Donor(),
            RegisterDonor(donor_id=DONOR, donor_type="individual", name="Siti Aminah", contact="0812-555", today=TODAY),
        )
        assert "Siti" not in event.model_dump_json() and "0812" not in event.model_dump_json()

    def test_registering_twice_is_a_conflict(self) -> None:
        with pytest.raises(DonorAlreadyRegistered):
            decide(
                fold([REGISTERED]), RegisterDonor(donor_id=DONOR, donor_type="csr", name="A", contact=None, today=TODAY)
            )


class TestMoney:
    def test_a_pledge_is_recorded_and_does_not_make_money_available(self) -> None:
        [event] = decide(
            fold([REGISTERED]), MakePledge(donor_id=DONOR, pledge_id=PLEDGE, amount_rp=5_000_000, today=TODAY)
        )
        assert event == PledgeMade(
            donor_id=DONOR, donor_type="csr", pledge_id=PLEDGE, amount_rp=5_000_000, pledged_on=TODAY
        )
        state = fold([REGISTERED, event])
        assert (state.pledged_rp, state.available_rp) == (5_000_000, 0)

    def test_a_contribution_makes_money_available(self) -> None:
        [event] = decide(fold([REGISTERED]), contribution(2_700_000))
        assert event == received(2_700_000)
        assert fold([REGISTERED, event]).available_rp == 2_700_000

    @pytest.mark.parametrize("amount", [0, -1, -2_700_000, 10_000_000_001, 10**30, 1.5, 2700000.0, "2700000", True])
    def test_an_amount_that_is_not_a_positive_bounded_whole_rupiah_is_refused(self, amount: object) -> None:
        with pytest.raises(InvalidCommand) as exc:
            decide(fold([REGISTERED]), contribution(amount))
        assert fields(exc) == ["amount_rp"]

    def test_the_bound_is_configuration(self) -> None:
        with pytest.raises(InvalidCommand):
            decide(fold([REGISTERED]), contribution(1_000_001), Limits(max_amount_rp=1_000_000))
        assert decide(fold([REGISTERED]), contribution(10_000_000_000))  # the default bound itself is fine

    def test_money_cannot_be_received_tomorrow_by_an_unknown_method_without_a_reference(self) -> None:
        when = contribution(100_000, received_on=TODAY + timedelta(days=1), method="crypto", reference=" ")
        with pytest.raises(InvalidCommand) as exc:
            decide(fold([REGISTERED]), when)
        assert fields(exc) == ["received_on", "method", "reference"]

    def test_money_for_an_unknown_donor_is_not_found(self) -> None:
        with pytest.raises(DonorNotFound):
            decide(Donor(), contribution(100_000))


class TestAllocation:
    def test_received_money_is_allocated(self) -> None:
        given: list[DonorStreamEvent] = [REGISTERED, received(3_000_000)]
        when = AllocateFunds(donor_id=DONOR, sponsorship_id=S1, family_id=FAMILY, amount_rp=2_700_000, today=TODAY)
        [event] = decide(fold(given), when)
        assert event == allocated(S1, 2_700_000)
        assert fold([*given, event]).available_rp == 300_000

    def test_more_than_is_available_is_refused_and_says_how_much_there_is(self) -> None:
        given: list[DonorStreamEvent] = [REGISTERED, received(3_000_000), allocated(S1, 2_700_000)]
        when = AllocateFunds(donor_id=DONOR, sponsorship_id=S2, family_id=FAMILY, amount_rp=300_001, today=TODAY)
        with pytest.raises(InsufficientFunds) as exc:
            decide(fold(given), when)
        assert exc.value.available_rp == 300_000 and exc.value.status == 409
        assert "Rp300.000" in exc.value.detail

    def test_pledged_money_is_not_available(self) -> None:
        pledge = PledgeMade(donor_id=DONOR, donor_type="csr", pledge_id=PLEDGE, amount_rp=9_000_000, pledged_on=TODAY)
        when = AllocateFunds(donor_id=DONOR, sponsorship_id=S1, family_id=FAMILY, amount_rp=1, today=TODAY)
        with pytest.raises(InsufficientFunds):
            decide(fold([REGISTERED, pledge]), when)

    def test_returned_money_is_available_again_once(self) -> None:
        given: list[DonorStreamEvent] = [REGISTERED, received(3_000_000), allocated(S1, 3_000_000)]
        when = ReturnFunds(donor_id=DONOR, sponsorship_id=S1, amount_rp=1_000_000, reason="plan_closed", on=TODAY)
        [event] = decide(fold(given), when)
        assert event == FundsReturned(
            donor_id=DONOR,
            donor_type="csr",
            sponsorship_id=S1,
            amount_rp=1_000_000,
            reason="plan_closed",
            returned_on=TODAY,
        )
        after = fold([*given, event])
        assert after.available_rp == 1_000_000
        assert decide(after, when) == []

    def test_money_cannot_come_back_from_a_sponsorship_it_never_went_to(self) -> None:
        with pytest.raises(UnknownAllocation):
            decide(
                fold([REGISTERED]),
                ReturnFunds(donor_id=DONOR, sponsorship_id=S2, amount_rp=1, reason="family_exited", on=TODAY),
            )


@given(st.lists(st.tuples(st.sampled_from(["give", "allocate", "return"]), st.integers(-10, 5_000_000)), max_size=40))
def test_available_money_never_goes_negative_whatever_is_asked(steps: list[tuple[str, int]]) -> None:
    state = fold([REGISTERED])
    for i, (kind, amount) in enumerate(steps):
        sid = UUID(int=i + 1)
        command: ReceiveContribution | AllocateFunds | ReturnFunds
        if kind == "give":
            command = contribution(amount, contribution_id=sid)
        elif kind == "allocate":
            command = AllocateFunds(donor_id=DONOR, sponsorship_id=sid, family_id=FAMILY, amount_rp=amount, today=TODAY)
        elif state.allocated_to:
            command = ReturnFunds(
                donor_id=DONOR, sponsorship_id=min(state.allocated_to), amount_rp=amount, reason="plan_closed", on=TODAY
            )
        else:
            continue
        try:
            state = reduce(evolve, decide(state, command), state)
        except (InvalidCommand, InsufficientFunds):
            continue
        assert state.available_rp >= 0 and state.received_rp >= 0
