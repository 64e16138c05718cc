"""The Pekalongan demo's dataset (genting/demo/dataset.py): deterministic, complete, valid as the registry
and aid would judge it on the records' own days, money that adds up, and a programme seven months in
whose records come in effective-date order (CONTRACT.md, "Effective dates and late entry"). Pure: no
services."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from uuid import UUID

import pytest

from genting import demo
from genting.demo.records import KELURAHAN, Growth
from services.aid.domain.growth import Measurement, flags_due
from services.registry.bodies import RegisterFamilyIn, registration
from services.registry.domain.validation import registration_errors
from services.registry.reference import DEFAULT_RULES

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


def test_every_registration_is_one_the_registry_accepts_on_its_own_day() -> None:
    dataset = demo.build(anchor=ANCHOR)
    for n, family in enumerate(dataset.families):
        command = registration(RegisterFamilyIn(**family.body), UUID(int=n + 1), family.registered_on, "demo-kader")
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


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: demo.build(anchor=ANCHOR), id="the demo"),
        # `genting simulate --families 1330 --seed 8`: a donor sponsoring on 30 May and 1 June was
        # given June's money before May's, and before it was registered: a sponsorship refused.
        pytest.param(lambda: demo.build(1330, anchor=date(2026, 12, 2), seed=8, days=210), id="1330 families"),
    ],
)
def test_money_is_there_before_it_is_given_and_plans_spend_within_their_budget(
    build: Callable[[], demo.Dataset],
) -> None:
    dataset = build()
    for donor in dataset.donors:
        received = sorted((c.received_on, c.amount_rp) for c in donor.contributions)
        for day, _ in donor.gives_on:  # by each sponsorship's date, what it received covers what it gave
            given = sum(a for d, a in donor.gives_on if d <= day)
            assert sum(a for d, a in received if d <= day) >= given, donor.key
        assert donor.registered_on is not None and all(
            c.received_on >= donor.registered_on for c in donor.contributions
        )
        assert len({c.reference for c in donor.contributions}) == len(donor.contributions)
    for family in dataset.families:
        if family.deliveries:
            assert family.gets_a_plan
            budget = sum(s.amount_rp for s in family.sponsorships)
            assert sum(d.value_rp for d in family.deliveries) <= budget
            assert all(d.value_rp >= demo.DAILY_MINIMUM_RP * d.days for d in family.deliveries)
            covered = [day for d in family.deliveries for day in range(d.offset, d.offset + d.days)]
            assert len(covered) == len(set(covered)) and max(covered) < demo.PLAN_DAYS


def test_the_programme_began_seven_months_before_the_load_and_nothing_is_dated_outside_it() -> None:
    dataset = demo.build(anchor=ANCHOR)
    assert dataset.first_day == ANCHOR - timedelta(days=demo.PROGRAMME_DAYS)
    steps = dataset.steps()
    assert steps == sorted(steps)
    assert steps[0].day >= dataset.first_day and steps[-1].day <= ANCHOR
    weeks = {(s.day - dataset.first_day).days // 7 for s in steps}
    assert len(weeks) >= 28  # records in (nearly) every week of the 30
    registered = sorted(f.registered_on for f in dataset.families)
    assert (registered[-1] - registered[0]).days > 150  # families keep coming over the months


def test_every_record_comes_after_the_records_it_depends_on() -> None:
    dataset = demo.build(anchor=ANCHOR)
    for f in dataset.families:
        assert f.decided_on is None or f.registered_on <= f.decided_on
        for s in f.sponsorships:
            assert f.decided_on is not None and f.decision == "approve" and f.decided_on < s.start_date
        if f.plan_start is not None:
            assert f.plan_start == max(s.start_date for s in f.sponsorships)
        for n, d in enumerate(f.deliveries):
            assert f.plan_start is not None
            assert d.delivered_on == f.plan_start + timedelta(days=d.offset)  # on its day
            assert d.offset + d.days - 1 - (d.delivered_on - f.plan_start).days <= 14  # at most 14 days ahead
            assert d.confirmed_on is None or d.delivered_on <= d.confirmed_on <= ANCHOR
            assert f.exited_on is None or d.delivered_on < f.exited_on
            assert n == 0 or f.deliveries[n - 1].delivered_on < d.delivered_on
        born = {m["name"]: date.fromisoformat(m["birth_date"]) for m in f.body["members"]}
        for g in f.growth:
            assert g.measured_on >= f.registered_on and g.measured_on > born[g.child]
            assert (g.measured_on - born[g.child]).days < 730  # weighed while a baduta
        for i in f.interventions:
            assert f.plan_start is not None and f.plan_start <= i.done_on
        assert f.visited_on is None or (f.flagged_on is not None and f.flagged_on < f.visited_on)
        assert f.exited_on is None or (f.plan_start is not None and f.plan_start < f.exited_on)
    # Per family, the steps run in that order on the same day too.
    steps = [s for s in dataset.steps() if s.actor == "F0000"]
    assert steps[0].kind == "register" and [s.day for s in steps] == sorted(s.day for s in steps)


def test_the_demo_has_completed_and_incomplete_plans_and_exits_with_money_returned() -> None:
    sizes = demo.build(anchor=ANCHOR).sizes()
    assert sizes["completed"] >= 10  # plans that began more than 180 days ago, every week delivered
    assert 0 < sizes["incomplete"] < sizes["completed"]  # a week never delivered, the window passed
    assert 0 < sizes["exits"] < 0.1 * sizes["plans"]
    assert sizes["plans"] - sizes["completed"] - sizes["incomplete"] - sizes["exits"] > 0.5 * sizes["plans"]  # active


def test_some_plans_have_a_week_skipped_which_the_aid_service_records_as_a_gap() -> None:
    dataset = demo.build(anchor=ANCHOR)
    gaps = [
        f
        for f in dataset.families
        if f.deliveries and [d.offset for d in f.deliveries] != list(range(0, 7 * len(f.deliveries), 7))
    ]
    assert gaps


def test_children_are_weighed_monthly_and_fewer_are_stunted_at_the_latest_weighing() -> None:
    dataset = demo.build(anchor=ANCHOR)
    first: dict[tuple[str, str], Growth] = {}
    latest: dict[tuple[str, str], Growth] = {}
    for f in dataset.families:
        for g in f.growth:
            first.setdefault((f.key, g.child), g)
            latest[f.key, g.child] = g
    months = [(latest[c].measured_on - first[c].measured_on).days for c in first]
    assert max(months) > 150 and sum(m >= 60 for m in months) > len(months) / 2
    for f in dataset.families:
        days = [g.measured_on for g in f.growth]
        for a, b in itertools.pairwise(days):
            assert b < a or 28 <= (b - a).days <= 33  # monthly, per child
    stunted_first = sum(g.stunted for g in first.values())
    stunted_latest = sum(g.stunted for g in latest.values())
    assert 0.1 * len(first) < stunted_first and stunted_latest < stunted_first  # the outcome trend


def test_a_few_children_gain_nothing_at_two_weighings_in_a_row_and_a_kader_visits_some() -> None:
    dataset = demo.build(anchor=ANCHOR)
    stalled = [f for f in dataset.families if f.stalled]
    assert stalled and all(f.decision == "approve" for f in stalled)  # aid flags children of enrolled families
    visited = [f for f in dataset.families if f.visited_on is not None]
    assert visited and {f.key for f in visited} < {f.key for f in stalled}
    for family in stalled:  # the posyandu rule: no gain at two consecutive monthly weighings
        flagged = [g for g in family.growth if g.measured_on == family.flagged_on]
        assert flagged
        child = [g for g in family.growth if g.child == flagged[0].child]
        n = child.index(flagged[0])
        assert n >= 2 and child[n].weight_kg <= child[n - 1].weight_kg <= child[n - 2].weight_kg


def test_every_flag_the_loader_waits_for_is_one_aids_rule_raises() -> None:
    """The loader waits for aid's flag before a home visit: a flag the dataset expects and aid's
    posyandu rule does not raise held up a whole day of the load (30 s)."""
    for seed, anchor in ((1, ANCHOR), (8, date(2026, 12, 2)), (11, date(2025, 2, 28))):
        dataset = demo.build(1330, anchor=anchor, seed=seed, days=210)
        for family in (f for f in dataset.families if f.decision == "approve"):
            raised: set[date] = set()
            for child in {g.child for g in family.growth}:
                history: list[Measurement] = []
                for g in (g for g in family.growth if g.child == child):
                    history.append(Measurement(g.measured_on, g.weight_kg))
                    raised |= {due.flagged_on for due in flags_due(history, history[-1], raised)}
            if family.flagged_on is not None:
                assert family.flagged_on in raised, (seed, family.key)
                # ... and raises it once it knows the enrolment
                assert family.decided_on is not None and family.flagged_on >= family.decided_on


def test_sessions_gather_families_of_their_own_kelurahan_receiving_aid_by_then_over_the_months() -> None:
    dataset = demo.build(anchor=ANCHOR)
    by_key = {f.key: f for f in dataset.families}
    for session in dataset.sessions:
        assert session.family_keys and len(session.family_keys) <= 500
        for k in session.family_keys:
            f = by_key[k]
            assert f.kelurahan_code == session.kelurahan_code
            assert f.plan_start is not None and f.plan_start <= session.held_on
    assert len(Counter(s.topic for s in dataset.sessions)) >= 4
    assert len({(s.held_on - dataset.first_day).days // 30 for s in dataset.sessions}) >= 6  # spread over months


def test_the_request_count_matches_the_steps_the_loader_enters() -> None:
    dataset = demo.build(40, anchor=ANCHOR)
    assert dataset.requests() == len(dataset.steps()) + dataset.grievance_requests()
    assert dataset.grievance_requests() > 0  # the grievance pages are not empty
    with_probes = demo.build(40, anchor=ANCHOR, under_value_share=0.5)
    assert (
        with_probes.requests()
        == len(with_probes.steps()) + with_probes.grievance_requests() + with_probes.sizes()["under_value_first"]
    )
    assert with_probes.sizes()["under_value_first"] > 0
