"""The projection runner: durable pull consumer, provenance-checked, one transaction per batch,
version-gated; what it cannot apply goes to the dead letters (shared/dead_letters.py).

Why envelopes are not signed: on a locked bus the producer's stream is the signature. Only the
producer's NATS user may publish on `genting.<context>.>`, and the runner applies an event only
when the server delivered it from that stream on the subject its envelope names (anything else
is dead-lettered as `provenance`). What remains is whoever holds NATS admin rights (the operator
of the server, who can also rewrite or purge the stream itself) or the producer's own credentials
(which could sign too, if the signing key sits next to them). Signatures would add a per-producer
key pair, its distribution to every consumer and its rotation, and would still not cover the
years of unsigned events already in the streams, for no gain against those two. If the bus is
ever shared beyond the programme's operators, add Ed25519 signatures per producer (an HMAC would
not do: every consumer holding the key could forge).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections import defaultdict
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol
from uuid import UUID

import asyncpg
import structlog
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig
from nats.js.errors import NotFoundError, ServiceUnavailableError
from pydantic import ValidationError

from shared import dead_letters
from shared.contracts import EventCatalog
from shared.db import database_reachable, is_outage
from shared.messaging import Envelope, stream_name
from shared.nats_setup import config_differs, durable_config, ensure_consumer
from shared.outbox import committing

log = structlog.get_logger()


class Projection(Protocol):
    """A consumer of one upstream stream: a read model (reporting's projections.py) or a policy
    turning events into commands (policies.py); `apply` runs inside the batch's transaction."""

    name: str  # durable consumer name and gate key, `<consumer>-<purpose>`
    stream: str  # upstream stream, e.g. GENTING_REGISTRY
    filter_subjects: Sequence[str]
    tables: Sequence[str]  # truncated on rebuild

    async def apply(self, conn: asyncpg.Connection, envelope: Envelope) -> None: ...

    # Optionally, `order_free: frozenset[str]`: event types applied at once even beyond a version
    # gap, because their effect needs no order (PersonalDataErased destroys keys, whatever came
    # before it). They must be safe to apply before their predecessors, and idempotent.
    # Optionally, `async def apply_many(self, conn, envelopes: Sequence[Envelope]) -> None`
    # applies a whole batch at once (in the given order); the runner prefers it when present.
    # Optionally, `catalog: EventCatalog`: the producer's events it accepts (default: the
    # producer's published catalog, `shared.contracts.<context>.CATALOG`).


def producer_catalog(context: str) -> EventCatalog | None:
    """The events `context` publishes (shared/contracts/<context>.py), None for an unknown context."""
    try:
        module = importlib.import_module(f"shared.contracts.{context}")
    except ImportError:
        return None
    catalog = getattr(module, "CATALOG", None)
    return catalog if isinstance(catalog, EventCatalog) else None


def provenance_problem(
    stream: str, subject: str, envelope: Envelope, catalog: EventCatalog | None = None
) -> str | None:
    """Why this event cannot be its producer's, or None when it can.

    NATS lets only a producer's credentials publish on `genting.<context>.>` (deploy/nats,
    genting/nats_accounts.py), and only those subjects land in its stream. So an event is the
    producer's when it was delivered from the producer's stream, on the subject its envelope
    names, on the aggregate that type belongs to. A type this code does not know yet is not a
    forgery: a newer producer adds event types (tolerant reader), and the projection skips it while
    the version gate still advances. A connection with admin rights on NATS can still inject a
    well-formed event on the right subject; see "Why envelopes are not signed".
    """
    parts = subject.split(".")
    if len(parts) != 5 or parts[0] != "genting" or not all(parts):
        return f"subject {subject!r} is not genting.<context>.<aggregate>.<stream_id>.<event_type>"
    _, context, aggregate, stream_id, event_type = parts
    if stream != stream_name(context):
        return f"{subject} was delivered from {stream}, not from its producer's stream {stream_name(context)}"
    try:
        same_stream = UUID(stream_id) == envelope.stream_id
    except ValueError:
        same_stream = False
    if not same_stream or event_type != envelope.event_type:
        return (
            f"subject {subject} does not match its envelope "
            f"(stream_id {envelope.stream_id}, event_type {envelope.event_type})"
        )
    if envelope.stream_version < 1:
        return f"stream_version {envelope.stream_version} is not a version (1, 2, ...)"
    catalog = catalog if catalog is not None and catalog.context == context else producer_catalog(context)
    cls = catalog.classes.get(event_type) if catalog is not None else None
    if cls is not None and cls.aggregate != aggregate:
        return f"{event_type} is published on genting.{context}.{cls.aggregate}.…, not on {aggregate}"
    return None


class Outcome(Enum):
    APPLY = "apply"
    DUPLICATE = "duplicate"
    GAP = "gap"
    AHEAD = "ahead"  # an order-free event beyond a gap: applied now, its version remembered


# Event types that need no order, for every consumer that declares none of its own: an erasure
# destroys keys and tombstones the family, which is right whatever came before it, and must never
# wait behind a missing event (or in the dead letters) while the data stays readable.
ORDER_FREE_EVENTS = frozenset({"PersonalDataErased"})


@dataclass
class GateCounts:
    """What the version gate did with the events a projection read, live (the runner) or offline (a
    replay): applied them, skipped them as applied before, or held them for a missing predecessor."""

    applied: int = 0
    duplicates: int = 0
    gaps: int = 0


@dataclass
class RunnerStats(GateCounts):
    dead_lettered: int = 0
    batches: int = 0
    last_seq: int = 0
    errors: int = 0
    redelivered: int = 0  # messages seen again (num_delivered > 1): naks, crashes, ack_wait expiries
    dead_letters: dict[str, int] = field(default_factory=dict)  # reason kind -> count
    lag: dict[str, int] = field(default_factory=dict)


OUTAGE_POLL_SECONDS = 0.5  # how often a runner holding a batch asks whether the database is back


def retry_delay(num_delivered: int) -> float:
    """Seconds before a gapped or failed message comes back: 0.25, 0.5, 1, 2, ... at most 30."""
    return min(0.25 * 2.0 ** max(num_delivered - 1, 0), 30.0)


def gap_delay(num_delivered: int, ack_wait: float) -> float:
    """Seconds before a message waiting for its predecessor comes back. Quick at first (the
    predecessor is usually a moment behind, on another replica), then at least half of ack_wait
    from the fourth delivery: a predecessor held by a consumer that lost its database or died
    comes back only after ack_wait, and a gap that gave up before that would send a healthy
    event to the dead letters (0.25, 0.5, 1, then 15, 15, 16, 30 s with ack_wait 30: about 78 s
    over the eight deliveries, more than twice ack_wait)."""
    delay = retry_delay(num_delivered)
    return delay if num_delivered < 4 else max(delay, ack_wait / 2)


def decide_versions(
    applied: dict[UUID, int],
    versions: Sequence[tuple[UUID, int]],
    *,
    order_free: Sequence[bool] | None = None,
    ahead: Mapping[UUID, Set[int]] | None = None,
) -> tuple[list[Outcome], dict[UUID, int]]:
    """The version gate's decision, pure: given the last version applied per stream and a batch of
    (stream_id, version) in arrival order, each one's outcome and the versions applied after it.

    A version at or below the applied one is a duplicate; the next one applies, and so does a later
    one that arrived earlier in the batch once its gap fills; the same version twice in a batch
    applies once; anything beyond a missing version waits (a gap). An order-free one (`order_free`,
    parallel to `versions`) beyond a gap applies at once (AHEAD); `ahead` holds the versions applied
    that way before, which count as present when the gap fills and as duplicates when they come again."""
    free = list(order_free) if order_free is not None else [False] * len(versions)
    earlier = ahead or {}
    start = {sid: applied.get(sid, 0) for sid, _ in versions}
    current = dict(start)
    pending: dict[UUID, set[int]] = defaultdict(set)
    for sid, v in versions:
        pending[sid].add(v)
    for sid, vs in pending.items():
        present = vs | set(earlier.get(sid, ()))
        while current[sid] + 1 in present:
            current[sid] += 1
    claimed: set[tuple[UUID, int]] = set()
    outcomes: list[Outcome] = []
    for (sid, v), is_free in zip(versions, free, strict=True):
        if v <= start[sid] or (sid, v) in claimed or v in earlier.get(sid, ()):
            outcomes.append(Outcome.DUPLICATE)
        elif v <= current[sid]:
            claimed.add((sid, v))
            outcomes.append(Outcome.APPLY)
        elif is_free:
            claimed.add((sid, v))
            outcomes.append(Outcome.AHEAD)
        else:
            outcomes.append(Outcome.GAP)
    return outcomes, current


async def gate(
    conn: asyncpg.Connection,
    projection: str,
    versions: Sequence[tuple[UUID, int]],
    order_free: Sequence[bool] | None = None,
) -> list[Outcome]:
    """Decide, for each (stream_id, version) in arrival order, whether to apply it.

    Rows of every stream in the batch are locked (in stream-id order, so replicas cannot
    deadlock) and then advanced in the same transaction as the read-model change: two replicas
    can never both apply one version, and v3 never goes in before v2.
    """
    ids = sorted({sid for sid, _ in versions})
    await conn.execute(
        "insert into projection_versions (projection, stream_id, version)"
        " select $1, unnest($2::uuid[]), 0 on conflict do nothing",
        projection,
        ids,
    )
    rows = await conn.fetch(
        "select stream_id, version from projection_versions where projection = $1"
        " and stream_id = any($2::uuid[]) order by stream_id for update",
        projection,
        ids,
    )
    start = {r["stream_id"]: r["version"] for r in rows}
    ahead: dict[UUID, set[int]] = defaultdict(set)
    for r in await conn.fetch(
        "select stream_id, version from projection_versions_ahead where projection = $1"
        " and stream_id = any($2::uuid[])",
        projection,
        ids,
    ):
        ahead[r["stream_id"]].add(r["version"])
    outcomes, current = decide_versions(start, versions, order_free=order_free, ahead=ahead)
    went_ahead = [(sid, v) for (sid, v), o in zip(versions, outcomes, strict=True) if o is Outcome.AHEAD]
    if went_ahead:
        await conn.execute(
            "insert into projection_versions_ahead (projection, stream_id, version)"
            " select $1, unnest($2::uuid[]), unnest($3::int[]) on conflict do nothing",
            projection,
            [a[0] for a in went_ahead],
            [a[1] for a in went_ahead],
        )
    changed = [(sid, v) for sid, v in current.items() if v != start[sid]]
    if changed:
        # The changed versions as rows `c (stream_id, version)`, over $2 and $3.
        rows = "(select unnest($2::uuid[]) as stream_id, unnest($3::int[]) as version) c"
        args = (projection, [sid for sid, _ in changed], [v for _, v in changed])
        await conn.execute(
            f"update projection_versions p set version = c.version from {rows}"
            " where p.projection = $1 and p.stream_id = c.stream_id",
            *args,
        )
        if any(ahead.get(sid) for sid, _ in changed):  # passed by the stream's version: forget them
            await conn.execute(
                f"delete from projection_versions_ahead a using {rows}"
                " where a.projection = $1 and a.stream_id = c.stream_id and a.version <= c.version",
                *args,
            )
    return outcomes


class ProjectionRunner:
    """Consumes one projection's durable pull consumer until cancelled."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        js: JetStreamContext,
        projection: Projection,
        *,
        service: str,
        batch: int = 200,
        max_deliver: int = 8,
        ack_wait: float = 30.0,
        fetch_timeout: float = 1.0,
    ) -> None:
        self.pool = pool
        self.js = js
        self.projection = projection
        self.service = service
        self.batch = batch
        self.max_deliver = max_deliver
        self.ack_wait = ack_wait
        self.fetch_timeout = fetch_timeout
        self.catalog: EventCatalog | None = getattr(projection, "catalog", None)
        self.order_free: frozenset[str] = getattr(projection, "order_free", ORDER_FREE_EVENTS)
        self.stats = RunnerStats()
        self._sub: JetStreamContext.PullSubscription | None = None
        self._retries = dead_letters.RetryServer(js, projection.name, self._retry_outcome)

    def consumer_config(self) -> ConsumerConfig:
        return durable_config(
            self.projection.name,
            list(self.projection.filter_subjects),
            batch=self.batch,
            max_deliver=self.max_deliver,
            ack_wait=self.ack_wait,
        )

    async def setup(self) -> None:
        await self._check_consumer()
        self._sub = await self.js.pull_subscribe_bind(durable=self.projection.name, stream=self.projection.stream)
        await self._retries.start()

    async def _check_consumer(self) -> None:
        """The migration step created the durable (and the dead-letter stream) with this runner's
        settings; a service's user may only read it. Where it is missing or differs, apply them,
        which only an admin connection may (tests, an open server); a service says what to run."""
        want = self.consumer_config()
        try:
            have: ConsumerConfig | None = (
                await self.js.consumer_info(self.projection.stream, self.projection.name)
            ).config
        except NotFoundError:
            have = None
        if have is not None and not config_differs(have, want):
            return
        try:
            await ensure_consumer(self.js, self.projection.stream, want)
        except (TimeoutError, NatsTimeoutError, ServiceUnavailableError):
            if have is None:
                raise ConsumerMissing(
                    f"durable consumer {self.projection.name} on {self.projection.stream} does not exist:"
                    " run `genting migrate` with GENTING_NATS_ADMIN_URL (or `genting up`), which creates it"
                ) from None
            log.warning("consumer_settings_differ", projection=self.projection.name, hint="run genting migrate")

    async def run(self) -> None:
        """Fetch returns as soon as messages are there; the timeout only bounds an idle wait.

        The next batch is fetched while the current one is applied (one pull request in flight
        at a time, so the stream's order is kept): the database and NATS round trips overlap.
        """
        prefetch: asyncio.Task[list[Msg]] | None = None
        while True:
            try:
                if self._sub is None:
                    await self.setup()
                msgs = await (prefetch or self._fetch())
                prefetch = None
                if not msgs:
                    # Idle, or our consumer is gone: servers before 2.11 never answer a pull on a
                    # deleted consumer, so ask (NotFoundError below sets the consumer up again).
                    await self.js.consumer_info(self.projection.stream, self.projection.name)
                    continue
                prefetch = asyncio.ensure_future(self._fetch())
                await self._handle_through_outages(msgs)
            except asyncio.CancelledError:
                if prefetch is not None:
                    prefetch.cancel()  # its messages come back after ack_wait; the gate absorbs them
                await self._retries.stop()
                raise
            except Exception as exc:
                if prefetch is not None:
                    prefetch.cancel()
                    prefetch = None
                self.stats.errors += 1
                # Stream or consumer gone (e.g. a rebuild): set up again. A fetch on a deleted
                # consumer finds no responder, which nats-py reports as ServiceUnavailableError.
                if isinstance(exc, NotFoundError | ServiceUnavailableError):
                    if self._sub is not None:
                        with contextlib.suppress(Exception):
                            await self._sub.unsubscribe()
                    self._sub = None
                log.warning("projection_retrying", projection=self.projection.name, error=repr(exc))
                await asyncio.sleep(1.0)

    async def _handle_through_outages(self, msgs: list[Msg]) -> None:
        """While the database is away the batch is held, not nak'd: every nak spends one of the
        message's `max_deliver` deliveries, and a restart of PostgreSQL would otherwise use them
        up (dead letters for nothing wrong, and a last delivery lost in a kill is never sent
        again). Held messages are kept alive with in-progress acks; once the database answers,
        what is not settled yet is handled again."""
        while True:
            try:
                await self.handle(msgs)
                return
            except Exception as exc:
                if not is_outage(exc) or await database_reachable(self.pool):
                    raise
                self.stats.errors += 1
                log.warning("projection_waiting_for_database", projection=self.projection.name, error=repr(exc))
                await self._hold_until_database(msgs)
                msgs = [m for m in msgs if not m.is_acked]
                if not msgs:
                    return

    async def _hold_until_database(self, msgs: list[Msg]) -> None:
        waited = 0.0
        while not await database_reachable(self.pool):
            await asyncio.sleep(OUTAGE_POLL_SECONDS)
            waited += OUTAGE_POLL_SECONDS
            if waited >= self.ack_wait / 3:  # well before ack_wait would redeliver them elsewhere
                waited = 0.0
                for msg in msgs:
                    if not msg.is_acked:
                        with contextlib.suppress(Exception):  # NATS away too: they come back later
                            await msg.in_progress()

    async def _fetch(self) -> list[Msg]:
        assert self._sub is not None
        try:
            return await self._sub.fetch(self.batch, timeout=self.fetch_timeout)
        except (TimeoutError, NatsTimeoutError):
            return []

    async def handle(self, msgs: list[Msg]) -> None:
        self.stats.redelivered += sum(1 for msg in msgs if msg.metadata.num_delivered > 1)
        parsed: list[tuple[Msg, Envelope]] = []
        for msg in msgs:
            try:
                envelope = Envelope.from_bytes(msg.data)
            except (ValidationError, ValueError) as exc:
                await self.dead_letter(msg, f"poison: envelope does not parse: {exc}", kind="poison")
                continue
            # The stream it was delivered from, as the server says (the ack subject), not as we asked.
            problem = provenance_problem(msg.metadata.stream, msg.subject, envelope, self.catalog)
            if problem is not None:
                await self.dead_letter(msg, f"provenance: {problem}", kind="provenance")
                continue
            parsed.append((msg, envelope))
        if not parsed:
            return
        parsed.sort(key=lambda p: p[0].metadata.sequence.stream)
        if len(parsed) == 1:
            await self._handle_one(parsed[0])
            return
        try:
            outcomes = await self._apply_batch(parsed)
        except Exception as exc:  # one bad event must not block the rest: retry them one by one
            if is_outage(exc):
                raise  # the database, not an event: _handle_through_outages holds the batch
            log.warning("projection_batch_failed", projection=self.projection.name, error=repr(exc))
            for item in parsed:
                await self._handle_one(item)
            return
        await self._settle(parsed, outcomes)

    async def _apply_batch(self, parsed: list[tuple[Msg, Envelope]]) -> list[Outcome]:
        async with committing(self.pool) as conn:  # a reaction may append events of this service
            return await self._apply_in(conn, parsed)

    async def _apply_in(self, conn: asyncpg.Connection, parsed: list[tuple[Msg, Envelope]]) -> list[Outcome]:
        outcomes = await gate(
            conn,
            self.projection.name,
            [(e.stream_id, e.stream_version) for _, e in parsed],
            [e.event_type in self.order_free for _, e in parsed],
        )
        chosen = _in_apply_order(parsed, outcomes)
        apply_many = getattr(self.projection, "apply_many", None)
        if apply_many is not None:  # one round trip for the whole batch, same order
            if chosen:
                await apply_many(conn, chosen)
        else:
            for e in chosen:
                await self.projection.apply(conn, e)
        await conn.execute(
            "insert into projection_checkpoints (projection, stream_seq) values ($1, $2)"
            " on conflict (projection) do update set stream_seq ="
            " greatest(projection_checkpoints.stream_seq, excluded.stream_seq), updated_at = now()",
            self.projection.name,
            parsed[-1][0].metadata.sequence.stream,
        )
        return outcomes

    async def _handle_one(self, item: tuple[Msg, Envelope]) -> None:
        msg, _ = item
        try:
            outcomes = await self._apply_batch([item])
        except Exception as exc:
            if is_outage(exc):
                raise  # the database, not the event: held, not nak'd (_handle_through_outages)
            self.stats.errors += 1
            if msg.metadata.num_delivered >= self.max_deliver:
                await self.dead_letter(msg, f"projection failed {self.max_deliver} times: {exc!r}", kind="failed")
            else:
                await msg.nak(delay=retry_delay(msg.metadata.num_delivered))
            return
        await self._settle([item], outcomes)

    async def _settle(self, parsed: list[tuple[Msg, Envelope]], outcomes: list[Outcome]) -> None:
        """Acks only after the commit; a gap comes back later, and goes to the DLQ at the end."""
        for (msg, env), outcome in zip(parsed, outcomes, strict=True):
            if outcome is Outcome.GAP:
                self.stats.gaps += 1
                if msg.metadata.num_delivered >= self.max_deliver:
                    await self.dead_letter(
                        msg, f"version gap: v{env.stream_version} of {env.stream_id} never became next", kind="gap"
                    )
                else:
                    await msg.nak(delay=gap_delay(msg.metadata.num_delivered, self.ack_wait))
                continue
            if outcome in (Outcome.APPLY, Outcome.AHEAD):
                self.stats.applied += 1
            else:
                self.stats.duplicates += 1
            await msg.ack()
        self.stats.batches += 1
        self.stats.last_seq = max(self.stats.last_seq, parsed[-1][0].metadata.sequence.stream)

    async def dead_letter(self, msg: Msg, reason: str, *, kind: str = "failed") -> None:
        """Set the message aside in the service's dead letters; it is not delivered again.

        `kind` (poison, failed, gap) is the metric's label; `reason` the full text for `genting dlq list`.
        """
        seq = msg.metadata.sequence.stream
        await dead_letters.send(self.js, self.service, self.projection.name, self.projection.stream, msg, reason, kind)
        self.stats.dead_lettered += 1
        self.stats.dead_letters[kind] = self.stats.dead_letters.get(kind, 0) + 1
        log.error("dead_lettered", projection=self.projection.name, stream_seq=seq, reason=reason)

    async def retry(self, stream_seq: int) -> Outcome:
        """Apply the upstream event at `stream_seq` once more (a dead letter sent back after a fix).

        Re-fetched from the upstream stream by sequence and put through the same gate: applied if
        it is next, a duplicate (harmless) if it was applied meanwhile, a gap if its predecessor is
        still missing. Only this projection sees it; other consumers of the stream are untouched.
        """
        raw = await self.js.get_msg(self.projection.stream, stream_seq)
        assert raw.data is not None and raw.subject is not None
        envelope = Envelope.from_bytes(raw.data)
        if (problem := provenance_problem(self.projection.stream, raw.subject, envelope, self.catalog)) is not None:
            raise ValueError(f"provenance: {problem}")  # never applied, however often it is retried
        async with committing(self.pool) as conn:
            outcome = (
                await gate(
                    conn,
                    self.projection.name,
                    [(envelope.stream_id, envelope.stream_version)],
                    [envelope.event_type in self.order_free],
                )
            )[0]
            if outcome in (Outcome.APPLY, Outcome.AHEAD):
                apply_many = getattr(self.projection, "apply_many", None)
                if apply_many is not None:
                    await apply_many(conn, [envelope])
                else:
                    await self.projection.apply(conn, envelope)
        if outcome in (Outcome.APPLY, Outcome.AHEAD):
            self.stats.applied += 1
        log.info("dead_letter_retried", projection=self.projection.name, stream_seq=stream_seq, outcome=outcome.value)
        return outcome

    async def _retry_outcome(self, stream_seq: int) -> str:
        """What the retry server answers a `genting dlq retry` request with."""
        return (await self.retry(stream_seq)).value


class ConsumerMissing(RuntimeError):
    """A projection's durable is not there: the migration step has not run against this server."""


def _in_apply_order(parsed: list[tuple[Msg, Envelope]], outcomes: list[Outcome]) -> list[Envelope]:
    """The events to apply: arrival order across streams, version order within each stream."""
    chosen = [e for (_, e), o in zip(parsed, outcomes, strict=True) if o in (Outcome.APPLY, Outcome.AHEAD)]
    by_stream: dict[UUID, list[Envelope]] = defaultdict(list)
    for e in sorted(chosen, key=lambda e: (e.stream_id, e.stream_version)):
        by_stream[e.stream_id].append(e)
    queues = {sid: iter(evs) for sid, evs in by_stream.items()}
    return [next(queues[e.stream_id]) for e in chosen]


async def rebuild(pool: asyncpg.Pool, js: JetStreamContext, projection: Projection) -> None:
    """Forget the read model and the consumer's position: the next run replays from sequence 1.

    `js` is an admin connection (`genting replay` gives one): a service may not delete its durable,
    since it could then create it again as a push consumer delivering anywhere. The durable is
    created again at once, as the migration step does."""
    async with pool.acquire() as conn, conn.transaction():
        for table in projection.tables:
            await conn.execute(f"truncate {table}")
        await conn.execute("delete from projection_versions where projection = $1", projection.name)
        await conn.execute("delete from projection_versions_ahead where projection = $1", projection.name)
        await conn.execute("delete from projection_checkpoints where projection = $1", projection.name)
    try:
        await js.delete_consumer(projection.stream, projection.name)
    except NotFoundError:
        pass
    with contextlib.suppress(NotFoundError):  # no stream yet: the migration step creates both
        await js.add_consumer(projection.stream, durable_config(projection.name, list(projection.filter_subjects)))
