"""The Pekalongan demo's dataset (genting/demo/dataset.py): deterministic, complete, valid as the registry
and aid would judge it, and money that adds up. Pure: no services."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import date, timedelta
from uuid import UUID

from genting import demo
from services.registry.bodies import RegisterFamilyIn, registration
from services.registry.domain.validation import registration_errors
from services.registry.reference import DEFAULT_RULES, KELURAHAN

ANCHOR = date(2026, 3, 14)
DONOR_TYPES = {"individual", "community", "bumd", "csr", "bumn", "university", "media", "other"}


def as_json(dataset: demo.Dataset) -> str:
    return json.dumps(dataclasses.asdict(dataset), default=str, sort_keys=True)


def test_the_same_seed_size_and_day_give_the_same_dataset_to_the_last_byte() -> None:
    assert as_json(demo.build(300, anchor=ANCHOR)) == as_json(demo.build(300, anchor=ANCHOR))


def test_another_seed_gives_another_programme() -> None:
    assert as_json(demo.build(60, anchor=ANCHOR, seed=1)) != as_json(demo.build(60, anchor=ANCHOR, seed=2))


def test_every_donor_type_gives_and_civil_servants_give_as_individuals() -> None:
    dataset = demo.build(anchor=ANCHOR)
    assert {d.donor_type for d in dataset.donors} == DONOR_TYPES
    sponsoring = {s.donor_key for f in dataset.families for s in f.sponsorships}
    by_key = {d.key: d for d in dataset.donors}
    assert {by_key[k].donor_type for k in sponsoring} == DONOR_TYPES
    individuals = [d for d in dataset.donors if d.donor_type == "individual"]
    assert individuals and all("(ASN " in d.name for d in individuals)
    assert not {d.donor_type for d in dataset.donors} & {"apbd", "apbn"}


def test_families_live_in_all_27_kelurahan() -> None:
    dataset = demo.build(anchor=ANCHOR)
    assert {f.kelurahan_code for f in dataset.families} == {k.code for k in KELURAHAN}
    assert len(KELURAHAN) == 27
    assert all(f.body["kelurahan_code"] == f.kelurahan_code for f in dataset.families)


def test_money_is_whole_rupiah_everywhere() -> None:
    dataset = demo.build(anchor=ANCHOR)
    amounts = [c.amount_rp for d in dataset.donors for c in d.contributions]
    amounts += [p for d in dataset.donors for p in d.pledges]
    amounts += [s.amount_rp for f in dataset.families for s in f.sponsorships]
    amounts += [d.value_rp for f in dataset.families for d in f.deliveries]
    amounts += [i.value_rp for f in dataset.families for i in f.interventions]
    assert amounts and all(type(a) is int and a >= 0 for a in amounts)


def test_every_registration_is_one_the_registry_accepts_on_the_day_of_the_load() -> None:
    dataset = demo.build(anchor=ANCHOR)
    for n, family in enumerate(dataset.families):
        command = registration(RegisterFamilyIn(**family.body), UUID(int=n + 1), ANCHOR, "demo-kader")
        assert registration_errors(command, DEFAULT_RULES) == [], family.key
    niks = [m["nik"] for f in dataset.families for m in f.body["members"] if m["nik"]]
    cards = [f.body["kk_number"] for f in dataset.families]
    assert len(set(niks)) == len(niks) and len(set(cards)) == len(cards)


def test_most_families_are_approved_a_few_rejected_and_most_enrolled_ones_sponsored() -> None:
    sizes = demo.build(anchor=ANCHOR).sizes()
    assert sizes["families"] == demo.DEFAULT_FAMILIES
    assert sizes["approved"] > 0.8 * sizes["families"]
    assert 0 < sizes["rejected"] < 0.1 * sizes["families"]
    assert sizes["sponsored"] > 0.85 * sizes["approved"]
    assert sizes["sponsorships"] > sizes["sponsored"]  # several sponsorships on some families
    assert 0 < sizes["plans"] < sizes["sponsored"]  # a few sponsored below the six-month minimum
    assert sizes["deliveries"] > sizes["plans"] and sizes["education_sessions"] > 0
    assert sizes["growth_measurements"] > 0 and sizes["interventions"] > 0 and sizes["exits"] > 0


def test_donors_have_received_what_they_allocate_and_plans_spend_within_their_budget() -> None:
    dataset = demo.build(anchor=ANCHOR)
    for donor in dataset.donors:
        assert sum(c.amount_rp for c in donor.contributions) >= donor.allocated_rp
        assert all(c.received_on < ANCHOR for c in donor.contributions)
        assert len({c.reference for c in donor.contributions}) == len(donor.contributions)
    for family in dataset.families:
        if family.deliveries:
            assert family.gets_a_plan
            budget = sum(s.amount_rp for s in family.sponsorships)
            assert sum(d.value_rp for d in family.deliveries) <= budget
            assert all(d.value_rp >= demo.DAILY_MINIMUM_RP * d.days for d in family.deliveries)
            covered = [day for d in family.deliveries for day in range(d.offset, d.offset + d.days)]
            assert len(covered) == len(set(covered)) and max(covered) < 180


def test_some_plans_have_a_week_skipped_which_the_aid_service_records_as_a_gap() -> None:
    dataset = demo.build(anchor=ANCHOR)
    gaps = [
        f
        for f in dataset.families
        if f.deliveries and [d.offset for d in f.deliveries] != list(range(0, 7 * len(f.deliveries), 7))
    ]
    assert gaps


def test_nothing_is_dated_after_the_day_of_the_load() -> None:
    dataset = demo.build(anchor=ANCHOR)
    dated = [g.measured_on for f in dataset.families for g in f.growth]
    dated += [s.held_on for s in dataset.sessions] + [i.done_on for f in dataset.families for i in f.interventions]
    dated += [s.start_date for f in dataset.families for s in f.sponsorships]
    assert dated and max(dated) <= ANCHOR
    assert min(g.measured_on for f in dataset.families for g in f.growth) >= ANCHOR - timedelta(days=63)


def test_a_few_children_gain_no_weight_in_two_months_and_a_kader_visits_some_of_them() -> None:
    dataset = demo.build(anchor=ANCHOR)
    stalled = [f for f in dataset.families if f.stalled]
    assert stalled and all(f.decision == "approve" for f in stalled)  # aid flags children of enrolled families
    visited = [f for f in dataset.families if f.home_visit]
    assert visited and set(f.key for f in visited) < set(f.key for f in stalled)
    for family in stalled:
        first, latest = family.growth[0], family.growth[-1]
        assert (latest.measured_on - first.measured_on).days >= 60 and latest.weight_kg <= first.weight_kg


def test_sessions_gather_families_of_their_own_kelurahan_that_receive_aid() -> None:
    dataset = demo.build(anchor=ANCHOR)
    by_key = {f.key: f for f in dataset.families}
    for session in dataset.sessions:
        assert session.family_keys and len(session.family_keys) <= 500
        assert all(
            by_key[k].kelurahan_code == session.kelurahan_code and by_key[k].gets_a_plan for k in session.family_keys
        )
    assert len(Counter(s.topic for s in dataset.sessions)) >= 4


def test_the_request_count_matches_what_the_loader_sends() -> None:
    dataset = demo.build(40, anchor=ANCHOR)
    s = dataset.sizes()
    verifications = s["approved"] + s["rejected"]
    assert dataset.requests() == (
        s["donors"]
        + s["pledges"]
        + s["contributions"]
        + s["families"]
        + verifications
        + s["sponsorships"]
        + s["deliveries"]
        + s["confirmations"]
        + s["interventions"]
        + s["growth_measurements"]
        + s["home_visits"]
        + s["education_sessions"]
        + s["exits"]
    )
