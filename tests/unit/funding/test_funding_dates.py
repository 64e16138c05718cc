"""Issue 12 and 13 for funding's pure decisions: effective dates (not in the future, not before the
programme's start, not before what they depend on), a start_date bounded by the sponsorship's date
(2099 is refused), money judged on the day a sponsorship was made, a sponsorship of a
family whose plan ended refused, and allocated_rp net of releases."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID

import funding_examples as examples
import pytest
from funding_examples import DONOR, FAMILY, S1, TODAY, allocated

from services.funding.domain import MakePledge, PlanEnded, ReceiveContribution, ReturnFunds, SponsorFamily, sponsor
from services.funding.domain import donor as donors
from services.funding.domain.rules import Limits
from shared.contracts.funding import (
    ContributionReceived,
    DonorRegistered,
    DonorStreamEvent,
    FamilySponsored,
    FundsAllocated,
    FundsReturned,
    PledgeMade,
)
from shared.errors import InvalidCommand

LIMITS = Limits(programme_start=date(2025, 1, 1), max_start_delay_days=30)
C1 = UUID("00000000-0000-0000-0000-0000000c0001")
C2 = UUID("00000000-0000-0000-0000-0000000c0002")


def received(contribution_id: UUID, amount: int, on: date) -> ContributionReceived:
    """A CSR's transfer: the donor of these examples."""
    return examples.received(amount, on, contribution_id=contribution_id, donor_type="csr", method="transfer")


# 1 jt received on 1 May, 2 jt more on 1 June.
DONOR_STATE = donors.fold(
    [
        DonorRegistered(donor_id=DONOR, donor_type="csr", registered_on=date(2025, 4, 1)),
        received(C1, 1_000_000, date(2025, 5, 1)),
        received(C2, 2_000_000, date(2025, 6, 1)),
    ]
)
SPONSOR = SponsorFamily(
    S1, DONOR, FAMILY, 1_000_000, TODAY, TODAY, "enrolled", "33.75.01.1002", enrolled_on=date(2025, 4, 15)
)


def field_of(exc: pytest.ExceptionInfo[InvalidCommand]) -> list[str]:
    return [e.field for e in exc.value.errors]


def test_a_start_date_in_2099_is_refused_naming_start_date() -> None:
    with pytest.raises(InvalidCommand) as exc:
        sponsor(DONOR_STATE, replace(SPONSOR, start_date=date(2099, 1, 1)), LIMITS)
    assert field_of(exc) == ["start_date"]


@pytest.mark.parametrize("delay, ok", [(0, True), (30, True), (31, False), (-1, False)])
def test_the_start_date_is_within_30_days_from_the_sponsorships_date(delay: int, ok: bool) -> None:
    # Entered late (today is 40 days on), so that no start_date here is in the future.
    command = replace(
        SPONSOR, start_date=TODAY + timedelta(days=delay), sponsored_on=TODAY, today=TODAY + timedelta(days=40)
    )
    if ok:
        [sponsored] = sponsor(DONOR_STATE, command, LIMITS)[1]
        assert isinstance(sponsored, FamilySponsored) and sponsored.start_date == command.start_date
    else:
        with pytest.raises(InvalidCommand) as exc:
            sponsor(DONOR_STATE, command, LIMITS)
        assert field_of(exc) == ["start_date"]


def test_a_past_start_date_without_a_sponsorship_date_is_late_entry_on_that_day() -> None:
    """A programme entered late names the day the money started to count; that is the sponsorship's day."""
    past = date(2025, 5, 20)  # after the first 1 jt was received, before the second
    command = replace(SPONSOR, start_date=past, sponsored_on=None, amount_rp=1_000_000)
    _, [sponsored] = sponsor(DONOR_STATE, command, LIMITS)
    assert isinstance(sponsored, FamilySponsored)
    assert (sponsored.start_date, sponsored.sponsored_on) == (past, past)


