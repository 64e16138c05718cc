"""The registry over HTTP against a real PostgreSQL and nats-server: what a kader, a lurah,
an admin and an auditor see, and what reaches the bus."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from registry_support import KAUMAN, MEDONO, TODAY, stream_messages, token

from shared.testing import wait_until
from shared.testing.registry_examples import family_body

NEWBORN = {
    "name": "Bayi",
    "nik": None,
    "role": "baduta",
    "sex": "F",
    "birth_date": (TODAY - timedelta(days=3)).isoformat(),
}

pytestmark = pytest.mark.integration


async def register(client: httpx.AsyncClient, serial: int, kelurahan: str = MEDONO, **kw: Any) -> httpx.Response:
    return await client.post(
        "/families", json=family_body(serial, TODAY, kelurahan, **kw), headers=token("kader", kelurahan)
    )


async def count(client: httpx.AsyncClient, table: str) -> int:
    pool: asyncpg.Pool = client.app.state.pool  # type: ignore[attr-defined]
    return int(await pool.fetchval(f"select count(*) from {table}"))


PERSONAL_KEYS = ("kk_number", "head_name", "address", "name", "nik", "birth_date", "expected_delivery_date")


def personal_values(body: dict[str, Any]) -> list[str]:
    values = [body["kk_number"], body["head_name"], body["address"]]
    for m in body["members"]:
        values += [m["name"], m["birth_date"]] + ([m["nik"]] if m["nik"] else [])
    return values


class TestRegistration:
    async def test_a_kader_registers_a_family_in_her_kelurahan(self, registry: httpx.AsyncClient) -> None:
        response = await register(registry, 1)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["status"] == "registered" and body["version"] == 1
        detail = (await registry.get(f"/families/{body['family_id']}", headers=token("kader", MEDONO))).json()
        assert detail["kelurahan"] == "Medono" and detail["kecamatan"] == "Pekalongan Barat"
        assert detail["kk_number"] == family_body(1, TODAY)["kk_number"]
        assert detail["member_counts"] == {"pregnant_mother": 0, "breastfeeding_mother": 1, "baduta": 1, "other": 0}

    async def test_a_kader_of_another_kelurahan_is_refused_and_nothing_is_stored(
        self, registry: httpx.AsyncClient
    ) -> None:
        response = await registry.post("/families", json=family_body(2, TODAY, MEDONO), headers=token("kader", KAUMAN))
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert await count(registry, "events") == 0

    async def test_an_invalid_nik_is_refused_naming_the_field_and_nothing_is_stored(
        self, registry: httpx.AsyncClient
    ) -> None:
        body = family_body(3, TODAY)
        body["members"][0]["nik"] = body["members"][0]["nik"][:6] + "320299" + "0001"  # 32 Feb: no such day
        response = await registry.post("/families", json=body, headers=token("kader", MEDONO))
        assert response.status_code == 422
        problem = response.json()
        assert problem["status"] == 422 and problem["title"]
        assert "members[0].nik" in [e["field"] for e in problem["errors"]]
        for table in ("events", "outbox", "families_view", "active_kk", "active_nik", "family_keys"):
            assert await count(registry, table) == 0, table

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            (lambda b: b.update(consent=False), "consent"),
            (lambda b: b.update(consent="yes"), "consent"),
            (lambda b: b.update(kelurahan_code="33.75.01.1001"), "kelurahan_code"),
            (lambda b: b.update(risk_factors=[]), "risk_factors"),
            (lambda b: b.update(risk_factors=["sad"]), "risk_factors[0]"),
            (lambda b: b.update(kk_number="12345"), "kk_number"),
            (
                lambda b: b["members"][1].update(birth_date=(TODAY - timedelta(days=800)).isoformat()),
                "members[1].birth_date",
            ),
            (lambda b: b.update(members=[{**b["members"][0], "role": "other"}]), "members"),
        ],
    )
    async def test_bad_input_gets_a_problem_naming_the_field(
        self, registry: httpx.AsyncClient, change: Any, field: str
    ) -> None:
        body = family_body(4, TODAY)
        change(body)
        response = await registry.post("/families", json=body, headers=token("admin"))
        assert response.status_code == 422, response.text
        assert field in [e["field"] for e in response.json()["errors"]]
        assert await count(registry, "events") == 0

    async def test_one_active_family_per_kk_and_one_active_member_per_nik(self, registry: httpx.AsyncClient) -> None:
        first = await register(registry, 5)
        assert first.status_code == 201
        same_kk = family_body(6, TODAY)
        same_kk["kk_number"] = family_body(5, TODAY)["kk_number"]
        response = await registry.post("/families", json=same_kk, headers=token("admin"))
        assert response.status_code == 409
        assert [e["field"] for e in response.json()["errors"]] == ["kk_number"]
        same_nik = family_body(7, TODAY)
        same_nik["members"][0]["nik"] = family_body(5, TODAY)["members"][0]["nik"]
        same_nik["members"][0]["birth_date"] = family_body(5, TODAY)["members"][0]["birth_date"]
        response = await registry.post("/families", json=same_nik, headers=token("admin"))
        assert response.status_code == 409
        assert [e["field"] for e in response.json()["errors"]] == ["members[0].nik"]
        # Once the first family has exited, its KK and NIKs may be registered again (a new family card).
        exited = await registry.post(
            f"/families/{first.json()['family_id']}/exit", json={"reason": "moved_away"}, headers=token("admin")
        )
        assert exited.status_code == 200 and exited.json()["status"] == "exited"
        assert (await registry.post("/families", json=same_kk, headers=token("admin"))).status_code == 201

    async def test_concurrent_registrations_of_one_kk_leave_exactly_one_family(
        self, registry: httpx.AsyncClient
    ) -> None:
        bodies = []
        for serial in range(10, 16):
            b = family_body(serial, TODAY)
            b["kk_number"] = family_body(10, TODAY)["kk_number"]
            bodies.append(b)
        responses = await asyncio.gather(*(registry.post("/families", json=b, headers=token("admin")) for b in bodies))
        assert sorted(r.status_code for r in responses) == [201] + [409] * 5
        assert await count(registry, "families_view") == 1

    async def test_without_a_valid_token_the_answer_is_401(self, registry: httpx.AsyncClient) -> None:
        assert (await registry.post("/families", json=family_body(20, TODAY))).status_code == 401
        bad = {"Authorization": "Bearer not-a-jwt"}
        response = await registry.get("/families", headers=bad)
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"


class TestIdempotency:
    async def test_a_retry_with_the_same_key_returns_the_first_response_and_registers_once(
        self, registry: httpx.AsyncClient
    ) -> None:
        headers = {**token("kader", MEDONO), "Idempotency-Key": "census-row-42"}
        first = await registry.post("/families", json=family_body(30, TODAY), headers=headers)
        again = await registry.post("/families", json=family_body(30, TODAY), headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again.headers.get("idempotent-replayed") == "true"
        assert await count(registry, "families_view") == 1

    async def test_the_same_key_for_a_different_request_is_refused(self, registry: httpx.AsyncClient) -> None:
        headers = {**token("kader", MEDONO), "Idempotency-Key": "k-1"}
        assert (await registry.post("/families", json=family_body(31, TODAY), headers=headers)).status_code == 201
        response = await registry.post("/families", json=family_body(32, TODAY), headers=headers)
        assert response.status_code == 422
        assert await count(registry, "families_view") == 1

    async def test_one_key_sent_by_two_callers_of_the_same_role_is_two_requests(
        self, registry: httpx.AsyncClient
    ) -> None:
        # Two kader of one kelurahan whose phones happen to make the same key: each gets its own
        # family, neither sees the other's stored answer.
        first = await registry.post(
            "/families",
            json=family_body(33, TODAY),
            headers={**token("kader", MEDONO, sub="kader-siti"), "Idempotency-Key": "same-key"},
        )
        second = await registry.post(
            "/families",
            json=family_body(34, TODAY),
            headers={**token("kader", MEDONO, sub="kader-ani"), "Idempotency-Key": "same-key"},
        )
        assert first.status_code == second.status_code == 201
        assert second.headers.get("idempotent-replayed") is None
        assert first.json()["family_id"] != second.json()["family_id"]
        assert await count(registry, "families_view") == 2


class TestVerificationAndLifecycle:
    async def test_the_lurah_approves_and_the_family_is_enrolled_on_the_bus(
        self, registry: httpx.AsyncClient, js_clean: str
    ) -> None:
        fid = (await register(registry, 40)).json()["family_id"]
        assert (
            await registry.post(
                f"/families/{fid}/verification", json={"decision": "approve"}, headers=token("kader", MEDONO)
            )
        ).status_code == 403
        response = await registry.post(
            f"/families/{fid}/verification", json={"decision": "approve", "note": "ok"}, headers=token("lurah", MEDONO)
        )
        assert response.status_code == 200 and response.json()["status"] == "enrolled"
        again = await registry.post(
            f"/families/{fid}/verification", json={"decision": "reject"}, headers=token("lurah", MEDONO)
        )
        assert again.status_code == 409

        async def enrolled_on_bus() -> list[Any]:
            msgs = await stream_messages(js_clean)
            return [json.loads(m.data) for m in msgs if m.subject.endswith(".FamilyEnrolled")]

        [enrolled] = await wait_until(enrolled_on_bus, 10, message="FamilyEnrolled published")
        assert enrolled["data"]["family_id"] == fid and enrolled["data"]["kelurahan_code"] == MEDONO
        assert enrolled["data"]["member_counts"]["baduta"] == 1
        assert enrolled["stream_version"] == 3  # registered, verified, enrolled

    async def test_a_rejected_family_takes_no_more_members(self, registry: httpx.AsyncClient) -> None:
        fid = (await register(registry, 41)).json()["family_id"]
        assert (
            await registry.post(
                f"/families/{fid}/verification", json={"decision": "reject"}, headers=token("lurah", MEDONO)
            )
        ).json()["status"] == "rejected"
        response = await registry.post(f"/families/{fid}/members", json=NEWBORN, headers=token("kader", MEDONO))
        assert response.status_code == 409

    async def test_a_newborn_is_added_to_an_enrolled_family(self, registry: httpx.AsyncClient) -> None:
        fid = (await register(registry, 42, with_baduta=False)).json()["family_id"]
        response = await registry.post(f"/families/{fid}/members", json=NEWBORN, headers=token("kader", MEDONO))
        assert response.status_code == 201, response.text
        detail = (await registry.get(f"/families/{fid}", headers=token("admin"))).json()
        assert detail["member_counts"]["baduta"] == 1
        assert any(m.get("name") == "Bayi" for m in detail["members"])

    async def test_unknown_family_is_404(self, registry: httpx.AsyncClient) -> None:
        response = await registry.post(
            "/families/00000000-0000-0000-0000-000000000001/exit", json={"reason": "graduated"}, headers=token("admin")
        )
        assert response.status_code == 404


class TestPersonalData:
    async def test_personal_fields_only_for_admin_and_that_kelurahans_staff(self, registry: httpx.AsyncClient) -> None:
        fid = (await register(registry, 50)).json()["family_id"]
        for headers, sees in [
            (token("admin"), True),
            (token("lurah", MEDONO), True),
            (token("kader", MEDONO), True),
            (token("kader", KAUMAN), False),
            (token("auditor"), False),
            (token("agency"), False),
        ]:
            detail = (await registry.get(f"/families/{fid}", headers=headers)).json()
            assert ("kk_number" in detail) is sees
            assert ("nik" in detail["members"][0]) is sees
        assert (await registry.get(f"/families/{fid}", headers=token("donor"))).status_code == 403
        listing = (await registry.get("/families", params={"kelurahan_code": MEDONO}, headers=token("auditor"))).json()
        assert listing["total"] == 1 and "head_name" not in listing["items"][0]

    async def test_no_personal_data_on_the_bus_or_in_published_payloads(
        self, registry: httpx.AsyncClient, js_clean: str
    ) -> None:
        body = family_body(51, TODAY)
        fid = (await registry.post("/families", json=body, headers=token("admin"))).json()["family_id"]
        await registry.post(
            f"/families/{fid}/verification",
            json={"decision": "approve", "note": body["head_name"]},
            headers=token("admin"),
        )
        msgs = await wait_until(lambda: _at_least(js_clean, 3), 10, message="events published")
        wire = b"".join(m.data for m in msgs).decode()
        pool: asyncpg.Pool = registry.app.state.pool  # type: ignore[attr-defined]
        stored = json.dumps([r["data"] for r in await pool.fetch("select data from events")])
        for value in personal_values(body):
            assert value not in wire and value not in stored

    async def test_erasure_destroys_the_key_and_keeps_the_counts(self, registry: httpx.AsyncClient) -> None:
        body = family_body(52, TODAY)
        fid = (await registry.post("/families", json=body, headers=token("admin"))).json()["family_id"]
        refused = await registry.delete(f"/families/{fid}/personal-data", headers=token("kader", MEDONO))
        assert refused.status_code == 403
        response = await registry.delete(f"/families/{fid}/personal-data", headers=token("admin"))
        assert response.status_code == 200
        detail = (await registry.get(f"/families/{fid}", headers=token("admin"))).json()
        assert detail["personal_data_erased"] is True
        assert "kk_number" not in detail and "name" not in detail["members"][0]
        assert detail["member_counts"]["baduta"] == 1 and detail["status"] == "registered"
        pool: asyncpg.Pool = registry.app.state.pool  # type: ignore[attr-defined]
        assert await pool.fetchval("select count(*) from family_keys") == 0
        assert await pool.fetchval("select count(*) from events where sealed is not null") == 1  # history intact
        # The KK is no longer held: the family can be registered afresh after erasure.
        assert (await registry.post("/families", json=body, headers=token("admin"))).status_code == 201
        assert (await registry.delete(f"/families/{fid}/personal-data", headers=token("admin"))).status_code == 200


async def _at_least(nats_url: str, n: int) -> list[Any] | None:
    msgs = await stream_messages(nats_url)
    return msgs if len(msgs) >= n else None


class TestOperations:
    async def test_health_metrics_docs_and_asyncapi(self, registry: httpx.AsyncClient) -> None:
        assert (await registry.get("/health/live")).status_code == 200
        ready = await registry.get("/health/ready")
        assert ready.status_code == 200 and ready.json()["checks"] == {"database": True, "nats": True}
        await register(registry, 60)
        metrics = (await registry.get("/metrics")).text
        assert 'genting_http_requests_total{method="POST",route="/families",status="201"} 1.0' in metrics
        assert "genting_outbox_pending" in metrics
        docs = await registry.get("/docs")
        assert docs.status_code == 200 and "cdn" not in docs.text.lower()
        assert (await registry.get("/docs/static/swagger-ui-bundle.js")).status_code == 200
        asyncapi = (await registry.get("/asyncapi")).json()
        channels = {c["address"] for c in asyncapi["channels"].values()}
        for event in (
            "FamilyRegistered",
            "FamilyVerified",
            "FamilyRejected",
            "FamilyEnrolled",
            "MemberAdded",
            "FamilyExited",
            "PersonalDataErased",
        ):
            assert f"genting.registry.family.{{family_id}}.{event}" in channels
        assert (await registry.get("/asyncapi/try")).status_code == 404

    async def test_replay_rebuilds_a_view_equal_to_the_live_one(self, registry: httpx.AsyncClient) -> None:
        from services.registry.replay import rebuild

        fids = [(await register(registry, s)).json()["family_id"] for s in range(70, 74)]
        await registry.post(f"/families/{fids[0]}/verification", json={"decision": "approve"}, headers=token("admin"))
        await registry.post(f"/families/{fids[1]}/exit", json={"reason": "deceased"}, headers=token("admin"))
        await registry.delete(f"/families/{fids[2]}/personal-data", headers=token("admin"))
        live = (await registry.get("/families", headers=token("admin"))).json()
        app = registry.app  # type: ignore[attr-defined]
        assert await rebuild(app.state.pool, app.state.registry) == 4
        rebuilt = (await registry.get("/families", headers=token("admin"))).json()
        assert rebuilt == live and live["total"] == 4
