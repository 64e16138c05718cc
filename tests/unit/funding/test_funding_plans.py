"""The pure part of what funding does with a family's plans and money: whether its plan has ended
(a new sponsorship is then refused), whether an exit releases at once, who gets what back on a
release and in which order, and the donors' figures with `allocated_rp` net of releases."""

from __future__ import annotations

from collections import Counter
from uuid import UUID

import pytest
from funding_examples import DONOR, FAMILY, S1, S2, S3, TODAY

from services.funding.domain import ReturnFunds
from services.funding.domain.plans import has_open_plan, plan_ended, returns_by_donor
from services.funding.views import donor_changes
from shared.contracts.funding import ContributionReceived, FundsAllocated, FundsReturned, PledgeMade

DONOR_A, DONOR_B = UUID(int=0xA), UUID(int=0xB)
DonorFigureEvent = PledgeMade | ContributionReceived | FundsAllocated | FundsReturned


@pytest.mark.parametrize(
    ("statuses", "ended"),
    [
        (set(), False),  # no plan yet: the family may be sponsored towards one
        ({"open"}, False),
        ({"closed"}, True),  # completed, ended incomplete or closed
        ({"closed", "open"}, False),  # an earlier plan closed, a later one runs
    ],
)
def test_a_plan_has_ended_when_the_family_had_one_and_none_is_open(statuses: set[str], ended: bool) -> None:
    assert plan_ended(statuses) is ended


@pytest.mark.parametrize(("statuses", "waits"), [(set(), False), ({"closed"}, False), ({"open", "closed"}, True)])
def test_an_exit_waits_for_the_plans_closing_only_while_a_plan_is_open(statuses: set[str], waits: bool) -> None:
    assert has_open_plan(statuses) is waits


def test_a_release_returns_to_each_donor_its_own_in_donor_order() -> None:
    returns = [
        ReturnFunds(DONOR_B, S1, 700_000, "plan_closed", TODAY),
        ReturnFunds(DONOR_A, S2, 300_000, "plan_closed", TODAY),
        ReturnFunds(DONOR_B, S3, 100_000, "plan_closed", TODAY),
    ]
    grouped = returns_by_donor(returns)
    assert [donor for donor, _ in grouped] == [DONOR_A, DONOR_B]
    assert [[r.sponsorship_id for r in rs] for _, rs in grouped] == [[S2], [S1, S3]]
    assert sum(r.amount_rp for _, rs in grouped for r in rs) == 1_100_000


def test_nothing_released_returns_nothing() -> None:
    assert returns_by_donor([]) == []


def test_allocated_is_net_of_releases_and_received_is_available_plus_allocated() -> None:
    who = {"donor_id": DONOR, "donor_type": "csr"}
    events: list[DonorFigureEvent] = [
        PledgeMade.model_validate(who | {"pledge_id": S3, "amount_rp": 9_000_000, "pledged_on": TODAY}),
        ContributionReceived.model_validate(
            who | {"contribution_id": S1, "amount_rp": 3_000_000, "received_on": TODAY, "method": "transfer"}
        ),
        FundsAllocated.model_validate(
            who | {"sponsorship_id": S1, "family_id": FAMILY, "amount_rp": 2_700_000, "allocated_on": TODAY}
        ),
        FundsReturned.model_validate(
            who | {"sponsorship_id": S1, "amount_rp": 1_000_000, "reason": "plan_closed", "returned_on": TODAY}
        ),
    ]
    figures: Counter[str] = Counter()
    for event in events:
        figures.update(donor_changes(event))
    assert figures == {
        "pledged_rp": 9_000_000,
        "received_rp": 3_000_000,
        "allocated_rp": 1_700_000,
        "returned_rp": 1_000_000,
    }
    assert figures["received_rp"] - figures["allocated_rp"] == 1_300_000  # available: the unspent rest came back
