"""A delivery's distribution cost in funding's ledger over real JetStream and PostgreSQL: drawn
with the food (food first, oldest sponsorship first), shown apart on the donor statement and a
family's funding, and, when the money is not there, unfunded distribution first."""

from __future__ import annotations

import json
from uuid import UUID

import pytest
from funding_support import Funding

pytestmark = pytest.mark.integration


async def sponsored(funding: Funding, *amounts: int) -> tuple[UUID, list[UUID]]:
    family = await funding.upstream.enrol()
    await funding.upstream.settled(funding.app)
    donors = []
    for amount in amounts:
        donor = await funding.donor(received_rp=amount)
        response = await funding.sponsor(donor, family, amount)
        assert response.status_code == 201, response.text
        donors.append(donor)
    return family, donors


async def test_the_sponsorships_pay_food_then_distribution_and_the_statements_show_them_apart(
    funding: Funding,
) -> None:
    family, (first, second) = await sponsored(funding, 150_000, 1_000_000)
    up = funding.upstream
    plan = (await up.send(up.opened(family))).stream_id
    # Seven days in Maluku: Rp140,000 of food and Rp35,000 to bring it.
    await up.send(up.delivered(plan, 140_000).model_copy(update={"distribution_rp": 35_000}))
    await up.settled(funding.app)

    older, newer = await funding.statement(first), await funding.statement(second)
    assert (older["drawn_rp"], older["drawn_food_rp"], older["drawn_distribution_rp"]) == (150_000, 140_000, 10_000)
    assert (newer["drawn_rp"], newer["drawn_food_rp"], newer["drawn_distribution_rp"]) == (25_000, 0, 25_000)
    assert older["allocated_rp"] == older["drawn_rp"] + older["remaining_rp"]
    family_funding = await funding.family(family)
    assert (family_funding["drawn_rp"], family_funding["drawn_distribution_rp"]) == (175_000, 35_000)
    row = await funding.pool.fetchrow(
        "select value_rp, distribution_rp, drawn_rp, shortfall_rp from funding_deliveries"
    )
    assert tuple(row) == (140_000, 35_000, 175_000, 0)


async def test_what_no_sponsorship_pays_of_food_and_distribution_is_unfunded_distribution_first(
    funding: Funding,
) -> None:
    family, [donor] = await sponsored(funding, 150_000)
    up = funding.upstream
    plan = (await up.send(up.opened(family))).stream_id
    await up.send(up.delivered(plan, 140_000).model_copy(update={"distribution_rp": 35_000}))
    await up.settled(funding.app)

    statement = await funding.statement(donor)
    assert (statement["drawn_rp"], statement["drawn_distribution_rp"]) == (150_000, 10_000)
    [unfunded] = await funding.pool.fetch("select data from events where event_type = 'DeliveryUnfunded'")
    data = json.loads(unfunded["data"]) if isinstance(unfunded["data"], str) else unfunded["data"]
    assert (data["value_rp"], data["distribution_rp"], data["drawn_rp"], data["unfunded_rp"]) == (
        140_000,
        35_000,
        150_000,
        25_000,
    )
    assert data["unfunded_distribution_rp"] == 25_000
