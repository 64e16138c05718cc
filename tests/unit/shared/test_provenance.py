"""Provenance, the pure part: whether an event delivered from a stream on a subject can be its
producer's (shared/projection.py's `provenance_problem`), without NATS or PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from shared.messaging import Envelope
from shared.projection import provenance_problem

FAMILY = UUID(int=0xF1)
OTHER = UUID(int=0xF2)


def envelope(event_type: str = "FamilyExited", stream_id: UUID = FAMILY, version: int = 3) -> Envelope:
    return Envelope(
        event_id=UUID(int=0xE1),
        event_type=event_type,
        schema_version=1,
        stream_id=stream_id,
        stream_version=version,
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        data={},
    )


def subject(event_type: str = "FamilyExited", stream_id: UUID = FAMILY, aggregate: str = "family") -> str:
    return f"genting.registry.{aggregate}.{stream_id}.{event_type}"


def test_a_registry_event_from_the_registry_stream_on_its_own_subject_is_the_registrys() -> None:
    assert provenance_problem("GENTING_REGISTRY", subject(), envelope()) is None


def test_an_event_type_this_code_does_not_know_is_a_newer_producers_not_a_forgery() -> None:
    assert provenance_problem("GENTING_REGISTRY", subject("FamilyMoved"), envelope("FamilyMoved")) is None


@pytest.mark.parametrize(
    ("stream", "on", "env", "why"),
    [
        ("GENTING_AID", subject(), envelope(), "not from its producer's stream GENTING_REGISTRY"),
        ("GENTING_REGISTRY", subject(stream_id=OTHER), envelope(), "does not match its envelope"),
        ("GENTING_REGISTRY", subject("FamilyEnrolled"), envelope(), "does not match its envelope"),
        ("GENTING_REGISTRY", subject(aggregate="donor"), envelope(), "not on donor"),
        ("GENTING_REGISTRY", subject(), envelope(version=0), "is not a version"),
        ("GENTING_REGISTRY", "genting.registry.family.FamilyExited", envelope(), "is not genting.<context>"),
        ("GENTING_REGISTRY", "genting.registry.family.not-a-uuid.FamilyExited", envelope(), "does not match"),
    ],
)
def test_anything_else_is_refused_with_the_reason(stream: str, on: str, env: Envelope, why: str) -> None:
    problem = provenance_problem(stream, on, env)
    assert problem is not None and why in problem
