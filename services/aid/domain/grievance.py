"""The Grievance aggregate: one complaint about the programme, from filing to its answer (state,
decide, evolve). Pure: the id, today, the SLA and the linked plan come in with the command.

Late entry holds: the SLA counts from `filed_on` (the day it was raised, possibly in the past),
and the clock escalates it only once aid's records have reached its due day, as plan endings do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import reduce
from typing import Literal, assert_never, cast, get_args
from uuid import UUID

from services.aid.domain.notes import GrievanceText, ResolutionText
from shared.contracts.aid import (
    GrievanceCategory,
    GrievanceEscalated,
    GrievanceEvent,
    GrievanceFiled,
    GrievanceResolved,
    GrievanceStreamEvent,
)
from shared.effective import effective_date_errors
from shared.errors import Conflict, FieldError, InvalidCommand, NotFound
from shared.evolving import carried, opened
from shared.repository import Fact

CATEGORIES: tuple[str, ...] = get_args(GrievanceCategory)
MAX_DESCRIPTION = 4000
MAX_CONTACT = 200
MAX_RESOLUTION = 4000
Status = Literal["open", "escalated", "resolved"]


@dataclass(frozen=True)
class FileGrievance:
    grievance_id: UUID
    kelurahan_code: str
    category: str
    description: str
    contact: str | None
    family_id: UUID | None
    plan_id: UUID | None  # the family's plan when the grievance is a missed delivery and it has a gap
    filed_on: date
    today: date
    sla_days: int
    programme_start: date
    filed_by: str | None
    known_kelurahan: bool


@dataclass(frozen=True)
class EscalateGrievance:
    grievance_id: UUID
    on: date  # the day it became overdue (due_on + 1): what the records-bound clock decides


@dataclass(frozen=True)
class ResolveGrievance:
    grievance_id: UUID
    resolution: str
    resolved_on: date
    today: date
    resolved_by: str


GrievanceCommand = FileGrievance | EscalateGrievance | ResolveGrievance


@dataclass(frozen=True)
class Grievance:
    grievance_id: UUID | None = None
    kelurahan_code: str | None = None
    category: str | None = None
    family_id: UUID | None = None
    plan_id: UUID | None = None
    status: Status | None = None
    filed_on: date | None = None
    due_on: date | None = None
    escalated_on: date | None = None
    resolved_on: date | None = None
    version: int = 0


def _text_errors(field: str, value: str | None, limit: int, *, required: bool) -> list[FieldError]:
    if value is None or not value.strip():
        return [FieldError(field, "must not be empty")] if required else []
    if len(value) > limit:
        return [FieldError(field, f"at most {limit} characters")]
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        return [FieldError(field, "control characters are not allowed")]
    return []


def decide(state: Grievance, command: GrievanceCommand) -> list[Fact]:
    match command:
        case FileGrievance():
            return _file(state, command)
        case EscalateGrievance():
            if state.status != "open":  # resolved or already escalated: nothing to do (idempotent)
                return []
            assert state.grievance_id and state.kelurahan_code and state.category and state.filed_on
            return [Fact(GrievanceEscalated(**carried(state, GrievanceEvent), escalated_on=command.on))]
        case ResolveGrievance():
            return _resolve(state, command)
        case _:
            assert_never(command)


def _file(state: Grievance, cmd: FileGrievance) -> list[Fact]:
    errors: list[FieldError] = []
    if not cmd.known_kelurahan:
        errors.append(FieldError("kelurahan_code", "not a kelurahan of the programme's city"))
    if cmd.category not in CATEGORIES:
        errors.append(FieldError("category", f"must be one of {', '.join(CATEGORIES)}"))
    errors += _text_errors("description", cmd.description, MAX_DESCRIPTION, required=True)
    errors += _text_errors("contact", cmd.contact, MAX_CONTACT, required=False)
    errors += effective_date_errors("filed_on", cmd.filed_on, cmd.today, cmd.programme_start)
    if errors:
        raise InvalidCommand(errors)
    if state.grievance_id is not None:
        raise Conflict(f"Grievance {cmd.grievance_id} is already filed.")
    event = GrievanceFiled(
        grievance_id=cmd.grievance_id,
        kelurahan_code=cmd.kelurahan_code,
        category=cast(GrievanceCategory, cmd.category),
        family_id=cmd.family_id,
        plan_id=cmd.plan_id if cmd.category == "missed_delivery" else None,
        filed_on=cmd.filed_on,
        due_on=cmd.filed_on + timedelta(days=cmd.sla_days),
    )
    contact = cmd.contact.strip() if cmd.contact and cmd.contact.strip() else None
    return [Fact(event, GrievanceText(description=cmd.description.strip(), contact=contact, filed_by=cmd.filed_by))]


def _resolve(state: Grievance, cmd: ResolveGrievance) -> list[Fact]:
    if state.grievance_id is None:
        raise NotFound(f"Grievance {cmd.grievance_id} is not filed.")
    errors = _text_errors("resolution", cmd.resolution, MAX_RESOLUTION, required=True)
    assert state.filed_on is not None
    errors += effective_date_errors("resolved_on", cmd.resolved_on, cmd.today, state.filed_on)
    if errors:
        raise InvalidCommand(errors)
    if state.status == "resolved":
        raise Conflict(f"Grievance {cmd.grievance_id} is already resolved.")
    event = GrievanceResolved(**carried(state, GrievanceEvent), resolved_on=cmd.resolved_on)
    return [Fact(event, ResolutionText(resolution=cmd.resolution.strip(), resolved_by=cmd.resolved_by))]


def evolve(state: Grievance, fact: Fact) -> Grievance:
    event = cast(GrievanceStreamEvent, fact.event)
    state = replace(state, version=state.version + 1)
    match event:
        case GrievanceFiled():
            return opened(state, event, status="open")
        case GrievanceEscalated():
            return replace(state, status="escalated", escalated_on=event.escalated_on)
        case GrievanceResolved():
            return replace(state, status="resolved", resolved_on=event.resolved_on)
        case _:
            assert_never(event)


def fold(facts: Iterable[Fact]) -> Grievance:
    return reduce(evolve, facts, Grievance())
