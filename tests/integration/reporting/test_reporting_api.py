"""Reporting over HTTP against a real PostgreSQL and nats-server: the scripted programme's
events go in on the upstream streams; every report, export and the dashboard come out right."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext
from reporting_support import publish, token, wait_caught_up

from shared.testing import reporting_scenarios as S
from shared.testing.reporting_examples import Programme

pytestmark = pytest.mark.integration


@pytest.fixture
async def loaded(reporting: httpx.AsyncClient, js: JetStreamContext) -> httpx.AsyncClient:
    await publish(js, S.scripted().published)
    await wait_caught_up(js)
    return reporting


async def get(client: httpx.AsyncClient, path: str, **kw: Any) -> Any:
    response = await client.get(path, **kw)
    assert response.status_code == 200, response.text
    return response.json()


class TestProgress:
    async def test_an_empty_programme_lists_every_kelurahan_with_zeros(self, reporting: httpx.AsyncClient) -> None:
        body = await get(reporting, "/progress")
        assert body["target"] == 1330 and body["registered"] == 0
        assert [k["kelurahan_code"] for k in body["by_kelurahan"]] == list(S.city_areas().codes)
        assert len(body["by_kecamatan"]) == 4
        assert all(k[c] == 0 for k in body["by_kelurahan"] for c in S.SCRIPTED_PROGRESS)

    async def test_each_family_is_counted_once_at_each_stage_it_reached(self, loaded: httpx.AsyncClient) -> None:
        body = await get(loaded, "/progress")  # public: no token
        assert {c: body[c] for c in S.SCRIPTED_PROGRESS} == S.SCRIPTED_PROGRESS
        rows = {k["kelurahan_code"]: k for k in body["by_kelurahan"]}
        assert len(rows) == 27
        for code, expected in S.SCRIPTED_BY_KELURAHAN.items():
            assert {c: rows[code][c] for c in expected} == expected, code
        assert rows[S.MEDONO]["kelurahan"] == "Medono" and rows[S.MEDONO]["kecamatan"] == "Pekalongan Barat"
        untouched = [k for code, k in rows.items() if code not in S.SCRIPTED_BY_KELURAHAN]
        assert all(k[c] == 0 for k in untouched for c in S.SCRIPTED_PROGRESS)
        kecamatan = {k["kecamatan"]: k for k in body["by_kecamatan"]}
        assert kecamatan["Pekalongan Barat"]["aid_active"] == 2 and kecamatan["Pekalongan Selatan"]["exited"] == 1
        for c in S.SCRIPTED_PROGRESS:
            assert sum(k[c] for k in body["by_kecamatan"]) == body[c]


class TestFunding:
    async def test_money_is_summed_per_donor_type_and_the_gap_is_what_enrolled_families_lack(
        self, loaded: httpx.AsyncClient
    ) -> None:
        body = await get(loaded, "/funding")
        types = {t["donor_type"]: t for t in body["by_donor_type"]}
        assert list(types) == ["individual", "community", "bumd", "bumn", "csr", "university", "media", "other"]
        for donor_type, expected in S.SCRIPTED_FUNDING.items():
            got = body if donor_type == "total" else types[donor_type]
            assert {k: got[k] for k in expected} == expected, donor_type
        assert types["media"]["donors"] == 0
        assert body["funding_gap_rp"] == S.SCRIPTED_FUNDING_GAP_RP == 4_400_000
        assert body["families_short"] == 2 and body["family_minimum_rp"] == 2_700_000


class TestAid:
    async def test_deliveries_plans_education_and_interventions_are_counted(self, loaded: httpx.AsyncClient) -> None:
        body = await get(loaded, "/aid")
        assert {k: body[k] for k in S.SCRIPTED_AID} == S.SCRIPTED_AID
        topics = {t["topic"]: t for t in body["education_by_topic"]}
        assert topics["nutrition"] == {"topic": "nutrition", "sessions": 2, "families": 3}
        assert topics["hygiene"]["sessions"] == 1 and topics["parenting"]["sessions"] == 0
        kinds = {k["kind"]: k for k in body["interventions_by_kind"]}
        assert kinds["sanitation"] == {"kind": "sanitation", "interventions": 1, "value_rp": 1_500_000}
        # Every kind aid's contract has is listed, zeros included (house_repair: rumah layak huni).
        assert kinds["house_repair"] == {"kind": "house_repair", "interventions": 0, "value_rp": 0}
        assert [(d["date"], d["deliveries"]) for d in body["deliveries_by_day"]] == [
            ("2025-01-09", 1),
            ("2025-01-11", 1),
            ("2025-01-19", 1),
            ("2025-02-08", 1),
        ]
        assert body["gaps_to_chase"] == [
            {
                "kelurahan_code": S.MEDONO,
                "kelurahan": "Medono",
                "kecamatan": "Pekalongan Barat",
                "plans_with_gaps": 1,
                "gap_days": 10,
            }
        ]
        assert (body["home_visits_flagged"], body["home_visits_done"]) == (2, 1)

    async def test_plans_with_gaps_are_listed_for_staff_and_each_lurah_sees_their_own(
        self, loaded: httpx.AsyncClient
    ) -> None:
        [plan] = await get(loaded, "/aid/gaps", headers=token("admin"))
        assert plan["kelurahan_code"] == S.MEDONO and plan["gap_days"] == 10 and plan["days_covered"] == 30
        assert await get(loaded, "/aid/gaps", headers=token("lurah", S.MEDONO)) == [plan]
        assert await get(loaded, "/aid/gaps", headers=token("kader", S.KAUMAN)) == []
        assert (await loaded.get("/aid/gaps", headers=token("donor"))).status_code == 403
        assert (await loaded.get("/aid/gaps")).status_code == 401


class TestOutcomes:
    async def test_outcomes_need_a_token(self, reporting: httpx.AsyncClient) -> None:
        response = await reporting.get("/outcomes")
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert (await reporting.get("/outcomes", headers={"Authorization": "Bearer nonsense"})).status_code == 401

    async def test_before_any_growth_measurement_everything_is_zero(self, reporting: httpx.AsyncClient) -> None:
        body = await get(reporting, "/outcomes", headers=token("auditor"))
        assert body["children_measured"] == 0 and body["stunted_at_latest"] == 0 and len(body["by_kelurahan"]) == 27

    async def test_children_are_counted_at_their_first_and_latest_measurement(self, loaded: httpx.AsyncClient) -> None:
        body = await get(loaded, "/outcomes", headers=token("agency"))
        assert {k: body[k] for k in S.SCRIPTED_OUTCOMES} == S.SCRIPTED_OUTCOMES
        rows = {k["kelurahan_code"]: k for k in body["by_kelurahan"]}
        assert rows[S.MEDONO]["recovered"] == 1 and rows[S.MEDONO]["newly_stunted"] == 1
        assert rows[S.KAUMAN]["stunted_at_first"] == rows[S.KAUMAN]["stunted_at_latest"] == 1

    async def test_first_and_latest_go_by_measurement_date_not_by_arrival(
        self, reporting: httpx.AsyncClient, js: JetStreamContext
    ) -> None:
        p = Programme(seed=11)
        family, child = p.register(S.MEDONO), p.new_id()
        p.enroll(family)
        p.measure(family, child, on=60, haz=-1.5)
        p.measure(family, child, on=5, haz=-2.5)  # an earlier weighing recorded late: the first one
        await publish(js, p.published)
        await wait_caught_up(js)
        body = await get(reporting, "/outcomes", headers=token("admin"))
        assert {k: body[k] for k in S.SCRIPTED_OUTCOMES} == {
            "children_measured": 1,
            "measurements": 2,
            "stunted_at_first": 1,
            "stunted_at_latest": 0,
            "recovered": 1,
            "newly_stunted": 0,
        }

    async def test_a_lurah_sees_the_city_and_their_own_kelurahan_and_a_donor_only_the_city(
        self, loaded: httpx.AsyncClient
    ) -> None:
        lurah = await get(loaded, "/outcomes", headers=token("lurah", S.KAUMAN))
        assert lurah["children_measured"] == 3
        assert [k["kelurahan_code"] for k in lurah["by_kelurahan"]] == [S.KAUMAN]
        donor = await get(loaded, "/outcomes", headers=token("donor"))
        assert donor["children_measured"] == 3 and donor["by_kelurahan"] == []


def parse_csv(response: httpx.Response, name: str) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="genting-{name}.csv"'
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


class TestExports:
    async def test_progress_csv_matches_the_json(self, loaded: httpx.AsyncClient) -> None:
        rows = parse_csv(await loaded.get("/export/progress.csv"), "progress")
        body = await get(loaded, "/progress")
        assert [r["level"] for r in rows] == ["kelurahan"] * 27 + ["kecamatan"] * 4 + ["city"]
        for row, kel in zip(rows, body["by_kelurahan"], strict=False):
            assert row["kelurahan_code"] == kel["kelurahan_code"] and row["kelurahan"] == kel["kelurahan"]
            assert {c: int(row[c]) for c in S.SCRIPTED_PROGRESS} == {c: kel[c] for c in S.SCRIPTED_PROGRESS}
        assert {c: int(rows[-1][c]) for c in S.SCRIPTED_PROGRESS} == S.SCRIPTED_PROGRESS
        assert rows[-1]["target"] == "1330"

    async def test_funding_csv_matches_the_json(self, loaded: httpx.AsyncClient) -> None:
        rows = {r["donor_type"]: r for r in parse_csv(await loaded.get("/export/funding.csv"), "funding")}
        body = await get(loaded, "/funding")
        for t in body["by_donor_type"]:
            assert {k: int(rows[t["donor_type"]][k]) for k in S.SCRIPTED_FUNDING["total"]} == {
                k: t[k] for k in S.SCRIPTED_FUNDING["total"]
            }
        assert int(rows["total"]["received_rp"]) == body["received_rp"]
        assert int(rows["total"]["funding_gap_rp"]) == body["funding_gap_rp"]

    async def test_aid_csv_matches_the_json(self, loaded: httpx.AsyncClient) -> None:
        rows = parse_csv(await loaded.get("/export/aid.csv"), "aid")
        assert list(rows[0]) == ["section", "item", "value"]
        body = await get(loaded, "/aid")
        values = {(r["section"], r["item"]): int(r["value"]) for r in rows}
        assert {k: values[("total", k)] for k in S.SCRIPTED_AID} == S.SCRIPTED_AID
        assert values[("education_sessions", "nutrition")] == 2
        assert values[("interventions_rp", "sanitation")] == 1_500_000
        for day in body["deliveries_by_day"]:
            assert values[("delivered_rp_on", day["date"])] == day["delivered_rp"]


class TestDashboard:
    async def test_the_dashboard_is_public_html_showing_the_same_numbers_as_the_api(
        self, loaded: httpx.AsyncClient
    ) -> None:
        response = await loaded.get("/")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
        html = response.text
        assert '<meta name="viewport"' in html and 'http-equiv="refresh"' not in html
        # Nothing fetched from elsewhere (the SVG namespace is a name, not a fetch).
        assert "<script src" not in html and "http://" not in re.sub(
            r"xmlns=[\"']http://www.w3.org/2000/svg[\"']", "", html
        )
        shown = dict(re.findall(r'data-metric="([^"]+)" data-value="(-?\d+)"', html))
        progress, funding, aid = [await get(loaded, p) for p in ("/progress", "/funding", "/aid")]
        assert int(shown["progress.enrolled"]) == progress["enrolled"] == 6
        assert int(shown["funding.funding_gap_rp"]) == funding["funding_gap_rp"]
        assert int(shown["aid.plans_with_gaps"]) == aid["plans_with_gaps"]
        assert int(shown["aid.home_visits_flagged"]) == aid["home_visits_flagged"] == 2
        assert int(shown["aid.home_visits_done"]) == aid["home_visits_done"] == 1
        assert int(shown[f"progress.by_kelurahan.{S.BANYURIP}.exited"]) == 1

    async def test_the_service_documents_what_it_publishes_and_consumes(self, reporting: httpx.AsyncClient) -> None:
        doc = await get(reporting, "/asyncapi")
        addresses = [c["address"] for c in doc["channels"].values()]
        assert "genting.reporting.progress.{scope}.ProgressSnapshot" in addresses
        for context in ("registry", "funding", "aid"):
            assert f"genting.{context}.>" in addresses
