"""`genting replay funding`: rebuild the read model (donors, contributions, sponsorships views) from
funding's own event store. The feeds' state (families, plans, deliveries paid) is decision input
learned from other services and is left alone: replaying never pays or releases anything again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg

from services.funding.read_model import VIEW_TABLES, project
from services.funding.repository import DONORS, SPONSORSHIPS
from services.funding.settings import FundingSettings
from shared.db import create_pool, migrate

MIGRATIONS = Path(__file__).parent / "migrations"
PAGE = 1000


async def rebuild(pool: asyncpg.Pool) -> int:
    """Truncate and re-project every event in one transaction: readers see the old or the new model.

    Donor streams first, then sponsorship streams: each stream in version order, and the
    projection is additive per stream, so this equals the live model however commits interleaved.
    """
    count = 0
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"truncate {', '.join(VIEW_TABLES)}")
        for store in (DONORS, SPONSORSHIPS):
            position = 0
            while events := await store.read_all(conn, position, PAGE):
                for stored in events:
                    await project(conn, stored.envelope())
                position = events[-1].global_position
                count += len(events)
    return count


async def main() -> None:
    settings = FundingSettings.from_env(service="funding")
    await migrate(settings.database_url, MIGRATIONS)
    pool = await create_pool(settings.database_url)
    try:
        count = await rebuild(pool)
    finally:
        await pool.close()
    print(f"funding: read model rebuilt from the event store ({count} events)")


if __name__ == "__main__":
    asyncio.run(main())
