"""The one repository every service uses: load an aggregate, decide, and save its facts with the
expected version, the sealed private parts, the outbox and the inline views in the caller's transaction.

A `Fact` is an event with a secret: the public event, published as-is, and an optional private part
(a name, a note, a description) that is sealed into the event store's never-published `sealed`
column. How private parts are sealed is the repository's configuration (its `Cipher`), not the
service's code — in the style of eventsourcing's cipher transcoder.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce
from typing import Any, Generic, Protocol, TypeVar
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from shared.contracts.base import Event, EventCatalog
from shared.eventstore import EventStore, Metadata, NewEvent, StoredEvent
from shared.messaging import Envelope

S = TypeVar("S")


@dataclass(frozen=True)
class Fact:
    """A recorded fact: the public event and, where it has one, its private part (never published)."""

    event: Event
    private: BaseModel | None = None


class StreamCipher(Protocol):
    """Seals and opens the private parts of one stream's events."""

    def seal(self, value: dict[str, Any]) -> bytes: ...

    def open(self, blob: bytes) -> dict[str, Any]: ...


class Cipher(Protocol):
    """Where a stream's key comes from. `None` means the key is gone (erased): private parts stay closed."""

    async def for_stream(self, conn: asyncpg.Connection, stream_id: UUID, *, create: bool) -> StreamCipher | None: ...


@dataclass(frozen=True)
class Aggregate(Generic[S]):
    """A loaded aggregate: its state and the stream version a save must expect."""

    stream_id: UUID
    state: S
    version: int = 0


# An inline view: updated in the command's transaction from the state after the save and the new facts.
InlineView = Callable[[asyncpg.Connection, Any, Sequence[Fact], Sequence[Envelope]], Awaitable[None]]


