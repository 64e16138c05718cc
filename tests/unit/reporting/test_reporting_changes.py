"""What each upstream event says about reporting's rows, and the replay's in-memory version gate."""

from __future__ import annotations

from uuid import UUID

import pytest
from pydantic import ValidationError

from services.reporting.projections import (
    DELIVERIES,
    DONORS,
    FAMILIES,
    FAMILY_FUNDING,
    GROWTH,
    HOME_VISITS,
    MONEY_BY_MONTH,
    PLANS,
    PROJECTIONS,
    UNFUNDED,
    aid_changes,
    funding_changes,
    registry_changes,
)
from services.reporting.replay import ReplayGate
from shared.messaging import Envelope
from shared.testing.reporting_examples import Programme

MEDONO = "33.75.01.1002"
STREAM = UUID(int=1)


def last(p: Programme) -> Envelope:
    return p.published[-1].envelope


def test_one_durable_consumer_per_upstream_over_its_whole_subject_space() -> None:
    assert [(p.name, p.stream, tuple(p.filter_subjects)) for p in PROJECTIONS] == [
        ("reporting-registry", "GENTING_REGISTRY", ("genting.registry.>",)),
        ("reporting-funding", "GENTING_FUNDING", ("genting.funding.>",)),
        ("reporting-aid", "GENTING_AID", ("genting.aid.>",)),
    ]


def test_an_enrolment_marks_the_family_and_a_verification_changes_nothing() -> None:
    p = Programme()
    family = p.register(MEDONO)
    p.enroll(family)
    verified, enrolled = (e.envelope for e in p.published[1:])
    assert registry_changes(verified) == []
    [c] = registry_changes(enrolled)
    assert (c.table, c.key, dict(c.values)) == (
        FAMILIES,
        (family,),
        {"kelurahan_code": MEDONO, "enrolled_on": p.day(1)},
    )


def test_a_sponsorship_counts_for_the_donor_and_for_the_family_in_its_kelurahan() -> None:
    p = Programme()
    family, donor = p.register(MEDONO), p.donor("csr", received_rp=5_000_000)
    p.sponsor(donor, family, 1_000_000)
    donor_change, family_change, month_change = funding_changes(last(p))
    assert donor_change.table is DONORS and donor_change.values["sponsored_rp"] == 1_000_000
    assert month_change.table is MONEY_BY_MONTH and month_change.values["sponsored_rp"] == 1_000_000
    assert family_change.table is FAMILY_FUNDING and family_change.key == (family,)
    assert dict(family_change.values) == {
        "kelurahan_code": MEDONO,
        "first_sponsored_on": p.day(2),
        "sponsorships": 1,
        "sponsored_rp": 1_000_000,
    }


def test_a_delivery_is_a_row_of_its_own_and_adds_to_its_plan() -> None:
    p = Programme()
    plan = p.open_plan(p.register(MEDONO))
    delivery = p.deliver(plan, first_day=3, days=10, on=3)
    row, plan_change = aid_changes(last(p))
    assert row.table is DELIVERIES and row.key == (delivery,) and row.values["value_rp"] == 150_000
    assert plan_change.table is PLANS and dict(plan_change.values) == {
        "deliveries": 1,
        "delivered_rp": 150_000,
        "days_covered": 10,
        "horizon": p.day(12),  # the last day accounted for: gaps are derived from it
    }


def test_a_coverage_gap_moves_the_horizon_and_counts_nothing() -> None:
    # A counter of gaps only goes up; a late delivery may fill the stretch.
    p = Programme()
    plan = p.open_plan(p.register(MEDONO))
    p.gap(plan, first_day=3, days=7)
    [c] = aid_changes(last(p))
    assert c.table is PLANS and dict(c.values) == {"horizon": p.day(9), "last_gap_to": p.day(9)}


def test_an_underfunded_plan_and_its_top_up_set_the_plans_shortfall() -> None:
    p = Programme()
    family = p.register(MEDONO)
    plan = p.open_plan(family)
    fields = {"plan_id": str(plan), "family_id": str(family), "kelurahan_code": MEDONO}
    p.emit(
        (
            "aid",
            "AidPlanUnderfunded",
            plan,
            {
                **fields,
                "shortfall_rp": 45_000,
                "uncovered_days": 173,
                "remaining_rp": 2_550_000,
                "detected_on": "2025-01-09",
                "some_later_field": 1,  # a tolerant reader
            },
        )
    )
    [short] = aid_changes(last(p))
    assert short.table is PLANS and short.key == (plan,)
    assert dict(short.values) == {
        "kelurahan_code": MEDONO,
        "shortfall_rp": 45_000,
        "uncovered_days": 173,
        "remaining_rp": 2_550_000,
        "underfunded_on": p.day(3),
    }
    p.emit(("aid", "AidPlanFullyFunded", plan, {**fields, "funded_on": "2025-01-10"}))
    [funded] = aid_changes(last(p))
    assert dict(funded.values) == {"kelurahan_code": MEDONO, "shortfall_rp": 0, "uncovered_days": 0}


