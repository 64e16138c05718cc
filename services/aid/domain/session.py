"""The Session aggregate: a counselling session held in a kelurahan — its state, `decide` and
`evolve`. Pure: no I/O, clock or ids."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import reduce
from typing import cast, get_args
from uuid import UUID

from services.aid.domain.commands import MAX_FACILITATOR, MAX_FAMILIES, HoldSession, check_effective
from services.aid.domain.errors import SessionAlreadyRecorded
from services.aid.domain.notes import SessionNote
from shared.contracts.aid import EducationSessionHeld, EducationTopic
from shared.errors import FieldError, InvalidCommand
from shared.evolving import opened
from shared.repository import Fact

TOPICS: tuple[str, ...] = get_args(EducationTopic)


@dataclass(frozen=True)
class Session:
    session_id: UUID | None = None
    topic: str = ""
    held_on: date | None = None
    kelurahan_code: str = ""
    family_ids: tuple[UUID, ...] = ()
    version: int = 0


def decide(state: Session, cmd: HoldSession) -> list[Fact]:
    if state.version:
        raise SessionAlreadyRecorded(cmd.session_id)
    facilitator = cmd.facilitator.strip()
    errors: list[FieldError] = []
    if cmd.topic not in TOPICS:
        errors.append(FieldError("topic", f"must be one of {', '.join(TOPICS)}"))
    errors += check_effective("held_on", cmd.held_on, cmd.today, cmd.rules)
    if not facilitator or len(facilitator) > MAX_FACILITATOR:
        errors.append(FieldError("facilitator", f"must be 1 to {MAX_FACILITATOR} characters"))
    if not 1 <= len(cmd.family_ids) <= MAX_FAMILIES:
        errors.append(FieldError("family_ids", f"must list 1 to {MAX_FAMILIES} families"))
    seen: set[UUID] = set()
    for i, family_id in enumerate(cmd.family_ids):
        if family_id in seen:
            errors.append(FieldError(f"family_ids[{i}]", "is listed twice"))
        elif family_id not in cmd.enrolled_here:
            errors.append(FieldError(f"family_ids[{i}]", f"is not an enrolled family of {cmd.kelurahan_code}"))
        seen.add(family_id)
    if errors:
        raise InvalidCommand(errors)
    event = EducationSessionHeld(
        session_id=cmd.session_id,
        topic=cast(EducationTopic, cmd.topic),
        held_on=cmd.held_on,
        kelurahan_code=cmd.kelurahan_code,
        family_ids=list(cmd.family_ids),
        families=len(cmd.family_ids),
    )
    return [Fact(event, SessionNote(facilitator=facilitator, recorded_by=cmd.recorded_by))]


def evolve(state: Session, fact: Fact) -> Session:
    event = fact.event
    assert isinstance(event, EducationSessionHeld), event  # a session stream holds nothing else
    return opened(state, event, family_ids=tuple(event.family_ids), version=state.version + 1)


def fold(facts: Iterable[Fact]) -> Session:
    return reduce(evolve, facts, Session())
