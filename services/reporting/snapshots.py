"""ProgressSnapshot: reporting's one stream of its own, and the background step that publishes it.

The snapshot stream (a fixed id, `CITY_PROGRESS_STREAM_ID`) is saved through the kernel's
`Repository`, so it goes through the event store and the outbox like any command's facts: nothing
is lost, consecutive versions, Nats-Msg-Id = event id. The decision is pure (`decide`): the first
snapshot, then one only when a count changed and the interval has passed since the last one —
whichever replica published it (the time comes from the stored snapshot, not from this process).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import structlog

from services.reporting import queries
from services.reporting.areas import Areas
from shared.contracts.reporting import CATALOG, CITY_PROGRESS_STREAM_ID, CityProgress, ProgressSnapshot
from shared.errors import ConcurrencyConflict
from shared.eventstore import Metadata
from shared.outbox import committing
from shared.repository import Aggregate, Fact, Repository

log = structlog.get_logger()

# Not part of the comparison: they change on every look, the counts do not.
_VOLATILE = {"as_of", "scope"}


@dataclass(frozen=True)
class LastSnapshot:
    """The snapshot stream's state: the latest snapshot (as published) and when it was taken."""

    data: dict[str, Any] | None = None
    at: datetime | None = None


def evolve(_: LastSnapshot, fact: Fact) -> LastSnapshot:
    event = fact.event
    assert isinstance(event, ProgressSnapshot)
    return LastSnapshot(event.model_dump(mode="json"), event.as_of)


SNAPSHOTS: Repository[LastSnapshot] = Repository("progress", CATALOG, LastSnapshot, evolve)


def comparable(progress: CityProgress | dict[str, Any]) -> dict[str, Any]:
    data = progress.model_dump(mode="json") if isinstance(progress, CityProgress) else progress
    return {k: v for k, v in data.items() if k not in _VOLATILE}


def should_publish(
    current: CityProgress,
    last: dict[str, Any] | None,
    last_at: datetime | None,
    now: datetime,
    min_interval: timedelta,
) -> bool:
    """Publish a first snapshot, then again only when a count changed and the interval has passed
    since the last one (whichever replica published it: the time comes from the event store)."""
    if last is None or last_at is None:
        return True
    return comparable(current) != comparable(last) and now - last_at >= min_interval


def decide(state: LastSnapshot, current: CityProgress, min_interval: timedelta) -> list[Fact]:
    if not should_publish(current, state.data, state.at, current.as_of, min_interval):
        return []
    return [Fact(ProgressSnapshot(**current.model_dump()))]


async def latest(conn: asyncpg.Connection) -> Aggregate[LastSnapshot]:
    """The stream at its tip: only the last snapshot, not the thousands before it (one a second
    while the programme moves), which `Repository.load` would fold on every look."""
    return await SNAPSHOTS.last(conn, CITY_PROGRESS_STREAM_ID)


class SnapshotPublisher:
    """Looks at the progress once per interval; appends a ProgressSnapshot when it should."""

    def __init__(self, pool: asyncpg.Pool, *, target: int, areas: Areas, interval_seconds: float) -> None:
        self.pool = pool
        self.target = target
        self.areas = areas
        self.interval = timedelta(seconds=interval_seconds)
        self.published = 0

    async def run(self) -> None:
        while True:
            try:
                await self.publish_if_changed()
            except asyncio.CancelledError:
                raise
            except ConcurrencyConflict:
                pass  # another replica published this very moment; look again next time
            except Exception as exc:  # database away: keep looking, the snapshot is only late
                log.warning("progress_snapshot_retrying", error=repr(exc))
            await asyncio.sleep(self.interval.total_seconds())

    async def publish_if_changed(self) -> ProgressSnapshot | None:
        async with committing(self.pool) as conn:
            current = await queries.progress(conn, self.target, self.areas)
            stream = await latest(conn)
            facts = decide(stream.state, current, self.interval)
            # Expected version: two replicas racing get a conflict, never two snapshots of one version.
            await SNAPSHOTS.save(conn, stream, facts, Metadata(occurred_at=current.as_of))
        if not facts:
            return None
        self.published += 1
        log.info("progress_snapshot_published", registered=current.registered, enrolled=current.enrolled)
        snapshot = facts[0].event
        assert isinstance(snapshot, ProgressSnapshot)
        return snapshot
