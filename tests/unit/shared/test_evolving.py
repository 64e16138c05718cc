"""`opened`: the state a stream's first event gives an empty aggregate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel

from shared.evolving import opened


class Filed(BaseModel):
    case_id: int
    filed_on: date
    reason: str  # not the state's: left out


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
