"""Every NATS configuration in deploy/nats, run by nats-server itself: `nats-server -t` on each, and
the Kubernetes cluster configuration started as three real JetStream nodes that lose one node and
carry on. (Parsing the YAML around them proves nothing: nats-server is what refuses a config.)"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import nats
import nats.aio.client
import pytest
from nats.js.errors import BadRequestError
from nats_configs import (
    NATS_DIR,
    Node,
    check_config,
    cluster_nodes,
    make_pki,
    materialize,
    nats_server_available,
    passwords,
    server_env,
    start,
)

from genting import nats_accounts, nats_topology
from shared import nats_setup

pytestmark = pytest.mark.skipif(not nats_server_available(), reason="no nats-server on PATH")

CONFIGS = sorted(p.name for p in NATS_DIR.glob("*.conf") if p.name != "accounts.conf")


def test_every_nats_config_is_listed() -> None:
    assert set(CONFIGS) == {"nats.conf", "nats-cluster.conf"}


@pytest.mark.parametrize("conf", CONFIGS)
def test_nats_server_accepts_the_config(conf: str, tmp_path: Path) -> None:
    path = materialize(conf, tmp_path / "conf", make_pki(tmp_path / "pki"))
    proc = check_config(path, server_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_nats_server_t_is_not_a_rubber_stamp(tmp_path: Path) -> None:
    """The check this file relies on refuses what the cluster once shipped with."""
    path = materialize(
        "nats-cluster.conf",
        tmp_path / "conf",
        make_pki(tmp_path / "pki"),
        {"lame_duck_duration: 30s": "lame_duck_duration: 20s"},
    )
    proc = check_config(path, server_env())
    assert proc.returncode != 0 and "lame_duck_duration" in proc.stdout + proc.stderr


def wait_until(predicate, what: str, seconds: float = 90) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.25)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


def jetstream_ready(node: Node) -> bool:
    return httpx.get(f"http://127.0.0.1:{node.http}/healthz?js-enabled-only=true", timeout=2).status_code == 200


def routes(node: Node) -> int:
    return int(httpx.get(f"http://127.0.0.1:{node.http}/routez", timeout=2).json()["num_routes"])


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[list[Node], dict[str, subprocess.Popen[bytes]], Path]]:
    pki = make_pki(tmp_path / "pki")
    nodes = cluster_nodes(tmp_path, pki)
    procs = {n.name: start(n) for n in nodes}
    try:
        for node in nodes:
            wait_until(lambda node=node: routes(node) >= 2, f"{node.name} routed to both peers")
        yield nodes, procs, pki
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


async def client(nodes: list[Node], user: str) -> nats.aio.client.Client:
    """As shared.nats_setup.connect does (its TLS context, the user's own inbox prefix), with all
    three servers listed, as a client of the cluster should."""
    return await nats.connect(
        [url(n, user) for n in nodes],
        tls=nats_setup.tls_context(),
        inbox_prefix=nats_setup.inbox_prefix(user),
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
    )


def url(node: Node, user: str) -> str:
    return f"tls://{user}:{passwords()[user]}@127.0.0.1:{node.client}"


def test_three_node_cluster_from_the_deployed_file_survives_losing_a_node(
    cluster: tuple[list[Node], dict[str, subprocess.Popen[bytes]], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    nodes, procs, pki = cluster
    monkeypatch.setenv("GENTING_NATS_CA", str(pki / "ca.crt"))

    async def scenario() -> None:
        # Without the CA the client refuses the server: the listener is TLS and verified.
        monkeypatch.delenv("GENTING_NATS_CA")
        with pytest.raises(Exception):  # noqa: B017 - nats-py raises what the ssl module raised
            await asyncio.wait_for(
                nats.connect(url(nodes[0], "registry"), max_reconnect_attempts=0, allow_reconnect=False),
                timeout=20,
            )
        monkeypatch.setenv("GENTING_NATS_CA", str(pki / "ca.crt"))

        # The migration step: the admin creates every stream at R3 and the durable consumers
        # (genting migrate with GENTING_NATS_ADMIN_URL and GENTING_STREAM_REPLICAS=3).
        admin = await client(nodes, "admin")
        # Routes come up before JetStream's meta group has met every peer: until it has, an R3
        # stream finds "no suitable peers for placement". Wait for placement, not a fixed time.
        deadline = time.monotonic() + 90
        while True:
            try:
                await nats_topology.create_streams(admin.jetstream(), replicas=3)
                break
            except (BadRequestError, nats.errors.TimeoutError) as error:
                # A request may also time out while the meta group elects its leader.
                placing = isinstance(error, nats.errors.TimeoutError) or error.err_code == 10005
                if not placing or time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
        await nats_topology.create_durables(admin.jetstream())
        for service in nats_accounts.SERVICES:
            info = await admin.jetstream().stream_info(f"GENTING_{service.upper()}")
            assert info.config.num_replicas == 3 and len(info.cluster.replicas or []) == 2  # type: ignore[union-attr]
        await admin.close()
        owners = {s: await client(nodes, s) for s in ("registry", "reporting")}
        registry = owners["registry"].jetstream()
        reporting = owners["reporting"].jetstream()
        sub = await reporting.pull_subscribe_bind(durable="reporting-registry", stream="GENTING_REGISTRY")

        async def publish(first: int, count: int) -> None:
            for i in range(first, first + count):
                ack = await registry.publish(f"genting.registry.test.{i}", str(i).encode(), timeout=10)
                assert ack.stream == "GENTING_REGISTRY"

        async def consume(count: int) -> list[int]:
            got: list[int] = []
            deadline = time.monotonic() + 60
            while len(got) < count and time.monotonic() < deadline:
                try:
                    msgs = await sub.fetch(count - len(got), timeout=5)
                except TimeoutError:
                    continue
                for msg in msgs:
                    got.append(int(msg.data))
                    await msg.ack_sync(timeout=10)
            return got

        await publish(0, 50)
        assert await consume(50) == list(range(50))

        # Kill the node that leads the stream: the other two elect a leader and go on.
        leader = (await registry.stream_info("GENTING_REGISTRY")).cluster.leader  # type: ignore[union-attr]
        victim = next(n for n in nodes if n.name == leader)
        os.killpg(procs[victim.name].pid, signal.SIGKILL)
        procs[victim.name].wait(timeout=10)
        await publish_until_accepted(registry, 50)
        await publish(51, 49)
        assert await consume(50) == list(range(50, 100))
        info = await registry.stream_info("GENTING_REGISTRY")
        assert info.state.messages == 100 and info.cluster.leader != victim.name  # type: ignore[union-attr]

        # It comes back and catches up: its replica holds all 100 messages again.
        procs[victim.name] = start(victim)
        wait_until(lambda: jetstream_ready(victim), f"{victim.name} back with JetStream")
        wait_until(lambda: stream_messages_on(victim) == 100, f"{victim.name} caught up to 100 messages", 120)
        for nc in owners.values():
            await nc.close()

    asyncio.run(scenario())


async def publish_until_accepted(js, i: int) -> None:  # type: ignore[no-untyped-def]
    """The first publish after the leader's death may time out while the two elect a new one."""
    deadline = time.monotonic() + 60
    while True:
        try:
            await js.publish(f"genting.registry.test.{i}", str(i).encode(), timeout=5)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


def stream_messages_on(node: Node) -> int:
    """What this node's own replica of GENTING_REGISTRY holds (its /jsz, not the leader's answer)."""
    jsz = httpx.get(f"http://127.0.0.1:{node.http}/jsz?accounts=true&streams=true", timeout=2).json()
    for account in jsz.get("account_details") or []:
        for stream in account.get("stream_detail") or []:
            if stream["name"] == "GENTING_REGISTRY":
                return int(stream["state"]["messages"])
    return -1
