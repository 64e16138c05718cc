"""The process manager on real JetStream and PostgreSQL: registry and funding events open,
fund and close plans, exactly once, whatever the order, the redeliveries or the race."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from aid_support import (
    KAUMAN,
    MEDONO,
    MINIMUM,
    TODAY,
    Aid,
    Upstream,
    aid_events,
    token,
    wait_events,
    wait_plan,
)
from nats.js.errors import NotFoundError

from services.aid.domain import plan_id_for
from shared.contracts.registry import FamilyEligibilityChanged
from shared.testing import wait_until

pytestmark = pytest.mark.integration


async def plan_events(aid: Aid, family_id: UUID) -> list[str]:
    """The event types on the family's plan stream, in aid's own store."""
    rows = await aid.pool.fetch(
        "select event_type from events where stream_id = $1 order by stream_version", plan_id_for(family_id)
    )
    return [r["event_type"] for r in rows]


async def drained(aid: Aid) -> bool:
    """Both consumers have applied everything published so far."""
    for name, stream in (("aid-registry", "GENTING_REGISTRY"), ("aid-funding", "GENTING_FUNDING")):
        try:
            info = await aid.js.consumer_info(stream, name)
        except NotFoundError:  # the runner has not set its consumer up yet
            return False
        last = (await aid.js.stream_info(stream)).state.last_seq
        if info.num_pending or info.num_ack_pending or info.delivered.stream_seq < last:
            return False
    return True


class TestOpening:
    async def test_a_plan_opens_once_the_enrolled_familys_sponsorships_reach_the_minimum(self, aid: Aid) -> None:
        family = uuid4()
        await aid.upstream.enrol(family, on=TODAY - timedelta(days=3))
        await aid.upstream.sponsor(family, 1_500_000, start=TODAY - timedelta(days=2))
        await wait_until(lambda: drained(aid), message="both consumers drained")
        assert (await aid.http.get("/plans", params={"family_id": str(family)}, headers=token("admin"))).json()[
            "items"
        ] == []

        await aid.upstream.sponsor(family, 1_200_000, start=TODAY)
        plan = await wait_plan(aid.http, family)
        assert plan["plan_id"] == str(plan_id_for(family))
        assert plan["status"] == "active" and plan["budget_rp"] == MINIMUM
        # The later of the enrolment and the day the sponsorships reach the minimum.
        assert plan["start_date"] == TODAY.isoformat()
        assert plan["end_date"] == (TODAY + timedelta(days=179)).isoformat()
        assert (plan["days_covered"], plan["delivered_rp"], plan["gaps"]) == (0, 0, [])

        [opened] = await wait_events(aid.js, "AidPlanOpened")
        assert opened["subject"] == f"genting.aid.plan.{plan['plan_id']}.AidPlanOpened"
        assert opened["msg_id"] == opened["event_id"]
        assert opened["data"]["kelurahan_code"] == MEDONO and opened["data"]["daily_minimum_rp"] == 15_000

    async def test_a_sponsorship_before_the_enrolment_opens_the_plan_when_the_enrolment_comes(self, aid: Aid) -> None:
        family = uuid4()
        await aid.upstream.sponsor(family, MINIMUM, start=TODAY - timedelta(days=10))
        await wait_until(lambda: drained(aid), message="funding drained")
        await aid.upstream.enrol(family, KAUMAN, on=TODAY - timedelta(days=4))
        plan = await wait_plan(aid.http, family)
        assert plan["start_date"] == (TODAY - timedelta(days=4)).isoformat()
        assert plan["kelurahan_code"] == KAUMAN

    async def test_an_exited_family_gets_no_plan_however_much_it_is_sponsored(self, aid: Aid) -> None:
        family = uuid4()
        await aid.upstream.enrol(family)
        await aid.upstream.exit(family)
        # Two streams, two consumers: nothing orders a sponsorship after an exit published
        # before it (the plan would open, then close as exited). Here the exit is known first.
        await wait_until(lambda: drained(aid), message="registry drained")
        await aid.upstream.sponsor(family, 2 * MINIMUM)
        await wait_until(lambda: drained(aid), message="both consumers drained")
        assert await plan_events(aid, family) == []

    async def test_a_family_no_longer_eligible_gets_no_new_plan_and_gets_one_once_eligible_again(
        self, aid: Aid
    ) -> None:
        family = uuid4()
        await aid.upstream.enrol(family, on=TODAY - timedelta(days=30))
        ineligible = FamilyEligibilityChanged(
            family_id=family, kelurahan_code=MEDONO, eligible=False, effective_on=TODAY - timedelta(days=20)
        )
        await aid.upstream.emit(ineligible)
        await wait_until(lambda: drained(aid), message="registry drained")
        await aid.upstream.sponsor(family, 2 * MINIMUM)
        await wait_until(lambda: drained(aid), message="both consumers drained")
        assert await plan_events(aid, family) == []
        # A newborn: eligible again, and the money already held opens the plan.
        await aid.upstream.emit(ineligible.model_copy(update={"eligible": True, "effective_on": TODAY}))
        await wait_plan(aid.http, family)

    async def test_a_running_plan_runs_on_when_the_family_stops_being_eligible(self, aid: Aid) -> None:
        family = uuid4()
        await aid.upstream.enrol(family)
        await aid.upstream.sponsor(family)
        await wait_plan(aid.http, family)
        changed = FamilyEligibilityChanged(family_id=family, kelurahan_code=MEDONO, eligible=False, effective_on=TODAY)
        await aid.upstream.emit(changed)
        await aid.upstream.sponsor(family, 800_000)
        plan = await wait_plan(aid.http, family, budget_rp=MINIMUM + 800_000)
        assert plan["status"] == "active"


class TestBudgetAndExit:
    async def test_a_later_sponsorship_raises_the_budget(self, aid: Aid) -> None:
        family = uuid4()
        await aid.upstream.enrol(family)
        await aid.upstream.sponsor(family)
        await wait_plan(aid.http, family)
        await aid.upstream.sponsor(family, 800_000)
        plan = await wait_plan(aid.http, family, budget_rp=MINIMUM + 800_000)
        [raised] = await wait_events(aid.js, "AidPlanBudgetIncreased")
        assert raised["data"]["increase_rp"] == 800_000 and raised["data"]["plan_id"] == plan["plan_id"]

    async def test_an_exit_closes_the_plan_with_the_unspent_budget_for_funding_to_release(self, aid: Aid) -> None:
        family = uuid4()
        await aid.upstream.enrol(family)
        await aid.upstream.sponsor(family)
        plan = await wait_plan(aid.http, family)
        response = await aid.http.post(
            f"/plans/{plan['plan_id']}/deliveries",
            json={
                "period_from": TODAY.isoformat(),
                "period_to": TODAY.isoformat(),
                "value_rp": 20_000,
                "items": [{"name": "susu", "quantity": 1, "unit": "liter"}],
                "delivered_on": TODAY.isoformat(),
            },
            headers=token("kader", MEDONO),
        )
        assert response.status_code == 201, response.text
        await aid.upstream.exit(family, on=TODAY + timedelta(days=1))
        plan = await wait_plan(aid.http, family, status="closed")
        assert (plan["outcome"], plan["unspent_rp"]) == ("exited", MINIMUM - 20_000)
        [closed] = await wait_events(aid.js, "AidPlanClosed")
        assert closed["data"]["outcome"] == "exited" and closed["data"]["unspent_rp"] == MINIMUM - 20_000
        assert closed["data"]["closed_on"] == (TODAY + timedelta(days=1)).isoformat()


class TestExactlyOnce:
    async def test_a_republished_sponsorship_and_funding_events_aid_ignores_change_nothing(self, aid: Aid) -> None:
        family = uuid4()
        await aid.upstream.enrol(family)
        sponsorship = aid.upstream.sponsorship(family, MINIMUM + 300_000)
        env = aid.upstream.envelope(sponsorship)
        await aid.upstream.publish(env, sponsorship.subject())
        await wait_plan(aid.http, family)
        # The same event again under a new message id (so JetStream's duplicate window lets it
        # through), then funding's own SponsorshipDrawn on the same stream.
        await aid.upstream.publish(env, sponsorship.subject(), msg_id=str(uuid4()))
        await aid.upstream.draw(sponsorship, 105_000, plan_id_for(family))
        await wait_until(lambda: drained(aid), message="both consumers drained")
        assert await plan_events(aid, family) == ["AidPlanOpened"]
        plan = await wait_plan(aid.http, family)
        assert plan["budget_rp"] == MINIMUM + 300_000

    async def test_enrolment_and_sponsorship_arriving_together_open_each_plan_exactly_once(self, aid: Aid) -> None:
        families = [uuid4() for _ in range(24)]

        async def both(family: UUID) -> None:
            await asyncio.gather(aid.upstream.enrol(family), aid.upstream.sponsor(family))

        await asyncio.gather(*(both(f) for f in families))
        await wait_events(aid.js, "AidPlanOpened", count=len(families), timeout=20)
        await wait_until(lambda: drained(aid), message="both consumers drained")
        for family in families:
            assert await plan_events(aid, family) == ["AidPlanOpened"]
        opened = [e for e in await aid_events(aid.js) if e["event_type"] == "AidPlanOpened"]
        assert sorted(e["data"]["family_id"] for e in opened) == sorted(str(f) for f in families)


@pytest.mark.parametrize("known", [False, True], ids=["new-family", "family-seen-before"])
@pytest.mark.parametrize("first", ["enrolment", "sponsorship"])
async def test_whichever_reaction_commits_second_sees_both_facts_and_opens_the_plan(
    aid: Aid, first: str, known: bool
) -> None:
    """Two transactions, interleaved by hand: the first holds the family's row; the second waits
    for it, then sees the first's fact. Without the lock, each would miss the other's fact and
    no plan would ever open. When aid already knows the family (an earlier, smaller sponsorship),
    only `select ... for update` makes the second wait: the insert finds the row there."""
    registry, funding = aid.app.state.runners  # their projections: the reactions
    family = uuid4()
    upstream = Upstream(aid.js)
    enrolment = [upstream.envelope(e) for e in upstream.enrolment(family)][-1]
    amount = MINIMUM
    if known:
        async with aid.pool.acquire() as conn, conn.transaction():
            await funding.projection.apply(conn, upstream.envelope(upstream.sponsorship(family, 1_500_000)))
        amount = MINIMUM - 1_500_000
    sponsorship = upstream.envelope(upstream.sponsorship(family, amount))
    steps = {"enrolment": (registry.projection, enrolment), "sponsorship": (funding.projection, sponsorship)}
    (p1, e1), (p2, e2) = steps[first], steps["sponsorship" if first == "enrolment" else "enrolment"]

    async with aid.pool.acquire() as c1, aid.pool.acquire() as c2:
        t1 = c1.transaction()
        await t1.start()
        await p1.apply(c1, e1)
        t2 = c2.transaction()
        await t2.start()
        second = asyncio.create_task(p2.apply(c2, e2))
        blocked_pid = c2.get_server_pid()

        async def waiting() -> bool:
            return bool(
                await aid.pool.fetchval(
                    "select wait_event_type = 'Lock' from pg_stat_activity where pid = $1", blocked_pid
                )
            )

        await wait_until(waiting, message="the second reaction waits for the family's row")
        assert await plan_events(aid, family) == []
        await t1.commit()
        await second
        await t2.commit()
    assert await plan_events(aid, family) == ["AidPlanOpened"]
