"""The one envelope every event travels in (CONTRACT.md), and subject/stream naming."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

MSG_ID_HEADER = "Nats-Msg-Id"


class EnvelopeHeader(BaseModel):
    """The envelope's fields but `data`: one place for them, whether `data` is typed or not."""

    event_id: UUID
    event_type: str
    schema_version: int
    stream_id: UUID
    stream_version: int
    occurred_at: datetime
    correlation_id: UUID | None = None
    causation_id: UUID | None = None


class Envelope(EnvelopeHeader):
    """An event as it is stored in the outbox and published on NATS."""

    model_config = ConfigDict(frozen=True)

    data: dict[str, Any]

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate_json(raw)


def stream_name(context: str) -> str:
    """The JetStream stream a context owns: `GENTING_REGISTRY` captures `genting.registry.>`."""
    return f"GENTING_{context.upper()}"


def context_subjects(context: str) -> str:
    return f"genting.{context}.>"


def dlq_subject(service: str) -> str:
    return f"genting.dlq.{service}"


def dlq_stream_name(service: str) -> str:
    return f"GENTING_DLQ_{service.upper()}"
