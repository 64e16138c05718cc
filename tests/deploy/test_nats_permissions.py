"""deploy/nats (accounts.conf, the config Compose and Kubernetes both load) on a real nats-server:
no anonymous clients; each service publishes only its own events and touches only its own
consumers; the streams and durables are the migration step's (the admin); the subscriber lives in
its own account, reads only de-identified events and publishes nothing. Then the five attacks of
the second trust review, each tried with every account and each refused (docs/threat-model.md)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import bcrypt
import nats
import pytest
from deploy_tools import BIN, DEPLOY
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig, StreamSource
from nats.js.errors import APIError

from genting import nats_topology
from shared.messaging import Envelope
from shared.nats_setup import (
    StreamMissing,
    dlq_stream_config,
    ensure_stream,
    inbox_prefix,
    owned_stream_config,
    require_stream,
)
from shared.testing import free_port, wait_until

pytestmark = pytest.mark.integration

USERS = ("registry", "aid", "funding", "reporting", "subscriber", "operator", "admin")
ATTACKERS = ("registry", "aid", "funding", "reporting", "subscriber", "operator")
PASSWORDS = {u: f"{u}-password-for-the-deploy-test-0123456789" for u in USERS}


@dataclass
class Server:
    url: str
    errors: dict[str, list[str]] = field(default_factory=dict)

    async def connect(self, user: str, password: str | None = None) -> Client:
        host = self.url.removeprefix("nats://")
        log = self.errors.setdefault(user, [])

        async def on_error(exc: Exception) -> None:
            log.append(str(exc))

        return await nats.connect(
            f"nats://{user}:{password or PASSWORDS[user]}@{host}",
            allow_reconnect=False,
            connect_timeout=2,
            error_cb=on_error,
            inbox_prefix=inbox_prefix(user),
        )

    def url_for(self, user: str) -> str:
        return self.url.replace("nats://", f"nats://{user}:{PASSWORDS[user]}@")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    store = tmp_path_factory.mktemp("nats-deploy")
    env = {"PATH": os.environ.get("PATH", "")}
    for user, password in PASSWORDS.items():
        # Kubernetes hands NATS bcrypt hashes, Compose plain passwords: both forms, quoted, as documented.
        if user in ("registry", "subscriber"):
            password = bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()
        env[f"{user.upper()}_NATS_AUTH"] = f'"{password}"'
    # The real files; only the JetStream directory moves (the command line may not set it twice).
    conf = (DEPLOY / "nats" / "nats.conf").read_text()
    assert "store_dir: /data/jetstream" in conf
    (store / "nats.conf").write_text(conf.replace("/data/jetstream", str(store / "jetstream")))
    (store / "accounts.conf").write_text((DEPLOY / "nats" / "accounts.conf").read_text())
    port = free_port()
    log = (store / "nats.log").open("wb")
    proc = subprocess.Popen(
        [
            str(BIN / "nats-server"),
            "-c",
            str(store / "nats.conf"),
            "-a",
            "127.0.0.1",
            "-p",
            str(port),
            "-m",
            str(free_port()),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def listening() -> bool:
        if proc.poll() is not None:
            raise AssertionError((store / "nats.log").read_text())
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    try:
        asyncio.run(wait_until(listening, 20, message="nats-server listening"))
        server = Server(f"nats://127.0.0.1:{port}")
        # The migration step, as `genting migrate` runs it: the subscriber's streams, then GENTING's.
        asyncio.run(nats_topology.apply(server.url_for("admin"), server.url_for("subscriber")))
        yield server
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@pytest.fixture
async def clients(server: Server) -> AsyncIterator[dict[str, Client]]:
    conns = {user: await server.connect(user) for user in USERS}
    yield conns
    for nc in conns.values():
        await nc.close()


def envelope(stream_id: str, event_type: str, version: int = 1) -> bytes:
    return Envelope.model_validate(
        {
            "event_id": f"00000000-0000-4000-8000-{version:012d}",
            "event_type": event_type,
            "schema_version": 1,
            "stream_id": stream_id,
            "stream_version": version,
            "occurred_at": "2026-01-01T00:00:00Z",
            "data": {},
        }
    ).to_bytes()


FAMILY = "0f9c0000-0000-4000-8000-000000000001"


async def denied(server: Server, user: str, request: object) -> None:
    """The server refused the publish: a permissions violation, and the request got no answer."""
    before = len(server.errors.get(user, []))
    with pytest.raises((TimeoutError, nats.errors.TimeoutError, nats.errors.NoRespondersError)):
        await request  # type: ignore[misc]
    await wait_until(lambda: any("permissions violation" in e.lower() for e in server.errors[user][before:]), 5)


async def test_anonymous_and_wrong_passwords_are_refused(server: Server) -> None:
    for url in (server.url, server.url.replace("nats://", "nats://registry:wrong@")):
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(url, allow_reconnect=False, connect_timeout=2, max_reconnect_attempts=0)
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await server.connect("aid", PASSWORDS["registry"])  # another service's password


async def test_each_service_publishes_its_own_events_and_no_one_elses(
    server: Server, clients: dict[str, Client]
) -> None:
    registry, aid = (clients[s].jetstream(timeout=1) for s in ("registry", "aid"))
    before = (await aid.stream_info("GENTING_AID")).state.messages
    ack = await registry.publish(f"genting.registry.family.{FAMILY}.FamilyEnrolled", envelope(FAMILY, "FamilyEnrolled"))
    assert ack.stream == "GENTING_REGISTRY"

    # A forged AidDelivered from the registry's or funding's credentials never reaches aid's stream.
    forged = envelope(FAMILY, "AidDelivered", 99)
    # (The admin may: `genting republish` puts the owner's stored events back; no service holds it.)
    for who in ("registry", "funding", "reporting", "subscriber", "operator"):
        js = clients[who].jetstream(timeout=1)
        await denied(server, who, js.publish(f"genting.aid.plan.{FAMILY}.AidDelivered", forged))
    assert (await aid.stream_info("GENTING_AID")).state.messages == before


async def test_streams_are_the_migration_steps_and_a_service_only_looks_its_own_up(
    server: Server, clients: dict[str, Client]
) -> None:
    registry, funding = (clients[s].jetstream(timeout=1) for s in ("registry", "funding"))
    await require_stream(registry, "GENTING_REGISTRY")  # there: the migration step made it
    # No service creates, changes or deletes a stream, its own included.
    await denied(server, "registry", ensure_stream(registry, owned_stream_config("registry")))
    await denied(server, "registry", registry.delete_stream("GENTING_AID"))
    await denied(server, "funding", ensure_stream(funding, owned_stream_config("aid", replicas=1)))
    await denied(server, "funding", ensure_stream(funding, dlq_stream_config("funding")))
    # A stream the migration step never made (the subscriber's account has no dead letters): the
    # lookup says what to run.
    with pytest.raises(StreamMissing, match="genting migrate"):
        await require_stream(clients["subscriber"].jetstream(timeout=1), "GENTING_DLQ_FUNDING")
    # The migration step runs again without changing anything (an existing durable keeps its place).
    assert "funding-registry" not in await nats_topology.apply(server.url_for("admin"))


async def test_each_service_consumes_through_its_own_durable(server: Server, clients: dict[str, Client]) -> None:
    registry = clients["registry"].jetstream(timeout=1)
    await registry.publish(f"genting.registry.family.{FAMILY}.FamilyVerified", envelope(FAMILY, "FamilyVerified", 2))
    for service, upstream in (("aid", "registry"), ("funding", "registry"), ("reporting", "registry")):
        js = clients[service].jetstream(timeout=2)
        name = f"{service}-{upstream}"
        # The migration step made it with the runner's settings: the service only reads it.
        assert (await js.consumer_info("GENTING_REGISTRY", name)).config.max_deliver == 8
        sub = await js.pull_subscribe_bind(durable=name, stream="GENTING_REGISTRY")
        msgs = await sub.fetch(50, timeout=2)
        assert msgs
        for msg in msgs:
            await msg.ack_sync()
    # Aid's consumer of funding's stream is its own too.
    aid = clients["aid"].jetstream(timeout=2)
    assert (await aid.consumer_info("GENTING_FUNDING", "aid-funding")).config.durable_name == "aid-funding"


async def test_the_subscriber_reads_only_de_identified_events_in_its_own_account(
    server: Server, clients: dict[str, Client]
) -> None:
    registry = clients["registry"].jetstream(timeout=1)
    family = "0f9c0000-0000-4000-8000-0000000000aa"
    await registry.publish(f"genting.registry.family.{family}.GrowthMeasured", envelope(family, "GrowthMeasured", 1))
    await registry.publish(f"genting.registry.family.{family}.FamilyEnrolled", envelope(family, "FamilyEnrolled", 2))
    js = clients["subscriber"].jetstream(timeout=2)
    # Its own durables, any filter, even the whole stream: its account holds nothing else.
    config = ConsumerConfig(durable_name="ext-dinkes", ack_policy=AckPolicy.EXPLICIT)
    config.filter_subject = f"genting.registry.family.{family}.>"
    await js.add_consumer("GENTING_REGISTRY", config)
    sub = await js.pull_subscribe_bind(durable="ext-dinkes", stream="GENTING_REGISTRY")
    msgs = await wait_until(lambda: sub.fetch(10, timeout=1), 10, message="the enrolment reaches the subscriber")
    assert [json.loads(m.data)["event_type"] for m in msgs] == ["FamilyEnrolled"]
    await msgs[0].ack_sync()


async def test_dead_letters_are_retried_through_the_owners_runner_only(
    server: Server, clients: dict[str, Client]
) -> None:
    funding, aid, operator = clients["funding"], clients["aid"], clients["operator"]

    async def answer(msg: Msg) -> None:
        await msg.respond(b'{"outcome": "apply"}')

    await funding.subscribe("genting.ops.retry.funding-registry", queue="funding-registry", cb=answer)
    await funding.flush()
    reply = await operator_request(operator, "funding-registry", b'{"stream_seq": 1}')
    assert json.loads(reply.data) == {"outcome": "apply"}
    # Aid may neither listen in on funding's retries nor ask for them, nor answer them.
    before = len(server.errors["aid"])
    await aid.subscribe("genting.ops.retry.funding-registry", cb=answer)
    await aid.flush()
    await wait_until(lambda: any("permissions violation" in e.lower() for e in server.errors["aid"][before:]), 5)
    await denied(server, "aid", aid.request("genting.ops.retry.funding-registry", b"{}", timeout=1))
    await denied(server, "aid", aid.request("genting.ops.reply.funding-registry.x", b"{}", timeout=1))
    # The operator reads the dead letters of every service; the subscriber none.
    js = funding.jetstream(timeout=1)
    await js.publish("genting.dlq.funding", b'{"projection": "funding-registry", "stream_seq": 1}')
    assert (await operator.jetstream(timeout=1).get_msg("GENTING_DLQ_FUNDING", 1)).data
    with pytest.raises(nats.js.errors.NotFoundError):  # its account has no dead letters at all
        await clients["subscriber"].jetstream(timeout=1).stream_info("GENTING_DLQ_FUNDING")


async def operator_request(operator: Client, projection: str, body: bytes) -> Msg:
    """As `genting dlq retry` asks (genting/dlq.py): the answer comes on genting.ops.reply.<projection>."""
    reply = f"genting.ops.reply.{projection}.1"
    sub = await operator.subscribe(reply, max_msgs=1)
    await operator.publish(f"genting.ops.retry.{projection}", body, reply=reply)
    return await sub.next_msg(timeout=2)


# The five attacks of the second trust review. Each is tried with every account, and each refused.


def victim_of(attacker: str) -> str:
    """A durable consumer that is not the attacker's: funding's, or aid's when funding attacks."""
    return "aid-registry" if attacker == "funding" else "funding-registry"


