"""ProgressSnapshot: published through reporting's own event store and outbox, at most once per
interval and only when progress changed, so nothing is lost and Nats-Msg-Id dedupes."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import structlog

from services.reporting import queries
from shared.contracts.reporting import CITY_PROGRESS_STREAM_ID, CityProgress, ProgressSnapshot
from shared.errors import ConcurrencyConflict
from shared.eventstore import EventStore, Metadata, NewEvent
from shared.outbox import committing

log = structlog.get_logger()

STORE = EventStore("progress")
# Not part of the comparison: they change on every look, the counts do not.
_VOLATILE = {"as_of", "scope"}


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


async def last_snapshot(conn: asyncpg.Connection | asyncpg.Pool) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "select stream_version, data, occurred_at from events where stream_id = $1"
        " order by stream_version desc limit 1",
        CITY_PROGRESS_STREAM_ID,
    )


class SnapshotPublisher:
    """Looks at the progress once per interval; appends a ProgressSnapshot when it should."""

    def __init__(self, pool: asyncpg.Pool, *, target: int, interval_seconds: float) -> None:
        self.pool = pool
        self.target = target
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
            current = await queries.progress(conn, self.target)
            last = await last_snapshot(conn)
            if not should_publish(
                current, last and last["data"], last and last["occurred_at"], current.as_of, self.interval
            ):
                return None
            snapshot = ProgressSnapshot(**current.model_dump())
            # Expected version: two replicas racing get a conflict, never two snapshots of one version.
            await STORE.append(
                conn,
                CITY_PROGRESS_STREAM_ID,
                last["stream_version"] if last else 0,
                [NewEvent(snapshot)],
                Metadata(occurred_at=current.as_of),
            )
        self.published += 1
        log.info("progress_snapshot_published", registered=current.registered, enrolled=current.enrolled)
        return snapshot
