"""A donor's name and contact, its pledge notes and its bank references are its stream's private
parts (the kernel's `Fact.private`): sealed in the event store's `sealed` column under the donor's
own key, opened on the donor's routes, never on the bus, and closed for good by the donor's
erasure. What an older release kept beside the streams moves into the events at start-up."""

from __future__ import annotations

import io
import json
from typing import Any
from uuid import UUID

import nats
import pytest
from funding_support import ADMIN, Funding, token
from nats.js.api import DeliverPolicy
from pypdf import PdfReader

from services.funding.app import create_app
from services.funding.settings import FundingSettings
from shared.crypto import AeadStreamCipher
from shared.testing.apps import serving, settings_for

pytestmark = pytest.mark.integration

NAME, CONTACT = "Ibu Kartini Lestari", "0812-7777-1234"
NOTE, REFERENCE = "untuk cucu di Podosugih", "BRI-99123"
SECRETS = ("Kartini", "7777", "Podosugih", "BRI-99123")


def pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def sealed_parts(funding: Funding, stream_id: UUID) -> dict[str, bytes | None]:
    rows = await funding.pool.fetch("select event_type, sealed from events where stream_id = $1", stream_id)
    return {r["event_type"]: r["sealed"] for r in rows}


async def opened(funding: Funding, donor: UUID, blob: bytes) -> dict[str, Any]:
    """A blob opened with the donor's own key, as the repository's cipher does."""
    async with funding.pool.acquire() as conn:
        cipher = await funding.app.state.donor_data.cipher.for_stream(conn, donor, create=False)
    assert cipher is not None
    value: dict[str, Any] = cipher.open(blob)
    return value


async def references_beside(funding: Funding) -> int:
    """Bank references sealed beside the stream, as older releases kept them."""
    sql = "select count(*) from contribution_receipts where sealed_reference is not null"
    return int(await funding.pool.fetchval(sql))


