"""`genting replay registry`: rebuild the inline read model (families_view) from the event store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg

from services.registry.read_model import write_view
from services.registry.repository import FamilyRepository
from services.registry.vault import KeyVault
from shared.db import create_pool, migrate
from shared.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


async def rebuild(pool: asyncpg.Pool, vault: KeyVault) -> int:
    """Truncate and refold every family, in one transaction: readers see the old or the new model."""
    repo = FamilyRepository(vault)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("truncate families_view")
        ids = [
            r["stream_id"]
            for r in await conn.fetch("select distinct stream_id from events where stream_type = 'family'")
        ]
        for family_id in ids:
            state = await repo.load(conn, family_id)
            await write_view(conn, vault, state, await vault.key_for(conn, family_id))
    return len(ids)


async def main() -> None:
    settings = Settings.from_env(service="registry")
    await migrate(settings.database_url, MIGRATIONS)
    pool = await create_pool(settings.database_url)
    try:
        count = await rebuild(pool, KeyVault(settings.data_key_bytes()))
    finally:
        await pool.close()
    print(f"registry: families_view rebuilt from the event store ({count} families)")


if __name__ == "__main__":
    asyncio.run(main())
