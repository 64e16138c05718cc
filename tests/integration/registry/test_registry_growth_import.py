"""Growth measurements and the agency import over HTTP, against a real PostgreSQL and nats-server:
what a kader records, what reaches the bus, and what an agency's file does the first and second time."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from registry_support import KAUMAN, MEDONO, TODAY, stream_messages, token

from services.registry import importing
from services.registry.domain import growth
from shared.testing import wait_until
from shared.testing.registry_examples import family_body, import_csv

pytestmark = pytest.mark.integration

CSV = {"Content-Type": "text/csv"}
JSONL = {"Content-Type": "application/x-ndjson"}


async def count(client: httpx.AsyncClient, table: str) -> int:
    pool: asyncpg.Pool = client.app.state.pool  # type: ignore[attr-defined]
    return int(await pool.fetchval(f"select count(*) from {table}"))


async def registered_baby(client: httpx.AsyncClient, serial: int) -> tuple[str, str, dict[str, Any]]:
    """A family registered in Medono; its id, its baduta's member id, and the body it was registered with."""
    body = family_body(serial, TODAY)
    response = await client.post("/families", json=body, headers=token("kader", MEDONO))
    assert response.status_code == 201, response.text
    family_id = response.json()["family_id"]
    detail = (await client.get(f"/families/{family_id}", headers=token("admin"))).json()
    [baby] = [m for m in detail["members"] if m["role"] == "baduta"]
    return family_id, baby["member_id"], body


class TestGrowthMeasurements:
    async def test_a_measured_child_gets_its_z_score_and_the_fact_goes_out_without_personal_data(
        self, registry: httpx.AsyncClient, js_clean: str
    ) -> None:
        family_id, baby_id, body = await registered_baby(registry, 1)
        baby = body["members"][1]
        measurement = {"member_id": baby_id, "measured_on": TODAY.isoformat(), "weight_kg": 5.1, "length_cm": 55.0}
        response = await registry.post(
            f"/families/{family_id}/growth-measurements", json=measurement, headers=token("kader", MEDONO)
        )
        assert response.status_code == 201, response.text
        result = response.json()
        expected = growth.assess(baby["sex"], date.fromisoformat(baby["birth_date"]), TODAY, 5.1, 55.0)
        assert result["haz"] == expected.haz and result["waz"] == expected.waz
        assert result["stunted"] is True and result["severely_stunted"] is (expected.haz < -3)
        assert result["age_months"] == expected.age_months == 2 and result["position"] == "recumbent"
        assert result["version"] == 2  # registered, measured

        async def published() -> list[Any]:
            msgs = await stream_messages(js_clean)
            return [json.loads(m.data) for m in msgs if m.subject.endswith(".GrowthMeasured")]

        [event] = await wait_until(published, 10, message="GrowthMeasured published")
        data = event["data"]
        assert {
            k: data[k]
            for k in ("family_id", "member_id", "measured_on", "age_months", "haz", "stunted", "kelurahan_code")
        } == {
            "family_id": family_id,
            "member_id": baby_id,
            "measured_on": TODAY.isoformat(),
            "age_months": 2,
            "haz": expected.haz,
            "stunted": True,
            "kelurahan_code": MEDONO,
        }
        wire = json.dumps(event)
        for personal in ("birth_date", "name", "nik", baby["birth_date"], baby["name"], body["kk_number"]):
            assert personal not in wire

    async def test_an_implausible_measurement_is_a_422_naming_the_field(self, registry: httpx.AsyncClient) -> None:
        family_id, baby_id, _ = await registered_baby(registry, 2)
        events = await count(registry, "events")
        cases: list[tuple[dict[str, Any], str]] = [
            ({"length_cm": 550.0}, "length_cm"),
            ({"weight_kg": 5100}, "weight_kg"),
            ({"measured_on": (TODAY + timedelta(days=1)).isoformat()}, "measured_on"),
            ({"member_id": "00000000-0000-0000-0000-000000000001"}, "member_id"),
        ]
        for change, field in cases:
            measurement = {
                "member_id": baby_id,
                "measured_on": TODAY.isoformat(),
                "weight_kg": 5.0,
                "length_cm": 58.0,
                **change,
            }
            response = await registry.post(
                f"/families/{family_id}/growth-measurements", json=measurement, headers=token("admin")
            )
            assert response.status_code == 422, response.text
            assert [e["field"] for e in response.json()["errors"]] == [field]
        assert await count(registry, "events") == events

    async def test_only_staff_of_the_familys_kelurahan_record_growth(self, registry: httpx.AsyncClient) -> None:
        family_id, baby_id, _ = await registered_baby(registry, 3)
        measurement = {"member_id": baby_id, "measured_on": TODAY.isoformat(), "weight_kg": 5.0, "length_cm": 58.0}
        url = f"/families/{family_id}/growth-measurements"
        for headers in (token("kader", KAUMAN), token("auditor"), token("agency")):
            assert (await registry.post(url, json=measurement, headers=headers)).status_code == 403
        assert (await registry.post(url, json=measurement, headers=token("lurah", MEDONO))).status_code == 201
        unknown = "/families/00000000-0000-0000-0000-000000000001/growth-measurements"
        assert (await registry.post(unknown, json=measurement, headers=token("admin"))).status_code == 404


def agency_file(*serials: int, kelurahan: str = MEDONO) -> tuple[str, list[dict[str, Any]]]:
    bodies = [family_body(s, TODAY, kelurahan) for s in serials]
    return import_csv(bodies), bodies