async def published(nats_url: str) -> str:
    """Every message on funding's stream, as text."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        total = (await js.stream_info("GENTING_FUNDING")).state.messages
        sub = await js.subscribe(
            "genting.funding.>", stream="GENTING_FUNDING", ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
        )
        return json.dumps([json.loads((await sub.next_msg(timeout=5)).data) for _ in range(total)])
    finally:
        await nc.close()


async def a_donor_with_a_pledge_note_and_a_contribution(funding: Funding) -> tuple[UUID, str, str]:
    registered = await funding.http.post(
        "/donors", json={"name": NAME, "contact": CONTACT, "donor_type": "individual"}, headers=ADMIN
    )
    assert registered.status_code == 201, registered.text
    donor = UUID(registered.json()["donor_id"])
    body = {"amount_rp": 500_000, "note": NOTE}
    pledge = await funding.http.post(f"/donors/{donor}/pledges", json=body, headers=ADMIN)
    assert pledge.status_code == 201, pledge.text
    contribution = await funding.contribute(donor, 1_000_000, reference=REFERENCE)
    assert contribution.status_code == 201, contribution.text
    return donor, pledge.json()["pledge_id"], contribution.json()["contribution_id"]


async def test_a_donors_private_text_is_sealed_in_its_events_read_back_and_closed_by_erasure(
    funding: Funding, js_clean: str
) -> None:
    donor, pledge, contribution = await a_donor_with_a_pledge_note_and_a_contribution(funding)

    # (a) In the events' private column, sealed under the donor's key; nothing in the side tables.
    parts = await sealed_parts(funding, donor)
    for event_type in ("DonorRegistered", "PledgeMade", "ContributionReceived"):
        blob = parts[event_type]
        assert blob is not None and not any(s.encode() in blob for s in SECRETS), event_type
    assert await opened(funding, donor, parts["DonorRegistered"] or b"") == {
        "name": NAME,
        "contact": CONTACT,
        "public_name_consent": False,
    }
    assert await opened(funding, donor, parts["PledgeMade"] or b"") == {"note": NOTE}
    assert await opened(funding, donor, parts["ContributionReceived"] or b"") == {"reference": REFERENCE}
    for table in ("donor_sealed", "donor_personal", "pledge_notes"):
        assert await funding.count(table) == 0, table
    assert await references_beside(funding) == 0
    data = await funding.pool.fetch("select data::text from events where stream_id = $1", donor)
    assert not any(s in r["data"] for r in data for s in SECRETS)  # the public data names no one

    # (b) Read back on the donor's routes: the admin and the donor itself, never an auditor.
    for headers in (ADMIN, token("donor", donor)):
        statement = (await funding.http.get(f"/donors/{donor}", headers=headers)).json()
        assert (statement["name"], statement["contact"]) == (NAME, CONTACT)
        assert statement["pledge_notes"] == [{"pledge_id": pledge, "note": NOTE}]
    audited = await funding.http.get(f"/donors/{donor}", headers=token("auditor"))
    assert audited.status_code == 200 and not any(s in audited.text for s in SECRETS)
    receipt = await funding.http.get(f"/donors/{donor}/contributions/{contribution}/receipt", headers=ADMIN)
    assert NAME in pdf_text(receipt.content) and REFERENCE in pdf_text(receipt.content)

    # (d) Nothing of them on the bus.
    wire = await published(js_clean)
    assert "DonorRegistered" in wire and "PledgeMade" in wire and "ContributionReceived" in wire
    assert not any(s in wire for s in SECRETS)

    # (c) The erasure: the key and the sealed parts go, the routes answer as before without them.
    erased = await funding.http.delete(f"/donors/{donor}/personal-data", headers=ADMIN)
    assert erased.status_code == 200, erased.text
    assert set((await sealed_parts(funding, donor)).values()) == {None}
    assert await funding.pool.fetchval("select count(*) from donor_keys where donor_id = $1", donor) == 0
    statement = await funding.statement(donor)
    assert (statement["name"], statement["contact"], statement["pledge_notes"]) == (None, None, [])
    assert (statement["pledged_rp"], statement["received_rp"]) == (500_000, 1_000_000)  # the money stays
    receipt = await funding.http.get(f"/donors/{donor}/contributions/{contribution}/receipt", headers=ADMIN)
    assert receipt.status_code == 200 and not any(s in pdf_text(receipt.content) for s in SECRETS)
    again = await funding.http.post(f"/donors/{donor}/pledges", json={"amount_rp": 1_000, "note": "x"}, headers=ADMIN)
    assert again.status_code == 409  # nothing personal is kept for it again
    assert (await funding.contribute(donor, 1_000, reference="BRI-2")).status_code == 409
    plain = await funding.http.post(f"/donors/{donor}/pledges", json={"amount_rp": 1_000}, headers=ADMIN)
    assert plain.status_code == 201  # a pledge without a note keeps nothing personal
    assert await funding.pool.fetchval("select count(*) from donor_keys where donor_id = $1", donor) == 0


async def test_private_text_an_older_release_kept_beside_the_streams_moves_into_the_events_at_start_up(
    funding: Funding, database_url: str, js_clean: str
) -> None:
    """The side tables as an older release wrote them (sealed under the same keys, bound to the
    donor's or the family's id; a donor from before keys in plaintext) move into the events when
    the service starts, and the routes read them there; the side tables are left empty, and a
    second run moves nothing."""
    from services.funding.family_notes import move_side_notes

    pool = funding.pool
    donor, pledge, contribution = await a_donor_with_a_pledge_note_and_a_contribution(funding)
    old = await funding.donor(name="Pak Darmo", donor_type="individual")  # from before donor keys
    old_pledge = await funding.http.post(f"/donors/{old}/pledges", json={"amount_rp": 1, "note": "lama"}, headers=ADMIN)
    family = await funding.upstream.enrol()
    await funding.upstream.settled(funding.app)
    sponsored = await funding.sponsor(donor, family, 400_000, note="rumah biru")
    assert sponsored.status_code == 201, sponsored.text

    async with pool.acquire() as conn:
        key = await funding.app.state.donor_data.keys.key(conn, donor)
        family_key = await funding.app.state.handlers.family_keys.keys.key(conn, family)
    by_donor, by_family = AeadStreamCipher(key, donor), AeadStreamCipher(family_key, family)
    await pool.execute(
        "insert into donor_sealed (donor_id, sealed, public_name_consent) values ($1, $2, true)",
        donor,
        by_donor.seal({"name": NAME, "contact": CONTACT}),
    )
    await pool.execute(
        "insert into pledge_notes (pledge_id, donor_id, sealed) values ($1, $2, $3)",
        UUID(pledge),
        donor,
        by_donor.seal({"note": NOTE}),
    )
    await pool.execute(
        "update contribution_receipts set sealed_reference = $2 where contribution_id = $1",
        UUID(contribution),
        by_donor.seal({"reference": REFERENCE}),
    )
    await pool.execute(
        "insert into sponsorship_notes (sponsorship_id, family_id, sealed) values ($1, $2, $3)",
        UUID(sponsored.json()["sponsorship_id"]),
        family,
        by_family.seal({"note": "rumah biru"}),
    )
    await pool.execute("insert into donor_personal (donor_id, name, contact) values ($1, 'Pak Darmo', null)", old)
    await pool.execute(
        "insert into pledge_notes (pledge_id, donor_id, note) values ($1, $2, 'lama')",
        UUID(old_pledge.json()["pledge_id"]),
        old,
    )
    await pool.execute("delete from donor_keys where donor_id = $1", old)
    await pool.execute("update events set sealed = null")
    assert (await funding.statement(donor))["name"] is None  # nothing in the events yet

    # The upgraded release starts (a second instance on the same database): start-up moves them in.
    upgraded = create_app(settings_for(FundingSettings, database_url, js_clean, service="funding"))
    async with serving(upgraded, "funding") as http:
        restarted = Funding(http, upgraded, funding.upstream)
        for table in ("donor_sealed", "donor_personal", "pledge_notes", "sponsorship_notes"):
            assert await funding.count(table) == 0, table
        assert await references_beside(funding) == 0
        statement = await restarted.statement(donor)
        assert (statement["name"], statement["contact"]) == (NAME, CONTACT)
        assert statement["pledge_notes"] == [{"pledge_id": pledge, "note": NOTE}]
        assert (await restarted.statement(old))["name"] == "Pak Darmo"
        assert (await restarted.statement(old))["pledge_notes"][0]["note"] == "lama"
        assert {"donor_type": "individual", "name": NAME} in (await http.get("/public/donor-names")).json()
        receipt = await http.get(f"/donors/{donor}/contributions/{contribution}/receipt", headers=ADMIN)
        assert REFERENCE in pdf_text(receipt.content)
        (line,) = (await restarted.family(family))["sponsorships"]
        assert line["note"] == "rumah biru"
    sealed = await sealed_parts(funding, UUID(sponsored.json()["sponsorship_id"]))
    assert sealed["FamilySponsored"] is not None and b"biru" not in sealed["FamilySponsored"]
    assert await funding.app.state.donor_data.move_to_events(pool) == 0  # idempotent: nothing left
    assert await move_side_notes(pool, funding.app.state.handlers.family_keys) == 0


async def test_without_a_data_key_nothing_personal_is_kept_and_the_refusal_names_the_field(
    database_url: str, js_clean: str
) -> None:
    """No key, no cipher: a registration (its name is private) is 422 naming `name`, and nothing is
    stored, rather than a donor recorded without its name or with it in the clear."""
    app = create_app(settings_for(FundingSettings, database_url, js_clean, service="funding", data_key=""))
    async with serving(app, "funding") as http:
        refused = await http.post("/donors", json={"name": NAME, "donor_type": "individual"}, headers=ADMIN)
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["name"]
        assert await app.state.pool.fetchval("select count(*) from events") == 0
