"""The Session aggregate, given/when/then: who may be listed, and what stays out of the event."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import UUID

import pytest

from services.aid.domain import HoldSession, SessionAlreadyRecorded, SessionNote
from services.aid.domain.session import decide, fold
from shared.contracts.aid import EducationSessionHeld
from shared.errors import InvalidCommand
from shared.repository import Fact

SESSION = UUID("00000000-0000-0000-0000-00000000e001")
F1 = UUID("00000000-0000-0000-0000-00000000f001")
F2 = UUID("00000000-0000-0000-0000-00000000f002")
ELSEWHERE = UUID("00000000-0000-0000-0000-00000000f009")
MEDONO = "33.75.01.1002"
TODAY = date(2025, 4, 2)

HOLD = HoldSession(
    session_id=SESSION,
    topic="nutrition",
    held_on=TODAY,
    kelurahan_code=MEDONO,
    family_ids=(F1, F2),
    facilitator="Bu Ratna (bidan)",
    today=TODAY,
    recorded_by="kader-1",
    enrolled_here=frozenset({F1, F2}),
)


def test_a_session_for_enrolled_families_is_held_and_the_facilitator_stays_private() -> None:
    [fact] = decide(fold([]), HOLD)
    assert fact.event == EducationSessionHeld(
        session_id=SESSION, topic="nutrition", held_on=TODAY, kelurahan_code=MEDONO, family_ids=[F1, F2], families=2
    )
    assert fact.private == SessionNote(facilitator="Bu Ratna (bidan)", recorded_by="kader-1")
    assert "Ratna" not in fact.event.model_dump_json()


def test_families_not_enrolled_there_or_listed_twice_are_refused_by_position() -> None:
    with pytest.raises(InvalidCommand) as exc:
        decide(fold([]), replace(HOLD, family_ids=(F1, ELSEWHERE, F1)))
    assert [e.field for e in exc.value.errors] == ["family_ids[1]", "family_ids[2]"]


def test_bad_input_names_every_field() -> None:
    bad = replace(HOLD, topic="astrology", held_on=date(2025, 4, 3), facilitator="  ", family_ids=())
    with pytest.raises(InvalidCommand) as exc:
        decide(fold([]), bad)
    assert [e.field for e in exc.value.errors] == ["topic", "held_on", "facilitator", "family_ids"]


def test_a_session_is_recorded_once() -> None:
    with pytest.raises(SessionAlreadyRecorded):
        decide(fold([Fact(decide(fold([]), HOLD)[0].event)]), HOLD)
