"""After the registry's PersonalDataErased, no answer of aid shows the family's notes,
descriptions or photo references, and aid's database holds them only as sealed blobs nobody can
open any more (the family's key is gone). Another family's texts stay."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from aid_support import MEDONO, TODAY, Aid, a_family_not_gaining, delivery, token, wait_events, wait_plan

from genting.backup import backup, restore
from genting.recovery import reconcile_after_restore
from services.aid.app import repositories
from services.aid.domain import flag_id_for, plan_id_for
from services.aid.replay import rebuild
from shared.contracts.registry import ChildAgedOut, PersonalDataErased
from shared.db import connect
from shared.testing import wait_until
from shared.testing.facts import exit_of

pytestmark = pytest.mark.integration

KADER, LURAH, ADMIN = token("kader", MEDONO), token("lurah", MEDONO), token("admin")


async def a_family_with_texts(aid: Aid, tag: str) -> dict[str, Any]:
    """An enrolled, sponsored family whose child gained nothing for two months; a delivery
    confirmed with a photo, an intervention and a home visit, each with the family's free text
    (`tag` makes it unique), the commands sent with Idempotency-Keys (their answers are kept)."""
    family, child, plan = await a_family_not_gaining(aid)
    texts = {
        "photo": f"s3://genting-proof/{tag}/bukti.jpg",
        "description": f"Bedah rumah keluarga {tag}",
        "note": f"ibu {tag} kurang ASI; rujuk ke puskesmas",
    }
    calls = [
        (f"/plans/{plan['plan_id']}/deliveries", delivery(TODAY, 7, delivered_on=TODAY), KADER),
        (
            f"/plans/{plan['plan_id']}/interventions",
            {"kind": "house_repair", "description": texts["description"], "done_on": TODAY.isoformat(), "value_rp": 0},
            KADER,
        ),
    ]
    answers = [
        await aid.http.post(url, json=body, headers=h | {"Idempotency-Key": f"{tag}-{i}"})
        for i, (url, body, h) in enumerate(calls)
    ]
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    confirmation = (
        f"/deliveries/{answers[0].json()['delivery_id']}/confirmation",
        {"photo_ref": texts["photo"]},
        LURAH,
    )
    await wait_events(aid.js, "HomeVisitFlagged", count=1)
    await wait_until(
        lambda: aid.pool.fetchval("select 1 from home_visits_view where family_id = $1", family),
        message="the child's flag",
    )
    visit = (
        f"/home-visits/{flag_id_for(child, TODAY)}/visit",
        {"visited_on": TODAY.isoformat(), "note": texts["note"]},
        KADER,
    )
    for i, (url, body, h) in enumerate((confirmation, visit), start=len(calls)):
        answer = await aid.http.post(url, json=body, headers=h | {"Idempotency-Key": f"{tag}-{i}"})
        assert answer.status_code == 200, answer.text
    return {
        "family": family,
        "plan_id": plan["plan_id"],
        "texts": texts,
        "commands": [*calls, confirmation, visit],
        "tag": tag,
        "flag_id": flag_id_for(child, TODAY),
    }


async def every_answer(aid: Aid, f: dict[str, Any]) -> str:
    """What aid answers about the family, to those who may see the most (admin, the kelurahan's
    staff), on every read route, and the kept answers a retry of each command gets."""
    family = str(f["family"])
    answers = []
    for headers in (ADMIN, LURAH, KADER):
        answers += [
            await aid.http.get(f"/plans/{f['plan_id']}", headers=headers),
            await aid.http.get("/plans", params={"family_id": family}, headers=headers),
            await aid.http.get("/home-visits", params={"family_id": family, "kelurahan_code": MEDONO}, headers=headers),
            await aid.http.get("/education-sessions", params={"family_id": family}, headers=headers),
        ]
    for i, (url, body, headers) in enumerate(f["commands"]):
        answers.append(await aid.http.post(url, json=body, headers=headers | {"Idempotency-Key": f"{f['tag']}-{i}"}))
    assert all(a.status_code < 300 for a in answers), [a.text for a in answers if a.status_code >= 300]
    return "\n".join(a.text for a in answers)


async def rows_holding(pool: asyncpg.Pool, text: str) -> list[str]:
    """Every table of aid's database whose rows, as text, contain `text` in the clear."""
    tables = await pool.fetch("select table_name from information_schema.tables where table_schema = 'public'")
    found = []
    for t in tables:
        name = t["table_name"]
        if await pool.fetchval(f'select exists (select 1 from "{name}" r where r::text like $1)', f"%{text}%"):
            found.append(name)
    return found


