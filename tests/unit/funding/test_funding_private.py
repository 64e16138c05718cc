"""Which private part each of funding's facts carries (domain/private.py), given/when/then: the
personal text a command brings goes into its event's private part, trimmed, and never into the
event's public data."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from funding_examples import DONOR, FAMILY, S1, TODAY, donor_with

from services.funding.domain import MakePledge, ReceiveContribution, RegisterDonor, SponsorFamily, sponsor
from services.funding.domain import donor as donors
from services.funding.domain.private import (
    PRIVATE_PARTS,
    SPONSORSHIP_PRIVATE_PARTS,
    BankReference,
    DonorDetails,
    PledgeNote,
    SponsorshipNote,
    with_private,
)
from shared.contracts.funding import FamilySponsored, FundsAllocated, PledgeMade
from shared.repository import Fact

PLEDGE = UUID("00000000-0000-0000-0000-0000000e0001")
GIFT = UUID("00000000-0000-0000-0000-0000000c0002")
START = date(2025, 5, 1)


def test_a_registration_carries_the_name_contact_and_consent_privately() -> None:
    when = RegisterDonor(DONOR, "individual", "  Bu Sri  ", " 0812-555 ", TODAY, public_name_consent=True)
    (fact,) = with_private(when, donors.decide(donors.Donor(), when))
    assert fact.private == DonorDetails(name="Bu Sri", contact="0812-555", public_name_consent=True)
    assert "Sri" not in fact.event.model_dump_json() and "0812" not in fact.event.model_dump_json()


def test_a_registration_without_contact_or_consent_keeps_only_the_name() -> None:
    when = RegisterDonor(DONOR, "csr", "PT Batik", "   ", TODAY)
    (fact,) = with_private(when, donors.decide(donors.Donor(), when))
    assert fact.private == DonorDetails(name="PT Batik", contact=None, public_name_consent=False)


def test_a_pledges_note_is_its_private_part_and_a_blank_one_is_none() -> None:
    given = donor_with(1, START)
    noted = MakePledge(DONOR, PLEDGE, 500_000, TODAY, note=" dari gaji\n")
    (fact,) = with_private(noted, donors.decide(given, noted))
    assert isinstance(fact.event, PledgeMade) and fact.private == PledgeNote(note="dari gaji")
    for note in (None, "  "):
        bare = MakePledge(DONOR, PLEDGE, 500_000, TODAY, note=note)
        assert with_private(bare, donors.decide(given, bare))[0].private is None


def test_a_contributions_bank_reference_is_its_private_part() -> None:
    when = ReceiveContribution(DONOR, GIFT, 1_000_000, TODAY, "transfer", " BNI-7781 ", TODAY)
    (fact,) = with_private(when, donors.decide(donor_with(1, START), when))
    assert fact.private == BankReference(reference="BNI-7781")
    assert "BNI" not in fact.event.model_dump_json()


def test_a_sponsorships_note_goes_with_family_sponsored_and_not_with_the_donors_allocation() -> None:
    when = SponsorFamily(
        S1, DONOR, FAMILY, 1_000_000, TODAY, TODAY, "enrolled", "33.75.01.1002", note="rumah biru", enrolled_on=START
    )
    allocated, sponsored = sponsor(donor_with(3_000_000, START), when)
    assert [f.private for f in with_private(when, allocated)] == [None]
    assert isinstance(allocated[0], FundsAllocated)
    (fact,) = with_private(when, sponsored)
    assert isinstance(fact.event, FamilySponsored) and fact.private == SponsorshipNote(note="rumah biru")
    assert fact.event.family_id == FAMILY


def test_other_commands_events_have_no_private_part() -> None:
    when = RegisterDonor(DONOR, "csr", "PT Batik", None, TODAY)
    pledge_event = donors.decide(donor_with(1, START), MakePledge(DONOR, PLEDGE, 1, TODAY))[0]
    assert with_private(when, [pledge_event]) == [Fact(pledge_event)]  # a part belongs to its own command's event


def test_each_private_part_is_named_for_the_repository() -> None:
    assert PRIVATE_PARTS == {
        "DonorRegistered": DonorDetails,
        "PledgeMade": PledgeNote,
        "ContributionReceived": BankReference,
    }
    assert SPONSORSHIP_PRIVATE_PARTS == {"FamilySponsored": SponsorshipNote}
