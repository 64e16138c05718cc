"""The PostgreSQL event store: load a stream, append with an expected version, outbox alongside."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from shared.clock import now
from shared.contracts import Event
from shared.errors import ConcurrencyConflict
from shared.messaging import Envelope

# Set by `append` in the writing task: whether the transaction `shared.outbox.committing` opened
# wrote outbox rows, so a reaction or a refused command that appended nothing wakes no relay.
appended: ContextVar[list[bool] | None] = ContextVar("appended", default=None)


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

    @classmethod
    def of_clock(cls) -> Metadata:
        """A clock step's stamp: now, in a correlation of its own (no request or event caused it)."""
        return cls(occurred_at=now(), correlation_id=uuid4(), causation_id=uuid4())

    @classmethod
    def caused_by(cls, envelope: Envelope, occurred_at: datetime | None = None) -> Metadata:
        """A reaction's stamp: caused by the upstream event, in its correlation (the event itself
        starts one when it carries none), at `occurred_at` or now."""
        return cls(
            occurred_at=occurred_at or now(),
            correlation_id=envelope.correlation_id or envelope.event_id,
            causation_id=envelope.event_id,
        )


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
        """The event as it travels: the envelope's fields, read from this record's by name."""
        return Envelope.model_validate(self, from_attributes=True)


_APPEND = """
with new_events as (
    select * from unnest($1::uuid[], $2::int[], $3::text[], $4::int[], $5::text[], $6::bytea[])
        as t(event_id, stream_version, event_type, schema_version, data, sealed)
), appended as (
    insert into events (event_id, stream_type, stream_id, stream_version, event_type, schema_version,
                        data, sealed, occurred_at, correlation_id, causation_id)
    select event_id, $7, $8, stream_version, event_type, schema_version, data::jsonb, sealed, $9, $10, $11
    from new_events
    where (select coalesce(max(stream_version), 0) from events where stream_id = $8) = $12
    returning event_id
)
insert into outbox (event_id, subject, payload)
select o.event_id, o.subject, o.payload
from unnest($1::uuid[], $13::text[], $14::bytea[]) with ordinality as o(event_id, subject, payload, n)
where o.event_id in (select event_id from appended)
order by o.n  -- outbox ids follow stream versions: the relay publishes in this order
"""

_COLUMNS = (
    "global_position, event_id, stream_id, stream_version, event_type, schema_version, data,"
    " sealed, occurred_at, correlation_id, causation_id"
)


