"""Home visits on real JetStream and PostgreSQL: registry GrowthMeasured events flag a child who
gained no weight in two months, once, under redelivery and replay; staff list and record visits."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from aid_support import KAUMAN, MEDONO, TODAY, Aid, aid_events, token, wait_events, wait_plan
from nats.js.errors import NotFoundError

from services.aid.app import repositories
from services.aid.domain import flag_id_for
from services.aid.replay import rebuild, reset_policies
from shared.messaging import Envelope
from shared.testing import wait_until

pytestmark = pytest.mark.integration

KADER = token("kader", MEDONO)
# The posyandu's monthly weighings: two months before TODAY (2 March), and the month between.
EARLIER = date(2026, 1, 2)
MIDDLE = date(2026, 2, 2)


async def registry_drained(aid: Aid) -> bool:
    try:
        info = await aid.js.consumer_info("GENTING_REGISTRY", "aid-registry")
    except NotFoundError:
        return False
    last = (await aid.js.stream_info("GENTING_REGISTRY")).state.last_seq
    return not (info.num_pending or info.num_ack_pending or info.delivered.stream_seq < last)


async def visits(aid: Aid, headers: dict[str, str] = KADER, **params: str) -> Any:
    return await aid.http.get("/home-visits", params={"kelurahan_code": MEDONO, **params}, headers=headers)


async def flagged_family(aid: Aid, *, plan: bool = True) -> tuple[UUID, UUID, dict[str, Any] | None, Envelope]:
    """An enrolled family (with a plan, unless told) whose child weighed 7.5 kg two months ago,
    7.5 kg last month and 7.4 kg today (two monthly weighings without gain); returns the family,
    the child, the plan and the envelope of today's weighing."""
    family, child = uuid4(), uuid4()
    await aid.upstream.enrol(family, on=EARLIER)
    opened = None
    if plan:
        await aid.upstream.sponsor(family, start=EARLIER)
        opened = await wait_plan(aid.http, family)
    await aid.upstream.measure(family, child, EARLIER, 7.5)
    await aid.upstream.measure(family, child, MIDDLE, 7.5)
    return family, child, opened, await aid.upstream.measure(family, child, TODAY, 7.4)


async def test_a_child_who_gained_no_weight_is_flagged_once_even_when_the_event_is_redelivered(aid: Aid) -> None:
    family, child, plan, today = await flagged_family(aid)
    assert plan is not None
    [flagged] = await wait_events(aid.js, "HomeVisitFlagged")
    flag_id = flag_id_for(child, TODAY)
    assert flagged["subject"] == f"genting.aid.homevisit.{flag_id}.HomeVisitFlagged"
    assert flagged["data"] == {
        "flag_id": str(flag_id),
        "plan_id": plan["plan_id"],
        "family_id": str(family),
        "kelurahan_code": MEDONO,
        "member_id": str(child),
        "flagged_on": TODAY.isoformat(),
        "since": EARLIER.isoformat(),
        "weight_then_kg": 7.5,
        "weight_now_kg": 7.4,
    }

    # The registry's relay publishes today's weighing again (under a new Nats-Msg-Id, so JetStream
    # does not drop it); and the child is weighed a second time the same day.
    await aid.upstream.publish(today, f"genting.registry.family.{family}.GrowthMeasured", msg_id=str(uuid4()))
    await aid.upstream.measure(family, child, TODAY, 7.3)
    await wait_until(lambda: registry_drained(aid), message="registry drained")

    [runner] = [r for r in aid.app.state.runners if r.projection.name == "aid-registry"]
    assert runner.stats.duplicates == 1  # the gate held the republished version back
    assert len([e for e in await aid_events(aid.js) if e["event_type"] == "HomeVisitFlagged"]) == 1
    body = (await visits(aid, status="open")).json()
    assert body["total"] == 1
    assert body["items"][0] == {
        "flag_id": str(flag_id),
        "plan_id": plan["plan_id"],
        "family_id": str(family),
        "member_id": str(child),
        "kelurahan_code": MEDONO,
        "flagged_on": TODAY.isoformat(),
        "since": EARLIER.isoformat(),
        "weight_then_kg": 7.5,
        "weight_now_kg": 7.4,
        "status": "open",
        "visited_on": None,
        "note": None,
        "visited_by": None,
    }
    assert await aid.pool.fetchval("select count(*) from aid_growth where member_id = $1", child) == 4


async def test_a_visit_is_recorded_once_and_its_note_stays_in_aid(aid: Aid) -> None:
    _, child, _, _ = await flagged_family(aid)
    await wait_events(aid.js, "HomeVisitFlagged")
    flag_id = flag_id_for(child, TODAY)
    body = {"visited_on": TODAY.isoformat(), "note": "ibu kurang ASI; rujuk ke puskesmas"}

    elsewhere = await aid.http.post(f"/home-visits/{flag_id}/visit", json=body, headers=token("kader", KAUMAN))
    assert elsewhere.status_code == 403, elsewhere.text
    unknown = await aid.http.post(f"/home-visits/{uuid4()}/visit", json=body, headers=KADER)
    assert unknown.status_code == 404, unknown.text
    tomorrow = {"visited_on": (TODAY + timedelta(days=1)).isoformat()}
    assert (await aid.http.post(f"/home-visits/{flag_id}/visit", json=tomorrow, headers=KADER)).status_code == 422

    done = await aid.http.post(f"/home-visits/{flag_id}/visit", json=body, headers=KADER)
    assert done.status_code == 200, done.text
    assert done.json() == {"flag_id": str(flag_id), "status": "visited", "visited_on": TODAY.isoformat()}
    assert (await aid.http.post(f"/home-visits/{flag_id}/visit", json=body, headers=KADER)).status_code == 409

    [event] = await wait_events(aid.js, "HomeVisitDone")
    assert event["data"]["visited_on"] == TODAY.isoformat() and event["data"]["member_id"] == str(child)
    assert "puskesmas" not in str(event) and "kader-test" not in str(event)
    assert (await visits(aid, status="open")).json()["items"] == []
    [visited] = (await visits(aid, headers=token("lurah", MEDONO), status="visited")).json()["items"]
    assert (visited["note"], visited["visited_by"]) == (body["note"], "kader-test")


