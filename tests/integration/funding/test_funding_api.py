"""Funding over HTTP against a real PostgreSQL and nats-server: donors, money in, sponsorships, who
sees what, and what reaches the bus."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import uuid4

import pytest
from funding_support import ADMIN, TODAY, Funding, token

from shared.testing.bus import messages_when

pytestmark = pytest.mark.integration

WRITE_TABLES = (
    "events",
    "outbox",
    "donors_view",
    "contributions_view",
    "sponsorships_view",
    "contribution_references",
    "family_sponsorships",
)


async def nothing_stored_since(funding: Funding, before: dict[str, int]) -> bool:
    return {t: await funding.count(t) for t in WRITE_TABLES} == before


async def counts(funding: Funding) -> dict[str, int]:
    return {t: await funding.count(t) for t in WRITE_TABLES}


class TestDonors:
    async def test_an_admin_registers_a_donor_of_each_allowed_type(self, funding: Funding) -> None:
        for donor_type in ("individual", "community", "bumd", "bumn", "csr", "university", "media", "other"):
            response = await funding.http.post(
                "/donors", json={"name": "Donatur", "donor_type": donor_type, "contact": None}, headers=ADMIN
            )
            assert response.status_code == 201, response.text
            assert response.json()["donor_type"] == donor_type
        assert await funding.count("donors_view") == 8

    @pytest.mark.parametrize("donor_type", ["apbd", "apbn", "APBD_KOTA", "pemerintah"])
    async def test_a_government_budget_is_refused_with_the_reason(self, funding: Funding, donor_type: str) -> None:
        response = await funding.http.post("/donors", json={"name": "Pemkot", "donor_type": donor_type}, headers=ADMIN)
        assert response.status_code == 422
        problem = response.json()
        assert response.headers["content-type"] == "application/problem+json"
        assert problem["errors"][0]["field"] == "donor_type" and "off-budget" in problem["errors"][0]["message"]
        assert await funding.count("events") == 0 and await funding.count("donor_keys") == 0

    async def test_an_unknown_type_or_a_missing_name_is_refused(self, funding: Funding) -> None:
        unknown = await funding.http.post("/donors", json={"name": "X", "donor_type": "bank"}, headers=ADMIN)
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "donor_type"
        nameless = await funding.http.post("/donors", json={"donor_type": "csr"}, headers=ADMIN)
        assert nameless.status_code == 422 and nameless.json()["errors"][0]["field"] == "name"
        assert await funding.count("events") == 0

    async def test_only_an_admin_registers_donors(self, funding: Funding) -> None:
        body = {"name": "A", "donor_type": "csr"}
        for role in ("agency", "auditor", "donor"):
            response = await funding.http.post("/donors", json=body, headers=token(role, donor_id=uuid4()))
            assert response.status_code == 403, role
        assert (await funding.http.post("/donors", json=body)).status_code == 401
        assert await funding.count("events") == 0

    @pytest.mark.parametrize(
        ("field", "body"),
        [
            ("name", {"name": "Budi\x00", "donor_type": "individual"}),
            ("contact", {"name": "Budi", "donor_type": "individual", "contact": "0812\x07"}),
        ],
    )
    async def test_control_characters_are_refused_naming_the_field(
        self, funding: Funding, field: str, body: dict[str, Any]
    ) -> None:
        response = await funding.http.post("/donors", json=body, headers=ADMIN)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field
        assert await funding.count("events") == 0 and await funding.count("donor_keys") == 0

    async def test_an_absurd_page_offset_is_refused_not_a_server_error(self, funding: Funding) -> None:
        await funding.donor()
        absurd = await funding.http.get("/donors", params={"offset": "167150350934348103680"}, headers=ADMIN)
        assert absurd.status_code == 422 and absurd.json()["errors"][0]["field"] == "offset"
        far = await funding.http.get("/donors", params={"offset": 1_000_000}, headers=ADMIN)
        assert far.status_code == 200 and far.json()["items"] == [] and far.json()["total"] == 1


class TestContributions:
    @pytest.mark.parametrize("amount", [2_700_000.0, 1.5, "2700000", 0, -100, 10_000_000_001, 10**40, True, None])
    async def test_a_bad_amount_is_refused_and_nothing_is_stored(self, funding: Funding, amount: Any) -> None:
        donor = await funding.donor()
        before = await counts(funding)
        response = await funding.contribute(donor, amount)
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["amount_rp"]
        assert await nothing_stored_since(funding, before)

    async def test_the_same_bank_reference_twice_is_a_conflict_not_a_second_contribution(
        self, funding: Funding
    ) -> None:
        donor = await funding.donor()
        assert (await funding.contribute(donor, 1_000_000, "BCA 0042")).status_code == 201
        again = await funding.contribute(donor, 1_000_000, " bca 0042 ")
        assert again.status_code == 409 and again.json()["errors"][0]["field"] == "reference"
        other_donor = await funding.donor()
        assert (await funding.contribute(other_donor, 1_000_000, "BCA 0042")).status_code == 201
        assert (await funding.statement(donor))["received_rp"] == 1_000_000

    async def test_the_same_reference_sent_concurrently_is_recorded_once(self, funding: Funding) -> None:
        donor = await funding.donor()
        responses = await asyncio.gather(*(funding.contribute(donor, 500_000, "MANDIRI-77") for _ in range(6)))
        assert sorted(r.status_code for r in responses) == [201] + [409] * 5
        assert (await funding.statement(donor))["received_rp"] == 500_000

    async def test_a_nul_byte_in_a_reference_or_a_note_is_refused_and_nothing_is_stored(self, funding: Funding) -> None:
        donor_id = await funding.donor()
        before = await counts(funding)
        gift = {"amount_rp": 1_000_000, "received_on": TODAY.isoformat(), "method": "transfer", "reference": "TRX\x00"}
        response = await funding.http.post(f"/donors/{donor_id}/contributions", json=gift, headers=ADMIN)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "reference"
        pledge = {"amount_rp": 1_000_000, "note": "janji\x00"}
        response = await funding.http.post(f"/donors/{donor_id}/pledges", json=pledge, headers=ADMIN)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "note"
        assert await nothing_stored_since(funding, before)
        lines = {"amount_rp": 1_000_000, "note": "janji tahun 2025\nlunas Desember"}
        assert (await funding.http.post(f"/donors/{donor_id}/pledges", json=lines, headers=ADMIN)).status_code == 201

    async def test_a_treasurer_records_contributions_an_agency_or_a_donor_cannot(self, funding: Funding) -> None:
        donor = await funding.donor()
        assert (await funding.contribute(donor, 100_000, headers=token("treasurer"))).status_code == 201
        assert (await funding.contribute(donor, 100_000, headers=token("agency"))).status_code == 403
        assert (await funding.contribute(donor, 100_000, headers=token("donor", donor))).status_code == 403
        assert (await funding.contribute(uuid4(), 100_000)).status_code == 404

    async def test_a_pledge_is_promised_money_not_available_money(self, funding: Funding) -> None:
        donor = await funding.donor()
        response = await funding.http.post(
            f"/donors/{donor}/pledges",
            json={"amount_rp": 5_000_000, "note": "dari gaji ASN"},
            headers=token("donor", donor),
        )
        assert response.status_code == 201, response.text
        statement = await funding.statement(donor)
        assert (statement["pledged_rp"], statement["available_rp"]) == (5_000_000, 0)
        other = await funding.http.post(
            f"/donors/{donor}/pledges", json={"amount_rp": 1}, headers=token("donor", uuid4())
        )
        assert other.status_code == 403


class TestSponsorships:
    async def test_an_enrolled_family_is_sponsored_from_received_money(self, funding: Funding) -> None:
        donor = await funding.donor(received_rp=3_000_000)
        family = await funding.upstream.enrol()
        await funding.upstream.settled(funding.app)
        response = await funding.sponsor(donor, family, 2_700_000)
        assert response.status_code == 201, response.text
        assert response.json()["donor_available_rp"] == 300_000
        statement = await funding.statement(donor)
        assert {
            k: statement[k]
            for k in ("received_rp", "allocated_rp", "drawn_rp", "available_rp", "remaining_rp", "families_sponsored")
        } == {
            "received_rp": 3_000_000,
            "allocated_rp": 2_700_000,
            "drawn_rp": 0,
            "available_rp": 300_000,
            "remaining_rp": 2_700_000,
            "families_sponsored": 1,
        }
        assert (await funding.family(family))["sponsored_rp"] == 2_700_000

    async def test_several_donors_may_sponsor_one_family(self, funding: Funding) -> None:
        family = await funding.upstream.enrol()
        await funding.upstream.settled(funding.app)
        for _ in range(3):
            assert (await funding.sponsor(await funding.donor(received_rp=900_000), family, 900_000)).status_code == 201
        funding_of_family = await funding.family(family)
        assert funding_of_family["sponsored_rp"] == 2_700_000 and len(funding_of_family["sponsorships"]) == 3

    async def test_a_family_not_enrolled_or_exited_is_a_conflict(self, funding: Funding) -> None:
        donor = await funding.donor(received_rp=3_000_000)
        unknown = await funding.sponsor(donor, uuid4(), 100_000)
        assert unknown.status_code == 409 and "not enrolled" in unknown.json()["detail"]
        family = await funding.upstream.enrol()
        await funding.upstream.send(funding.upstream.exited(family))
        await funding.upstream.settled(funding.app)
        exited = await funding.sponsor(donor, family, 100_000)
        assert exited.status_code == 409 and "exited" in exited.json()["detail"]
        assert (await funding.statement(donor))["allocated_rp"] == 0

    async def test_more_than_the_available_money_is_a_conflict_and_an_unknown_donor_not_found(
        self, funding: Funding
    ) -> None:
        donor = await funding.donor(received_rp=1_000_000)
        family = await funding.upstream.enrol()
        await funding.upstream.settled(funding.app)
        short = await funding.sponsor(donor, family, 1_000_001)
        assert short.status_code == 409 and short.json()["errors"][0]["field"] == "amount_rp"
        assert (await funding.sponsor(uuid4(), family, 1)).status_code == 404
        assert (await funding.sponsor(donor, family, 1.0)).status_code == 422
        assert await funding.count("sponsorships_view") == 0

    async def test_two_concurrent_sponsorships_cannot_both_spend_the_same_money(self, funding: Funding) -> None:
        donor = await funding.donor(received_rp=5_000_000)
        first, second = await funding.upstream.enrol(), await funding.upstream.enrol()
        await funding.upstream.settled(funding.app)
        responses = await asyncio.gather(
            funding.sponsor(donor, first, 3_000_000), funding.sponsor(donor, second, 3_000_000)
        )
        assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
        statement = await funding.statement(donor)
        assert (statement["allocated_rp"], statement["available_rp"]) == (3_000_000, 2_000_000)

    async def test_many_concurrent_sponsorships_never_overspend(self, funding: Funding) -> None:
        donor = await funding.donor(received_rp=5_000_000)
        families = [await funding.upstream.enrol() for _ in range(8)]
        await funding.upstream.settled(funding.app)
        # 8 sponsorships of Rp1.000.000 race for Rp5.000.000. The donor's stream version lets one
        # append win at a time; a loser retries on fresh state and is refused once the money is
        # gone (or, out of retries, with a 409 to try again): never a sixth winner.
        responses = await asyncio.gather(*(funding.sponsor(donor, f, 1_000_000) for f in families))
        won = [r for r in responses if r.status_code == 201]
        assert all(r.status_code in (201, 409) for r in responses), [r.text for r in responses]
        assert 1 <= len(won) <= 5
        statement = await funding.statement(donor)
        assert (statement["allocated_rp"], statement["available_rp"]) == (
            len(won) * 1_000_000,
            5_000_000 - len(won) * 1_000_000,
        )
        assert await funding.count("sponsorships_view") == len(won)
        await funding.sponsor(donor, families[0], 5_000_000 - len(won) * 1_000_000)  # the rest, once calm
        assert (await funding.statement(donor))["available_rp"] == 0

    async def test_a_retry_with_the_same_idempotency_key_sponsors_once(self, funding: Funding) -> None:
        donor = await funding.donor(received_rp=3_000_000)
        family = await funding.upstream.enrol()
        await funding.upstream.settled(funding.app)
        body = {
            "donor_id": str(donor),
            "family_id": str(family),
            "amount_rp": 1_000_000,
            "start_date": TODAY.isoformat(),
        }
        headers = {**ADMIN, "Idempotency-Key": "match-2025-07-01-1"}
        first = await funding.http.post("/sponsorships", json=body, headers=headers)
        again = await funding.http.post("/sponsorships", json=body, headers=headers)
        assert first.status_code == again.status_code == 201 and first.json() == again.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert (await funding.statement(donor))["allocated_rp"] == 1_000_000


class TestAccess:
    async def test_a_donor_sees_only_its_own_statement_with_its_families(self, funding: Funding) -> None:
        mine, theirs = await funding.donor(received_rp=2_000_000), await funding.donor(received_rp=2_000_000)
        family, other_family = await funding.upstream.enrol(), await funding.upstream.enrol()
        await funding.upstream.settled(funding.app)
        assert (await funding.sponsor(mine, family, 1_000_000)).status_code == 201
        assert (await funding.sponsor(theirs, family, 500_000)).status_code == 201
        assert (await funding.sponsor(theirs, other_family, 500_000)).status_code == 201
        me = token("donor", mine)
        own = await funding.http.get(f"/donors/{mine}", headers=me)
        assert own.status_code == 200 and own.json()["name"] == "PT Batik Sejahtera"
        assert (await funding.http.get(f"/donors/{theirs}", headers=me)).status_code == 403
        shouting = token("donor", str(mine).upper())  # the claim is an id, however it is spelt
        assert (await funding.http.get(f"/donors/{mine}", headers=shouting)).status_code == 200
        listing = (await funding.http.get("/donors", headers=me)).json()
        assert [i["donor_id"] for i in listing["items"]] == [str(mine)] and "by_type" not in listing
        sponsored = (await funding.http.get(f"/families/{family}/funding", headers=me)).json()
        # Its own money only: the family's total (Rp1,500,000) includes another donor's.
        assert (sponsored["sponsored_rp"], sponsored["remaining_rp"], sponsored["drawn_rp"]) == (
            1_000_000,
            1_000_000,
            0,
        )
        assert [s["donor_id"] for s in sponsored["sponsorships"]] == [str(mine)]
        whole = (await funding.http.get(f"/families/{family}/funding", headers=ADMIN)).json()
        assert whole["sponsored_rp"] == 1_500_000
        assert (await funding.http.get(f"/families/{other_family}/funding", headers=me)).status_code == 403

    async def test_an_auditor_sees_per_type_totals_and_statements_without_names(self, funding: Funding) -> None:
        await funding.donor("csr", received_rp=3_000_000, name="PT Rahasia")
        individual = await funding.donor("individual", received_rp=150_000, name="Pak Budi")
        auditor = token("auditor")
        listing = await funding.http.get("/donors", headers=auditor)
        assert listing.status_code == 200
        assert listing.json() == {
            "by_type": [
                {
                    "donor_type": "csr",
                    "donors": 1,
                    "pledged_rp": 0,
                    "received_rp": 3_000_000,
                    "allocated_rp": 0,
                    "drawn_rp": 0,
                    "released_rp": 0,
                    "available_rp": 3_000_000,
                },
                {
                    "donor_type": "individual",
                    "donors": 1,
                    "pledged_rp": 0,
                    "received_rp": 150_000,
                    "allocated_rp": 0,
                    "drawn_rp": 0,
                    "released_rp": 0,
                    "available_rp": 150_000,
                },
            ]
        }
        statement = (await funding.http.get(f"/donors/{individual}", headers=auditor)).json()
        assert "name" not in statement and "contact" not in statement
        assert "Pak Budi" not in listing.text
        # An agency is read-only on de-identified data: the same per-type totals, no names.
        assert (await funding.http.get("/donors", headers=token("agency"))).json() == listing.json()


class TestBus:
    async def test_funding_events_are_published_without_names_or_contacts(
        self, funding: Funding, js_clean: str
    ) -> None:
        donor = await funding.donor("individual", received_rp=2_700_000, name="Siti Nurhaliza")
        family = await funding.upstream.enrol()
        await funding.upstream.settled(funding.app)
        assert (await funding.sponsor(donor, family, 2_700_000)).status_code == 201

        events = await messages_when(js_clean, "GENTING_FUNDING", lambda es: len(es) >= 4, 10)
        assert [e["event_type"] for e in events] == [
            "DonorRegistered",
            "ContributionReceived",
            "FundsAllocated",
            "FamilySponsored",
        ]
        sponsored = events[-1]
        assert sponsored["subject"] == (
            f"genting.funding.sponsorship.{sponsored['data']['sponsorship_id']}.FamilySponsored"
        )
        assert sponsored["data"]["kelurahan_code"] == "33.75.01.1002"
        assert sponsored["data"]["family_id"] == str(family) and sponsored["stream_version"] == 1
        wire = json.dumps(events)
        assert "Siti" not in wire and "csr@batik.example" not in wire

    async def test_asyncapi_documents_what_funding_publishes_and_consumes(self, funding: Funding) -> None:
        doc = (await funding.http.get("/asyncapi")).json()
        text = json.dumps(doc)
        for event_type in (
            "DonorRegistered",
            "PledgeMade",
            "ContributionReceived",
            "FamilySponsored",
            "SponsorshipDrawn",
            "SponsorshipReleased",
        ):
            assert event_type in text
        assert "funding-registry" in text and "funding-aid" in text
        assert (await funding.http.get("/health/ready")).status_code == 200
        assert "genting_funding_delivery_shortfalls" in (await funding.http.get("/metrics")).text
