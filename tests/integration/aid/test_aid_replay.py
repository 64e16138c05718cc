"""`genting replay aid`: the views rebuilt from aid's event store equal the live ones, and
consuming registry and funding again from the start rebuilds aid's families and records nothing twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from aid_support import MEDONO, MINIMUM, TODAY, Aid, delivery, token, wait_events, wait_plan
from nats.js.errors import NotFoundError

from services.aid import replay
from services.aid.app import repositories
from services.aid.replay import rebuild, reset_policies
from services.aid.views import VIEWS
from shared.testing import TEST_DATA_KEY, TEST_JWKS_FILE, wait_until

pytestmark = pytest.mark.integration

KEYS = {
    "plans_view": "plan_id",
    "deliveries_view": "delivery_id",
    "interventions_view": "intervention_id",
    "education_sessions_view": "session_id",
    "home_visits_view": "flag_id",
    "aid_families": "family_id",
    "aid_sponsorships": "sponsorship_id",
}


async def snapshot(pool: asyncpg.Pool, tables: tuple[str, ...]) -> dict[str, list[dict[str, Any]]]:
    return {t: [dict(r) for r in await pool.fetch(f"select * from {t} order by {KEYS[t]}")] for t in tables}


async def a_programme(aid: Aid) -> None:
    """Three families: one with a gap, a confirmation, an intervention and a session; one that
    completes (fortnightly deliveries, the clock moving with them); one that exits."""
    kader, lurah = token("kader", MEDONO), token("lurah", MEDONO)
    families = [uuid4() for _ in range(3)]
    for family in families:
        await aid.upstream.enrol(family)
        await aid.upstream.sponsor(family, MINIMUM)
    await aid.upstream.sponsor(families[1], 500_000)
    plans = [await wait_plan(aid.http, f) for f in families]
    await wait_plan(aid.http, families[1], budget_rp=MINIMUM + 500_000)
    one, two, three = (p["plan_id"] for p in plans)
    first = await aid.http.post(f"/plans/{one}/deliveries", json=delivery(TODAY, 7), headers=kader)
    await aid.http.post(
        f"/deliveries/{first.json()['delivery_id']}/confirmation", json={"photo_ref": "proof/one.jpg"}, headers=lurah
    )
    await aid.http.post(
        f"/plans/{one}/interventions",
        headers=kader,
        json={
            "kind": "health_referral",
            "description": "rujukan ke puskesmas",
            "done_on": TODAY.isoformat(),
            "value_rp": 0,
        },
    )
    await aid.http.post(
        "/education-sessions",
        headers=kader,
        json={
            "topic": "breastfeeding",
            "held_on": TODAY.isoformat(),
            "kelurahan_code": MEDONO,
            "family_ids": [str(f) for f in families],
            "facilitator": "Bidan Ratna",
        },
    )
    aid.clock.advance(10)  # the second delivery of plan one, ten days on: days 8-10 are a gap
    later = delivery(aid.clock.today, 7, delivered_on=aid.clock.today)
    assert (await aid.http.post(f"/plans/{one}/deliveries", json=later, headers=kader)).status_code == 201
    for start in range(0, 180, 14):  # plan two, a fortnight at a time, each handed over on its first day
        aid.clock.today = TODAY + timedelta(days=start)
        body = delivery(aid.clock.today, min(14, 180 - start), delivered_on=aid.clock.today)
        done = await aid.http.post(f"/plans/{two}/deliveries", json=body, headers=kader)
        assert done.status_code == 201, done.text
    assert done.json()["plan_status"] == "completed", done.text
    await aid.upstream.exit(families[2], on=aid.clock.today)
    await wait_plan(aid.http, families[2], status="closed")
    assert three


async def test_the_views_rebuilt_from_the_event_store_equal_the_live_ones(aid: Aid) -> None:
    await a_programme(aid)
    live = await snapshot(aid.pool, VIEWS)
    assert [len(live[t]) for t in VIEWS] == [3, 15, 1, 1, 0]  # 2 + 13 deliveries
    assert await rebuild(aid.pool, repositories(aid.app.state.settings)) == (3, 1, 0)
    assert await snapshot(aid.pool, VIEWS) == live


async def test_consuming_upstream_again_rebuilds_the_families_and_records_nothing_twice(aid: Aid) -> None:
    await a_programme(aid)
    await wait_events(aid.js, "AidPlanClosed", count=2)
    tables = ("aid_families", "aid_sponsorships")
    live = await snapshot(aid.pool, tables)
    events = await aid.pool.fetchval("select count(*) from events")
    runners = aid.app.state.runners
    applied = sum(r.stats.applied for r in runners)

    await reset_policies(aid.pool, aid.js)  # while the service runs, as `genting replay aid` would

    async def replayed() -> bool:
        for runner in runners:
            try:
                info = await aid.js.consumer_info(runner.projection.stream, runner.projection.name)
            except NotFoundError:
                return False
            if info.num_pending or info.num_ack_pending:
                return False
        return bool(sum(r.stats.applied for r in runners) >= 2 * applied)

    await wait_until(replayed, 20, message="registry and funding consumed again")
    assert await snapshot(aid.pool, tables) == live
    assert await aid.pool.fetchval("select count(*) from events") == events


async def test_genting_replay_aid_rebuilds_the_services_own_database(
    aid: Aid, database_url: str, js_clean: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `genting replay aid` runs, with the environment it sets (the stack's database and NATS)."""
    await a_programme(aid)
    live = await snapshot(aid.pool, VIEWS)
    for name, value in (
        ("DATABASE_URL", database_url),
        ("NATS_URL", js_clean),
        ("JWKS_FILE", TEST_JWKS_FILE),
        ("DATA_KEY", TEST_DATA_KEY),
        ("SERVICE", "aid"),
    ):
        monkeypatch.setenv(f"GENTING_{name}", value)
    await replay.main()
    assert await snapshot(aid.pool, VIEWS) == live
