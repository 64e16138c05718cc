"""Recovery (DESIGN.md, "Recovery"): the PostgreSQL event store is the system of record, a JetStream
stream is a transport rebuilt from it.

- `republish`: puts back on a context's stream every stored event the stream lacks. What the
  stream holds is read from the stream itself (the event ids of its messages), not left to the
  duplicate window (2 minutes): running it twice, or a week later, publishes nothing twice.
- `repair_stream`: a stream holding what the contract no longer allows (`WITHDRAWN`, e.g. a
  `DeliveryConfirmed` from before `photo_id`, with its `photo_ref`) is purged and rebuilt from the
  store, in the store's order, without those fields. A subscriber can no longer read them.
- `reconcile_after_restore`: after a database was restored from a dump, brings back the service's
  own events the dump lacks (they are still on its stream), re-applies every erasure the registry
  ever published (the erasure log: `PersonalDataErased` on GENTING_REGISTRY), re-publishes what the
  stream lacks, and starts the service's consumers over (the restored version gate skips what the
  dump had applied). Its read models are then rebuilt (`genting replay`).

Personal data is never on the bus, so what the registry recorded of it after the dump cannot come
back from the stream: those families return with their public facts only (CloudNativePG's
point-in-time recovery keeps it in a deployment). An erasure always comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from shared import eventstore
from shared.eventstore import StoredEvent
from shared.messaging import MSG_ID_HEADER, Envelope, context_subjects, stream_name
from shared.nats_setup import ensure_stream, owned_stream_config
from shared.projection import producer_catalog
from shared.settings import Settings
from shared.stream_reader import last_sequence, read_through

log = structlog.get_logger()

# Fields events once carried on the bus and the contract no longer allows there: context -> event
# type -> fields. The store may keep them (aid reads an old `photo_ref` for its own views, and its
# erasure strips it); the bus never carries them again.
WITHDRAWN: dict[str, dict[str, tuple[str, ...]]] = {"aid": {"DeliveryConfirmed": ("photo_ref",)}}

PAGE = 1000
FETCH = 500
ERASED = "PersonalDataErased"


def public_data(context: str, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """The event's data as the contract allows it on the bus today."""
    withdrawn = WITHDRAWN.get(context, {}).get(event_type, ())
    return {k: v for k, v in data.items() if k not in withdrawn} if withdrawn else data


def carries_withdrawn(context: str, event_type: str, data: dict[str, Any]) -> bool:
    return any(f in data for f in WITHDRAWN.get(context, {}).get(event_type, ()))


def subject_of(context: str, event: StoredEvent, stream_type: str) -> str:
    """`genting.<context>.<aggregate>.<stream_id>.<EventType>`, as the outbox wrote it (its rows
    are pruned after a week, so it is derived again: the aggregate is the event's stream type)."""
    catalog = producer_catalog(context)
    cls = catalog.classes.get(event.event_type) if catalog is not None else None
    aggregate = cls.aggregate if cls is not None else stream_type
    return f"genting.{context}.{aggregate}.{event.stream_id}.{event.event_type}"


def wire_envelope(context: str, event: StoredEvent) -> Envelope:
    envelope = event.envelope()
    return envelope.model_copy(update={"data": public_data(context, event.event_type, envelope.data)})


async def stream_messages(js: JetStreamContext, stream: str, subject: str) -> AsyncIterator[tuple[int, str, bytes]]:
    """(sequence, subject, data) of every message of `stream` on `subject` now, read once as
    `genting replay` reads (shared.stream_reader)."""
    last_seq = await last_sequence(js, stream)
    async for msg in read_through(js, stream, [subject], last_seq, fetch=FETCH):
        yield msg.metadata.sequence.stream, msg.subject, msg.data


async def event_ids_on(js: JetStreamContext, context: str) -> set[UUID]:
    """The event ids the context's stream holds now."""
    ids: set[UUID] = set()
    async for _, _, data in stream_messages(js, stream_name(context), context_subjects(context)):
        with contextlib.suppress(ValueError):
            ids.add(UUID(str(json.loads(data)["event_id"])))
    return ids


async def ensure_owned_stream(js: JetStreamContext, context: str, replicas: int) -> None:
    """A lost stream is created again with the owner's settings (shared.nats_setup)."""
    try:
        await js.stream_info(stream_name(context))
    except NotFoundError:
        await ensure_stream(js, owned_stream_config(context, replicas))
        log.info("stream_recreated", stream=stream_name(context))


