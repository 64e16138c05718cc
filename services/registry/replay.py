"""`genting replay registry`: rebuild the inline read model (families_view) from the event store.
Rebuilds read models only: the schema is the service's start's (`shared.db.migrate`). The KK/NIK
claims are not a read model (they decide commands) and stay as they are."""

from __future__ import annotations

import asyncio
from functools import reduce

import asyncpg

from services.registry.app import Registry, registry
from services.registry.settings import load_settings
from shared.db import create_pool


async def rebuild(pool: asyncpg.Pool, parts: Registry) -> int:
    """Truncate and refold every family, in one transaction: readers see the old or the new model."""
    families = parts.families
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("truncate families_view")
        ids = await families.stream_ids(conn)
        for family_id in ids:
            facts = await families.facts(conn, family_id, await families.store.load(conn, family_id))
            await parts.view(conn, reduce(families.evolve, facts, families.initial()), facts)
    return len(ids)


async def main() -> None:
    settings = load_settings()
    pool = await create_pool(settings.database_url)
    try:
        count = await rebuild(pool, registry(settings))
    finally:
        await pool.close()
    print(f"registry: families_view rebuilt from the event store ({count} families)")


if __name__ == "__main__":
    asyncio.run(main())
