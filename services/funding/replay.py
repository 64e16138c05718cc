"""`genting replay funding`: rebuild the read model (donors, contributions, sponsorships views) from
funding's own event store. What the policies learned (families, plans, deliveries paid) is decision
input from other services and is left alone: replaying never pays or releases anything again.
The schema is the app's startup's business (shared.db.migrate), not this module's."""

from __future__ import annotations

import asyncio

import asyncpg

from services.funding import projections
from services.funding.app import repositories
from services.funding.settings import FundingSettings
from shared.db import create_pool


async def rebuild(pool: asyncpg.Pool) -> int:
    """Truncate and re-project every event in one transaction: readers see the old or the new model.

    Donor streams first, then sponsorship streams: each stream in version order, and the
    projection is additive per stream, so this equals the live model however commits interleaved.
    """
    async with pool.acquire() as conn, conn.transaction():
        return await projections.rebuild(conn, repositories())


async def main() -> None:
    settings = FundingSettings.from_env()
    pool = await create_pool(settings.database_url)
    try:
        count = await rebuild(pool)
    finally:
        await pool.close()
    print(f"funding: read model rebuilt from the event store ({count} events)")


if __name__ == "__main__":
    asyncio.run(main())
