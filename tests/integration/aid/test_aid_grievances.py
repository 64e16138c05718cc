"""Grievances on the running aid service (CONTRACT.md, Aid: Grievances): filed without a token,
followed by its tracking code, answered by the lurah of its kelurahan and no other, escalated by
the clock when still open past its due day, and nothing typed in one ever reaches the bus."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from aid_support import KAUMAN, MEDONO, TODAY, Aid, token
from nats.js.api import DeliverPolicy

from services.aid.domain.grievance import ResolveGrievance
from services.aid.grievances import Grievances, run_step
from services.aid.settings import AidSettings
from shared.auth import Principal
from shared.errors import Forbidden
from shared.eventstore import Metadata

pytestmark = pytest.mark.integration

SECRET_TEXT = "Pak Joko di RT 03 tidak menerima telur minggu ini"
SECRET_CONTACT = "0812-5555-0199"


async def file(aid: Aid, **overrides: Any) -> dict[str, Any]:
    body = {"kelurahan_code": MEDONO, "category": "missed_delivery", "description": SECRET_TEXT} | overrides
    response = await aid.http.post("/grievances", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_an_anonymous_grievance_is_filed_tracked_and_answered_only_by_its_lurah(aid: Aid) -> None:
    filed = await file(aid, contact=SECRET_CONTACT)
    tracked = await aid.http.get(f"/grievances/track/{filed['tracking_code']}")
    assert tracked.status_code == 200
    assert tracked.json() == {
        "status": "open",
        "filed_on": TODAY.isoformat(),
        "due_on": (TODAY + timedelta(days=7)).isoformat(),
        "resolved_on": None,
    }
    assert SECRET_TEXT not in tracked.text

    # The kelurahan's staff read it with its text; another kelurahan's do not see it.
    mine = await aid.http.get("/grievances", headers=token("kader", MEDONO))
    assert mine.status_code == 200 and mine.json()["items"][0]["description"] == SECRET_TEXT
    assert mine.json()["items"][0]["contact"] == SECRET_CONTACT
    theirs = await aid.http.get("/grievances", headers=token("lurah", KAUMAN))
    assert theirs.json()["items"] == []

    url = f"/grievances/{filed['grievance_id']}/resolution"
    answer = {"resolution": "Telur diantar ulang hari ini"}
    assert (await aid.http.post(url, json=answer, headers=token("lurah", KAUMAN))).status_code == 403
    assert (await aid.http.post(url, json=answer, headers=token("kader", MEDONO))).status_code == 403
    resolved = await aid.http.post(url, json=answer, headers=token("lurah", MEDONO))
    assert resolved.status_code == 200, resolved.text
    tracked = await aid.http.get(f"/grievances/track/{filed['tracking_code']}")
    assert tracked.json()["status"] == "resolved" and tracked.json()["resolved_on"] == TODAY.isoformat()
    assert (await aid.http.post(url, json=answer, headers=token("lurah", MEDONO))).status_code == 409

    assert (await aid.http.get("/grievances/track/AAAA-BBBB-CCCC")).status_code == 404
    refused = await aid.http.post(
        "/grievances", json={"kelurahan_code": MEDONO, "category": "weather", "description": "x"}
    )
    assert refused.status_code == 422 and "category" in refused.text


async def test_a_grievance_still_open_past_its_due_day_is_escalated_even_when_entered_late(aid: Aid) -> None:
    late = await file(aid, filed_on=(TODAY - timedelta(days=10)).isoformat(), category="conduct")
    recent = await file(aid, category="food_quality")
    assert await run_step(aid.app) == 1
    assert (await aid.http.get(f"/grievances/track/{late['tracking_code']}")).json()["status"] == "escalated"
    assert (await aid.http.get(f"/grievances/track/{recent['tracking_code']}")).json()["status"] == "open"
    assert await run_step(aid.app) == 0  # once
    escalated_on = await aid.pool.fetchval(
        "select escalated_on from grievances_view where grievance_id = $1::uuid", late["grievance_id"]
    )
    assert escalated_on == TODAY - timedelta(days=2)  # the day after it was due, as it would have been
    aid.clock.advance(8)
    await file(aid, category="other")  # the records reach past the recent one's due day
    assert await run_step(aid.app) == 1


async def test_nothing_typed_in_a_grievance_reaches_the_bus(aid: Aid) -> None:
    filed = await file(aid, contact=SECRET_CONTACT)
    await aid.http.post(
        f"/grievances/{filed['grievance_id']}/resolution",
        json={"resolution": "Pak Joko sudah menerima"},
        headers=token("admin"),
    )
    js = aid.js
    expected = {"GrievanceFiled", "GrievanceResolved"}

    async def read() -> list[dict[str, Any]]:
        sub = await js.subscribe(
            "genting.aid.grievance.>", stream="GENTING_AID", ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
        )
        seen: list[dict[str, Any]] = []
        try:
            while {m["event_type"] for m in seen} != expected:
                seen.append(json.loads((await sub.next_msg(timeout=10)).data))
        finally:
            await sub.unsubscribe()
        return seen

    wire = json.dumps(await read())
    assert filed["grievance_id"] in wire
    for secret in ("Joko", "RT 03", "0812", filed["tracking_code"]):
        assert secret not in wire
    sealed = await aid.pool.fetch("select sealed from events where stream_type = 'grievance'")
    assert all(r["sealed"] is None or b"Joko" not in r["sealed"] for r in sealed)


async def test_filing_without_a_token_is_rate_limited_per_client(aid: Aid) -> None:
    statuses = []
    for _ in range(7):
        response = await aid.http.post(
            "/grievances", json={"kelurahan_code": MEDONO, "category": "other", "description": "uji"}
        )
        statuses.append(response.status_code)
    assert statuses[:5] == [201] * 5 and statuses[-1] == 429
    assert int(response.headers["Retry-After"]) > 0
    with_token = await aid.http.post(
        "/grievances",
        json={"kelurahan_code": MEDONO, "category": "other", "description": "uji"},
        headers=token("kader", MEDONO),
    )
    assert with_token.status_code == 201


async def test_erasing_a_grievance_naming_no_family_makes_its_texts_unreadable_and_keeps_its_counts(
    aid: Aid,
) -> None:
    filed = await file(aid, contact=SECRET_CONTACT)
    other = await file(aid, category="food_quality", description="telur pecah")
    url = f"/grievances/{filed['grievance_id']}/personal-data"
    assert (await aid.http.delete(url, headers=token("lurah", MEDONO))).status_code == 403
    erased = await aid.http.delete(url, headers=token("admin"))
    assert erased.status_code == 200, erased.text
    assert (await aid.http.delete(url, headers=token("admin"))).status_code == 200  # harmless again

    # Answering it afterwards works, but the answer is not kept either: nothing is sealed for it again.
    answered = await aid.http.post(
        f"/grievances/{filed['grievance_id']}/resolution", json={"resolution": "Sudah diantar"}, headers=token("admin")
    )
    assert answered.status_code == 200, answered.text
    listed = {g["grievance_id"]: g for g in (await aid.http.get("/grievances", headers=token("admin"))).json()["items"]}
    gone = listed[filed["grievance_id"]]
    assert (gone["description"], gone["contact"], gone["resolution"]) == (None, None, None)
    assert (gone["category"], gone["status"]) == ("missed_delivery", "resolved")  # the counts stay
    assert listed[other["grievance_id"]]["description"] == "telur pecah"  # the other's texts are untouched
    assert (await aid.http.get(f"/grievances/track/{filed['tracking_code']}")).json()["status"] == "resolved"

    unknown = await aid.http.delete(f"/grievances/{uuid4()}/personal-data", headers=token("admin"))
    assert unknown.status_code == 404
    # One naming a family is sealed under the family's key: it is erased with the family.
    named = await file(aid, family_id=str(uuid4()))
    refused = await aid.http.delete(f"/grievances/{named['grievance_id']}/personal-data", headers=token("admin"))
    assert refused.status_code == 409, refused.text


async def test_the_handler_refuses_a_role_before_it_looks_the_grievance_up(aid: Aid) -> None:
    """Authorization is the handler's (Grievances), whatever path calls it: a kader answering, or a
    lurah erasing, an unknown grievance is refused, not told it is unknown."""
    service: Grievances = aid.app.state.grievances
    unknown = uuid4()
    answer = ResolveGrievance(unknown, "Sudah diantar", TODAY, TODAY, "kader-1")
    stamp = Metadata(occurred_at=datetime.now(UTC))
    async with aid.pool.acquire() as conn:
        with pytest.raises(Forbidden):
            await service.resolve(conn, answer, Principal("kader-1", "kader", MEDONO), stamp)
        with pytest.raises(Forbidden):
            await service.erase(conn, unknown, Principal("lurah-1", "lurah", MEDONO))
    resolution = await aid.http.post(
        f"/grievances/{unknown}/resolution", json={"resolution": "x"}, headers=token("kader", MEDONO)
    )
    assert resolution.status_code == 403
    erasure = await aid.http.delete(f"/grievances/{unknown}/personal-data", headers=token("lurah", MEDONO))
    assert erasure.status_code == 403


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(aid: Aid) -> None:
    body = {"kelurahan_code": MEDONO, "category": "other", "description": "uji"}

    async def post(forwarded_for: str) -> int:
        response = await aid.http.post("/grievances", json=body, headers={"X-Forwarded-For": forwarded_for})
        return response.status_code

    # The test client's peer is 127.0.0.1: by default a trusted proxy (the gateway on the same host).
    assert [await post("203.0.113.7") for _ in range(6)] == [201] * 5 + [429]
    assert await post("198.51.100.9") == 201  # another caller behind the same proxy is not held back
    # What the caller wrote itself (left of the hop the proxy appended) is not believed.
    assert await post("198.51.100.9, 203.0.113.7") == 429

    # From a peer that is not a trusted proxy the header is ignored: the peer's own address counts.
    behind_the_ingress = AidSettings.model_validate({"trusted_proxies": "10.0.0.0/8"})
    aid.app.state.trusted_proxies = behind_the_ingress.trusted_proxy_networks()
    statuses = [await post(f"192.0.2.{n}") for n in range(6)]
    assert statuses == [201] * 5 + [429]
