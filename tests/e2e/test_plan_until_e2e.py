"""A programme whose plans run until the child is 23 months (GENTING_PLAN_UNTIL_CHILD_MONTHS=23 on
the registry), across the four services as real processes, over HTTP and NATS only: the family's
minimum is its days from enrolment to its youngest baduta's 23-month birthday, the fixed days'
minimum opens no plan, the plan ends the day before that birthday, and reporting's funding gap is
that family's own minimum until it is sponsored."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from programme_support import MEDONO, SERVICES, enrolled_family, staff, start_all, today

from services.registry.domain.validation import add_months
from shared.testing import wait_until
from shared.testing.funding_http import new_donor, sponsor
from shared.testing.registry_examples import family_body

pytestmark = pytest.mark.e2e

FIXED_MINIMUM_RP = 180 * 15_000


def bearer(role: str, kelurahan: str | None = None) -> dict[str, str]:
    return staff(role, kelurahan, test="plan-until-e2e")


ADMIN = bearer("admin")


@pytest.fixture
async def urls(service_process: Any) -> dict[str, str]:
    common = {"GENTING_PROGRAMME_START": (today() - timedelta(days=30)).isoformat()}
    return await start_all(service_process, common, registry={"GENTING_PLAN_UNTIL_CHILD_MONTHS": "23"})


async def test_a_family_is_planned_until_its_baduta_is_23_months(urls: dict[str, str]) -> None:
    registry, funding, aid, reporting = (urls[name] for name in SERVICES)
    day = datetime.now(ZoneInfo("Asia/Jakarta")).date()
    body = family_body(4343, day, MEDONO)
    born = date.fromisoformat(body["members"][1]["birth_date"])
    plan_until = add_months(born, 23)
    days = (plan_until - day).days  # enrolled today
    minimum = days * 15_000
    assert minimum > FIXED_MINIMUM_RP
    async with httpx.AsyncClient(timeout=15) as http:
        family_id = await enrolled_family(http, registry, body, bearer("kader", MEDONO), bearer("lurah", MEDONO))

        async def gap() -> dict[str, Any] | None:
            money: dict[str, Any] = (await http.get(f"{reporting}/funding")).json()
            return money if money["families_short"] == 1 else None

        money = await wait_until(gap, 20, interval=0.2, message="reporting reads the enrolment")
        assert (money["funding_gap_rp"], money["family_minimum_rp"]) == (minimum, FIXED_MINIMUM_RP)

        treasurer = bearer("treasurer")
        donor_id = await new_donor(
            http, ADMIN, "csr", minimum, day, name="PT Batik", contact=None, recorded_by=treasurer, at=funding
        )

        assert await sponsor(http, ADMIN, donor_id, family_id, FIXED_MINIMUM_RP, day, at=funding, wait=20)

        async def plans() -> list[dict[str, Any]]:
            found = await http.get(f"{aid}/plans", params={"family_id": family_id}, headers=ADMIN)
            items: list[dict[str, Any]] = found.json()["items"]
            return items

        async def sponsored_seen() -> bool:
            money = (await http.get(f"{reporting}/funding")).json()
            return bool(money["funding_gap_rp"] == minimum - FIXED_MINIMUM_RP)

        # The fixed days' minimum is not this family's: no plan opens from it.
        await wait_until(sponsored_seen, 20, interval=0.2, message="reporting reads the sponsorship")
        assert await plans() == []

        assert await sponsor(http, ADMIN, donor_id, family_id, minimum - FIXED_MINIMUM_RP, day, at=funding)

        async def opened() -> dict[str, Any] | None:
            items = await plans()
            return items[0] if items else None

        plan = await wait_until(opened, 20, interval=0.1, message="aid opens the family's plan")
        assert (plan["start_date"], plan["end_date"], plan["days"]) == (
            day.isoformat(),
            (plan_until - timedelta(days=1)).isoformat(),
            days,
        )
        assert plan["budget_rp"] == minimum

        async def no_gap() -> bool:
            money = (await http.get(f"{reporting}/funding")).json()
            return bool(money["funding_gap_rp"] == 0 and money["families_short"] == 0)

        await wait_until(no_gap, 20, interval=0.2, message="reporting counts the family funded")
