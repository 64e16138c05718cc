"""Reporting's money reconciles with funding's: every delivered rupiah is drawn from a sponsorship
or reported unfunded (`delivered_rp` = `drawn_rp` + `unfunded_rp`), and interventions, given in
kind, add up by source to `interventions_rp` with the donors' statements.

Funding and reporting run as real processes on one nats-server; donors give and sponsor through
funding's API, the registry's and aid's facts are published here as those services would. One
family's delivery costs more than funding holds for it (aid's budget said yes, funding had less:
the case a release racing a late delivery makes), so funding draws what there is and publishes
DeliveryUnfunded for the rest.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import httpx
import pytest
from reporting_support import enrolled_families, funding_and_reporting, publish

from shared.auth import issue_token
from shared.testing import TEST_SIGNING_KEY, wait_until
from shared.testing.funding_http import new_donor, sponsor

pytestmark = pytest.mark.integration

ADMIN = {"Authorization": f"Bearer {issue_token(TEST_SIGNING_KEY, role='admin', sub='admin-reconciles')}"}


async def test_delivered_equals_drawn_plus_unfunded_in_reporting(service_process: Any, nats_url: str) -> None:
    nc, js, funding, reporting = await funding_and_reporting(service_process, nats_url)
    today = date.today()
    p, (full, short) = await enrolled_families(js, 2)
    async with httpx.AsyncClient(base_url=funding.url, timeout=10) as http:
        donor = await new_donor(http, ADMIN, "csr", 3_000_000, today)
        assert await sponsor(http, ADMIN, donor, full, 2_700_000, today, wait=30)
        assert await sponsor(http, ADMIN, donor, short, 300_000, today)

        # Aid: both plans deliver; the short family's 30 days (Rp450,000) exceed its Rp300,000.
        start = len(p.published)
        plans = [p.open_plan(f, on=2) for f in (full, short)]
        p.deliver(plans[0], first_day=2, days=10, on=2)
        p.deliver(plans[1], first_day=2, days=30, on=2)
        await publish(js, p.published[start:])

        async with httpx.AsyncClient(base_url=reporting.url, timeout=10) as rep:
            seen: list[Any] = []

            async def reconciled() -> bool:
                city, aid = (await rep.get("/funding")).json(), (await rep.get("/aid")).json()
                seen[:] = [
                    aid["delivered_rp"],
                    city["drawn_rp"],
                    city["unfunded_rp"],
                    aid["drawn_rp"],
                    aid["unfunded_rp"],
                ]
                return seen == [600_000, 450_000, 150_000, 450_000, 150_000]

            try:
                await wait_until(reconciled, 30, interval=0.3, message="reporting shows the unfunded rest")
            except TimeoutError:
                raise AssertionError(f"delivered, drawn, unfunded (funding), drawn, unfunded (aid): {seen}") from None
        statement = (await http.get(f"/donors/{donor}", headers=ADMIN)).json()
    await nc.close()
    # The donor's statement shows what its money paid; the rest was paid by no one.
    assert statement["drawn_rp"] == 450_000
    assert seen[0] == seen[1] + seen[2]


async def test_interventions_reconcile_with_the_donors_statements_and_the_in_kind_sources(
    service_process: Any, nats_url: str
) -> None:
    """Interventions never draw on sponsorships: what the donors' statements show given in kind,
    plus what organisations and unnamed sources gave, is reporting's interventions_rp."""
    nc, js, funding, reporting = await funding_and_reporting(service_process, nats_url)
    today = date.today()
    p, (family,) = await enrolled_families(js, 1)
    async with httpx.AsyncClient(base_url=funding.url, timeout=10) as http:
        donors = [
            await new_donor(http, ADMIN, "csr", 2_700_000, today),
            await new_donor(http, ADMIN, "community", 0, today),
        ]
        assert await sponsor(http, ADMIN, donors[0], family, 2_700_000, today, wait=30)
        start = len(p.published)
        plan = p.open_plan(family, on=2)
        p.deliver(plan, first_day=2, days=7, on=2)
        p.intervene(plan, "house_repair", 3_000_000, on=3, source_donor_id=UUID(donors[1]))
        p.intervene(plan, "clean_water", 750_000, on=3, source_organisation="pdam")
        p.intervene(plan, "health_referral", 0, on=4)
        p.intervene(plan, "sanitation", 1_200_000, on=4)
        await publish(js, p.published[start:])

        async def statements() -> list[dict[str, Any]]:
            return [(await http.get(f"/donors/{d}", headers=ADMIN)).json() for d in donors]

        async with httpx.AsyncClient(base_url=reporting.url, timeout=10) as rep:
            seen: list[Any] = []

            async def reconciled() -> bool:
                aid = (await rep.get("/aid")).json()
                s = await statements()
                from_donors = sum(x["in_kind_interventions_rp"] for x in s)
                drawn_for_interventions = sum(x["drawn_rp"] for x in s) - aid["delivered_rp"]
                others = sum(x["value_rp"] for x in aid["interventions_by_source"] if x["source_type"] != "donor")
                seen[:] = [
                    aid["interventions_rp"],
                    from_donors,
                    others,
                    drawn_for_interventions,
                    aid["interventions_by_source"],
                ]
                return bool(aid["interventions"] == 4 and aid["interventions_rp"] == from_donors + others)

            try:
                await wait_until(reconciled, 30, interval=0.3, message="interventions reconcile")
            except TimeoutError:
                raise AssertionError(
                    f"interventions_rp, donors' in kind, others, drawn for them, sources: {seen}"
                ) from None
    await nc.close()
    assert seen[:4] == [4_950_000, 3_000_000, 1_950_000, 0]  # nothing drawn from the sponsorship for them
    assert [(x["source_type"], x["source"], x["value_rp"]) for x in seen[4]] == [
        ("donor", donors[1], 3_000_000),
        ("organisation", "pdam", 750_000),
        ("unnamed", "", 1_200_000),
    ]