async def test_after_the_erasure_no_answer_shows_the_familys_texts_and_the_store_keeps_them_sealed(aid: Aid) -> None:
    erased, kept = await a_family_with_texts(aid, "Sri"), await a_family_with_texts(aid, "Wati")
    before = await every_answer(aid, erased)
    for text in ("description", "note", "photo"):
        assert erased["texts"][text] in before  # shown to admin and the kelurahan's staff until now

    await aid.upstream.emit(
        PersonalDataErased(family_id=erased["family"], kelurahan_code=MEDONO, erased_on=TODAY, erased_by="admin-test")
    )
    await wait_until(
        lambda: aid.pool.fetchval("select 1 from erased_families where family_id = $1", erased["family"]),
        message="the family's key destroyed",
    )

    after = await every_answer(aid, erased)
    assert not [t for t in erased["texts"].values() if t in after]
    assert "kader-test" not in after  # who recorded the delivery, intervention and visit: sealed, gone
    # Counts, dates and money stay.
    plan = (await aid.http.get(f"/plans/{erased['plan_id']}", headers=ADMIN)).json()
    assert (plan["days_covered"], plan["deliveries"][0]["confirmed_on"]) == (7, TODAY.isoformat())
    # The other family is untouched.
    other = await every_answer(aid, kept)
    assert all(t in other for t in kept["texts"].values())

    # In the database: nowhere in the clear, and the sealed parts cannot be opened any more.
    for text in erased["texts"].values():
        assert await rows_holding(aid.pool, text) == []
    assert await aid.pool.fetchval("select count(*) from family_keys where family_id = $1", erased["family"]) == 0
    repos = repositories(aid.app.state.settings)
    async with aid.pool.acquire() as conn:
        for repo, stream_id in ((repos.plans, plan_id_for(erased["family"])), (repos.visits, erased["flag_id"])):
            facts = await repo.facts(conn, stream_id, await repo.store.load(conn, stream_id))
            assert len(facts) > 1 and [f.private for f in facts if f.private is not None] == []

    # A replay of the views brings nothing back.
    await rebuild(aid.pool, repos)
    after_replay, other_after_replay = await every_answer(aid, erased), await every_answer(aid, kept)
    assert not [t for t in erased["texts"].values() if t in after_replay]
    assert all(t in other_after_replay for t in kept["texts"].values())


async def test_a_photo_reference_recorded_before_issue_11_is_read_and_erased_too(aid: Aid) -> None:
    """Confirmations recorded before issue 11 carried `photo_ref` in the event's public data:
    the view keeps reading it (tolerant reader, also on replay), and the erasure strips it."""
    family = uuid4()
    await aid.upstream.enrol(family)
    await aid.upstream.sponsor(family)
    plan = await wait_plan(aid.http, family)
    delivered = await aid.http.post(f"/plans/{plan['plan_id']}/deliveries", json=delivery(TODAY, 7), headers=KADER)
    delivery_id = delivered.json()["delivery_id"]
    assert (await aid.http.post(f"/deliveries/{delivery_id}/confirmation", json={}, headers=LURAH)).status_code == 200
    old_ref = "minio://proof/lama/2025.jpg"
    # What the event store holds for such a confirmation: the reference in the clear, no sealed part.
    await aid.pool.execute(
        "update events set data = data || jsonb_build_object('photo_ref', $1::text), sealed = null"
        " where event_type = 'DeliveryConfirmed' and data->>'delivery_id' = $2",
        old_ref,
        delivery_id,
    )
    repos = repositories(aid.app.state.settings)
    await rebuild(aid.pool, repos)
    shown = (await aid.http.get(f"/plans/{plan['plan_id']}", headers=ADMIN)).json()
    assert shown["deliveries"][0]["photo_ref"] == old_ref

    await aid.upstream.emit(
        PersonalDataErased(family_id=family, kelurahan_code=MEDONO, erased_on=TODAY, erased_by="admin-test")
    )
    await wait_until(
        lambda: aid.pool.fetchval("select 1 from erased_families where family_id = $1", family),
        message="the family erased",
    )
    assert old_ref not in (await aid.http.get(f"/plans/{plan['plan_id']}", headers=ADMIN)).text
    await rebuild(aid.pool, repos)
    assert old_ref not in (await aid.http.get(f"/plans/{plan['plan_id']}", headers=ADMIN)).text
    assert await rows_holding(aid.pool, old_ref) == []


async def test_an_erasure_arriving_ahead_of_a_missing_event_is_applied_at_once(aid: Aid) -> None:
    """An erasure needs no order: it destroys the family's key even while an earlier event of the
    family is missing (lost, or still on its way), rather than waiting behind it, and the events
    after the gap still apply once it fills."""
    f = await a_family_with_texts(aid, "Tini")
    family = f["family"]
    missing = aid.upstream.envelope(exit_of(family, TODAY, kelurahan=MEDONO))
    await aid.upstream.emit(
        PersonalDataErased(family_id=family, kelurahan_code=MEDONO, erased_on=TODAY, erased_by="admin-test")
    )
    await wait_until(
        lambda: aid.pool.fetchval("select 1 from erased_families where family_id = $1", family),
        timeout=10.0,
        message="the erasure applied across the gap",
    )
    assert not [t for t in f["texts"].values() if t in await every_answer(aid, f)]
    assert await aid.pool.fetchval("select count(*) from family_keys where family_id = $1", family) == 0

    # The gap fills: the missing event and one after the erasure apply, the stream's version passes both.
    await aid.upstream.publish(missing, f"genting.registry.family.{family}.FamilyExited")
    after = await aid.upstream.emit(
        ChildAgedOut(family_id=family, member_id=uuid4(), kelurahan_code=MEDONO, aged_out_on=TODAY)
    )
    await wait_until(
        lambda: aid.pool.fetchval(
            "select version = $2 from projection_versions where projection = 'aid-registry' and stream_id = $1",
            family,
            after.stream_version,
        ),
        timeout=10.0,
        message="the family's stream applied past the erasure",
    )
    assert await aid.pool.fetchval("select exited_on from aid_families where family_id = $1", family) == TODAY
    assert await aid.pool.fetchval("select count(*) from projection_versions_ahead") == 0


