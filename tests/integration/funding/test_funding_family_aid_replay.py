"""Funding's replay rebuilds the donors' view of a family's aid (plans and deliveries) from what
aid's stream holds now (read once through shared.stream_reader), as the live feed built it."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from funding_support import Funding

from services.funding import replay

pytestmark = pytest.mark.integration

TABLES = ("family_aid_plans", "family_aid_deliveries")


async def family_aid(pool: asyncpg.Pool) -> dict[str, list[dict[str, Any]]]:
    return {t: [dict(r) for r in await pool.fetch(f"select * from {t} order by 1")] for t in TABLES}


async def test_the_replay_rebuilds_the_familys_aid_as_the_feed_built_it(funding: Funding) -> None:
    up = funding.upstream
    family = await up.enrol()
    opened = up.opened(family)
    await up.send(opened)
    for _ in range(2):
        await up.send(up.delivered(opened.plan_id, 105_000))
    await up.send(up.completed(opened.plan_id))
    await up.settled(funding.app)
    live = await family_aid(funding.pool)
    assert len(live["family_aid_plans"]) == 1 and len(live["family_aid_deliveries"]) == 2

    await replay.rebuild(funding.pool, up.js)
    assert await family_aid(funding.pool) == live