class EventStore:
    """One aggregate type's streams in the service's `events` table."""

    def __init__(self, stream_type: str, new_id: Callable[[], UUID] = uuid4) -> None:
        self.stream_type = stream_type
        self._new_id = new_id

    async def load(self, conn: asyncpg.Connection, stream_id: UUID, from_version: int = 1) -> list[StoredEvent]:
        """The stream's events from `from_version` on, in order."""
        rows = await conn.fetch(
            f"select {_COLUMNS} from events where stream_id = $1 and stream_version >= $2 order by stream_version",
            stream_id,
            from_version,
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
        envelopes = [
            Envelope(
                event_id=self._new_id(),
                event_type=new.event.event_type,
                schema_version=new.event.schema_version,
                stream_id=stream_id,
                stream_version=expected_version + i,
                occurred_at=meta.occurred_at,
                correlation_id=meta.correlation_id,
                causation_id=meta.causation_id,
                data=new.event.model_dump(mode="json"),
            )
            for i, new in enumerate(events, start=1)
        ]
        # One round trip: the version check, the events and their outbox rows. A stream that is
        # not at `expected_version` inserts nothing; a concurrent writer collides on the unique key.
        try:
            status = await conn.execute(
                _APPEND,
                [e.event_id for e in envelopes],
                [e.stream_version for e in envelopes],
                [e.event_type for e in envelopes],
                [e.schema_version for e in envelopes],
                [json.dumps(e.data) for e in envelopes],
                [new.sealed for new in events],
                self.stream_type,
                stream_id,
                meta.occurred_at,
                meta.correlation_id,
                meta.causation_id,
                expected_version,
                [new.event.subject() for new in events],
                [e.to_bytes() for e in envelopes],
            )
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == "events_stream_version_unique":
                raise ConcurrencyConflict(stream_id, expected_version) from None
            raise
        if status != f"INSERT 0 {len(envelopes)}":
            raise ConcurrencyConflict(stream_id, expected_version)
        if (marker := appended.get()) is not None:
            marker[0] = True
        return envelopes

    async def read_all(self, conn: asyncpg.Connection, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Every event of this stream type in commit-safe global order (for rebuilds, offline)."""
        rows = await conn.fetch(
            f"select {_COLUMNS} from events where stream_type = $1 and global_position > $2"
            " order by global_position limit $3",
            self.stream_type,
            after_position,
            limit,
        )
        return [StoredEvent(**dict(r)) for r in rows]

    async def load_many(self, conn: asyncpg.Connection, stream_ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
        """Several streams in one query, each in order: the streams with no event are absent."""
        rows = await conn.fetch(
            f"select {_COLUMNS} from events where stream_id = any($1::uuid[]) order by stream_id, stream_version",
            list(stream_ids),
        )
        found: dict[UUID, list[StoredEvent]] = {}
        for r in rows:
            found.setdefault(r["stream_id"], []).append(StoredEvent(**dict(r)))
        return found

    async def last(self, conn: asyncpg.Connection, stream_id: UUID) -> StoredEvent | None:
        """The stream's tip: its last event only (a stream of thousands need not be read to know it)."""
        row = await conn.fetchrow(
            f"select {_COLUMNS} from events where stream_id = $1 order by stream_version desc limit 1", stream_id
        )
        return None if row is None else StoredEvent(**dict(row))


# -- what the services need of the store beyond one stream: every SQL on `events` stays here ------


async def first_data_field(conn: asyncpg.Connection, stream_id: UUID, field: str) -> Any:
    """A field of the public data of a stream's first event (e.g. the family a plan belongs to)."""
    return await conn.fetchval(
        "select data->>$2 from events where stream_id = $1 order by stream_version limit 1", stream_id, field
    )


async def has_sealed_parts(conn: asyncpg.Connection, stream_id: UUID) -> bool:
    return bool(
        await conn.fetchval(
            "select exists (select 1 from events where stream_id = $1 and sealed is not null)", stream_id
        )
    )


async def shred_sealed(conn: asyncpg.Connection, stream_types: Sequence[str], field: str, value: str) -> None:
    """Crypto-shredding of parts sealed without a per-subject key (under an old service-wide key):
    the sealed column itself is cleared on the streams whose public `field` is `value`."""
    await conn.execute(
        "update events set sealed = null where sealed is not null and stream_type = any($1::text[]) and data->>$2 = $3",
        list(stream_types),
        field,
        value,
    )


async def sealed_events(
    conn: asyncpg.Connection | asyncpg.Pool,
    stream_ids: Sequence[UUID],
    event_types: Sequence[str],
    field: str | None = None,
    value: str | None = None,
) -> list[StoredEvent]:
    """The events of these types in these streams that have a sealed part (and, given `field`,
    whose public `field` is `value`), each stream in order: a read of private parts that need
    not fold whole streams (a donor's name and notes, one receipt's reference, a family's notes)."""
    rows = await conn.fetch(
        f"select {_COLUMNS} from events where stream_id = any($1::uuid[]) and event_type = any($2::text[])"
        " and sealed is not null and ($3::text is null or data->>$3 = $4)"
        " order by stream_id, stream_version",
        list(stream_ids),
        list(event_types),
        field,
        value,
    )
    return [StoredEvent(**dict(r)) for r in rows]


async def seal_unsealed(
    conn: asyncpg.Connection,
    stream_id: UUID,
    event_type: str,
    sealed: bytes,
    field: str | None = None,
    value: str | None = None,
) -> bool:
    """Gives the stream's `event_type` event (whose public `field` is `value`, given `field`) the
    sealed part it lacks: private text an older release kept beside the stream, moved in. An
    event that already has one keeps it. Whether an event took it."""
    done = await conn.execute(
        "update events set sealed = $3 where stream_id = $1 and event_type = $2 and sealed is null"
        " and ($4::text is null or data->>$4 = $5)",
        stream_id,
        event_type,
        sealed,
        field,
        value,
    )
    return bool(done != "UPDATE 0")


async def strip_public_field(
    conn: asyncpg.Connection, stream_type: str, event_type: str, strip: str, field: str, value: str
) -> None:
    """Removes `strip` from the public data of such events whose `field` is `value`: for what an
    older release kept in the clear and an erasure must remove from the store and any replay."""
    await conn.execute(
        "update events set data = data - $3 where stream_type = $1 and event_type = $2 and data ? $3"
        " and data->>$4 = $5",
        stream_type,
        event_type,
        strip,
        field,
        value,
    )


async def all_events_page(conn: asyncpg.Connection, after_position: int, limit: int) -> list[tuple[StoredEvent, str]]:
    """Every stream type's events after a global position, in order, with each one's stream type:
    what re-publishing a lost bus stream from the system of record reads."""
    rows = await conn.fetch(
        f"select {_COLUMNS}, stream_type from events where global_position > $1 order by global_position limit $2",
        after_position,
        limit,
    )
    page = []
    for r in rows:
        row = dict(r)
        stream_type = row.pop("stream_type")
        if isinstance(row["data"], str):  # a connection without the jsonb codec
            row["data"] = json.loads(row["data"])
        page.append((StoredEvent(**row), stream_type))
    return page


async def insert_recovered(conn: asyncpg.Connection, envelope: Envelope, stream_type: str) -> bool | None:
    """An event found on the bus but missing from the store, written back without private parts
    (those were never on the bus). True: inserted; None: already there; False: its stream version
    is taken by another event (a conflict the operator must look at)."""
    status = await conn.execute(
        "insert into events (event_id, stream_type, stream_id, stream_version, event_type, schema_version,"
        " data, sealed, occurred_at, correlation_id, causation_id)"
        " values ($1, $2, $3, $4, $5, $6, $7::jsonb, null, $8, $9, $10) on conflict do nothing",
        envelope.event_id,
        stream_type,
        envelope.stream_id,
        envelope.stream_version,
        envelope.event_type,
        envelope.schema_version,
        envelope.data,  # a connection of shared.db (its jsonb codec)
        envelope.occurred_at,
        envelope.correlation_id,
        envelope.causation_id,
    )
    if status.endswith(" 1"):
        return True
    if await conn.fetchval("select exists (select 1 from events where event_id = $1)", envelope.event_id):
        return None
    return False


async def sealed_page(
    conn: asyncpg.Connection, after_position: int, header_bytes: int, current: bytes, limit: int
) -> list[tuple[int, UUID, bytes]]:
    """(global position, stream id, sealed blob) of the events whose sealed blob's first
    `header_bytes` are not `current` (sealed under another key), after a position, in order: what a
    key rotation re-seals."""
    rows = await conn.fetch(
        "select global_position, stream_id, sealed from events where global_position > $1"
        " and sealed is not null and substring(sealed from 1 for $2::int) <> $3"
        " order by global_position limit $4",
        after_position,
        header_bytes,
        current,
        limit,
    )
    return [(r["global_position"], r["stream_id"], r["sealed"]) for r in rows]


async def replace_sealed(conn: asyncpg.Connection, global_position: int, old: bytes, new: bytes) -> bool:
    """Swaps one event's sealed blob, only if it is still `old`: an erasure that cleared it meanwhile wins."""
    status = await conn.execute(
        "update events set sealed = $2 where global_position = $1 and sealed = $3", global_position, new, old
    )
    return bool(status.endswith(" 1"))
