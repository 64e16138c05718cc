"""The HomeVisit aggregate: a child flagged for no weight gain, then visited. Pure: no I/O, clock or ids.

One stream per child and measurement day: its id derives from both, so a flag raised again (a
redelivery, a replay of the registry stream, a later measurement judged again) finds the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import date
from functools import reduce
from typing import Literal, assert_never
from uuid import UUID

from services.aid.domain.commands import MAX_NOTE, FlagHomeVisit, HomeVisitCommand, RecordVisit, check_effective
from services.aid.domain.errors import HomeVisitAlreadyDone, HomeVisitNotFound
from services.aid.domain.notes import VisitNote
from shared.contracts.aid import HomeVisitDone, HomeVisitEvent, HomeVisitFlagged
from shared.errors import FieldError, InvalidCommand
from shared.evolving import carried, opened
from shared.repository import Fact

VisitStatus = Literal["none", "open", "visited"]


@dataclass(frozen=True)
class HomeVisit:
    flag_id: UUID | None = None
    plan_id: UUID | None = None
    family_id: UUID | None = None
    kelurahan_code: str = ""
    member_id: UUID | None = None
    flagged_on: date | None = None
    status: VisitStatus = "none"
    visited_on: date | None = None
    version: int = 0


def decide(state: HomeVisit, command: HomeVisitCommand) -> list[Fact]:
    match command:
        case FlagHomeVisit():
            if state.status != "none":
                return []  # flagged once per child and day, however often it is judged
            return [Fact(HomeVisitFlagged(**carried(command, HomeVisitEvent), **asdict(command.no_gain)))]
        case RecordVisit():
            return _record_visit(state, command)
        case _:
            assert_never(command)


def _record_visit(state: HomeVisit, cmd: RecordVisit) -> list[Fact]:
    if state.status == "none":
        raise HomeVisitNotFound(cmd.flag_id)
    if state.status == "visited":
        raise HomeVisitAlreadyDone(cmd.flag_id)
    assert state.flagged_on is not None and state.family_id is not None and state.member_id is not None
    note = (cmd.note or "").strip() or None
    errors: list[FieldError] = []
    errors += check_effective(
        "visited_on", cmd.visited_on, cmd.today, cmd.rules, state.flagged_on, "the day the child was flagged"
    )
    if note is not None and len(note) > MAX_NOTE:
        errors.append(FieldError("note", f"must be at most {MAX_NOTE} characters"))
    if errors:
        raise InvalidCommand(errors)
    event = HomeVisitDone(**carried(state, HomeVisitEvent), visited_on=cmd.visited_on)
    return [Fact(event, VisitNote(note=note, recorded_by=cmd.recorded_by))]


def evolve(state: HomeVisit, fact: Fact) -> HomeVisit:
    """Apply one recorded fact. Never fails."""
    state = replace(state, version=state.version + 1)
    match fact.event:
        case HomeVisitFlagged() as e:
            return opened(state, e, status="open")
        case HomeVisitDone() as e:
            return replace(state, status="visited", visited_on=e.visited_on)
        case _:
            return state  # a home visit stream holds nothing else


def fold(facts: Iterable[Fact]) -> HomeVisit:
    return reduce(evolve, facts, HomeVisit())
