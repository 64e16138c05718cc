"""`genting repair-stream aid`: confirmations recorded before `photo_id` still carry `photo_ref` on
GENTING_AID. The repair rebuilds the stream from aid's store without it: the subscriber (other
agencies' read-only account) can no longer read a photo reference, every event is still there
once, in order, and consumers that applied them before see duplicates only."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import nats
import pytest
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig

from genting.recovery import repair_stream, stream_messages
from shared.contracts.aid import DeliveryConfirmed
from shared.db import connect, migrate
from shared.eventstore import EventStore, Metadata, NewEvent
from shared.messaging import stream_name
from shared.nats_setup import ensure_stream, inbox_prefix_for, owned_stream_config
from shared.outbox import OutboxRelay
from shared.testing.facts import plan_opened

pytestmark = pytest.mark.integration

OLD_REF = "s3://genting-proof/ibu-sri/bukti-lama.jpg"
ON = date(2025, 3, 1)


async def subscriber_reads(nats_server: object, durable: str) -> list[str]:
    """What the subscriber account receives of aid's plan events (its one permitted filter)."""
    url = nats_server.url_for("subscriber")  # type: ignore[attr-defined]
    nc = await nats.connect(url, inbox_prefix=inbox_prefix_for(url))
    try:
        js = nc.jetstream(timeout=5)
        config = ConsumerConfig(name=durable, durable_name=durable, ack_policy=AckPolicy.EXPLICIT)
        config.filter_subject = "genting.aid.plan.>"
        await js.add_consumer(stream_name("aid"), config)
        sub = await js.pull_subscribe_bind(durable=durable, stream=stream_name("aid"))
        texts = []
        while True:
            try:
                msgs = await sub.fetch(100, timeout=1)
            except Exception:
                break
            texts += [m.data.decode() for m in msgs]
            for m in msgs:
                await m.ack()
        await js.delete_consumer(stream_name("aid"), durable)
        return texts
    finally:
        await nc.close()


async def test_old_photo_references_are_removed_from_the_stream_and_the_subscriber_no_longer_reads_them(
    database_url: str, nc: Client, nats_server: object
) -> None:
    await migrate(database_url)  # the kernel's event store and outbox: aid's, as far as the repair goes
    js = nc.jetstream()
    await ensure_stream(js, owned_stream_config("aid"))
    conn = await connect(database_url)
    try:
        plan, family = uuid4(), uuid4()
        common: dict[str, Any] = {"plan_id": plan, "family_id": family, "kelurahan_code": "33.75.01.1002"}
        opened = plan_opened(plan, family, ON, kelurahan=common["kelurahan_code"])
        confirmed = [
            DeliveryConfirmed(**common, delivery_id=uuid4(), confirmed_on=ON, confirmed_by="lurah", has_photo=True)
            for _ in range(2)
        ]
        meta = Metadata(occurred_at=datetime.now(UTC))
        async with conn.transaction():
            await EventStore("plan").append(conn, plan, 0, [NewEvent(e) for e in (opened, *confirmed)], meta)
        # As aid recorded (and published) a confirmation before photo ids: the reference in its data.
        await conn.execute(
            "update events set data = data || jsonb_build_object('photo_ref', $1::text)"
            " where event_type = 'DeliveryConfirmed' and data->>'delivery_id' = $2",
            OLD_REF,
            str(confirmed[0].delivery_id),
        )
        await conn.execute(
            "update outbox o set payload = convert_to(jsonb_set(convert_from(o.payload, 'UTF8')::jsonb,"
            " '{data}', e.data)::text, 'UTF8') from events e where e.event_id = o.event_id"
        )
        await OutboxRelay(database_url, js, service="aid", stream=stream_name("aid")).relay_once(conn)
        assert any(OLD_REF in text for text in await subscriber_reads(nats_server, "ext-before"))

        # The subscriber's account keeps its own copy of what it may read: purged and refilled too.
        url = nats_server.url_for("subscriber")  # type: ignore[attr-defined]
        subscriber = await nats.connect(url, inbox_prefix=inbox_prefix_for(url))
        try:
            repaired = await repair_stream(conn, js, "aid", subscriber=subscriber.jetstream(timeout=5))
        finally:
            await subscriber.close()
        assert repaired.offending == 1

        seen = [(seq, json.loads(data)) async for seq, _, data in stream_messages(js, "GENTING_AID", "genting.aid.>")]
        assert [e["event_type"] for _, e in seen] == ["AidPlanOpened", "DeliveryConfirmed", "DeliveryConfirmed"]
        assert [e["stream_version"] for _, e in seen] == [1, 2, 3]
        assert OLD_REF not in json.dumps([e for _, e in seen])
        read = await subscriber_reads(nats_server, "ext-after")
        assert len(read) == 3 and not any(OLD_REF in text for text in read)
        # The store keeps aid's own copy (its views read it; erasure strips it).
        assert await conn.fetchval("select count(*) from events where data ? 'photo_ref'") == 1

        again = await repair_stream(conn, js, "aid")  # once repaired, nothing to do
        assert again.offending == 0 and again.republished is None
    finally:
        await conn.close()
