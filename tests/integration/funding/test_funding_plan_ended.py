"""Issue 13 #1, money never stranded: a sponsorship for a family whose aid plan has ended
(completed, incomplete or closed) is refused with 409; whatever is still allocated to it when the
plan ends, including a sponsorship that got in just before funding heard of the ending, goes back
to its donors. Issue 12: the effective dates, as a client sees them (422 naming the field)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from funding_support import ADMIN, MEDONO, TODAY, Funding

from shared.contracts.aid import PlanOutcome
from shared.testing.facts import plan_opened

pytestmark = pytest.mark.integration


async def sponsor(funding: Funding, donor: UUID, family: UUID, amount: int, **dates: date) -> Any:
    return await funding.sponsor(donor, family, amount, **{k: v.isoformat() for k, v in dates.items()})


async def planned_family(funding: Funding, donor: UUID) -> tuple[UUID, UUID]:
    up = funding.upstream
    family = await up.enrol()
    await up.settled(funding.app)
    assert (await funding.sponsor(donor, family, 2_700_000)).status_code == 201
    opened = await up.send(up.opened(family))
    return family, opened.stream_id


@pytest.mark.parametrize("ending", ["completed", "incomplete", "closed"])
async def test_after_the_plan_ends_a_new_sponsorship_is_refused_with_409(funding: Funding, ending: str) -> None:
    """The issue's example: the plan completes, then a donor sponsors Rp1,000,000: 409, nothing moves."""
    up = funding.upstream
    donor = await funding.donor(received_rp=5_000_000)
    family, plan = await planned_family(funding, donor)
    await up.send(up.delivered(plan, 2_000_000, days=180))
    if ending == "completed":
        await up.send(up.completed(plan))
    outcome: dict[str, PlanOutcome] = {"completed": "completed", "incomplete": "incomplete", "closed": "completed"}
    await up.send(up.closed(plan, outcome=outcome[ending]))
    await up.settled(funding.app)
    before = await funding.statement(donor)
    response = await funding.sponsor(donor, family, 1_000_000)
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["errors"][0]["field"] == "family_id" and "ended" in problem["detail"]
    after = await funding.statement(donor)
    assert (after["allocated_rp"], after["available_rp"]) == (before["allocated_rp"], before["available_rp"])
    # The 700,000 not drawn went back when the plan ended: allocated (net) = drawn.
    assert (after["allocated_rp"], after["drawn_rp"], after["released_rp"]) == (2_000_000, 2_000_000, 700_000)


async def test_a_sponsorship_that_got_in_before_funding_heard_of_the_ending_is_released(funding: Funding) -> None:
    """Aid completed the plan; the donor's Rp1,000,000 was committed before funding read that: it
    is released back to the donor as soon as funding does, never left allocated."""
    up = funding.upstream
    donor = await funding.donor(received_rp=5_000_000)
    family, plan = await planned_family(funding, donor)
    await up.settled(funding.app)
    assert (await funding.sponsor(donor, family, 1_000_000)).status_code == 201  # the late one
    await up.send(up.completed(plan))  # aid publishes AidPlanCompleted, then AidPlanClosed
    await up.send(up.closed(plan, outcome="completed"))
    await up.settled(funding.app)
    statement = await funding.statement(donor)
    assert (statement["allocated_rp"], statement["released_rp"], statement["available_rp"]) == (0, 3_700_000, 5_000_000)
    assert (await funding.family(family))["remaining_rp"] == 0


async def test_aid_plan_completed_alone_releases_the_rest(funding: Funding) -> None:
    """The ending event is enough: AidPlanCompleted releases before any AidPlanClosed arrives."""
    up = funding.upstream
    donor = await funding.donor(received_rp=3_000_000)
    family, plan = await planned_family(funding, donor)
    await up.send(up.delivered(plan, 2_500_000, days=180))
    await up.send(up.completed(plan))
    await up.settled(funding.app)
    family_funding = await funding.family(family)
    assert (family_funding["drawn_rp"], family_funding["released_rp"], family_funding["remaining_rp"]) == (
        2_500_000,
        200_000,
        0,
    )
    assert (await funding.sponsor(donor, family, 100_000)).status_code == 409