async def violation(server: Server, user: str, before: int) -> None:
    await wait_until(
        lambda: any("permissions violation" in e.lower() for e in server.errors[user][before:]),
        5,
        message=f"a permissions violation for {user}",
    )


async def stays(predicate: Any, seconds: float = 1.0) -> None:
    """`predicate` holds now and for `seconds` more (a refused action might act late)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        assert await predicate()
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("attacker", ATTACKERS)
async def test_attack_1_no_one_reads_another_users_pull_batches_or_api_replies(server: Server, attacker: str) -> None:
    """Seen before: the subscriber read aid's GrowthMeasured batches and every API reply on `_INBOX.>`."""
    victim = "funding" if attacker == "aid" else "aid"
    spy, owner = await server.connect(attacker), await server.connect(victim)
    registry = await server.connect("registry")
    heard: list[str] = []

    async def listen(msg: Msg) -> None:
        heard.append(msg.subject)

    try:
        before = len(server.errors.get(attacker, []))
        for subject in ("_INBOX.>", f"{inbox_prefix(victim)}.>", ">"):
            await spy.subscribe(subject, cb=listen)
        await spy.flush()
        if attacker != "subscriber":  # the subscriber may listen to anything in its own account
            await violation(server, attacker, before)
        family = "0f9c0000-0000-4000-8000-0000000000bb"
        await registry.jetstream(timeout=2).publish(
            f"genting.registry.family.{family}.GrowthMeasured", envelope(family, "GrowthMeasured", 7)
        )
        js = owner.jetstream(timeout=2)
        durable = f"{victim}-registry"
        await js.consumer_info("GENTING_REGISTRY", durable)  # an API reply
        sub = await js.pull_subscribe_bind(durable=durable, stream="GENTING_REGISTRY")
        msgs = await sub.fetch(100, timeout=2)  # a pull batch, with the weighing in it
        assert any(m.subject.endswith("GrowthMeasured") for m in msgs)
        for msg in msgs:
            await msg.ack_sync()
        await spy.flush()
        assert not [s for s in heard if "GrowthMeasured" in s or s.startswith("_INBOX")], heard
    finally:
        for nc in (spy, owner, registry):
            await nc.close()


