"""A deployment for another city: reporting with GENTING_CITY=33.74 (Kota Semarang) lists
Semarang's kecamatan and kelurahan, every one with zeros where nothing happened, and none of
Pekalongan's, in the JSON, the CSV export and the dashboard."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import httpx
import pytest
from nats.js import JetStreamContext
from reporting_support import publish, token, wait_caught_up

from services.reporting.app import create_app
from services.reporting.settings import ReportingSettings
from shared.testing import TEST_JWKS_FILE
from shared.testing import reporting_scenarios as S
from shared.testing.apps import serving
from shared.testing.reporting_examples import Programme

pytestmark = pytest.mark.integration

COUNTS = ("registered", "enrolled", "sponsored", "aid_active", "completed", "exited", "rejected")


@pytest.fixture
async def semarang(database_url: str, js_clean: str, js: JetStreamContext) -> AsyncIterator[httpx.AsyncClient]:
    settings = ReportingSettings(
        city=S.SEMARANG,
        database_url=database_url,
        nats_url=js_clean,
        jwks_file=TEST_JWKS_FILE,
        relay_poll_seconds=0.2,
        snapshot_interval_seconds=0.3,
    )
    app = create_app(settings)
    async with serving(app, "reporting") as client:
        p = Programme(seed=3)
        p.enroll(p.register(S.TEMBALANG))  # one family, in Tembalang
        await publish(js, p.published)
        await wait_caught_up(js)
        yield client


async def test_semarang_lists_its_own_kelurahan_with_zeros_and_none_of_pekalongans(
    semarang: httpx.AsyncClient,
) -> None:
    body = (await semarang.get("/progress")).json()
    codes = [k["kelurahan_code"] for k in body["by_kelurahan"]]
    assert codes == list(S.city_areas(S.SEMARANG).codes) and len(codes) == 177
    assert not [c for c in codes if c.startswith("33.75.")]
    rows = {k["kelurahan_code"]: k for k in body["by_kelurahan"]}
    tembalang = rows.pop(S.TEMBALANG)
    assert (tembalang["kelurahan"], tembalang["kecamatan_code"], tembalang["kecamatan"]) == (
        "Tembalang",
        "33.74.10",
        "Tembalang",
    )
    assert (tembalang["registered"], tembalang["enrolled"]) == (1, 1)
    assert all(k[c] == 0 for k in rows.values() for c in COUNTS)
    assert (body["registered"], body["enrolled"]) == (1, 1)
    kecamatan = {k["kecamatan"]: k for k in body["by_kecamatan"]}
    assert len(kecamatan) == 16 and kecamatan["Tembalang"]["enrolled"] == 1
    assert "Pekalongan Barat" not in kecamatan

    outcomes = (await semarang.get("/outcomes", headers=token("admin"))).json()
    assert [k["kelurahan_code"] for k in outcomes["by_kelurahan"]] == codes


async def test_semarangs_export_and_dashboard_are_semarangs(semarang: httpx.AsyncClient) -> None:
    response = await semarang.get("/export/progress.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert [r["level"] for r in rows] == ["kelurahan"] * 177 + ["kecamatan"] * 16 + ["city"]
    tembalang = next(r for r in rows if r["kelurahan_code"] == S.TEMBALANG)
    assert (tembalang["kelurahan"], tembalang["enrolled"]) == ("Tembalang", "1")

    html = (await semarang.get("/")).text
    assert "Genting Kota Semarang" in html and "Pekalongan" not in html and "Medono" not in html
    assert f'data-metric="progress.by_kelurahan.{S.TEMBALANG}.enrolled" data-value="1"' in html
    assert html.count('data-metric="progress.by_kelurahan.') == 177 * 6  # the table: every kelurahan
