"""ProgressSnapshot on real NATS: a subscriber follows the progress; at most one a second, only on
change, consecutive versions of one stream, Nats-Msg-Id = event id, nothing repeated on restart."""

from __future__ import annotations

import json
from datetime import datetime
from itertools import pairwise
from typing import Any

import httpx
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from reporting_support import publish, snapshots, wait_caught_up, without_times

from services.reporting.app import create_app
from services.reporting.settings import ReportingSettings
from shared.contracts.reporting import CATALOG, CITY_PROGRESS_STREAM_ID, ProgressSnapshot
from shared.testing import reporting_scenarios as S
from shared.testing import wait_until
from shared.testing.apps import serving

pytestmark = pytest.mark.integration
SUBJECT = "genting.reporting.progress.city.ProgressSnapshot"


def counts(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in without_times(data).items() if k != "scope"}


async def test_a_subscriber_sees_snapshots_that_follow_the_progress(
    reporting: httpx.AsyncClient, js: JetStreamContext, nc: Client
) -> None:
    received: list[Msg] = []

    async def on_snapshot(msg: Msg) -> None:
        received.append(msg)

    await nc.subscribe(SUBJECT, cb=on_snapshot)
    await publish(js, S.scripted().published)
    await wait_caught_up(js)
    progress = (await reporting.get("/progress")).json()

    async def latest_matches() -> bool:
        return bool(received) and counts(Envelope(received[-1]).data) == counts(progress)

    await wait_until(latest_matches, 15, message="a snapshot with the current progress")
    last = Envelope(received[-1])
    snapshot = CATALOG.parse(last.event_type, last.schema_version, last.data)
    assert isinstance(snapshot, ProgressSnapshot) and snapshot.enrolled == S.SCRIPTED_PROGRESS["enrolled"]
    assert len(snapshot.by_kelurahan) == 27 and snapshot.target == 1330
    assert received[-1].subject == SUBJECT
    assert (received[-1].headers or {}).get("Nats-Msg-Id") == last.raw["event_id"]
    assert last.raw["stream_id"] == str(CITY_PROGRESS_STREAM_ID)
    await wait_until(lambda: _all_in_stream(js, len(received)), 10, message="every snapshot in the stream")
    stored = await snapshots(js)
    assert [s["stream_version"] for s in stored] == list(range(1, len(stored) + 1))
    assert all(s["subject"] == SUBJECT and s["msg_id"] == s["event_id"] for s in stored)


async def _all_in_stream(js: JetStreamContext, count: int) -> bool:
    return len(await snapshots(js)) >= count


class Envelope:
    """A received snapshot message's JSON body."""

    def __init__(self, msg: Msg) -> None:
        self.raw: dict[str, Any] = json.loads(msg.data)
        self.data: dict[str, Any] = self.raw["data"]
        self.event_type: str = self.raw["event_type"]
        self.schema_version: int = self.raw["schema_version"]


async def test_snapshots_come_at_most_once_a_second_only_on_change_and_not_again_after_a_restart(
    settings: ReportingSettings, js: JetStreamContext
) -> None:
    settings = settings.model_copy(update={"snapshot_interval_seconds": 1.0})
    programme = S.scripted()
    waves = [programme.published[i : i + 12] for i in range(0, len(programme.published), 12)]
    app = create_app(settings)
    async with serving(app, "reporting") as client:
        for wave in waves:  # changes arrive faster than once a second
            await publish(js, wave)
            await wait_caught_up(js)
        final = counts((await client.get("/progress")).json())

        async def final_published() -> bool:
            stored = await snapshots(js)
            return bool(stored) and counts(stored[-1]["data"]) == final

        await wait_until(final_published, 20, message="the final progress published")
        assert await app.state.snapshots.publish_if_changed() is None  # nothing changed: nothing new
    stored = await snapshots(js)
    times = [datetime.fromisoformat(s["occurred_at"]) for s in stored]
    assert all((b - a).total_seconds() >= 1.0 for a, b in pairwise(times)), times
    assert all(counts(a["data"]) != counts(b["data"]) for a, b in pairwise(stored))  # each one a change

    restarted = create_app(settings)
    async with restarted.router.lifespan_context(restarted):
        assert await restarted.state.snapshots.publish_if_changed() is None
    assert len(await snapshots(js)) == len(stored)