@pytest.mark.parametrize("attacker", ATTACKERS)
async def test_attack_2_no_one_rewrites_another_services_durable_consumer(server: Server, attacker: str) -> None:
    """Seen before: aid sent CONSUMER.CREATE with reporting's durable in the body and narrowed it."""
    victim = victim_of(attacker)
    owner = await server.connect(victim.split("-")[0])
    nc = await server.connect(attacker)
    try:
        before = (await owner.jetstream(timeout=2).consumer_info("GENTING_REGISTRY", victim)).config
        narrowed = {"durable_name": victim, "name": victim, "ack_policy": "explicit", "deliver_policy": "all"}
        narrowed["filter_subject"] = "genting.registry.family.*.FamilyVerified"
        body = json.dumps({"stream_name": "GENTING_REGISTRY", "config": narrowed}).encode()
        for subject in (
            "$JS.API.CONSUMER.CREATE.GENTING_REGISTRY",
            f"$JS.API.CONSUMER.CREATE.GENTING_REGISTRY.{victim}",
            f"$JS.API.CONSUMER.CREATE.GENTING_REGISTRY.{victim}.genting.registry.family.*.FamilyVerified",
            f"$JS.API.CONSUMER.DURABLE.CREATE.GENTING_REGISTRY.{victim}",
            f"$JS.API.CONSUMER.DELETE.GENTING_REGISTRY.{victim}",
        ):
            try:
                answer = await nc.request(subject, body, timeout=1)
            except (nats.errors.TimeoutError, nats.errors.NoRespondersError):
                continue  # refused by the server: a permissions violation
            # Answered: only in the subscriber's own account, which has no such consumer to change.
            assert attacker == "subscriber", (attacker, subject, answer.data)
        after = (await owner.jetstream(timeout=2).consumer_info("GENTING_REGISTRY", victim)).config
        assert (after.filter_subject, after.filter_subjects) == (before.filter_subject, before.filter_subjects)
    finally:
        await nc.close()
        await owner.close()