async def test_only_admin_and_that_kelurahans_staff_list_home_visits(aid: Aid) -> None:
    await flagged_family(aid)
    await wait_events(aid.js, "HomeVisitFlagged")
    assert (await visits(aid, headers=token("admin"))).json()["total"] == 1
    assert (await aid.http.get("/home-visits", headers=KADER)).json()["total"] == 1  # their own by default
    assert (await visits(aid, headers=token("lurah", KAUMAN))).status_code == 403
    assert (await visits(aid, headers=token("auditor"))).status_code == 403
    assert (await aid.http.get("/home-visits", headers=token("kader", KAUMAN))).json()["total"] == 0


async def test_an_enrolled_family_without_a_plan_is_flagged_and_a_registered_one_is_not(aid: Aid) -> None:
    family, child, _, _ = await flagged_family(aid, plan=False)
    [flagged] = await wait_events(aid.js, "HomeVisitFlagged")
    assert flagged["data"]["plan_id"] is None and flagged["data"]["family_id"] == str(family)

    registered, other = uuid4(), uuid4()
    await aid.upstream.emit(aid.upstream.enrolment(registered)[0])  # registered, never enrolled
    await aid.upstream.measure(registered, other, EARLIER, 7.5)
    await aid.upstream.measure(registered, other, MIDDLE, 7.2)
    await aid.upstream.measure(registered, other, TODAY, 7.0)
    await wait_until(lambda: registry_drained(aid), message="registry drained")
    assert [e["data"]["member_id"] for e in await aid_events(aid.js) if e["event_type"] == "HomeVisitFlagged"] == [
        str(child)
    ]


async def test_a_late_record_of_an_earlier_weighing_flags_the_later_one(aid: Aid) -> None:
    family, child = uuid4(), uuid4()
    await aid.upstream.enrol(family, on=EARLIER)
    await aid.upstream.measure(family, child, TODAY, 8.0)
    await aid.upstream.measure(family, child, MIDDLE, 8.1)  # two months in a row are not known yet
    await wait_until(lambda: registry_drained(aid), message="registry drained")
    assert [e for e in await aid_events(aid.js) if e["event_type"] == "HomeVisitFlagged"] == []
    await aid.upstream.measure(family, child, EARLIER, 8.2)  # the kader's paper record, entered late
    [flagged] = await wait_events(aid.js, "HomeVisitFlagged")
    assert (flagged["data"]["flagged_on"], flagged["data"]["since"]) == (TODAY.isoformat(), EARLIER.isoformat())


async def snapshot(pool: asyncpg.Pool) -> dict[str, list[dict[str, Any]]]:
    return {
        t: [dict(r) for r in await pool.fetch(f"select * from {t} order by {key}")]
        for t, key in (("home_visits_view", "flag_id"), ("aid_growth", "measurement_id"))
    }


async def test_replay_reproduces_the_flags_and_records_nothing_new(aid: Aid) -> None:
    _, child, _, _ = await flagged_family(aid)
    await flagged_family(aid, plan=False)
    await wait_events(aid.js, "HomeVisitFlagged", count=2)
    visit = {"visited_on": TODAY.isoformat(), "note": "berat turun"}
    assert (
        await aid.http.post(f"/home-visits/{flag_id_for(child, TODAY)}/visit", json=visit, headers=KADER)
    ).status_code == 200
    await wait_until(lambda: registry_drained(aid), message="registry drained")
    live = await snapshot(aid.pool)
    assert [len(live[t]) for t in live] == [2, 6]
    events = await aid.pool.fetchval("select count(*) from events")

    assert (await rebuild(aid.pool, repositories(aid.app.state.settings)))[2] == 2
    assert await snapshot(aid.pool) == live

    runners = aid.app.state.runners
    [registry_runner] = [r for r in runners if r.projection.name == "aid-registry"]
    applied = registry_runner.stats.applied
    await reset_policies(aid.pool, aid.js)  # registry consumed again from the start

    async def replayed() -> bool:
        return await registry_drained(aid) and registry_runner.stats.applied >= 2 * applied

    await wait_until(replayed, 20, message="registry consumed again")
    assert await snapshot(aid.pool) == live
    assert await aid.pool.fetchval("select count(*) from events") == events


async def test_the_asyncapi_document_lists_the_home_visit_events(aid: Aid) -> None:
    text = str((await aid.http.get("/asyncapi")).json())
    for event_type in ("HomeVisitFlagged", "HomeVisitDone"):
        assert f"genting.aid.homevisit.{{flag_id}}.{event_type}" in text
