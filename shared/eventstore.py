"""The PostgreSQL event store: load a stream, append with an expected version, outbox alongside."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from shared.contracts import Event
from shared.errors import ConcurrencyConflict
from shared.messaging import Envelope


@dataclass(frozen=True)
class NewEvent:
    """An event about to be appended; `sealed` is an opaque encrypted blob that is never published."""

    event: Event
    sealed: bytes | None = None


@dataclass(frozen=True)
class Metadata:
    """Stamped by the command handler, never by domain code."""

    occurred_at: datetime
    correlation_id: UUID | None = None
    causation_id: UUID | None = None


@dataclass(frozen=True)
class StoredEvent:
    global_position: int
    event_id: UUID
    stream_id: UUID
    stream_version: int
    event_type: str
    schema_version: int
    data: dict[str, Any]
    sealed: bytes | None
    occurred_at: datetime
    correlation_id: UUID | None
    causation_id: UUID | None

    def envelope(self) -> Envelope:
        return Envelope(
            event_id=self.event_id, event_type=self.event_type, schema_version=self.schema_version,
            stream_id=self.stream_id, stream_version=self.stream_version,
            occurred_at=self.occurred_at, correlation_id=self.correlation_id,
            causation_id=self.causation_id, data=self.data,
        )


_COLUMNS = (
    "global_position, event_id, stream_id, stream_version, event_type, schema_version, data,"
    " sealed, occurred_at, correlation_id, causation_id"
)


class EventStore:
    """One aggregate type's streams in the service's `events` table."""

    def __init__(self, stream_type: str, new_id: Callable[[], UUID] = uuid4) -> None:
        self.stream_type = stream_type
        self._new_id = new_id

    async def load(self, conn: asyncpg.Connection, stream_id: UUID) -> list[StoredEvent]:
        rows = await conn.fetch(
            f"select {_COLUMNS} from events where stream_id = $1 order by stream_version", stream_id
        )
        return [StoredEvent(**dict(r)) for r in rows]

    async def append(
        self,
        conn: asyncpg.Connection,
        stream_id: UUID,
        expected_version: int,
        events: Sequence[NewEvent],
        meta: Metadata,
    ) -> list[Envelope]:
        """Append in the caller's transaction, with one outbox row per event.

        Raises ConcurrencyConflict when the stream is not at `expected_version`; the caller's
        transaction must then roll back (it does when the exception leaves `conn.transaction()`).
        """
        if not events:
            return []
        current = await conn.fetchval(
            "select coalesce(max(stream_version), 0) from events where stream_id = $1", stream_id
        )
        if current != expected_version:
            raise ConcurrencyConflict(stream_id, expected_version)
        envelopes = [
            Envelope(
                event_id=self._new_id(), event_type=new.event.event_type,
                schema_version=new.event.schema_version, stream_id=stream_id,
                stream_version=expected_version + i, occurred_at=meta.occurred_at,
                correlation_id=meta.correlation_id, causation_id=meta.causation_id,
                data=new.event.model_dump(mode="json"),
            )
            for i, new in enumerate(events, start=1)
        ]
        try:
            await conn.executemany(
                "insert into events (event_id, stream_type, stream_id, stream_version, event_type,"
                " schema_version, data, sealed, occurred_at, correlation_id, causation_id)"
                " values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                [
                    (e.event_id, self.stream_type, stream_id, e.stream_version, e.event_type,
                     e.schema_version, e.data, new.sealed, e.occurred_at, e.correlation_id,
                     e.causation_id)
                    for e, new in zip(envelopes, events, strict=True)
                ],
            )
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == "events_stream_version_unique":
                raise ConcurrencyConflict(stream_id, expected_version) from None
            raise
        await conn.executemany(
            "insert into outbox (event_id, subject, payload) values ($1, $2, $3)",
            [(e.event_id, new.event.subject(), e.to_bytes()) for e, new in zip(envelopes, events, strict=True)],
        )
        return envelopes

    async def read_all(
        self, conn: asyncpg.Connection, after_position: int = 0, limit: int = 1000
    ) -> list[StoredEvent]:
        """Every event of this stream type in commit-safe global order (for rebuilds, offline)."""
        rows = await conn.fetch(
            f"select {_COLUMNS} from events where stream_type = $1 and global_position > $2"
            " order by global_position limit $3",
            self.stream_type, after_position, limit,
        )
        return [StoredEvent(**dict(r)) for r in rows]