@pytest.mark.parametrize("attacker", ATTACKERS)
async def test_attack_3_no_one_acks_another_services_messages(server: Server, attacker: str) -> None:
    """Seen before: funding saw aid's deliveries and its +WPI on aid's ack subject was accepted."""
    victim = victim_of(attacker)
    owner = await server.connect(victim.split("-")[0])
    registry = await server.connect("registry")
    nc = await server.connect(attacker)
    try:
        js = owner.jetstream(timeout=2)
        sub = await js.pull_subscribe_bind(durable=victim, stream="GENTING_REGISTRY")
        family = "0f9c0000-0000-4000-8000-0000000000cc"
        await registry.jetstream(timeout=2).publish(
            f"genting.registry.family.{family}.FamilyExited", envelope(family, "FamilyExited", 9)
        )
        msgs = await sub.fetch(100, timeout=2)  # delivered, not acked: the victim failed to apply them
        assert msgs and all(m.reply for m in msgs)
        errors_before = len(server.errors.get(attacker, []))
        for msg in msgs:  # the attacker knows the exact ack subjects (it saw them before)
            for verb in (b"+ACK", b"+TERM", b"+WPI"):
                await nc.publish(msg.reply, verb)
        await nc.flush()
        if attacker != "subscriber":
            await violation(server, attacker, errors_before)

        async def still_pending() -> bool:
            info = await js.consumer_info("GENTING_REGISTRY", victim)
            return bool(info.num_ack_pending == len(msgs))

        await stays(still_pending)
        for msg in msgs:  # the victim's own acks still work
            await msg.ack_sync()
    finally:
        for c in (nc, owner, registry):
            await c.close()


