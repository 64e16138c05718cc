"""The distribution cost as reporting shows it, against a real PostgreSQL and nats-server, in a
Maluku deployment (Rp20,000 of food + Rp5,000 of distribution a day): the funding gap measured
against food and distribution, and the food and its distribution apart in every figure, every
rupiah of both drawn or unfunded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext
from reporting_support import publish, wait_caught_up

from services.reporting.app import create_app
from services.reporting.settings import ReportingSettings
from shared.testing import reporting_scenarios as S
from shared.testing.apps import serving
from shared.testing.reporting_examples import Programme

pytestmark = pytest.mark.integration

MINIMUM = (20_000 + 5_000) * 180  # Rp4,500,000


@pytest.fixture
async def maluku(settings: ReportingSettings, js: JetStreamContext) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"daily_minimum_rp": 20_000, "distribution_cost_rp": 5_000}))
    async with serving(app, "reporting") as client:
        yield client


async def get(client: httpx.AsyncClient, path: str) -> Any:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_figures_show_the_food_and_its_distribution_apart(
    maluku: httpx.AsyncClient, js: JetStreamContext
) -> None:
    p = Programme()
    short, funded = p.register(S.MEDONO), p.register(S.MEDONO)
    p.enroll(short)
    p.enroll(funded)
    donor = p.donor("csr", received_rp=10_000_000)
    p.sponsor(donor, short, 4_000_000)  # the food of 180 days, not its distribution
    sponsorship = p.sponsor(donor, funded, MINIMUM)
    plan = p.open_plan(funded, budget_rp=MINIMUM, distribution_daily_rp=5_000)
    # Seven days paid whole; seven more of which Rp25,000 (distribution) found no money.
    first = p.deliver(plan, first_day=3, days=7, on=3, per_day_rp=20_000, distribution_rp=35_000)
    p.draw(sponsorship, donor, funded, plan, first, 175_000, MINIMUM - 175_000, on=3, distribution_rp=35_000)
    second = p.deliver(plan, first_day=10, days=7, on=10, per_day_rp=20_000, distribution_rp=35_000)
    p.draw(sponsorship, donor, funded, plan, second, 150_000, 0, on=10, distribution_rp=10_000)
    p.unfunded(plan, second, 140_000, drawn_rp=150_000, on=10, distribution_rp=35_000)
    await publish(js, p.published)
    await wait_caught_up(js)

    aid = await get(maluku, "/aid")
    assert (aid["delivered_rp"], aid["distribution_rp"]) == (280_000, 70_000)
    assert (aid["drawn_rp"], aid["drawn_distribution_rp"]) == (325_000, 45_000)
    assert (aid["unfunded_rp"], aid["unfunded_distribution_rp"]) == (25_000, 25_000)
    assert aid["delivered_rp"] + aid["distribution_rp"] == aid["drawn_rp"] + aid["unfunded_rp"]
    by_day = {d["date"]: (d["delivered_rp"], d["distribution_rp"]) for d in aid["deliveries_by_day"]}
    assert by_day == {str(p.day(3)): (140_000, 35_000), str(p.day(10)): (140_000, 35_000)}
    assert sum(w["distribution_rp"] for w in aid["deliveries_by_week"]) == 70_000

    funding = await get(maluku, "/funding")
    assert funding["family_minimum_rp"] == MINIMUM
    assert (funding["funding_gap_rp"], funding["families_short"]) == (MINIMUM - 4_000_000, 1)
    assert (funding["drawn_rp"], funding["drawn_distribution_rp"]) == (325_000, 45_000)
    csr = next(t for t in funding["by_donor_type"] if t["donor_type"] == "csr")
    assert csr["drawn_distribution_rp"] == 45_000
    assert (funding["unfunded_rp"], funding["unfunded_distribution_rp"]) == (25_000, 25_000)

    csv = (await maluku.get("/export/aid.csv")).text.splitlines()
    assert {"total,distribution_rp,70000", "total,drawn_distribution_rp,45000"} <= set(csv)
    assert f"distribution_rp_on,{p.day(3)},35000" in csv
