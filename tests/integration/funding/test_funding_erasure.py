"""Family-bound free text (a sponsorship's note) is `FamilySponsored`'s private part, sealed in the
event store under a key of the family's own in funding's `family_keys`, never published; the
registry's PersonalDataErased destroys that key, after which no answer shows the note and the
ciphertext is gone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import nats
import pytest
from funding_support import ADMIN, MEDONO, TODAY, Funding, token

from genting.backup import backup, restore
from genting.recovery import reconcile_after_restore
from shared.contracts.registry import PersonalDataErased
from shared.db import connect
from shared.testing import wait_until
from shared.testing.bus import messages_at

pytestmark = pytest.mark.integration

NOTE = "Ibu Ani, rumah di belakang masjid, anak kedua sering sakit"


async def a_family_sponsored_with_a_note(funding: Funding) -> tuple[UUID, UUID]:
    """An enrolled family, sponsored with NOTE (free text about the family) by a donor with money."""
    donor = await funding.donor(received_rp=3_000_000)
    family = await funding.upstream.enrol()
    await funding.upstream.settled(funding.app)
    created = await funding.sponsor(donor, family, 1_000_000, note=NOTE)
    assert created.status_code == 201, created.text
    return donor, family


async def sealed_notes(funding: Funding, family: UUID) -> list[bytes]:
    """The sealed parts of the family's sponsorship events (its notes, sealed)."""
    rows = await funding.pool.fetch(
        "select sealed from events where stream_type = 'sponsorship' and data->>'family_id' = $1"
        " and sealed is not null",
        str(family),
    )
    return [r["sealed"] for r in rows]


async def test_a_sponsorship_note_is_sealed_per_family_and_shredded_on_erasure(funding: Funding, js_clean: str) -> None:
    up = funding.upstream
    _, family = await a_family_sponsored_with_a_note(funding)

    (line,) = (await funding.family(family))["sponsorships"]
    assert line["note"] == NOTE  # an admin reads it
    agency = await funding.http.get(f"/families/{family}/funding", headers=token("agency"))
    assert agency.status_code == 200 and NOTE not in agency.text
    (sealed,) = await sealed_notes(funding, family)  # the event's private part
    assert NOTE.encode() not in sealed and b"masjid" not in sealed  # at rest: ciphertext
    assert await funding.count("family_keys") == 1 and await funding.count("sponsorship_notes") == 0

    # Never on the bus.
    wire = json.dumps(await messages_at(js_clean, "GENTING_FUNDING"))
    assert "masjid" not in wire and "Ani" not in wire

    await up.send(PersonalDataErased(family_id=family, kelurahan_code=MEDONO, erased_on=TODAY, erased_by="admin-test"))
    await up.settled(funding.app)
    assert await funding.count("family_keys") == 0
    assert await sealed_notes(funding, family) == []  # the ciphertext itself is gone
    after = await funding.http.get(f"/families/{family}/funding", headers=ADMIN)
    assert after.status_code == 200 and NOTE not in after.text
    assert after.json()["sponsored_rp"] == 1_000_000  # the money's history stays


async def test_an_erased_family_keeps_a_tombstone_and_a_later_note_makes_no_new_key(funding: Funding) -> None:
    """After the erasure no sponsorship note can bring a key for the family back: a note is
    refused (naming the field, changing nothing); a sponsorship without one is still taken."""
    up = funding.upstream
    donor = await funding.donor(received_rp=3_000_000)
    family = await up.enrol()
    await up.send(PersonalDataErased(family_id=family, kelurahan_code=MEDONO, erased_on=TODAY, erased_by="admin-test"))
    await up.settled(funding.app)
    assert await funding.pool.fetchval("select count(*) from erased_families where family_id = $1", family) == 1

    body = {"donor_id": str(donor), "family_id": str(family), "amount_rp": 1_000_000, "start_date": TODAY.isoformat()}
    refused = await funding.http.post("/sponsorships", json=body | {"note": NOTE}, headers=ADMIN)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["note"]
    assert await funding.count("family_keys") == 0
    assert (await funding.family(family))["sponsorships"] == []  # nothing was taken

    taken = await funding.http.post("/sponsorships", json=body, headers=ADMIN)
    assert taken.status_code == 201, taken.text
    assert await funding.count("family_keys") == 0 and await funding.count("sponsorship_notes") == 0


async def test_an_erasure_ahead_of_a_missing_registry_event_destroys_the_key_at_once(funding: Funding) -> None:
    up = funding.upstream
    _, family = await a_family_sponsored_with_a_note(funding)
    up.envelope(up.exited(family))  # version 2, never published (lost, or late)
    await up.send(PersonalDataErased(family_id=family, kelurahan_code=MEDONO, erased_on=TODAY, erased_by="admin-test"))
    await wait_until(
        lambda: funding.pool.fetchval(
            "select count(*) = 0 from events where data->>'family_id' = $1 and sealed is not null", str(family)
        ),
        timeout=10.0,
        message="the note shredded across the gap",
    )
    assert await funding.count("family_keys") == 0


async def test_a_restore_from_before_the_erasure_shreds_the_note_again(
    funding: Funding, database_url: str, js_clean: str, nats_server: Any, tmp_path: Path
) -> None:
    """The dump holds the family's key and sealed note; `genting restore` re-applies the erasure the
    registry published since, from its stream, so the note is gone again and the tombstone back.
    It runs with the NATS admin, as in a deployment (`genting restore funding --reconcile` with the
    admin's GENTING_NATS_URL): a service's own user may not create the consumers it reads with."""
    up = funding.upstream
    donor, family = await a_family_sponsored_with_a_note(funding)
    dump = backup(database_url, tmp_path / "funding.dump")
    await up.send(PersonalDataErased(family_id=family, kelurahan_code=MEDONO, erased_on=TODAY, erased_by="admin-test"))
    await up.settled(funding.app)
    assert await funding.count("family_keys") == 0

    restore(database_url, dump)
    assert await funding.count("family_keys") == 1  # the dump's: the note would open again
    conn = await connect(database_url)
    nc = await nats.connect(nats_server.url)
    try:
        done = await reconcile_after_restore("funding", funding.app.state.settings, conn, nc.jetstream())
    finally:
        await nc.close()
        await conn.close()
    assert done.erased == 1
    assert sorted(done.consumers_reset) == ["funding-aid", "funding-registry"]
    assert await funding.count("family_keys") == 0 and await sealed_notes(funding, family) == []
    assert await funding.count("erased_families") == 1
    refused = await funding.sponsor(donor, family, 1_000_000, note=NOTE)
    assert refused.status_code == 422  # the tombstone is back: no note, so no key, for the family