@pytest.mark.parametrize("attacker", ATTACKERS)
async def test_attack_4_no_one_copies_another_stream_into_a_stream_of_its_own(server: Server, attacker: str) -> None:
    """Seen before: the registry added `sources` to its stream and copied funding's events into it."""
    nc = await server.connect(attacker)
    try:
        js = nc.jetstream(timeout=1)
        own = "GENTING_REGISTRY" if attacker in ("subscriber", "operator") else f"GENTING_{attacker.upper()}"
        copying = [
            StreamConfig(name=own, subjects=[f"genting.{attacker}.>"], sources=[StreamSource(name="GENTING_FUNDING")]),
            StreamConfig(name="GENTING_COPY", sources=[StreamSource(name="GENTING_REGISTRY")]),
            StreamConfig(name="GENTING_MIRROR", mirror=StreamSource(name="GENTING_REGISTRY")),
        ]
        if attacker != "subscriber":
            for config in copying:
                await denied(server, attacker, js.update_stream(config))
                await denied(server, attacker, js.add_stream(config))
            return
        # The subscriber keeps its own streams as it likes, but a copy holds only what its account
        # imported: the de-identified events, never a weighing.
        registry_nc = await server.connect("registry")
        registry = registry_nc.jetstream(timeout=2)
        family = "0f9c0000-0000-4000-8000-0000000000dd"
        for version, event_type in enumerate(("GrowthMeasured", "FamilyRegistered"), start=1):
            await registry.publish(
                f"genting.registry.family.{family}.{event_type}", envelope(family, event_type, version)
            )
        await js.add_stream(StreamConfig(name="EXT_MIRROR", mirror=StreamSource(name="GENTING_REGISTRY")))

        async def copied() -> bool:
            return (
                (await js.stream_info("EXT_MIRROR")).state.messages
                == (await js.stream_info("GENTING_REGISTRY")).state.messages
                > 0
            )

        await wait_until(copied, 10, message="the subscriber's mirror of its own stream")
        info = await js.stream_info("EXT_MIRROR", subjects_filter=">")
        assert info.state.subjects and not any("GrowthMeasured" in s for s in info.state.subjects)
        await js.delete_stream("EXT_MIRROR")
        await registry_nc.close()
    finally:
        await nc.close()


@pytest.mark.parametrize("attacker", ATTACKERS)
async def test_attack_5_no_one_has_the_server_push_into_other_subjects(server: Server, attacker: str) -> None:
    """A push consumer's deliver_subject is checked by the server only for wildcards and loops:
    whoever may submit a consumer body where it creates one could aim deliveries at aid's subjects."""
    nc = await server.connect(attacker)
    aid_nc = await server.connect("aid")
    aid = aid_nc.jetstream(timeout=2)
    try:
        js = nc.jetstream(timeout=1)
        before = (await aid.stream_info("GENTING_AID")).state.messages
        target = f"genting.aid.plan.{FAMILY}.AidDelivered"
        own = {"aid": "aid-registry", "funding": "funding-registry", "reporting": "reporting-registry"}
        names = [own[attacker]] if attacker in own else []
        names += ["ext-push", victim_of(attacker)]
        for name in names:
            config = ConsumerConfig(durable_name=name, deliver_subject=target, ack_policy=AckPolicy.NONE)
            if attacker == "subscriber":
                # In its own account: deliveries stay there (and its GENTING_AID copy is a loop).
                with contextlib.suppress(APIError):
                    await js.add_consumer("GENTING_REGISTRY", config)
                continue
            # No one in GENTING submits a consumer body, its own durable's included.
            await denied(server, attacker, js.add_consumer("GENTING_REGISTRY", config))
        if attacker in own:
            # Nor has the server remove its durable so as to create it again as a push one.
            name = own[attacker]
            vanishing = ConsumerConfig(durable_name=name, ack_policy=AckPolicy.EXPLICIT, inactive_threshold=0.5)
            await denied(server, attacker, js.add_consumer("GENTING_REGISTRY", vanishing))
            await denied(server, attacker, js.delete_consumer("GENTING_REGISTRY", name))
            assert (await aid.consumer_info("GENTING_REGISTRY", "aid-registry")).config.inactive_threshold is None
        await stays(lambda: _count_is(aid, "GENTING_AID", before))
    finally:
        await nc.close()
        await aid_nc.close()


async def _count_is(js: Any, stream: str, count: int) -> bool:
    return bool((await js.stream_info(stream)).state.messages == count)
