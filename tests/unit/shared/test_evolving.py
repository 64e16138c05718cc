"""`opened`: the state a stream's first event gives an empty aggregate; `carried`: the ids every later
event of the stream takes from the state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel

from shared.evolving import carried, opened


class CaseEvent(BaseModel):
    case_id: int
    filed_on: date


class Filed(CaseEvent):
    reason: str  # not the state's: left out


class Closed(CaseEvent):
    closed_on: date


@dataclass(frozen=True)
class Case:
    case_id: int | None = None
    filed_on: date | None = None
    status: str = "none"
    version: int = 0


def test_the_state_takes_the_fields_it_shares_with_the_event_by_name() -> None:
    event = Filed(case_id=7, filed_on=date(2025, 3, 1), reason="late")

    state = opened(Case(), event)

    assert state == Case(case_id=7, filed_on=date(2025, 3, 1))


def test_what_is_given_besides_comes_on_top_and_wins() -> None:
    event = Filed(case_id=7, filed_on=date(2025, 3, 1), reason="late")

    state = opened(Case(version=1), event, status="open", filed_on=date(2025, 3, 2))

    assert state == Case(case_id=7, filed_on=date(2025, 3, 2), status="open", version=1)


def test_a_later_event_carries_the_fields_its_stream_base_declares_from_the_state() -> None:
    state = Case(case_id=7, filed_on=date(2025, 3, 1), status="open", version=1)

    event = Closed(**carried(state, CaseEvent), closed_on=date(2025, 3, 9))

    assert event == Closed(case_id=7, filed_on=date(2025, 3, 1), closed_on=date(2025, 3, 9))