@dataclass
class Republished:
    context: str
    stored: int = 0  # events in the store
    present: int = 0  # already on the stream
    published: int = 0  # put back now


async def republish(
    conn: asyncpg.Connection, js: JetStreamContext, context: str, *, replicas: int = 1, purge: bool = False
) -> Republished:
    """Publish, in the store's order, every stored event the stream lacks (all of them after
    `purge`); `Nats-Msg-Id` stays the event id. Outbox rows still waiting for those events are
    marked sent, so the relay does not publish them again after the duplicate window."""
    await ensure_owned_stream(js, context, replicas)
    stream = stream_name(context)
    if purge:
        await js.purge_stream(stream)
    present = await event_ids_on(js, context)
    result = Republished(context)
    position = 0
    while True:
        page = await eventstore.all_events_page(conn, position, PAGE)
        if not page:
            break
        position = page[-1][0].global_position
        result.stored += len(page)
        missing = []
        for stored, stream_type in page:
            if stored.event_id in present:
                result.present += 1
                continue
            missing.append((stored, stream_type))
        if not missing:
            continue
        sent = await _publish(js, context, missing, purged=purge)
        await conn.execute(
            "update outbox set published_at = now() where event_id = any($1::uuid[]) and published_at is null", sent
        )
        result.published += len(sent)
    log.info("stream_republished", stream=stream, published=result.published, present=result.present)
    return result


async def _publish(
    js: JetStreamContext, context: str, events: list[tuple[StoredEvent, str]], *, purged: bool
) -> list[UUID]:
    """Pipelined, in order. Right after a purge the server may still remember an id within its
    duplicate window although the message is gone: that one goes again under a derived id (the
    consumers dedupe by version, not by message id)."""
    stream = stream_name(context)

    def send(e: StoredEvent, subject: str, msg_id: str) -> Any:
        payload = wire_envelope(context, e).to_bytes()
        return js.publish(subject, payload, stream=stream, timeout=5.0, headers={MSG_ID_HEADER: msg_id})

    subjects = [subject_of(context, e, t) for e, t in events]
    acks = await asyncio.gather(*(send(e, s, str(e.event_id)) for (e, _), s in zip(events, subjects, strict=True)))
    if purged:
        again = [i for i, ack in enumerate(acks) if ack.duplicate]
        for i in again:
            await send(events[i][0], subjects[i], f"{events[i][0].event_id}:republished")
    return [e.event_id for e, _ in events]


# -- the one-off repair of what the contract withdrew --------------------------------------------


@dataclass
class Repaired:
    context: str
    offending: int = 0  # messages that carried a withdrawn field
    republished: Republished | None = None


async def repair_stream(
    conn: asyncpg.Connection,
    js: JetStreamContext,
    context: str,
    *,
    replicas: int = 1,
    subscriber: JetStreamContext | None = None,
) -> Repaired:
    """Rebuild the stream from the store without withdrawn fields, if any message carries one.
    Consumers keep their positions; what they applied already comes again as duplicates (their
    version gate skips it), so nothing is applied twice and the order per aggregate is kept.
    `subscriber`: a connection to the subscriber's account, whose own copy of the stream (it keeps
    what GENTING exports to it) is purged too, and refilled by the republish."""
    result = Repaired(context)
    if context in WITHDRAWN:
        async for _, _, data in stream_messages(js, stream_name(context), context_subjects(context)):
            with contextlib.suppress(ValueError, KeyError):
                envelope = json.loads(data)
                if carries_withdrawn(context, envelope["event_type"], envelope.get("data") or {}):
                    result.offending += 1
    if result.offending:
        if subscriber is not None:
            with contextlib.suppress(NotFoundError):
                await subscriber.purge_stream(stream_name(context))
        result.republished = await republish(conn, js, context, replicas=replicas, purge=True)
    return result


# -- after a restore -----------------------------------------------------------------------------


@dataclass
class Reconciled:
    service: str
    recovered: int = 0  # own events brought back from the stream into the store
    conflicts: int = 0  # on the stream, but the store has another event at that version
    erased: int = 0  # families whose erasure was re-applied
    republished: Republished | None = None
    consumers_reset: list[str] = field(default_factory=list)