async def test_effective_dates_are_checked_and_carried(funding: Funding) -> None:
    up = funding.upstream
    donor = await funding.donor()
    early = TODAY - timedelta(days=20)
    late = await funding.http.post(
        f"/donors/{donor}/contributions",
        json={"amount_rp": 1_000_000, "received_on": early.isoformat(), "method": "cash", "reference": "KW-1"},
        headers=ADMIN,
    )
    assert late.status_code == 201, late.text
    default = await funding.http.post(
        f"/donors/{donor}/contributions",
        json={"amount_rp": 2_000_000, "method": "cash", "reference": "KW-2"},
        headers=ADMIN,
    )
    assert default.status_code == 201, default.text  # received_on defaults to today
    statement = await funding.statement(donor)
    assert [c["received_on"] for c in statement["contributions"]] == [early.isoformat(), TODAY.isoformat()]
    for bad, field in (({"received_on": "2099-01-01"}, "received_on"), ({"received_on": "2024-12-31"}, "received_on")):
        body = {"amount_rp": 1, "method": "cash", "reference": f"KW-{field}-{bad}", **bad}
        refused = await funding.http.post(f"/donors/{donor}/contributions", json=body, headers=ADMIN)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field, refused.text

    family = await up.enrol(on=TODAY - timedelta(days=30))
    await up.settled(funding.app)
    # 2099: refused naming start_date; nothing allocated.
    far = await sponsor(funding, donor, family, 500_000, start_date=date(2099, 1, 1))
    assert far.status_code == 422 and far.json()["errors"][0]["field"] == "start_date", far.text
    # Before the enrolment: refused naming sponsored_on.
    before = await sponsor(funding, donor, family, 500_000, sponsored_on=TODAY - timedelta(days=31))
    assert before.status_code == 422 and before.json()["errors"][0]["field"] == "sponsored_on", before.text
    # Ten days ago only the 1,000,000 received 20 days ago was there: 1,500,000 is refused then ...
    ten_ago = TODAY - timedelta(days=10)
    short = await sponsor(funding, donor, family, 1_500_000, sponsored_on=ten_ago, start_date=ten_ago)
    assert short.status_code == 422 and short.json()["errors"][0]["field"] == "sponsored_on", short.text
    # ... and 1,000,000 is accepted, dated then.
    ok = await sponsor(funding, donor, family, 1_000_000, sponsored_on=ten_ago, start_date=ten_ago)
    assert ok.status_code == 201, ok.text
    (line,) = (await funding.statement(donor))["sponsorships"]
    assert (line["sponsored_on"], line["start_date"]) == (ten_ago.isoformat(), ten_ago.isoformat())
    assert (await funding.statement(donor))["allocated_rp"] == 1_000_000


async def test_a_sponsorship_dated_after_the_plans_last_day_is_refused_while_the_plan_still_waits(
    funding: Funding,
) -> None:
    """The plan's days are over but aid has not ended it (records may still come late): a
    sponsorship dated after its last day could never pay for them, and is refused with 409 as it
    would be once the plan has ended, so entering it late gives what entering it on its day gave."""
    up = funding.upstream
    donor = await funding.donor(received_rp=5_000_000)
    family = await up.enrol(on=TODAY - timedelta(days=200))
    await up.settled(funding.app)
    opened = plan_opened(uuid4(), family, TODAY - timedelta(days=190), kelurahan=MEDONO)  # last day: TODAY - 11
    await up.send(opened)
    await up.settled(funding.app)
    response = await funding.sponsor(donor, family, 1_000_000)
    assert response.status_code == 409, response.text
    assert opened.end_date.isoformat() in response.json()["detail"]
    assert (await funding.statement(donor))["allocated_rp"] == 0