@dataclass
class Repository(Generic[S]):
    """One aggregate type's streams.

    `private_parts` names the private model of each event type that has one; `cipher` seals them
    (required when there are private parts). `lock_sql`, when set, is run with the stream id before a
    command loads, so writers of one aggregate queue instead of colliding on the stream version
    (the version check stays the backstop)."""

    stream_type: str
    catalog: EventCatalog
    initial: Callable[[], S]
    evolve: Callable[[S, Fact], S]
    private_parts: Mapping[str, type[BaseModel]] = field(default_factory=dict)
    cipher: Cipher | None = None
    views: Sequence[InlineView] = ()
    lock_sql: str | None = None
    cache_size: int = 4096

    def __post_init__(self) -> None:
        if self.private_parts and self.cipher is None:
            raise ValueError(f"{self.stream_type}: events with private parts need a cipher")
        self.store = EventStore(self.stream_type)
        # Aggregates as last loaded (stream id -> version, that version's event id, state), most
        # recently used last. A load reads only the events from the cached version on and folds
        # the newer ones: a plan's fiftieth delivery no longer parses the forty-nine before it.
        self._cache: OrderedDict[UUID, tuple[int, UUID, S]] = OrderedDict()

    # -- reading ------------------------------------------------------------------------------

    async def load(
        self, conn: asyncpg.Connection, stream_id: UUID, *, private: bool = True, lock: bool = False
    ) -> Aggregate[S]:
        """`private=False` leaves the sealed parts closed: decisions rarely need them, views do."""
        if lock and self.lock_sql:
            await conn.execute(self.lock_sql, stream_id)
        if private:  # opened private parts are never cached: erasure must not leave them in memory
            stored = await self.store.load(conn, stream_id)
            facts = await self.facts(conn, stream_id, stored, private=True)
            state = reduce(self.evolve, facts, self.initial())
            return Aggregate(stream_id, state, stored[-1].stream_version if stored else 0)
        # From the cache where it still holds: the cached version's event must be the stored one
        # (same id), else the cache saw a transaction that rolled back, and the stream is read whole.
        stored, state, newer = [], self.initial(), []
        if (cached := self._cache.pop(stream_id, None)) is not None:
            version, event_id, cached_state = cached
            stored = await self.store.load(conn, stream_id, from_version=version)
            if stored and stored[0].stream_version == version and stored[0].event_id == event_id:
                state, newer = cached_state, stored[1:]
            else:
                stored = []
        if not stored:
            stored = newer = await self.store.load(conn, stream_id)
        state = reduce(self.evolve, (self.fact(e) for e in newer), state)
        if not stored:
            return Aggregate(stream_id, state)
        last = stored[-1]
        self._cache[stream_id] = (last.stream_version, last.event_id, state)  # most recently used last
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return Aggregate(stream_id, state, last.stream_version)

    async def load_many(self, conn: asyncpg.Connection, stream_ids: Sequence[UUID]) -> list[Aggregate[S]]:
        """Several aggregates read in one query and folded, in the order asked (the streams that
        have no event left out). Private parts stay closed, as `load(private=False)`."""
        stored = await self.store.load_many(conn, stream_ids)
        return [
            Aggregate(
                i, reduce(self.evolve, (self.fact(e) for e in stored[i]), self.initial()), stored[i][-1].stream_version
            )
            for i in stream_ids
            if i in stored
        ]

    async def last(self, conn: asyncpg.Connection, stream_id: UUID) -> Aggregate[S]:
        """The stream folded from its last event alone, at that event's version: for streams whose
        every event carries the whole state (a snapshot), where reading thousands to know the tip
        would be waste. Private parts stay closed."""
        stored = await self.store.last(conn, stream_id)
        if stored is None:
            return Aggregate(stream_id, self.initial())
        return Aggregate(stream_id, self.evolve(self.initial(), self.fact(stored)), stored.stream_version)

    async def facts(
        self, conn: asyncpg.Connection, stream_id: UUID, stored: Sequence[StoredEvent], *, private: bool = True
    ) -> list[Fact]:
        cipher = None
        if private and self.cipher is not None and any(e.sealed is not None for e in stored):
            cipher = await self.cipher.for_stream(conn, stream_id, create=False)
        return [self.fact(e, cipher) for e in stored]

    def fact(self, stored: StoredEvent, cipher: StreamCipher | None = None) -> Fact:
        event = self.catalog.parse(stored.event_type, stored.schema_version, stored.data)
        part = self.private_parts.get(stored.event_type)
        if part is None or stored.sealed is None or cipher is None:
            return Fact(event)
        return Fact(event, part.model_validate(cipher.open(stored.sealed)))

    async def stream_ids(self, conn: asyncpg.Connection) -> list[UUID]:
        """Every stream of this type, oldest first (rebuilds)."""
        rows = await conn.fetch(
            "select stream_id from events where stream_type = $1 group by stream_id order by min(global_position)",
            self.stream_type,
        )
        return [r["stream_id"] for r in rows]

    # -- writing ------------------------------------------------------------------------------

    async def save(
        self, conn: asyncpg.Connection, aggregate: Aggregate[S], facts: Sequence[Fact], meta: Metadata
    ) -> Aggregate[S]:
        """Append with the expected version (ConcurrencyConflict if stale), then the inline views."""
        if not facts:
            return aggregate
        cipher = None
        if any(f.private is not None for f in facts):
            assert self.cipher is not None
            cipher = await self.cipher.for_stream(conn, aggregate.stream_id, create=aggregate.version == 0)
        new_events = [
            NewEvent(f.event, cipher.seal(f.private.model_dump(mode="json")) if f.private and cipher else None)
            for f in facts
        ]
        envelopes = await self.store.append(conn, aggregate.stream_id, aggregate.version, new_events, meta)
        state = reduce(self.evolve, facts, aggregate.state)
        after = Aggregate(aggregate.stream_id, state, aggregate.version + len(facts))
        if cipher is None:
            # No key (the family was erased): the private parts were not kept, so no view shows them.
            facts = [Fact(f.event) for f in facts]
        for view in self.views:
            await view(conn, after.state, facts, envelopes)
        return after

    async def execute(
        self,
        conn: asyncpg.Connection,
        stream_id: UUID,
        decide: Callable[[S], Iterable[Fact]],
        meta: Metadata,
        *,
        private: bool = False,
    ) -> tuple[Aggregate[S], list[Fact]]:
        """The one path of a command: load (locked), decide, save — all in the caller's transaction.
        `private=True` when the decision needs the sealed parts (most do not)."""
        aggregate = await self.load(conn, stream_id, private=private, lock=True)
        facts = list(decide(aggregate.state))
        return await self.save(conn, aggregate, facts, meta), facts
