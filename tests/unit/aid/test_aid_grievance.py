"""Given a grievance's facts, when a command comes, then these facts (or this refusal)."""

from datetime import date, timedelta
from uuid import uuid4

import pytest

from services.aid.domain.grievance import (
    EscalateGrievance,
    FileGrievance,
    Grievance,
    ResolveGrievance,
    decide,
    fold,
)
from services.aid.domain.notes import GrievanceText
from shared.contracts.aid import GrievanceEscalated, GrievanceFiled, GrievanceResolved
from shared.errors import Conflict, InvalidCommand

TODAY = date(2026, 3, 2)
GID, FAMILY, PLAN = uuid4(), uuid4(), uuid4()


def filing(**overrides: object) -> FileGrievance:
    values: dict[str, object] = {
        "grievance_id": GID,
        "kelurahan_code": "33.75.01.1002",
        "category": "missed_delivery",
        "description": "  telur tidak datang  ",
        "contact": None,
        "family_id": FAMILY,
        "plan_id": PLAN,
        "filed_on": TODAY - timedelta(days=2),
        "today": TODAY,
        "sla_days": 7,
        "programme_start": date(2025, 1, 1),
        "filed_by": None,
        "known_kelurahan": True,
    }
    return FileGrievance(**(values | overrides))  # type: ignore[arg-type]


def filed() -> Grievance:
    return fold(decide(Grievance(), filing()))


def test_filing_records_the_due_day_and_seals_the_text_apart_from_the_event() -> None:
    (fact,) = decide(Grievance(), filing())
    assert isinstance(fact.event, GrievanceFiled)
    assert fact.event.due_on == TODAY + timedelta(days=5)
    assert fact.event.plan_id == PLAN  # a missed delivery is linked to the plan with a gap
    assert "telur" not in fact.event.model_dump_json()
    assert fact.private == GrievanceText(description="telur tidak datang", contact=None, filed_by=None)


def test_only_a_missed_delivery_is_linked_to_a_plan() -> None:
    (fact,) = decide(Grievance(), filing(category="food_quality"))
    assert isinstance(fact.event, GrievanceFiled) and fact.event.plan_id is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "weather"}, "category"),
        ({"description": "  "}, "description"),
        ({"known_kelurahan": False}, "kelurahan_code"),
        ({"filed_on": TODAY + timedelta(days=1)}, "filed_on"),
        ({"contact": "x" * 201}, "contact"),
    ],
)
def test_bad_input_is_refused_naming_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidCommand) as refused:
        decide(Grievance(), filing(**overrides))
    assert field in [e.field for e in refused.value.errors or []]


def test_an_open_grievance_is_escalated_once_and_a_resolved_one_never() -> None:
    state = filed()
    (fact,) = decide(state, EscalateGrievance(GID, TODAY + timedelta(days=6)))
    assert isinstance(fact.event, GrievanceEscalated)
    escalated = fold([*decide(Grievance(), filing()), fact])
    assert escalated.status == "escalated"
    assert decide(escalated, EscalateGrievance(GID, TODAY + timedelta(days=7))) == []
    resolution = ResolveGrievance(GID, "sudah diantar", TODAY, TODAY, "lurah-medono")
    resolved = fold([*decide(Grievance(), filing()), *decide(state, resolution)])
    assert resolved.status == "resolved" and resolved.resolved_on == TODAY
    assert decide(resolved, EscalateGrievance(GID, TODAY)) == []


def test_an_escalated_grievance_can_still_be_resolved_but_not_twice() -> None:
    state = filed()
    escalated = fold([*decide(Grievance(), filing()), *decide(state, EscalateGrievance(GID, TODAY))])
    (fact,) = decide(escalated, ResolveGrievance(GID, "sudah", TODAY, TODAY, "admin"))
    assert isinstance(fact.event, GrievanceResolved)
    resolved = fold([*decide(Grievance(), filing()), fact])
    with pytest.raises(Conflict):
        decide(resolved, ResolveGrievance(GID, "lagi", TODAY, TODAY, "admin"))


def test_a_resolution_is_not_dated_before_the_filing() -> None:
    with pytest.raises(InvalidCommand) as refused:
        decide(filed(), ResolveGrievance(GID, "sudah", TODAY - timedelta(days=5), TODAY, "admin"))
    assert [e.field for e in refused.value.errors or []] == ["resolved_on"]