async def recover_own_events(conn: asyncpg.Connection, js: JetStreamContext, context: str) -> tuple[int, int]:
    """Events on the context's own stream that the (restored) store lacks go back into it, with
    their outbox rows marked sent. Their private parts were never on the bus: they come back without."""
    recovered = conflicts = 0
    async for _, subject, data in stream_messages(js, stream_name(context), context_subjects(context)):
        try:
            envelope = Envelope.from_bytes(data)
        except ValueError:
            continue
        aggregate = subject.split(".")[2]
        async with conn.transaction():
            inserted = await eventstore.insert_recovered(conn, envelope, aggregate)
            if inserted:
                recovered += 1
                await conn.execute(
                    "insert into outbox (event_id, subject, payload, published_at) values ($1, $2, $3, now())"
                    " on conflict (event_id) do nothing",
                    envelope.event_id,
                    subject,
                    data,
                )
            elif inserted is False:
                conflicts += 1
    return recovered, conflicts


async def erased_families(js: JetStreamContext) -> list[UUID]:
    """The erasure log: every family the registry has published `PersonalDataErased` for."""
    found: dict[UUID, None] = {}
    subject = f"genting.registry.family.*.{ERASED}"
    async for _, _, data in stream_messages(js, stream_name("registry"), subject):
        with contextlib.suppress(ValueError, KeyError):
            found[UUID(str(json.loads(data)["stream_id"]))] = None
    return list(found)


async def reset_consumers(js: JetStreamContext, service: str, durables: list[tuple[str, str]]) -> list[str]:
    """Delete the service's durable consumers: its runners create them again and read from the
    start; the restored version gate applies only what the dump had not."""
    reset = []
    for stream, durable in durables:
        with contextlib.suppress(NotFoundError):
            await js.delete_consumer(stream, durable)
            reset.append(durable)
    return reset


async def reapply_erasures(service: str, settings: Settings, conn: asyncpg.Connection, families: list[UUID]) -> int:
    """Each family of the erasure log loses again, in this service, what its erasure destroys
    (keys, sealed parts, texts; a tombstone where the service keeps one), by the service's own
    code. Idempotent: a family erased before the dump changes nothing."""
    if service == "registry":
        from services.registry.app import registry

        parts = registry(settings)
        for family_id in families:
            async with conn.transaction():
                stored = await parts.families.store.load(conn, family_id)
                erasures = [e for e in stored if e.event_type == ERASED]
                if erasures:  # every view the erasure runs: claims released, view row, key and ledger
                    facts = await parts.families.facts(conn, family_id, stored, private=False)
                    state = parts.families.initial()
                    for fact in facts:
                        state = parts.families.evolve(state, fact)
                    erased = parts.families.fact(erasures[-1])
                    for view in parts.families.views:
                        await view(conn, state, [erased], [])
                else:  # not in this store at all (a conflict): at least the key goes
                    await parts.keys.destroy(conn, family_id)
                    await conn.execute("delete from import_rows where family_id = $1", family_id)
    elif service == "aid":
        from services.aid.app import repositories
        from services.aid.handlers import Handlers as AidHandlers
        from services.aid.settings import AidSettings

        assert isinstance(settings, AidSettings)
        repos = repositories(settings)
        aid = AidHandlers(repos.plans, repos.sessions, repos.visits, repos.family_keys, settings.plan_rules())
        for family_id in families:
            async with conn.transaction():
                await aid.erase_family(conn, family_id)
    elif service == "funding":
        from services.funding.app import handlers
        from services.funding.settings import FundingSettings

        assert isinstance(settings, FundingSettings)
        funding = handlers(settings)
        for family_id in families:
            async with conn.transaction():
                await funding.erase_family(conn, family_id)
    else:
        return 0  # reporting keeps no personal data
    return len(families)


async def reconcile_after_restore(
    service: str, settings: Settings, conn: asyncpg.Connection, js: JetStreamContext, *, replicas: int = 1
) -> Reconciled:
    """Everything `genting restore` does after pg_restore, but rebuilding the read models (the
    service's replay, run next). In this order: the store first (so erasures and the republish
    see every event), then the erasures, the stream, and the consumers."""
    from genting.nats_accounts import durables

    result = Reconciled(service)
    result.recovered, result.conflicts = await recover_own_events(conn, js, service)
    result.erased = await reapply_erasures(service, settings, conn, await erased_families(js))
    result.republished = await republish(conn, js, service, replicas=replicas)
    result.consumers_reset = await reset_consumers(js, service, durables(service))
    log.info(
        "restore_reconciled",
        service=service,
        recovered=result.recovered,
        conflicts=result.conflicts,
        erased=result.erased,
        republished=result.republished.published,
    )
    return result
