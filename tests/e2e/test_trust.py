"""Issue 11 #1, #2, #8 on real servers: the bus is locked, and a forged event moves no money.

Funding runs as a real process, connected as its own NATS user; the registry's and aid's facts
are published here as those services would (as "the system": the admin user). Then aid's
`AidDelivered` is forged every way we know: with another service's or the subscriber's
credentials (NATS refuses the publish), and injected into aid's stream by an admin connection
with a subject that does not match its envelope (funding dead-letters it as `provenance`).
No forgery moves a rupiah, and a forged version N+1 does not displace the genuine one.

A well-formed forgery on the right subject in the right stream, by someone holding NATS admin
rights, cannot be told apart from aid's own event: envelopes are not signed (why: the module
docstring of shared/projection.py).
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID, uuid4

import httpx
import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig
from test_funding_e2e import ADMIN, MEDONO, TODAY, Bus, delivery

from genting.events import print_events
from shared.messaging import MSG_ID_HEADER, Envelope
from shared.nats_setup import ensure_stream, inbox_prefix_for, owned_stream_config
from shared.testing import wait_until
from shared.testing.facts import plan_opened
from shared.testing.funding_http import new_donor, sponsor

pytestmark = pytest.mark.e2e


async def test_an_anonymous_client_or_a_wrong_password_cannot_connect(nats_server: Any) -> None:
    if not nats_server.locked:
        pytest.fail("the test server is external (GENTING_NATS_URL): run this on the embedded, locked one")
    host = nats_server.url.rsplit("@", 1)[-1]
    for url in (f"nats://{host}", f"nats://funding:not-the-password@{host}"):
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(url, allow_reconnect=False, connect_timeout=2, max_reconnect_attempts=0)


async def refused(nats_server: Any, user: str, subject: str, body: bytes) -> None:
    """`user` publishes `subject` to JetStream: a permissions violation, and no ack."""
    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    url = nats_server.url_for(user)
    nc = await nats.connect(url, allow_reconnect=False, error_cb=on_error, inbox_prefix=inbox_prefix_for(url))
    try:
        with pytest.raises((TimeoutError, nats.errors.TimeoutError, nats.errors.NoRespondersError)):
            await nc.jetstream(timeout=1).publish(subject, body)
        await wait_until(lambda: any("permissions violation" in e.lower() for e in errors), 5)
    finally:
        await nc.close()


async def test_a_forged_aid_delivered_moves_no_money(service_process: Any, nats_server: Any, nats_url: str) -> None:
    nc = await nats.connect(nats_url)  # the admin: the system, standing in for the registry and aid
    js = nc.jetstream()
    for context in ("registry", "aid"):
        await ensure_stream(js, owned_stream_config(context))
    bus = Bus(nats_url)
    funding = await service_process("funding")
    family, plan = uuid4(), uuid4()
    http = httpx.AsyncClient(base_url=funding.url, timeout=10)
    try:
        donor = await new_donor(http, ADMIN, "csr", 3_000_000, TODAY, name="PT Batik Pesisir", contact="0812")
        await bus.publish(*bus.enrolment(family))
        assert await sponsor(http, ADMIN, donor, family, 2_700_000, TODAY, wait=30)
        opened = plan_opened(plan, family, TODAY, kelurahan=MEDONO)
        await bus.publish(opened)  # v1 of the plan's stream

        async def statement() -> dict[str, Any]:
            body: dict[str, Any] = (await http.get(f"/donors/{donor}", headers=ADMIN)).json()
            return body

        forged = delivery(plan, family, 0, 180, 2_700_000)
        v2 = _envelope(plan, "AidDelivered", 2, forged.model_dump(mode="json"))

        # 1. With another service's or the subscriber's credentials: NATS refuses the publish.
        for who in ("registry", "funding", "reporting", "subscriber"):
            await refused(nats_server, who, forged.subject(), v2.to_bytes())

        # 2. Injected by an admin connection, but not as aid's event: dead-lettered, never applied.
        other_plan = uuid4()
        injections: list[tuple[str, Envelope | bytes]] = [
            # the subject names another plan than the envelope (a forged v2 of `plan`)
            (f"genting.aid.plan.{other_plan}.AidDelivered", v2),
            # the envelope's type differs from the subject's
            (forged.subject(), v2.model_copy(update={"event_type": "AidPlanOpened"})),
            # the envelope names another stream than the subject
            (forged.subject(), v2.model_copy(update={"stream_id": other_plan})),
            # not an envelope at all
            (forged.subject(), b'{"event_type": "AidDelivered", "data": {"value_rp": 2700000}}'),
        ]
        for n, (subject, body) in enumerate(injections):
            raw = body if isinstance(body, bytes) else body.to_bytes()
            await js.publish(subject, raw, stream="GENTING_AID", headers={MSG_ID_HEADER: f"forged-{n}"})

        letters = await _dead_letters(nats_url, len(injections))
        assert [letter["kind"] for letter in letters] == ["provenance"] * 3 + ["poison"]
        assert all(letter["projection"] == "funding-aid" and letter["num_delivered"] == 1 for letter in letters)
        assert "does not match its envelope" in letters[0]["reason"]
        assert "envelope does not parse" in letters[3]["reason"]
        before = await statement()
        assert before["drawn_rp"] == 0 and before["allocated_rp"] == 2_700_000

        # 3. The genuine v2 (a smaller delivery) still applies: the forged v2 displaced nothing.
        genuine = delivery(plan, family, 0, 30, 450_000)
        await js.publish(
            genuine.subject(),
            _envelope(plan, "AidDelivered", 2, genuine.model_dump(mode="json")).to_bytes(),
            stream="GENTING_AID",
        )

        async def drawn() -> dict[str, Any] | None:
            body = await statement()
            return body if body["drawn_rp"] else None

        after = await wait_until(drawn, 20, interval=0.2, message="the genuine delivery drawn")
        assert after["drawn_rp"] == 450_000
        assert "dead_lettered" in funding.output()
    finally:
        await http.aclose()
        await nc.close()


async def test_the_subscriber_reads_enrolments_but_never_growth_data_and_publishes_nothing(
    nats_server: Any, js_clean: str
) -> None:
    """The subscriber's own account holds only what GENTING exports to it: a consumer on the
    whole registry stream there sees the enrolment, never the weighing published beside it."""
    family = uuid4()
    nc = await nats.connect(js_clean)  # the admin, standing in for the registry's relay
    try:
        js = nc.jetstream()
        for event_type, version in (("GrowthMeasured", 1), ("FamilyEnrolled", 2)):
            envelope = _envelope(family, event_type, version, {})
            await js.publish(
                f"genting.registry.family.{family}.{event_type}",
                envelope.to_bytes(),
                headers={MSG_ID_HEADER: str(envelope.event_id)},
            )
    finally:
        await nc.close()
    await refused(
        nats_server,
        "subscriber",
        f"genting.registry.family.{family}.FamilyExited",
        _envelope(family, "FamilyExited", 3, {}).to_bytes(),
    )
    url = nats_server.url_for("subscriber")
    sub = await nats.connect(url, allow_reconnect=False, inbox_prefix=inbox_prefix_for(url))
    try:
        js = sub.jetstream(timeout=2)
        everything = ConsumerConfig(name="ext-all", durable_name="ext-all", ack_policy=AckPolicy.EXPLICIT)
        everything.filter_subject = "genting.registry.>"
        await js.add_consumer("GENTING_REGISTRY", everything)
        pull = await js.pull_subscribe_bind(durable="ext-all", stream="GENTING_REGISTRY")
        seen = [json.loads(m.data)["event_type"] for m in await pull.fetch(10, timeout=3)]
        assert seen == ["FamilyEnrolled"]  # it does read, and the weighing is not there
    finally:
        await sub.close()


async def test_genting_events_prints_what_the_subscriber_sees(
    nats_server: Any, js_clean: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`genting events` reads as the subscriber: the enrolment, not the weighing beside it."""
    family = uuid4()
    nc = await nats.connect(js_clean)
    try:
        for event_type, version in (("GrowthMeasured", 1), ("FamilyEnrolled", 2)):
            envelope = _envelope(family, event_type, version, {})
            await nc.jetstream().publish(
                f"genting.registry.family.{family}.{event_type}",
                envelope.to_bytes(),
                headers={MSG_ID_HEADER: str(envelope.event_id)},
            )
    finally:
        await nc.close()
    url = nats_server.url_for("subscriber")

    async def printed() -> list[str]:
        capsys.readouterr()
        await print_events(url, "registry", follow=False, last=None)
        return [json.loads(line)["event"]["event_type"] for line in capsys.readouterr().out.splitlines()]

    assert await wait_until(printed, 10, message="the enrolment in the subscriber's stream") == ["FamilyEnrolled"]


def _envelope(stream_id: UUID, event_type: str, version: int, data: dict[str, Any]) -> Envelope:
    return Envelope.model_validate(
        {
            "event_id": str(uuid4()),
            "event_type": event_type,
            "schema_version": 1,
            "stream_id": str(stream_id),
            "stream_version": version,
            "occurred_at": "2026-01-01T00:00:00Z",
            "data": data,
        }
    )


async def _dead_letters(nats_url: str, count: int) -> list[dict[str, Any]]:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()

        async def all_there() -> bool:
            try:
                return (await js.stream_info("GENTING_DLQ_FUNDING")).state.messages >= count
            except nats.js.errors.NotFoundError:
                return False

        await wait_until(all_there, 20, interval=0.2, message=f"{count} dead letters")
        return [json.loads((await js.get_msg("GENTING_DLQ_FUNDING", seq)).data or b"") for seq in range(1, count + 1)]
    finally:
        await nc.close()
