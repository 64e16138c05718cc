"""deploy/nats (accounts.conf, the config Compose and Kubernetes both load) on a real nats-server:
no anonymous clients; each service publishes only its own events and touches only its own
streams and consumers; the subscriber reads, publishes nothing, and sees no growth data."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import bcrypt
import nats
import pytest
from deploy_tools import BIN, DEPLOY
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import APIError

from shared.messaging import Envelope
from shared.nats_setup import dlq_stream_config, ensure_consumer, ensure_stream, owned_stream_config
from shared.testing import free_port, wait_until

pytestmark = pytest.mark.integration

USERS = ("registry", "aid", "funding", "reporting", "subscriber", "operator")
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
        )


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
        yield Server(f"nats://127.0.0.1:{port}")
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
    registry, aid, funding = (clients[s].jetstream(timeout=1) for s in ("registry", "aid", "funding"))
    await ensure_stream(registry, owned_stream_config("registry"))
    await ensure_stream(aid, owned_stream_config("aid"))
    await ensure_stream(funding, dlq_stream_config("funding"))
    ack = await registry.publish(f"genting.registry.family.{FAMILY}.FamilyEnrolled", envelope(FAMILY, "FamilyEnrolled"))
    assert ack.stream == "GENTING_REGISTRY"

    # A forged AidDelivered from the registry's or funding's credentials never reaches aid's stream.
    forged = envelope(FAMILY, "AidDelivered", 99)
    for who in ("registry", "funding", "subscriber"):
        js = clients[who].jetstream(timeout=1)
        await denied(server, who, js.publish(f"genting.aid.plan.{FAMILY}.AidDelivered", forged))
    assert (await aid.stream_info("GENTING_AID")).state.messages == 0

    # Nor can one service create, change or delete another's stream.
    await denied(server, "registry", registry.delete_stream("GENTING_AID"))
    await denied(server, "funding", ensure_stream(funding, owned_stream_config("aid", replicas=1)))


async def test_a_service_uses_only_its_own_durable_consumers(server: Server, clients: dict[str, Client]) -> None:
    registry, aid, funding = (clients[s].jetstream(timeout=1) for s in ("registry", "aid", "funding"))
    await ensure_stream(registry, owned_stream_config("registry"))
    config = ConsumerConfig(
        durable_name="funding-registry", ack_policy=AckPolicy.EXPLICIT, filter_subjects=["genting.registry.family.>"]
    )
    await ensure_consumer(funding, "GENTING_REGISTRY", config)
    sub = await funding.pull_subscribe_bind(durable="funding-registry", stream="GENTING_REGISTRY")
    await registry.publish(f"genting.registry.family.{FAMILY}.FamilyVerified", envelope(FAMILY, "FamilyVerified", 2))
    [msg, *_] = await sub.fetch(1, timeout=2)
    await msg.ack()

    # Aid cannot take funding's consumer over, read from it, or delete it (a replay resets its own only).
    await denied(server, "aid", aid.delete_consumer("GENTING_REGISTRY", "funding-registry"))
    await denied(server, "aid", ensure_consumer(aid, "GENTING_REGISTRY", config))
    await denied(server, "aid", aid.consumer_info("GENTING_REGISTRY", "funding-registry"))
    assert (await funding.consumer_info("GENTING_REGISTRY", "funding-registry")).config.durable_name


async def test_the_subscriber_reads_but_publishes_nothing_and_gets_no_growth_data(
    server: Server, clients: dict[str, Client]
) -> None:
    registry = clients["registry"].jetstream(timeout=1)
    await ensure_stream(registry, owned_stream_config("registry"))
    await registry.publish(f"genting.registry.family.{FAMILY}.GrowthMeasured", envelope(FAMILY, "GrowthMeasured", 3))
    nc = clients["subscriber"]
    js = nc.jetstream(timeout=1)

    enrolled = ConsumerConfig(name="ext-dinkes", durable_name="ext-dinkes", ack_policy=AckPolicy.EXPLICIT)
    enrolled.filter_subject = "genting.registry.family.*.FamilyEnrolled"
    info = await js.add_consumer("GENTING_REGISTRY", enrolled)
    assert info.num_pending >= 1
    sub = await js.pull_subscribe_bind(durable="ext-dinkes", stream="GENTING_REGISTRY")
    msgs = await sub.fetch(10, timeout=2)
    assert {json.loads(m.data)["event_type"] for m in msgs} == {"FamilyEnrolled"}

    # Growth data: not through a consumer on GrowthMeasured, nor on the whole stream.
    for subject in ("genting.registry.family.*.GrowthMeasured", "genting.registry.>"):
        config = ConsumerConfig(name="ext-peek", durable_name="ext-peek", filter_subject=subject)
        await denied(server, "subscriber", js.add_consumer("GENTING_REGISTRY", config))
    await denied(server, "subscriber", js.add_consumer("GENTING_REGISTRY", ConsumerConfig()))  # ephemeral
    # An allowed filter in the API subject with another one in the body: the server refuses it.
    body = {"stream_name": "GENTING_REGISTRY", "config": {"name": "ext-trick", "filter_subject": "genting.registry.>"}}
    reply = await nc.request(
        "$JS.API.CONSUMER.CREATE.GENTING_REGISTRY.ext-trick.genting.registry.family.*.FamilyEnrolled",
        json.dumps(body).encode(),
        timeout=2,
    )
    assert "error" in json.loads(reply.data)
    body["config"] = {"name": "ext-trick", "filter_subjects": ["genting.registry.>"]}
    reply = await nc.request(
        "$JS.API.CONSUMER.CREATE.GENTING_REGISTRY.ext-trick.genting.registry.family.*.FamilyEnrolled",
        json.dumps(body).encode(),
        timeout=2,
    )
    assert "error" in json.loads(reply.data)
    # Direct reads of stream messages are closed too.
    with pytest.raises((APIError, TimeoutError, nats.errors.TimeoutError)):
        await js.get_msg("GENTING_REGISTRY", 1)

    # And it publishes nothing of the programme's, nor touches the services' consumers.
    await denied(server, "subscriber", js.publish(f"genting.registry.family.{FAMILY}.FamilyExited", b"{}"))
    await denied(server, "subscriber", js.delete_consumer("GENTING_REGISTRY", "funding-registry"))


async def test_dead_letters_are_retried_through_the_owners_runner_only(
    server: Server, clients: dict[str, Client]
) -> None:
    funding, aid, operator = clients["funding"], clients["aid"], clients["operator"]

    async def answer(msg: nats.aio.msg.Msg) -> None:
        await msg.respond(b'{"outcome": "apply"}')

    await funding.subscribe("genting.ops.retry.funding-registry", queue="funding-registry", cb=answer)
    await funding.flush()
    reply = await operator.request("genting.ops.retry.funding-registry", b'{"stream_seq": 1}', timeout=2)
    assert json.loads(reply.data) == {"outcome": "apply"}
    # Aid may neither listen in on funding's retries nor ask for them.
    before = len(server.errors["aid"])
    await aid.subscribe("genting.ops.retry.funding-registry", cb=answer)
    await aid.flush()
    await wait_until(lambda: any("permissions violation" in e.lower() for e in server.errors["aid"][before:]), 5)
    await denied(server, "aid", aid.request("genting.ops.retry.funding-registry", b"{}", timeout=1))
    # The operator reads the dead letters of every service; the subscriber none.
    js = funding.jetstream(timeout=1)
    await ensure_stream(js, dlq_stream_config("funding"))
    await js.publish("genting.dlq.funding", b'{"projection": "funding-registry", "stream_seq": 1}')
    assert (await operator.jetstream(timeout=1).get_msg("GENTING_DLQ_FUNDING", 1)).data
    await denied(server, "subscriber", clients["subscriber"].jetstream(timeout=1).stream_info("GENTING_DLQ_FUNDING"))
