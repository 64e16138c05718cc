"""Money held for a plan, and eligibility, through the real service (PostgreSQL, JetStream):
funding's clock step releases a sponsorship whose family has no plan `sponsorship_hold_days`
after its date, the donor's money available again; a family the registry says is no longer a
programme target (FamilyEligibilityChanged) is refused new sponsorships with 409."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from funding_support import ADMIN, TODAY, Funding

from services.funding.schedule import run_step
from shared.contracts.registry import FamilyEligibilityChanged
from shared.testing.facts import plan_opened

pytestmark = pytest.mark.integration

MEDONO = "33.75.01.1002"
LONG_AGO = TODAY - timedelta(days=100)  # its hold (60 days) ended 40 days ago


async def donor_since(funding: Funding, on: date, amount: int) -> UUID:
    donor = await funding.donor()
    body = {"amount_rp": amount, "received_on": on.isoformat(), "method": "cash", "reference": f"KW-{on}"}
    response = await funding.http.post(f"/donors/{donor}/contributions", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return donor


async def sponsored(funding: Funding, donor: UUID, family: UUID, amount: int, on: date) -> None:
    response = await funding.sponsor(donor, family, amount, sponsored_on=on.isoformat(), start_date=on.isoformat())
    assert response.status_code == 201, response.text


def line(statement: dict[str, Any], family: UUID) -> dict[str, Any]:
    found: list[dict[str, Any]] = [s for s in statement["sponsorships"] if s["family_id"] == str(family)]
    [only] = found
    return only


async def test_a_sponsorship_with_no_plan_after_the_hold_goes_back_to_its_donor(funding: Funding) -> None:
    up = funding.upstream
    donor = await donor_since(funding, LONG_AGO - timedelta(days=5), 5_000_000)
    waiting = await up.enrol(on=LONG_AGO)  # part-sponsored, never reaches the minimum
    planned = await up.enrol(on=LONG_AGO)  # aid opened its plan
    recent = await up.enrol(on=LONG_AGO)  # sponsored 10 days ago: still within its hold
    await up.settled(funding.app)
    await sponsored(funding, donor, waiting, 1_000_000, LONG_AGO)
    await sponsored(funding, donor, planned, 1_000_000, LONG_AGO)
    await sponsored(funding, donor, recent, 1_000_000, TODAY - timedelta(days=10))
    # Aid opened its plan within the hold (a plan that started after it would not take the money).
    await up.send(plan_opened(uuid4(), planned, LONG_AGO + timedelta(days=30), kelurahan=MEDONO))
    await up.settled(funding.app)

    assert await run_step(funding.app) == 1_000_000
    assert await run_step(funding.app) == 0  # once

    statement = await funding.statement(donor)
    assert (statement["allocated_rp"], statement["available_rp"]) == (2_000_000, 3_000_000)
    released = line(statement, waiting)
    assert (released["released_reason"], released["remaining_rp"]) == ("no_plan", 0)
    assert line(statement, planned)["released_reason"] is None
    assert line(statement, recent)["released_reason"] is None
    # Dated the day its hold ended, not the day the clock ran: the same whenever the records are entered.
    released_on = await funding.pool.fetchval(
        "select data->>'released_on' from events where event_type = 'SponsorshipReleased' and stream_id = $1",
        UUID(released["sponsorship_id"]),
    )
    assert released_on == (LONG_AGO + timedelta(days=60)).isoformat()


async def test_a_family_no_longer_eligible_is_refused_a_new_sponsorship_until_it_is_again(funding: Funding) -> None:
    up = funding.upstream
    donor = await donor_since(funding, LONG_AGO, 3_000_000)
    family = await up.enrol(on=LONG_AGO)
    aged_out = TODAY - timedelta(days=5)
    await up.send(
        FamilyEligibilityChanged(family_id=family, kelurahan_code=MEDONO, eligible=False, effective_on=aged_out)
    )
    await up.settled(funding.app)

    refused = await funding.sponsor(donor, family, 1_000_000)
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["errors"][0]["field"] == "family_id" and "no longer" in problem["detail"]
    assert aged_out.isoformat() in problem["detail"]
    assert (await funding.statement(donor))["allocated_rp"] == 0  # nothing moved

    newborn = TODAY - timedelta(days=1)
    await up.send(
        FamilyEligibilityChanged(family_id=family, kelurahan_code=MEDONO, eligible=True, effective_on=newborn)
    )
    await up.settled(funding.app)
    assert (await funding.sponsor(donor, family, 1_000_000)).status_code == 201


async def test_an_exit_entered_late_finds_what_the_hold_had_already_sent_back(funding: Funding) -> None:
    """The exit comes in before funding's clock has run (a programme entered late): the sponsorship
    whose hold ended before the exit goes back as no_plan on the hold's end, as it would have on the
    day; only what was still held goes back as family_exited."""
    up = funding.upstream
    donor = await donor_since(funding, LONG_AGO - timedelta(days=5), 5_000_000)
    family = await up.enrol(on=LONG_AGO)
    await up.settled(funding.app)
    await sponsored(funding, donor, family, 1_000_000, LONG_AGO)
    await sponsored(funding, donor, family, 500_000, TODAY - timedelta(days=10))
    await up.send(up.exited(family, on=TODAY - timedelta(days=5)))
    await up.settled(funding.app)

    rows = await funding.pool.fetch(
        "select data->>'reason' as reason, data->>'released_on' as released_on, (data->>'amount_rp')::bigint as rp"
        " from events where event_type = 'SponsorshipReleased' and data->>'family_id' = $1::text"
        " order by (data->>'amount_rp')::bigint desc",
        str(family),
    )
    assert [(r["reason"], r["released_on"], r["rp"]) for r in rows] == [
        ("no_plan", (LONG_AGO + timedelta(days=60)).isoformat(), 1_000_000),
        ("family_exited", (TODAY - timedelta(days=5)).isoformat(), 500_000),
    ]
    assert await run_step(funding.app) == 0  # nothing left for the clock
    statement = await funding.statement(donor)
    assert (statement["allocated_rp"], statement["available_rp"]) == (0, 5_000_000)


async def test_money_whose_hold_ended_before_the_plan_started_pays_nothing_and_goes_back_no_plan(
    funding: Funding,
) -> None:
    """Rp1,000,000 waited its 60 days in vain; Rp2,700,000 given later opened the plan. The plan's
    deliveries are paid from the money it took, and its closing gives the first back as the clock
    would have, no_plan on its hold's end, whichever came first."""
    up = funding.upstream
    donor = await donor_since(funding, LONG_AGO - timedelta(days=5), 5_000_000)
    family = await up.enrol(on=LONG_AGO)
    await up.settled(funding.app)
    await sponsored(funding, donor, family, 1_000_000, LONG_AGO)  # its hold ends LONG_AGO + 60
    started = LONG_AGO + timedelta(days=70)
    await sponsored(funding, donor, family, 2_700_000, started)
    opened = plan_opened(uuid4(), family, started, kelurahan=MEDONO)
    up.plans[opened.plan_id] = family
    await up.send(opened)
    await up.send(up.delivered(opened.plan_id, 150_000, days=10))
    await up.send(up.closed(opened.plan_id, outcome="exited"))
    await up.settled(funding.app)
    statement = await funding.statement(donor)
    early, late = sorted(
        (s for s in statement["sponsorships"] if s["family_id"] == str(family)), key=lambda s: s["amount_rp"]
    )
    assert (early["drawn_rp"], early["released_reason"]) == (0, "no_plan")
    assert (late["drawn_rp"], late["released_reason"]) == (150_000, "plan_closed")
    released_on = await funding.pool.fetchval(
        "select data->>'released_on' from events where event_type = 'SponsorshipReleased' and stream_id = $1",
        UUID(early["sponsorship_id"]),
    )
    assert released_on == (LONG_AGO + timedelta(days=60)).isoformat()


async def test_the_money_held_must_reach_the_familys_own_minimum_from_its_plan_until(funding: Funding) -> None:
    """GENTING_PLAN_UNTIL_CHILD_MONTHS: a family the registry gave a plan_until needs its days from
    enrolment to that date at the daily minimum; the fixed days' minimum held keeps no money
    waiting for it, while a family with a plan_until sooner than the fixed days needs less."""
    up = funding.upstream
    donor = await donor_since(funding, LONG_AGO - timedelta(days=5), 10_000_000)
    longer = await up.enrol(on=LONG_AGO, plan_until=LONG_AGO + timedelta(days=400))
    shorter = await up.enrol(on=LONG_AGO, plan_until=LONG_AGO + timedelta(days=90))
    await up.settled(funding.app)
    await sponsored(funding, donor, longer, 2_700_000, LONG_AGO)  # the fixed minimum: not its own (Rp6,000,000)
    await sponsored(funding, donor, shorter, 1_350_000, LONG_AGO)  # 90 days x Rp15,000: its own
    await up.settled(funding.app)

    assert await run_step(funding.app) == 2_700_000
    statement = await funding.statement(donor)
    assert line(statement, longer)["released_reason"] == "no_plan"
    assert line(statement, shorter)["released_reason"] is None
