"""`genting backup` / `genting restore` of the registry: a dump taken before an erasure, restored,
does not make the erased family readable again (the erasure log on the registry's stream is
re-applied), and what was recorded after the dump comes back from the stream (its public facts:
personal data never rides the bus)."""

from __future__ import annotations

from pathlib import Path

import pytest
from nats.aio.client import Client
from recovery_support import (
    MEDONO,
    erase,
    family,
    published,
    register,
    registry_settings,
    running_registry,
    token,
)

from genting.backup import backup, restore
from genting.recovery import event_ids_on, reconcile_after_restore
from services.registry.app import registry as registry_parts
from services.registry.replay import rebuild
from shared.db import connect, create_pool

pytestmark = pytest.mark.integration


async def test_a_restore_from_before_an_erasure_leaves_the_family_erased_and_loses_no_event(
    database_url: str, js_clean: str, nc: Client, tmp_path: Path
) -> None:
    settings = registry_settings(database_url, js_clean)
    async with running_registry(settings) as registry:
        (erased, erased_body), (kept, kept_body) = await register(registry, 1), await register(registry, 2)
        await published(registry)
        dump = backup(database_url, tmp_path / "registry.dump")
        await erase(registry, erased)
        late, _ = await register(registry, 3)
        await published(registry)
        shown = (await family(registry, erased)).text
        assert erased_body["head_name"] not in shown

    restore(database_url, dump)
    conn = await connect(database_url)
    try:
        # The dump's state: the family's key is back, so its personal data would be readable.
        assert await conn.fetchval("select count(*) from family_keys where family_id = $1", erased) == 1
        assert await conn.fetchval("select count(*) from events where stream_id = $1", late) == 0

        js = nc.jetstream()
        done = await reconcile_after_restore("registry", settings, conn, js)
        assert done.recovered == 2 and done.conflicts == 0  # the erasure and the late registration
        assert done.erased == 1
        assert done.republished is not None and done.republished.published == 0  # the bus lacked nothing
        assert await conn.fetchval("select count(*) from family_keys where family_id = $1", erased) == 0
        assert await event_ids_on(js, "registry") == {
            r["event_id"] for r in await conn.fetch("select event_id from events")
        }
    finally:
        await conn.close()
    pool = await create_pool(database_url)
    try:
        await rebuild(pool, registry_parts(settings))  # `genting replay registry`, as restore runs it
    finally:
        await pool.close()

    async with running_registry(settings) as registry:
        answer = await family(registry, erased)
        assert answer.status_code == 200 and answer.json()["personal_data_erased"] is True
        for value in (erased_body["head_name"], erased_body["kk_number"], erased_body["address"]):
            assert value not in answer.text
        assert kept_body["head_name"] in (await family(registry, kept)).text  # the other family is untouched
        assert (await family(registry, late)).status_code == 200  # recorded after the dump: back
        # The erased family's KK is free again, as after the erasure itself.
        again = await registry.post("/families", json=erased_body, headers=token("kader", MEDONO))
        assert again.status_code == 201, again.text
