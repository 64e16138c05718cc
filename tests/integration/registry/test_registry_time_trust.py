"""The registry in time and trust, over HTTP on real servers: late entry with effective dates, a
Semarang deployment, births and the aging-out clock step, and an erasure that leaves nothing
personal readable in any table of the registry's database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from registry_support import MEDONO, TODAY, token

from services.registry import schedule
from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from shared.clock import now
from shared.contracts.registry import ChildAgedOut
from shared.eventstore import Metadata
from shared.outbox import committing
from shared.repository import Fact
from shared.testing.apps import serving, settings_for
from shared.testing.registry_examples import family_body

TEMBALANG = "33.74.01.1006"


@pytest.fixture
async def semarang(database_url: str, js_clean: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_for(RegistrySettings, database_url, js_clean, city="33.74")
    app = create_app(settings)
    app.state.clock = lambda: TODAY
    async with serving(app, "registry") as client:
        yield client


async def test_a_semarang_deployment_registers_its_kelurahan_and_refuses_pekalongans(
    semarang: httpx.AsyncClient,
) -> None:
    kelurahan = semarang._transport.app.state.programme.kelurahan_by_name("Tembalang")  # type: ignore[attr-defined]
    ours = await semarang.post("/families", json=family_body(1, TODAY, kelurahan.code), headers=token("admin"))
    assert ours.status_code == 201, ours.text
    theirs = await semarang.post("/families", json=family_body(2, TODAY, MEDONO), headers=token("admin"))
    assert theirs.status_code == 422
    assert [e["field"] for e in theirs.json()["errors"]] == ["kelurahan_code"]
    assert "Semarang" in theirs.json()["errors"][0]["message"]


async def test_late_entry_carries_the_effective_dates_and_refuses_out_of_order_ones(
    registry: httpx.AsyncClient,
) -> None:
    body = {**family_body(11, TODAY, MEDONO), "registered_on": (TODAY - timedelta(days=60)).isoformat()}
    registered = await registry.post("/families", json=body, headers=token("kader", MEDONO))
    assert registered.status_code == 201, registered.text
    family_id = registered.json()["family_id"]
    url = f"/families/{family_id}/verification"
    early = await registry.post(
        url,
        json={"decision": "approve", "decided_on": (TODAY - timedelta(days=61)).isoformat()},
        headers=token("lurah", MEDONO),
    )
    assert early.status_code == 422 and [e["field"] for e in early.json()["errors"]] == ["decided_on"]
    future = await registry.post(
        url,
        json={"decision": "approve", "decided_on": (TODAY + timedelta(days=1)).isoformat()},
        headers=token("lurah", MEDONO),
    )
    assert future.status_code == 422 and [e["field"] for e in future.json()["errors"]] == ["decided_on"]
    decided_on = TODAY - timedelta(days=40)
    ok = await registry.post(
        url, json={"decision": "approve", "decided_on": decided_on.isoformat()}, headers=token("lurah", MEDONO)
    )
    assert ok.status_code == 200, ok.text
    family = (await registry.get(f"/families/{family_id}", headers=token("auditor"))).json()
    assert family["registered_on"] == (TODAY - timedelta(days=60)).isoformat()
    assert family["enrolled_on"] == decided_on.isoformat()
    assert "kk_number" not in family  # de-identified for the auditor


async def test_a_birth_and_the_clock_step_change_the_members(registry: httpx.AsyncClient) -> None:
    body = family_body(21, TODAY, MEDONO)
    born = date.fromisoformat(body["members"][1]["birth_date"])
    body["registered_on"] = (TODAY - timedelta(days=30)).isoformat()
    family_id = (await registry.post("/families", json=body, headers=token("kader", MEDONO))).json()["family_id"]
    detail = (await registry.get(f"/families/{family_id}", headers=token("admin"))).json()
    mother = next(m["member_id"] for m in detail["members"] if m["role"] == "breastfeeding_mother")
    birth = await registry.post(
        f"/families/{family_id}/births",
        json={
            "mother_member_id": mother,
            "born_on": TODAY.isoformat(),
            "baby": {"name": "Bayi", "nik": None, "sex": "F"},
        },
        headers=token("kader", MEDONO),
    )
    assert birth.status_code == 422  # a breastfeeding mother, not a pregnant one
    assert [e["field"] for e in birth.json()["errors"]] == ["mother_member_id"]

    app = registry.app  # type: ignore[attr-defined]
    assert await schedule.run_step(app) == 0
    turned = date(born.year + 2, born.month, min(born.day, 28))
    later = turned + timedelta(days=20)  # within the bound on late entry (30 days)
    app.state.clock = lambda: later
    # The clock has passed the birthday, but the records entered so far have not (a programme
    # entered late, in order): the child is still a baduta on the days being entered.
    assert await schedule.run_step(app) == 0
    other = {**family_body(22, later, MEDONO), "registered_on": (turned + timedelta(days=3)).isoformat()}
    entered = await registry.post("/families", json=other, headers=token("kader", MEDONO))
    assert entered.status_code == 201, entered.text
    assert await schedule.run_step(app) == 1  # the records reached the birthday: aged out on it
    assert await schedule.run_step(app) == 0
    detail = (await registry.get(f"/families/{family_id}", headers=token("admin"))).json()
    assert sorted(m["role"] for m in detail["members"]) == ["breastfeeding_mother", "other"]


async def test_a_city_that_stops_entering_records_still_ages_its_children_out(registry: httpx.AsyncClient) -> None:
    """Records are entered at most GENTING_MAX_ENTRY_DELAY_DAYS (30) late: past that the clock alone
    decides, so no baduta stays one forever when no later record comes; an operator may also
    declare the records entered through a day (GENTING_ENTERED_THROUGH)."""
    app = registry.app  # type: ignore[attr-defined]
    settings = app.state.settings
    body = family_body(25, TODAY, MEDONO)
    body["registered_on"] = (TODAY - timedelta(days=30)).isoformat()
    family_id = (await registry.post("/families", json=body, headers=token("kader", MEDONO))).json()["family_id"]
    born = date.fromisoformat(body["members"][1]["birth_date"])
    turned = date(born.year + 2, born.month, min(born.day, 28))
    try:
        app.state.clock = lambda: turned + timedelta(days=29)
        assert await schedule.run_step(app) == 0  # a record dated before the birthday may still come
        app.state.settings = settings.model_copy(update={"entered_through": turned})
        assert await schedule.run_step(app) == 1  # the operator says everything up to it is in
        detail = (await registry.get(f"/families/{family_id}", headers=token("admin"))).json()
        assert sorted(m["role"] for m in detail["members"]) == ["breastfeeding_mother", "other"]

        again = family_body(26, TODAY, MEDONO)
        again["registered_on"] = (TODAY - timedelta(days=30)).isoformat()
        second = (await registry.post("/families", json=again, headers=token("kader", MEDONO))).json()["family_id"]
        born = date.fromisoformat(again["members"][1]["birth_date"])
        turned = date(born.year + 2, born.month, min(born.day, 28))
        app.state.settings = settings
        app.state.clock = lambda: turned + timedelta(days=30)
        assert await schedule.run_step(app) == 1  # 30 days on, the clock alone: aged out on the birthday
        detail = (await registry.get(f"/families/{second}", headers=token("admin"))).json()
        assert sorted(m["role"] for m in detail["members"]) == ["breastfeeding_mother", "other"]
    finally:
        app.state.settings = settings


async def test_after_an_erasure_no_table_holds_the_familys_personal_data(
    registry: httpx.AsyncClient, database_url: str
) -> None:
    body = family_body(31, TODAY, MEDONO)
    family_id = (
        await registry.post("/families", json=body, headers={**token("kader", MEDONO), "Idempotency-Key": "erase-me-1"})
    ).json()["family_id"]
    await registry.post(
        f"/families/{family_id}/verification",
        json={"decision": "approve", "note": "Bu Siti Rahayu sudah dicek"},
        headers=token("lurah", MEDONO),
    )
    erased = await registry.delete(f"/families/{family_id}/personal-data", headers=token("admin"))
    assert erased.status_code == 200

    mother = body["members"][0]
    needles = [
        body["kk_number"],
        body["head_name"],
        body["address"],
        mother["name"],
        mother["nik"],
        mother["birth_date"],
        body["members"][1]["name"],
        body["members"][1]["birth_date"],
        "Siti Rahayu",
    ]
    conn = await asyncpg.connect(database_url)
    try:
        tables = [
            r["table_name"]
            for r in await conn.fetch("select table_name from information_schema.tables where table_schema = 'public'")
        ]
        found = []
        for table in tables:
            for row in await conn.fetch(f'select t::text as row from "{table}" t'):
                found += [f"{table}: {n}" for n in needles if n in row["row"]]
        # bytea columns are in hex inside t::text; look for the UTF-8 of each needle too
        for table in tables:
            for row in await conn.fetch(f'select t::text as row from "{table}" t'):
                found += [f"{table} (bytes): {n}" for n in needles if n.encode().hex() in row["row"]]
        assert "family_keys" in tables and found == []
        assert await conn.fetchval("select count(*) from family_keys where family_id = $1", family_id) == 0
        # the idempotency record stays until it expires: it holds the family id, no personal data
        assert await conn.fetchval("select count(*) from idempotency_keys") >= 1
    finally:
        await conn.close()
    after = (await registry.get(f"/families/{family_id}", headers=token("admin"))).json()
    assert after["personal_data_erased"] is True and "kk_number" not in after


async def test_the_clock_step_says_when_an_enrolled_family_is_no_longer_eligible(registry: httpx.AsyncClient) -> None:
    """Its only baduta turns 24 months and its mother is no longer breastfeeding one: the registry
    publishes FamilyEligibilityChanged (eligible false, on the birthday), which funding and aid act on."""
    body = family_body(23, TODAY, MEDONO)
    born = date.fromisoformat(body["members"][1]["birth_date"])
    body["registered_on"] = (TODAY - timedelta(days=30)).isoformat()
    family_id = (await registry.post("/families", json=body, headers=token("kader", MEDONO))).json()["family_id"]
    approved = await registry.post(
        f"/families/{family_id}/verification",
        json={"decision": "approve", "decided_on": (TODAY - timedelta(days=29)).isoformat()},
        headers=token("lurah", MEDONO),
    )
    assert approved.status_code in (200, 201), approved.text
    app = registry.app  # type: ignore[attr-defined]
    turned = date(born.year + 2, born.month, min(born.day, 28))
    later = turned + timedelta(days=40)
    app.state.clock = lambda: later
    other = {**family_body(24, later, MEDONO), "registered_on": (turned + timedelta(days=3)).isoformat()}
    assert (await registry.post("/families", json=other, headers=token("kader", MEDONO))).status_code == 201
    assert await schedule.run_step(app) == 1
    pool: asyncpg.Pool = app.state.pool
    rows = await pool.fetch(
        "select event_type, data->>'eligible' as eligible, data->>'effective_on' as effective_on from events"
        " where stream_id = $1 and event_type in ('ChildAgedOut', 'FamilyEligibilityChanged') order by stream_version",
        UUID(family_id),
    )
    assert [(r["event_type"], r["eligible"], r["effective_on"]) for r in rows] == [
        ("ChildAgedOut", None, None),
        ("FamilyEligibilityChanged", "false", turned.isoformat()),
    ]


async def test_a_family_that_aged_out_before_eligibility_was_published_is_said_ineligible_once(
    registry: httpx.AsyncClient,
) -> None:
    """A deployment upgraded from a version whose step recorded ChildAgedOut alone: the enrolled
    family whose only baduta aged out then still counts as eligible. The new version's first step
    says it (eligible false, dated the birthday); a second step, or a restarted process, says
    nothing new."""
    body = family_body(27, TODAY, MEDONO)
    born = date.fromisoformat(body["members"][1]["birth_date"])
    body["registered_on"] = (TODAY - timedelta(days=30)).isoformat()
    family_id = UUID((await registry.post("/families", json=body, headers=token("kader", MEDONO))).json()["family_id"])
    approved = await registry.post(
        f"/families/{family_id}/verification",
        json={"decision": "approve", "decided_on": (TODAY - timedelta(days=29)).isoformat()},
        headers=token("lurah", MEDONO),
    )
    assert approved.status_code in (200, 201), approved.text
    app = registry.app  # type: ignore[attr-defined]
    pool: asyncpg.Pool = app.state.pool
    turned = date(born.year + 2, born.month, min(born.day, 28))
    [baby] = [m for m in (await registry.get(f"/families/{family_id}", headers=token("admin"))).json()["members"]
              if m["role"] == "baduta"]  # fmt: skip
    older = ChildAgedOut(
        family_id=family_id, member_id=UUID(baby["member_id"]), kelurahan_code=MEDONO, aged_out_on=turned
    )
    meta = Metadata(occurred_at=now(), correlation_id=uuid4(), causation_id=uuid4())
    async with committing(pool) as conn:  # what the older version's step recorded, and nothing more
        await app.state.handlers.families.execute(conn, family_id, lambda _: [Fact(older)], meta)

    async def changes() -> list[tuple[str, str]]:
        rows = await pool.fetch(
            "select data->>'eligible' as eligible, data->>'effective_on' as effective_on from events"
            " where stream_id = $1 and event_type = 'FamilyEligibilityChanged' order by stream_version",
            family_id,
        )
        return [(r["eligible"], r["effective_on"]) for r in rows]

    later = turned + timedelta(days=40)
    app.state.clock = lambda: later
    app.state.older_families_looked_at = False  # the first step of a process
    assert await changes() == []
    assert await schedule.run_step(app) == 0  # no child ages out now ...
    assert await changes() == [("false", turned.isoformat())]  # ... but the family is said ineligible
    assert await schedule.run_step(app) == 0
    app.state.older_families_looked_at = False  # a restarted process looks again: nothing new
    assert await schedule.run_step(app) == 0
    assert await changes() == [("false", turned.isoformat())]