@pytest.mark.parametrize(
    "sponsored_on, why",
    [
        (TODAY + timedelta(days=1), "future"),
        (date(2024, 12, 31), "programme's start"),
        (date(2025, 4, 14), "enrolment"),  # the family was enrolled on 15 April
    ],
)
def test_a_sponsorships_date_is_refused_in_the_future_before_the_programme_or_the_enrolment(
    sponsored_on: date, why: str
) -> None:
    with pytest.raises(InvalidCommand) as exc:
        sponsor(DONOR_STATE, replace(SPONSOR, sponsored_on=sponsored_on, start_date=sponsored_on), LIMITS)
    assert field_of(exc) == ["sponsored_on"] and why in exc.value.errors[0].message


def test_a_late_entered_sponsorship_uses_only_money_received_by_its_date() -> None:
    may = replace(SPONSOR, sponsored_on=date(2025, 5, 10), start_date=date(2025, 5, 10))
    [allocated], [sponsored] = sponsor(DONOR_STATE, may, LIMITS)  # 1 jt was there on 10 May
    assert isinstance(allocated, FundsAllocated) and isinstance(sponsored, FamilySponsored)
    assert allocated.allocated_on == date(2025, 5, 10) and sponsored.sponsored_on == date(2025, 5, 10)
    with pytest.raises(InvalidCommand) as exc:  # 1.5 jt was not: the rest came on 1 June
        sponsor(DONOR_STATE, replace(may, amount_rp=1_500_000), LIMITS)
    assert field_of(exc) == ["sponsored_on"]
    # Money already promised elsewhere does not count either, whatever its date.
    after = donors.evolve(DONOR_STATE, allocated)
    with pytest.raises(InvalidCommand):
        sponsor(after, replace(may, sponsorship_id=C2, amount_rp=1), LIMITS)
    assert sponsor(after, replace(SPONSOR, sponsorship_id=C2, amount_rp=2_000_000), LIMITS)


def test_money_returned_later_is_not_available_on_an_earlier_day() -> None:
    """Given 3.3 jt received on 1 March, 3 jt of it allocated on 1 March and returned on 1 August;
    when a sponsorship dated 15 March asks for 3 jt (entered after the return); then it is
    refused: on 15 March the donor had Rp300.000. On 1 August the returned money is there."""
    history: list[DonorStreamEvent] = [
        DonorRegistered(donor_id=DONOR, donor_type="csr", registered_on=date(2025, 2, 1)),
        received(C1, 3_300_000, date(2025, 3, 1)),
        allocated(3_000_000, date(2025, 3, 1), donor_type="csr"),
        FundsReturned(
            donor_id=DONOR,
            donor_type="csr",
            sponsorship_id=S1,
            amount_rp=3_000_000,
            reason="family_exited",
            returned_on=date(2025, 8, 1),
        ),
    ]
    state = donors.fold(history)
    march = replace(
        SPONSOR,
        sponsorship_id=C2,
        amount_rp=3_000_000,
        sponsored_on=date(2025, 3, 15),
        start_date=date(2025, 3, 15),
        today=date(2025, 9, 1),
        enrolled_on=date(2025, 3, 1),
    )
    with pytest.raises(InvalidCommand) as exc:
        sponsor(state, march, LIMITS)
    assert field_of(exc) == ["sponsored_on"] and "Rp300.000" in exc.value.errors[0].message
    assert sponsor(state, replace(march, amount_rp=300_000), LIMITS)
    august = replace(march, sponsored_on=date(2025, 8, 1), start_date=date(2025, 8, 1))
    assert sponsor(state, august, LIMITS)


def test_an_earlier_sponsorship_may_not_take_money_a_later_one_already_uses() -> None:
    """Given 1 jt received on 1 May, allocated on 20 May, and 2 jt more on 1 June; when a sponsorship
    dated 10 May (entered late) asks for 1 jt: the 1 jt was there on 10 May, but taking it would
    leave the 20 May sponsorship uncovered on its day: refused. Dated 2 June, it is accepted."""
    may_20 = allocated(1_000_000, date(2025, 5, 20), donor_type="csr")
    may_10 = replace(SPONSOR, sponsorship_id=C2, sponsored_on=date(2025, 5, 10), start_date=date(2025, 5, 10))
    with pytest.raises(InvalidCommand):
        sponsor(donors.evolve(DONOR_STATE, may_20), may_10, LIMITS)
    assert sponsor(donors.evolve(DONOR_STATE, may_20), replace(may_10, sponsored_on=TODAY, start_date=TODAY), LIMITS)