async def test_a_note_recorded_after_the_erasure_makes_no_new_key_for_the_family(aid: Aid) -> None:
    """The tombstone: a late intervention about an erased family is recorded (counts and money
    matter), but its description is sealed for no one, and no key for the family exists again."""
    f = await a_family_with_texts(aid, "Yati")
    await aid.upstream.emit(
        PersonalDataErased(family_id=f["family"], kelurahan_code=MEDONO, erased_on=TODAY, erased_by="admin-test")
    )
    await wait_until(
        lambda: aid.pool.fetchval("select 1 from erased_families where family_id = $1", f["family"]),
        message="the family erased",
    )
    late = "Yati pindah ke rumah mertua di Jalan Melati"
    answer = await aid.http.post(
        f"/plans/{f['plan_id']}/interventions",
        json={"kind": "house_repair", "description": late, "done_on": TODAY.isoformat(), "value_rp": 0},
        headers=KADER,
    )
    assert answer.status_code == 201, answer.text
    assert await aid.pool.fetchval("select count(*) from family_keys where family_id = $1", f["family"]) == 0
    assert late not in (await aid.http.get(f"/plans/{f['plan_id']}", headers=ADMIN)).text
    assert await rows_holding(aid.pool, late) == []


async def test_a_grievance_naming_a_family_filed_after_its_erasure_keeps_no_text(aid: Aid) -> None:
    """The tombstone for a new stream: a grievance filed about an erased family is tracked and
    counted, but what it says is sealed for no one, and no key for the family exists again."""
    family = uuid4()
    await aid.upstream.emit(
        PersonalDataErased(family_id=family, kelurahan_code=MEDONO, erased_on=TODAY, erased_by="admin-test")
    )
    await wait_until(
        lambda: aid.pool.fetchval("select 1 from erased_families where family_id = $1", family),
        message="the family erased",
    )
    late = "Bu Sri di RT 02 belum menerima beras"
    filed = await aid.http.post(
        "/grievances",
        json={"kelurahan_code": MEDONO, "category": "missed_delivery", "description": late, "family_id": str(family)},
    )
    assert filed.status_code == 201, filed.text
    listed = (await aid.http.get("/grievances", headers=ADMIN)).json()["items"]
    [shown] = [g for g in listed if g["grievance_id"] == filed.json()["grievance_id"]]
    assert (shown["description"], shown["category"]) == (None, "missed_delivery")
    assert await aid.pool.fetchval("select count(*) from family_keys where family_id = $1", family) == 0
    assert await rows_holding(aid.pool, late) == []


async def test_a_restore_from_before_the_erasure_leaves_the_familys_texts_unreadable(
    aid: Aid, database_url: str, tmp_path: Path
) -> None:
    """The dump holds the family's key; `genting restore` re-applies the erasure the registry
    published since (read from its stream), and brings back aid's own events the dump lacks."""
    f = await a_family_with_texts(aid, "Rina")
    dump = backup(database_url, tmp_path / "aid.dump")
    await aid.upstream.emit(
        PersonalDataErased(family_id=f["family"], kelurahan_code=MEDONO, erased_on=TODAY, erased_by="admin-test")
    )
    await wait_until(
        lambda: aid.pool.fetchval("select 1 from erased_families where family_id = $1", f["family"]),
        message="the family erased",
    )
    later = await aid.http.post(
        f"/plans/{f['plan_id']}/interventions",
        json={"kind": "house_repair", "description": "atap diperbaiki", "done_on": TODAY.isoformat(), "value_rp": 0},
        headers=KADER,
    )
    assert later.status_code == 201, later.text
    await wait_until(
        lambda: aid.pool.fetchval("select count(*) = 0 from outbox where published_at is null"),
        message="aid's outbox drained",
    )

    restore(database_url, dump)
    assert await aid.pool.fetchval("select count(*) from family_keys where family_id = $1", f["family"]) == 1
    conn = await connect(database_url)
    try:
        done = await reconcile_after_restore("aid", aid.app.state.settings, conn, aid.js)
    finally:
        await conn.close()
    assert done.erased >= 1 and done.recovered >= 1 and done.conflicts == 0  # the late intervention is back
    assert sorted(done.consumers_reset) == ["aid-funding", "aid-registry"]
    assert await aid.pool.fetchval("select count(*) from family_keys where family_id = $1", f["family"]) == 0
    await rebuild(aid.pool, repositories(aid.app.state.settings))  # `genting replay aid`
    for text in f["texts"].values():
        assert await rows_holding(aid.pool, text) == []
