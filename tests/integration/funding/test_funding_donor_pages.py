"""What a donor sees of its money (CONTRACT.md, Funding): its families de-identified, a PDF
receipt per contribution whose code anyone can verify, and its own personal data sealed and
erasable while the money stays accounted."""

from __future__ import annotations

import io
from uuid import UUID

import pytest
from funding_support import ADMIN, MEDONO, TODAY, Funding, token
from pypdf import PdfReader

from shared.contracts.aid import DeliveryConfirmed

pytestmark = pytest.mark.integration


async def test_a_donor_sees_its_families_and_not_another_donors(funding: Funding) -> None:
    up = funding.upstream
    mine = await funding.donor(received_rp=3_000_000, name="Bu Sri")
    other = await funding.donor(received_rp=3_000_000, name="Pak Budi")
    family = await up.enrol()
    await up.settled(funding.app)
    assert (await funding.sponsor(mine, family, 2_000_000)).status_code == 201
    assert (await funding.sponsor(other, family, 700_000)).status_code == 201
    opened = up.opened(family)
    await up.send(opened)
    delivered = up.delivered(opened.plan_id, 105_000, days=7)
    await up.send(delivered)
    await up.send(up.delivered(opened.plan_id, 105_000, days=7))
    await up.send(
        DeliveryConfirmed(
            plan_id=opened.plan_id,
            family_id=family,
            kelurahan_code=MEDONO,
            delivery_id=delivered.delivery_id,
            confirmed_on=TODAY,
            confirmed_by="lurah-test",
        )
    )
    await up.settled(funding.app)

    response = await funding.http.get(f"/donors/{mine}/families", headers=token("donor", mine))
    assert response.status_code == 200, response.text
    (line,) = response.json()["items"]
    assert line["family_id"] == str(family)
    assert line["kelurahan_code"] == MEDONO
    assert line["plan_status"] == "open"
    assert line["start_date"] == TODAY.isoformat()
    assert (line["deliveries"], line["confirmed_deliveries"], line["days_covered"]) == (2, 1, 14)
    assert line["last_delivery_on"] == TODAY.isoformat()
    assert line["your_sponsored_rp"] == 2_000_000  # its own money, not the other donor's
    assert 0 < line["your_drawn_rp"] <= 210_000
    assert set(line) == {
        "family_id", "kelurahan_code", "plan_status", "start_date", "end_date", "days_covered",
        "last_delivery_on", "confirmed_deliveries", "deliveries", "your_sponsored_rp", "your_drawn_rp",
    }  # fmt: skip

    assert (await funding.http.get(f"/donors/{other}/families", headers=token("donor", mine))).status_code == 403
    assert (await funding.http.get(f"/donors/{mine}/families", headers=token("agency"))).status_code == 403
    treasurer = await funding.http.get(f"/donors/{other}/families", headers=token("treasurer"))
    assert treasurer.status_code == 200 and treasurer.json()["items"][0]["your_sponsored_rp"] == 700_000


def pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def test_a_receipt_is_a_pdf_with_the_amount_in_words_and_a_code_that_verifies(funding: Funding) -> None:
    donor = await funding.donor(name="Bu Sri Wahyuni")
    contributed = await funding.contribute(donor, 2_700_000, reference="TRF-0042")
    contribution = contributed.json()["contribution_id"]

    response = await funding.http.get(
        f"/donors/{donor}/contributions/{contribution}/receipt", headers=token("donor", donor)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert "Dua juta tujuh ratus ribu rupiah" in text
    assert "Rp2.700.000" in text and "Bu Sri Wahyuni" in text and "TRF-0042" in text and "Kota Pekalongan" in text
    code = text.split("Kode verifikasi:")[1].split()[0]

    verified = await funding.http.get(f"/receipts/verify/{code.lower()}")  # no token: anyone may check
    assert verified.status_code == 200, verified.text
    assert verified.json()["amount_rp"] == 2_700_000 and "Sri" not in verified.text
    forged = code[:-1] + ("A" if code[-1] != "A" else "B")
    assert (await funding.http.get(f"/receipts/verify/{forged}")).status_code == 404

    other = await funding.donor(name="Pak Budi")
    refused = await funding.http.get(
        f"/donors/{donor}/contributions/{contribution}/receipt", headers=token("donor", other)
    )
    assert refused.status_code == 403


async def test_erasing_a_donor_removes_its_name_and_keeps_its_money(funding: Funding) -> None:
    up = funding.upstream
    donor = await funding.donor(received_rp=0, name="Ibu Ratna Dewi")
    contribution = (await funding.contribute(donor, 2_000_000, reference="BNI-7781")).json()["contribution_id"]
    pledge = await funding.http.post(
        f"/donors/{donor}/pledges", json={"amount_rp": 500_000, "note": "dari gaji Ibu Ratna"}, headers=ADMIN
    )
    assert pledge.status_code == 201
    family = await up.enrol()
    await up.settled(funding.app)
    assert (await funding.sponsor(donor, family, 1_000_000)).status_code == 201
    consented = await funding.http.post(
        "/donors", json={"name": "Koperasi Maju", "donor_type": "community", "public_name_consent": True}, headers=ADMIN
    )
    assert consented.status_code == 201
    names = (await funding.http.get("/public/donor-names")).json()
    assert names == [{"donor_type": "community", "name": "Koperasi Maju"}]  # only who agreed

    sealed = await funding.pool.fetchval(
        "select sealed from events where stream_id = $1 and event_type = 'DonorRegistered'", donor
    )
    assert sealed and b"Ratna" not in sealed  # at rest: ciphertext, the event's private part
    before = await funding.statement(donor)
    assert before["name"] == "Ibu Ratna Dewi"

    assert (await funding.http.delete(f"/donors/{donor}/personal-data", headers=token("treasurer"))).status_code == 403
    erased = await funding.http.delete(f"/donors/{donor}/personal-data", headers=ADMIN)
    assert erased.status_code == 200, erased.text

    after = await funding.statement(donor)
    assert after["name"] is None and after["contact"] is None
    for money in ("received_rp", "pledged_rp", "allocated_rp", "available_rp", "families_sponsored"):
        assert after[money] == before[money]
    receipt = await funding.http.get(f"/donors/{donor}/contributions/{contribution}/receipt", headers=ADMIN)
    text = pdf_text(receipt.content)
    assert "Dua juta rupiah" in text and "Ratna" not in text and "BNI-7781" not in text
    for table, column in (("pledge_notes", "note"), ("contribution_references", "reference")):
        rows = await funding.pool.fetch(f"select {column} from {table} where donor_id = $1", donor)
        assert all(not r[column] or ("Ratna" not in r[column] and "BNI" not in r[column]) for r in rows)
    assert await funding.pool.fetchval("select count(*) from donor_keys where donor_id = $1", donor) == 0
    # Nothing brings the key back: a new pledge note for the erased donor is refused.
    again = await funding.http.post(
        f"/donors/{donor}/pledges", json={"amount_rp": 1_000, "note": "lagi"}, headers=ADMIN
    )
    assert again.status_code == 409
    assert await funding.pool.fetchval("select count(*) from donor_keys where donor_id = $1", donor) == 0
    assert UUID(after["donor_id"]) == donor
