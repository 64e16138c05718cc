"""The ledger fed by registry and aid facts over real JetStream: deliveries drawn oldest sponsorship
first, the rest released once, whatever the bus redelivers, duplicates or reorders."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from funding_support import ADMIN, Funding

from services.funding.replay import FAMILY_AID_TABLES, rebuild
from services.funding.views import VIEW_TABLES
from shared.testing import TEST_JWKS_FILE

pytestmark = pytest.mark.integration


async def sponsored_family(funding: Funding, *amounts: int) -> tuple[UUID, list[UUID], list[UUID]]:
    """An enrolled family sponsored by one new donor per amount (each donor received exactly that)."""
    family = await funding.upstream.enrol()
    await funding.upstream.settled(funding.app)
    donors, sponsorships = [], []
    for amount in amounts:
        donor = await funding.donor(received_rp=amount)
        response = await funding.sponsor(donor, family, amount)
        assert response.status_code == 201, response.text
        donors.append(donor)
        sponsorships.append(UUID(response.json()["sponsorship_id"]))
    return family, donors, sponsorships


def by_id(family_funding: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["sponsorship_id"]: s for s in family_funding["sponsorships"]}


def assert_adds_up(statement: dict[str, Any]) -> None:
    # allocated_rp is net of releases.
    assert statement["received_rp"] == statement["available_rp"] + statement["allocated_rp"]
    assert statement["allocated_rp"] == statement["drawn_rp"] + statement["remaining_rp"]
    assert min(v for k, v in statement.items() if k.endswith("_rp")) >= 0


class TestDrawing:
    async def test_deliveries_are_paid_oldest_sponsorship_first_and_never_more_than_remains(
        self, funding: Funding
    ) -> None:
        family, donors, (first, second) = await sponsored_family(funding, 1_000_000, 2_000_000)
        up = funding.upstream
        plan = (await up.send(up.opened(family))).stream_id
        await up.send(up.delivered(plan, 700_000))
        await up.send(up.delivered(plan, 700_000))  # 300,000 from the first, 400,000 from the second
        await up.settled(funding.app)
        funded = await funding.family(family)
        assert (funded["sponsored_rp"], funded["drawn_rp"], funded["remaining_rp"]) == (3_000_000, 1_400_000, 1_600_000)
        assert by_id(funded)[str(first)]["drawn_rp"] == 1_000_000
        assert by_id(funded)[str(second)]["drawn_rp"] == 400_000
        for donor in donors:
            assert_adds_up(await funding.statement(donor))
        assert (await funding.statement(donors[1]))["drawn_rp"] == 400_000

    async def test_a_delivery_redelivered_or_republished_is_drawn_once(self, funding: Funding) -> None:
        family, [donor], _ = await sponsored_family(funding, 2_700_000)
        up = funding.upstream
        plan = (await up.send(up.opened(family))).stream_id
        delivered = up.envelope(up.delivered(plan, 105_000))
        assert await up.publish(delivered)
        assert not await up.publish(delivered)  # the same Nats-Msg-Id: JetStream drops it
        assert await up.publish(delivered, msg_id="republished-after-the-window")  # the gate drops it
        # Aid's same delivery recorded again under a later version (a bug upstream): paid once.
        same_delivery = up.delivered(plan, 105_000, delivery_id=delivered.data["delivery_id"])
        await up.send(same_delivery)
        await up.settled(funding.app)
        statement = await funding.statement(donor)
        assert statement["drawn_rp"] == 105_000
        assert funding.app.state.ledger.duplicate_deliveries == 1
        assert await funding.count("funding_deliveries") == 1

    async def test_events_published_out_of_order_are_applied_in_version_order(self, funding: Funding) -> None:
        family, [donor], _ = await sponsored_family(funding, 2_700_000)
        up = funding.upstream
        opened = up.envelope(up.opened(family))
        plan = opened.stream_id
        delivered = up.envelope(up.delivered(plan, 2_000_000))
        closed = up.envelope(up.closed(plan))
        for envelope in (closed, delivered, opened):  # v3, v2, v1: the gate holds them until v1 is in
            await up.publish(envelope)
        await up.settled(funding.app)
        statement = await funding.statement(donor)
        assert (statement["drawn_rp"], statement["released_rp"], statement["available_rp"]) == (
            2_000_000,
            700_000,
            700_000,
        )
        assert_adds_up(statement)

    async def test_a_delivery_beyond_what_funding_holds_draws_what_it_can_and_records_the_shortfall(
        self, funding: Funding
    ) -> None:
        family, [donor], _ = await sponsored_family(funding, 500_000)
        up = funding.upstream
        plan = (await up.send(up.opened(family))).stream_id
        await up.send(up.delivered(plan, 800_000))
        await up.settled(funding.app)
        assert (await funding.statement(donor))["drawn_rp"] == 500_000
        row = await funding.pool.fetchrow("select drawn_rp, shortfall_rp from funding_deliveries")
        assert (row["drawn_rp"], row["shortfall_rp"]) == (500_000, 300_000)
        metrics = (await funding.http.get("/metrics")).text
        assert "genting_funding_delivery_shortfall_rp_total 300000.0" in metrics
        # A published fact, not only a row and a counter: reporting's unfunded_rp comes from it.
        [unfunded] = await funding.pool.fetch(
            "select e.data, o.subject from events e join outbox o using (event_id)"
            " where e.event_type = 'DeliveryUnfunded'"
        )
        data = json.loads(unfunded["data"]) if isinstance(unfunded["data"], str) else unfunded["data"]
        assert (data["value_rp"], data["drawn_rp"], data["unfunded_rp"]) == (800_000, 500_000, 300_000)
        assert unfunded["subject"].endswith(f".{data['delivery_id']}.DeliveryUnfunded")


class TestReleasing:
    async def test_a_closed_plan_releases_each_sponsorships_rest_to_its_donor(self, funding: Funding) -> None:
        family, donors, (first, second) = await sponsored_family(funding, 1_000_000, 2_000_000)
        up = funding.upstream
        plan = (await up.send(up.opened(family))).stream_id
        await up.send(up.delivered(plan, 1_200_000))
        await up.send(up.closed(plan))
        await up.settled(funding.app)
        funded = await funding.family(family)
        assert by_id(funded)[str(first)]["released_rp"] == 0  # fully drawn: nothing to release
        assert by_id(funded)[str(second)]["released_rp"] == 1_800_000
        assert by_id(funded)[str(second)]["released_reason"] == "plan_closed"
        second_donor = await funding.statement(donors[1])
        assert (second_donor["available_rp"], second_donor["remaining_rp"]) == (1_800_000, 0)
        assert_adds_up(second_donor)
        # Released money sponsors another family.
        other = await funding.upstream.enrol()
        await up.settled(funding.app)
        assert (await funding.sponsor(donors[1], other, 1_800_000)).status_code == 201

    async def test_an_exit_without_a_plan_releases_everything_to_the_donors(self, funding: Funding) -> None:
        family, [donor], [sponsorship] = await sponsored_family(funding, 2_700_000)
        await funding.upstream.send(funding.upstream.exited(family))
        await funding.upstream.settled(funding.app)
        funded = await funding.family(family)
        assert funded["status"] == "exited" and funded["remaining_rp"] == 0
        assert by_id(funded)[str(sponsorship)]["released_reason"] == "family_exited"
        assert (await funding.statement(donor))["available_rp"] == 2_700_000

    async def test_an_exit_with_a_plan_open_waits_for_the_plan_to_close_and_releases_once(
        self, funding: Funding
    ) -> None:
        family, [donor], [sponsorship] = await sponsored_family(funding, 2_700_000)
        up = funding.upstream
        plan = (await up.send(up.opened(family))).stream_id
        await up.send(up.exited(family))
        await up.settled(funding.app)
        assert (await funding.family(family))["remaining_rp"] == 2_700_000  # nothing released yet
        await up.send(up.delivered(plan, 210_000))  # the last week before the exit, handed in late
        await up.send(up.closed(plan, outcome="exited"))
        await up.settled(funding.app)
        funded = await funding.family(family)
        assert (funded["drawn_rp"], funded["released_rp"], funded["remaining_rp"]) == (210_000, 2_490_000, 0)
        assert by_id(funded)[str(sponsorship)]["released_reason"] == "plan_closed"
        released = await funding.pool.fetchval(
            "select count(*) from events where event_type in ('SponsorshipReleased', 'FundsReturned')"
        )
        assert released == 2  # one release, and the donor's side of it
        assert_adds_up(await funding.statement(donor))


async def test_the_rebuilt_read_model_equals_the_live_one(
    funding: Funding, database_url: str, js_clean: str, tmp_path: Path
) -> None:
    family, donors, _ = await sponsored_family(funding, 1_000_000, 2_000_000)
    await funding.donor("individual", received_rp=50_000)
    up = funding.upstream
    plan = (await up.send(up.opened(family))).stream_id
    await up.send(up.delivered(plan, 1_500_000))
    await up.send(up.closed(plan))
    await up.settled(funding.app)

    async def snapshot() -> dict[str, list[tuple[Any, ...]]]:
        tables = (*VIEW_TABLES, *FAMILY_AID_TABLES)
        return {t: [tuple(r) for r in await funding.pool.fetch(f"select * from {t} order by 1")] for t in tables}

    live = await snapshot()
    assert len(live["donors_view"]) == 3 and len(live["sponsorships_view"]) == 2
    assert len(live["family_aid_plans"]) == 1 and len(live["family_aid_deliveries"]) == 1
    await funding.pool.execute("update donors_view set received_rp = 0")  # damage it: replay must repair it
    # A deployment upgrading from before the families view has these empty: replay must fill them.
    await funding.pool.execute("delete from family_aid_deliveries; delete from family_aid_plans")
    events = await rebuild(funding.pool, up.js)
    assert events == await funding.count("events")
    assert await snapshot() == live
    families_before = (await funding.http.get(f"/donors/{donors[0]}/families", headers=ADMIN)).json()

    # The same through the command line an operator runs.
    await funding.pool.execute("truncate sponsorships_view, family_aid_plans, family_aid_deliveries")
    genting = Path(sys.executable).with_name("genting")
    proc = await asyncio.create_subprocess_exec(
        str(genting),
        "replay",
        "funding",
        "--data-dir",
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={
            **os.environ,
            "GENTING_DATABASE_URL": database_url,
            "GENTING_NATS_URL": js_clean,
            "GENTING_JWKS_FILE": TEST_JWKS_FILE,
        },
    )
    output, _ = await proc.communicate()
    assert proc.returncode == 0, output.decode()
    assert b"rebuilt" in output
    assert await snapshot() == live
    families = (await funding.http.get(f"/donors/{donors[0]}/families", headers=ADMIN)).json()
    assert families == families_before
    assert families["items"][0]["plan_status"] == "completed"  # a donor sees the plan again