class TestImport:
    async def test_good_rows_register_bad_rows_are_reported_by_line_and_a_reimport_changes_nothing(
        self, registry: httpx.AsyncClient
    ) -> None:
        bodies = [family_body(s, TODAY) for s in (10, 11, 12, 13)]
        bodies[1]["members"][0]["nik"] = "3375013202990001"  # 32 February
        bodies[3]["consent"] = "no"
        text = import_csv(bodies)
        text += import_csv([family_body(10, TODAY)]).splitlines()[1] + "\n"  # line 6: line 2 again
        response = await registry.post("/families/import", content=text, headers={**CSV, **token("agency")})
        assert response.status_code == 200, response.text
        report = response.json()
        assert (report["rows"], report["registered"], report["already_registered"], report["rejected"]) == (5, 2, 1, 2)
        by_line = {r["line"]: r for r in report["results"]}
        assert [by_line[n]["status"] for n in range(2, 7)] == [
            "registered",
            "rejected",
            "registered",
            "rejected",
            "already_registered",
        ]
        assert [e["field"] for e in by_line[3]["errors"]] == ["member1_nik"]
        assert [e["field"] for e in by_line[5]["errors"]] == ["consent"]
        assert by_line[6]["family_id"] == by_line[2]["family_id"]
        events = await count(registry, "events")
        assert events == 2 and await count(registry, "families_view") == 2

        again = (await registry.post("/families/import", content=text, headers={**CSV, **token("agency")})).json()
        assert (again["registered"], again["already_registered"], again["rejected"]) == (0, 3, 2)
        assert [r.get("family_id") for r in again["results"]] == [r.get("family_id") for r in report["results"]]
        assert await count(registry, "events") == events

    async def test_a_json_lines_batch_registers_each_line_and_reports_bad_ones(
        self, registry: httpx.AsyncClient
    ) -> None:
        good = family_body(20, TODAY)
        no_kelurahan_code = {k: v for k, v in family_body(21, TODAY).items() if k != "kelurahan_code"}
        lines = [json.dumps(good), "", json.dumps({**no_kelurahan_code, "kelurahan": "Kali Baros"}), "{oops"]
        response = await registry.post(
            "/families/import", content="\n".join(lines) + "\n", headers={**JSONL, **token("admin")}
        )
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert [(r["line"], r["status"]) for r in results] == [(1, "registered"), (3, "registered"), (4, "rejected")]
        detail = (await registry.get(f"/families/{results[1]['family_id']}", headers=token("admin"))).json()
        assert detail["kelurahan"] == "Kali Baros"

    async def test_a_kader_imports_only_rows_of_her_kelurahan(self, registry: httpx.AsyncClient) -> None:
        text = import_csv([family_body(30, TODAY, MEDONO), family_body(31, TODAY, KAUMAN)])
        report = (
            await registry.post("/families/import", content=text, headers={**CSV, **token("kader", MEDONO)})
        ).json()
        assert [r["status"] for r in report["results"]] == ["registered", "rejected"]
        assert report["results"][1]["errors"][0]["field"] == "kelurahan_code"
        for headers in (token("auditor"), token("donor")):
            refused = await registry.post("/families/import", content=text, headers={**CSV, **headers})
            assert refused.status_code == 403

    async def test_a_family_registered_by_hand_with_the_same_content_is_already_registered(
        self, registry: httpx.AsyncClient
    ) -> None:
        by_hand = (await registry.post("/families", json=family_body(40, TODAY), headers=token("admin"))).json()
        changed = family_body(41, TODAY)
        changed["kk_number"] = family_body(40, TODAY)["kk_number"]  # the same KK, another family's content
        report = (
            await registry.post(
                "/families/import",
                content=import_csv([family_body(40, TODAY), changed]),
                headers={**CSV, **token("agency")},
            )
        ).json()
        first, second = report["results"]
        assert first == {"line": 2, "status": "already_registered", "family_id": by_hand["family_id"]}
        assert second["status"] == "rejected" and second["errors"][0]["field"] == "kk_number"
        assert await count(registry, "events") == 1

    async def test_a_retry_with_the_same_idempotency_key_returns_the_first_report(
        self, registry: httpx.AsyncClient
    ) -> None:
        text, _ = agency_file(50, 51)
        headers = {**CSV, **token("agency"), "Idempotency-Key": "chunk-1"}
        first = await registry.post("/families/import", content=text, headers=headers)
        retry = await registry.post("/families/import", content=text, headers=headers)
        assert retry.json() == first.json() and first.json()["registered"] == 2
        assert retry.headers["Idempotent-Replayed"] == "true"

    async def test_line_numbers_count_from_the_offset_of_a_chunk(self, registry: httpx.AsyncClient) -> None:
        text, _ = agency_file(60, 61)
        report = (
            await registry.post(
                "/families/import", params={"line_offset": 500}, content=text, headers={**CSV, **token("agency")}
            )
        ).json()
        assert [r["line"] for r in report["results"]] == [502, 503]

    async def test_too_large_wrong_type_and_a_broken_header_change_nothing(
        self, registry: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        text, _ = agency_file(70, 71, 72)
        monkeypatch.setattr(importing, "MAX_ROWS", 2)
        too_many = await registry.post("/families/import", content=text, headers={**CSV, **token("agency")})
        assert too_many.status_code == 413 and too_many.headers["content-type"] == "application/problem+json"
        wrong_type = await registry.post(
            "/families/import", content=text, headers={"Content-Type": "application/json", **token("agency")}
        )
        assert wrong_type.status_code == 415
        broken = await registry.post(
            "/families/import", content="kk_number;nama\n1;2\n", headers={**CSV, **token("agency")}
        )
        assert broken.status_code == 422 and "address" in {e["field"] for e in broken.json()["errors"]}
        assert await count(registry, "events") == 0