def test_a_family_whose_plan_ended_is_refused_with_409() -> None:
    with pytest.raises(PlanEnded) as exc:
        sponsor(DONOR_STATE, replace(SPONSOR, plan_ended=True), LIMITS)
    assert exc.value.status == 409


def test_a_sponsorship_dated_after_the_plans_last_day_is_refused_before_the_plan_has_ended() -> None:
    # Given a family whose plan's last day has passed, the clock not having ended it yet (records
    # may still come late); when a sponsorship dated after that day is entered, then it is
    # refused (409), as it is once the plan has ended: late entry and entry on the day agree.
    sponsored_on = SPONSOR.effective_on()
    last_day = sponsored_on - timedelta(days=1)
    for ended in (False, True):
        with pytest.raises(PlanEnded) as exc:
            sponsor(DONOR_STATE, replace(SPONSOR, plan_last_day=last_day, plan_ended=ended), LIMITS)
        assert exc.value.status == 409 and last_day.isoformat() in str(exc.value)
    # Dated on the plan's last day, it may still top the plan up.
    assert sponsor(DONOR_STATE, replace(SPONSOR, plan_last_day=sponsored_on), LIMITS)


def test_received_on_and_pledged_on_follow_the_effective_date_rules() -> None:
    for day in (TODAY + timedelta(days=1), date(2024, 6, 1)):
        with pytest.raises(InvalidCommand) as exc:
            donors.decide(DONOR_STATE, ReceiveContribution(DONOR, C1, 5, day, "cash", "KW-1", TODAY), LIMITS)
        assert field_of(exc) == ["received_on"]
        with pytest.raises(InvalidCommand) as exc:
            donors.decide(DONOR_STATE, MakePledge(DONOR, C1, 5, TODAY, None, pledged_on=day), LIMITS)
        assert field_of(exc) == ["pledged_on"]
    pledged = donors.decide(DONOR_STATE, MakePledge(DONOR, C1, 5, TODAY, None, pledged_on=date(2025, 3, 1)), LIMITS)
    assert isinstance(pledged[0], PledgeMade) and pledged[0].pledged_on == date(2025, 3, 1)


def test_allocated_is_net_of_releases() -> None:
    holding = donors.evolve(DONOR_STATE, allocated(2_000_000, TODAY, donor_type="csr"))
    (returned,) = donors.decide(holding, ReturnFunds(DONOR, S1, 1_200_000, "plan_closed", TODAY))
    after = donors.evolve(holding, returned)
    assert (after.allocated_rp, after.returned_rp, after.available_rp) == (800_000, 1_200_000, 2_200_000)
    assert after.received_rp == after.available_rp + after.allocated_rp


@pytest.mark.parametrize("donor_type", ["apbn_dak", "apbd_kabupaten_x", "APBN-DAK", "apbd_kota"])
def test_an_unlisted_government_budget_type_gets_the_off_budget_reason(donor_type: str) -> None:
    from services.funding.domain import RegisterDonor

    with pytest.raises(InvalidCommand) as exc:
        donors.decide(donors.Donor(), RegisterDonor(DONOR, donor_type, "Dinas", None, TODAY), LIMITS)
    (error,) = exc.value.errors
    assert error.field == "donor_type" and "funded off-budget" in error.message


@pytest.mark.parametrize("ahead", [1, 20])
def test_a_start_date_in_the_future_is_refused_naming_start_date(ahead: int) -> None:
    """Given a donor with money; when a sponsorship names a start_date after today; then 422 on
    `start_date`: an effective date is never in the future, so the plan's window cannot depend on
    the day the sponsorship happened to be entered."""
    command = replace(SPONSOR, start_date=TODAY + timedelta(days=ahead), sponsored_on=TODAY)
    with pytest.raises(InvalidCommand) as exc:
        sponsor(DONOR_STATE, command, LIMITS)
    assert field_of(exc) == ["start_date"] and "future" in exc.value.errors[0].message