def test_a_confirmation_without_a_photo_reference_is_read_by_its_date_only() -> None:
    # DeliveryConfirmed no longer carries photo_ref: at most photo_id and has_photo.
    p = Programme()
    family = p.register(MEDONO)
    plan = p.open_plan(family)
    delivery = UUID(int=9)
    data: dict[str, object] = {
        "plan_id": str(plan),
        "family_id": str(family),
        "kelurahan_code": MEDONO,
        "delivery_id": str(delivery),
    }
    data |= {"confirmed_on": "2025-01-10", "confirmed_by": "lurah", "photo_id": str(UUID(int=3)), "has_photo": True}
    p.emit(("aid", "DeliveryConfirmed", plan, data))
    [c] = aid_changes(last(p))
    assert c.table is DELIVERIES and c.key == (delivery,) and dict(c.values) == {"confirmed_on": p.day(4)}


def test_births_and_children_ageing_out_change_no_family_count() -> None:
    p = Programme()
    family = p.register(MEDONO)
    ids = {"family_id": str(family), "member_id": str(UUID(int=4)), "kelurahan_code": MEDONO}
    p.emit(("registry", "MotherGaveBirth", family, {**ids, "born_on": "2025-03-01"}))
    p.emit(("registry", "ChildAgedOut", family, {**ids, "aged_out_on": "2025-04-01"}))
    assert [registry_changes(x.envelope) for x in p.published[1:]] == [[], []]


def test_a_growth_measurement_is_read_through_its_contract_one_row_per_family_version() -> None:
    p = Programme()
    family = p.register(MEDONO)
    p.measure(family, UUID(int=5), on=30, haz=-2.3)
    [c] = registry_changes(last(p))
    assert c.table is GROWTH and c.key == (family, 2)
    assert dict(c.values) == {
        "member_id": UUID(int=5),
        "kelurahan_code": MEDONO,
        "measured_on": p.day(30),
        "age_months": 8,
        "haz": -2.3,
        "stunted": True,
    }


def test_a_malformed_growth_measurement_is_refused_not_counted() -> None:
    p = Programme()
    family = p.register(MEDONO)
    p.emit(("registry", "GrowthMeasured", family, {"family_id": str(family), "measured_on": "2025-02-01"}))
    with pytest.raises(ValidationError):
        registry_changes(last(p))  # the runner dead-letters it


def test_a_home_visit_flag_and_its_visit_fill_one_row() -> None:
    p = Programme()
    family = p.register(MEDONO)
    plan = p.open_plan(family)
    flagged = p.flag_home_visit(plan, family, UUID(int=5), on=70, since=5, weight_then_kg=7.1, weight_now_kg=7.0)
    [flag] = aid_changes(last(p))
    p.visit_home(flagged, on=72)
    [visit] = aid_changes(last(p))
    assert (flag.table, flag.key, dict(flag.values)) == (
        HOME_VISITS,
        (flagged.flag_id,),
        {"kelurahan_code": MEDONO, "flagged_on": p.day(70)},
    )
    assert (visit.table, visit.key, dict(visit.values)) == (
        HOME_VISITS,
        (flagged.flag_id,),
        {"kelurahan_code": MEDONO, "visited_on": p.day(72)},
    )


def test_unknown_event_types_say_nothing() -> None:
    p = Programme()
    family = p.register(MEDONO)
    p.emit(("registry", "FamilyRelocated", family, {"family_id": str(family)}))
    p.emit(("aid", "PlanPaused", family, {}))
    assert registry_changes(p.published[1].envelope) == [] and aid_changes(p.published[2].envelope) == []


def envs(*versions: int, stream: UUID = STREAM) -> list[Envelope]:
    p = Programme()
    out = []
    for v in versions:
        env = p.emit(("registry", "X", stream, {}))
        out.append(env.model_copy(update={"stream_version": v}))
    return out


def versions(batch: list[Envelope]) -> list[int]:
    return [e.stream_version for e in batch]


def test_the_replay_gate_applies_in_order_and_skips_duplicates() -> None:
    gate = ReplayGate()
    v1, v2, again = envs(1, 2, 2)
    assert versions(gate.offer(v1)) == [1] and versions(gate.offer(v2)) == [2]
    assert gate.offer(again) == [] and gate.duplicates == 1


def test_the_replay_gate_holds_an_early_version_until_its_predecessor_arrives() -> None:
    gate = ReplayGate()
    v1, v3, v4, v2 = envs(1, 3, 4, 2)
    gate.offer(v1)
    assert gate.offer(v3) == [] and gate.offer(v4) == [] and gate.gaps == 2
    assert gate.offer(v3) == [] and gate.duplicates == 1  # the same early version twice
    assert versions(gate.offer(v2)) == [2, 3, 4]
    assert gate.gaps == 0 and gate.versions == {UUID(int=1): 4}


def test_a_stream_whose_first_version_never_came_is_reported_as_a_gap() -> None:
    gate = ReplayGate()
    [v2] = envs(2)
    assert gate.offer(v2) == [] and gate.gaps == 1 and gate.versions == {}


def test_what_no_sponsorship_could_pay_of_a_delivery_is_kept_by_delivery() -> None:
    p = Programme()
    family = p.register(MEDONO)
    plan = p.open_plan(family)
    delivery = p.deliver(plan, first_day=3, days=10, on=3)
    p.unfunded(plan, delivery, value_rp=150_000, drawn_rp=40_000, on=3)
    [c] = funding_changes(last(p))
    assert (c.table, c.key) == (UNFUNDED, (delivery,))
    assert (c.values["unfunded_rp"], c.values["value_rp"], c.values["kelurahan_code"]) == (110_000, 150_000, MEDONO)
