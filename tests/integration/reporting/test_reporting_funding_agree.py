"""Reporting's city totals equal the sum of the donors' statements in funding.

Funding and reporting run as real processes on one nats-server; donors give and sponsor through
funding's API, the registry's and aid's facts are published here as those services would (a
delivery funding draws for, an exit whose plan closes and whose unspent money funding releases).
`allocated_rp` has one meaning in both: sponsored less released (drawn money stays allocated).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from reporting_support import enrolled_families, funding_and_reporting, publish

from shared.auth import issue_token
from shared.testing import TEST_SIGNING_KEY, wait_until
from shared.testing.funding_http import new_donor, sponsor

pytestmark = pytest.mark.integration

ADMIN = {"Authorization": f"Bearer {issue_token(TEST_SIGNING_KEY, role='admin', sub='admin-agree')}"}
FIELDS = ("received_rp", "allocated_rp", "drawn_rp", "available_rp")


async def test_the_city_totals_equal_the_sum_of_the_donors_statements(service_process: Any, nats_url: str) -> None:
    nc, js, funding, reporting = await funding_and_reporting(service_process, nats_url)
    today = date.today()
    p, families = await enrolled_families(js, 2)
    async with httpx.AsyncClient(base_url=funding.url, timeout=10) as http:
        donors = [
            await new_donor(http, ADMIN, "csr", 6_000_000, today),
            await new_donor(http, ADMIN, "individual", 2_000_000, today),
        ]
        assert await sponsor(http, ADMIN, donors[0], families[0], 2_700_000, today, wait=30)
        assert await sponsor(http, ADMIN, donors[1], families[1], 1_500_000, today)
        assert await sponsor(http, ADMIN, donors[0], families[1], 1_200_000, today)

        # Aid: both plans open; the first is delivered to; the second family exits, its plan closes.
        start = len(p.published)
        plans = [p.open_plan(f, on=2) for f in families]
        p.deliver(plans[0], first_day=2, days=10, on=10)
        p.exit(families[1], on=10)
        p.close(plans[1], on=10, outcome="exited", delivered_rp=0, days_covered=0, unspent_rp=2_700_000)
        # AidPlanOpened's dates: the programme helper's are relative to its start.
        await publish(js, p.published[start:])

        async def statements() -> list[dict[str, Any]]:
            return [(await http.get(f"/donors/{d}", headers=ADMIN)).json() for d in donors]

        async def settled() -> bool:
            s = await statements()
            return bool(sum(x["drawn_rp"] for x in s) == 150_000 and sum(x.get("released_rp", 0) for x in s) >= 0)

        await wait_until(settled, 30, interval=0.2, message="funding drew for the delivery")
        async with httpx.AsyncClient(base_url=reporting.url, timeout=10) as rep:
            seen: list[Any] = []

            async def agree() -> bool:
                city = (await rep.get("/funding")).json()
                donor_sum = {f: sum(s[f] for s in await statements()) for f in FIELDS}
                seen[:] = [{f: city[f] for f in FIELDS}, donor_sum, city["released_rp"]]
                return {f: city[f] for f in FIELDS} == donor_sum and city["released_rp"] == 2_700_000

            try:
                await wait_until(agree, 30, interval=0.3, message="reporting's totals equal the donors' statements")
            except TimeoutError:
                raise AssertionError(f"reporting, donors' sum, released: {seen}") from None
            city = (await rep.get("/funding")).json()
    await nc.close()
    # 5.4 jt sponsored, 2.7 jt released when the second family exited: 2.7 jt allocated, net.
    assert (city["received_rp"], city["allocated_rp"], city["drawn_rp"]) == (8_000_000, 2_700_000, 150_000)
    assert city["available_rp"] == 5_300_000
