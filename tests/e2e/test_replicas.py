"""Two replicas of every service under `genting up --replicas 2`, a steady load of commands
(register, verify, donate, sponsor, deliver), and while it runs: SIGKILL of the registry's relay
leader and of one funding replica. Afterwards nothing is lost and nothing counted twice:

- every event each service committed is in its JetStream stream exactly once;
- every consumer's version gate stands at the last version of every stream it follows, and no
  letter is dead;
- every read model equals a replay of its events (each service's own replay, run inside a
  transaction that is rolled back: a copy, the live model untouched);
- the money adds up to the rupiah: what the client delivered, aid's plans, funding's donors and
  reporting's totals agree.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import nats
import pytest
from consistency import databases, quiet, replay_equals_live
from pydantic import SecretStr
from up_support import Up, genting_up

from genting.state import load_secrets
from shared.auth import issue_token
from shared.messaging import Envelope, stream_name
from shared.nats_setup import inbox_prefix_for
from shared.settings import Settings
from shared.testing import wait_until
from shared.testing.registry_examples import family_body

pytestmark = pytest.mark.e2e

MEDONO = "33.75.01.1002"
FAMILIES = 14
CONCURRENT = 4
SPONSORSHIP_RP = 2_700_000  # 180 days x Rp 15,000: the smallest budget that opens a plan
WEEK_RP = 7 * 15_000
WEEKS = 2
LOAD_DEADLINE = 90.0


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Jakarta")).date()


@dataclass
class Load:
    """What the client saw accepted: the truth the services' numbers are held against."""

    tokens: dict[str, dict[str, str]]
    urls: dict[str, str]
    families: list[str] = field(default_factory=list)
    delivered_rp: int = 0
    received_rp: int = 0
    sponsored_rp: int = 0
    done: int = 0
    retried: int = 0

    async def send(
        self, http: httpx.AsyncClient, method: str, url: str, role: str, body: Any = None, *, ok: tuple[int, ...]
    ) -> httpx.Response:
        """One command, ridden through restarts: a connection error or a 5xx is sent again with the
        same Idempotency-Key, so a command that did commit before its replica died is not repeated."""
        key = str(uuid.uuid4())
        deadline = time.monotonic() + 40
        while True:
            try:
                response = await http.request(
                    method, url, json=body, headers={**self.tokens[role], "Idempotency-Key": key}
                )
                if response.status_code in ok:
                    return response
                if response.status_code < 500:
                    raise AssertionError(f"{method} {url}: {response.status_code} {response.text}")
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{method} {url} did not go through"
            self.retried += 1
            await asyncio.sleep(0.2)

    async def donor(self, http: httpx.AsyncClient, n: int, received: int) -> str:
        funding = self.urls["funding"]
        created = await self.send(
            http, "POST", f"{funding}/donors", "admin",
            {"name": f"Donor {n}", "donor_type": "csr", "contact": None}, ok=(201,),
        )  # fmt: skip
        donor_id: str = created.json()["donor_id"]
        await self.send(
            http, "POST", f"{funding}/donors/{donor_id}/contributions", "treasurer",
            {"amount_rp": received, "received_on": (today() - timedelta(days=3)).isoformat(),
             "method": "transfer", "reference": f"TRF-{n}-{uuid.uuid4().hex[:8]}"}, ok=(201,),
        )  # fmt: skip
        self.received_rp += received
        return donor_id

    async def family(self, http: httpx.AsyncClient, serial: int, donor_id: str) -> None:
        """Register, verify, sponsor (once funding has read the enrolment), deliver two weeks."""
        registry, funding, aid = self.urls["registry"], self.urls["funding"], self.urls["aid"]
        day = today()
        registered = await self.send(
            http, "POST", f"{registry}/families", "kader", family_body(serial, day, MEDONO), ok=(201,)
        )
        family_id = registered.json()["family_id"]
        self.families.append(family_id)
        await self.send(
            http,
            "POST",
            f"{registry}/families/{family_id}/verification",
            "lurah",
            {"decision": "approve"},
            ok=(200, 201),
        )
        sponsorship = {
            "donor_id": donor_id, "family_id": family_id, "amount_rp": SPONSORSHIP_RP,
            "start_date": day.isoformat(),  # not before the sponsorship's date
        }  # fmt: skip

        async def sponsored() -> bool:  # 409 until funding has read the enrolment
            answer = await self.send(http, "POST", f"{funding}/sponsorships", "admin", sponsorship, ok=(201, 409))
            return answer.status_code == 201

        # Funding may be restarting (a replica is killed mid-load): wait as long as the load may take.
        await wait_until(sponsored, LOAD_DEADLINE, interval=0.2, message=f"family {serial} sponsored")
        self.sponsored_rp += SPONSORSHIP_RP

        async def plan() -> dict[str, Any] | None:
            answer = await self.send(http, "GET", f"{aid}/plans?family_id={family_id}", "admin", ok=(200,))
            items = answer.json()["items"]
            return items[0] if items else None

        opened = await wait_until(plan, 40, interval=0.2, message=f"aid opens family {serial}'s plan")
        start = date.fromisoformat(opened["start_date"])
        for week in range(WEEKS):
            first = start + timedelta(days=7 * week)
            await self.send(
                http, "POST", f"{aid}/plans/{opened['plan_id']}/deliveries", "kader",
                {"period_from": first.isoformat(), "period_to": (first + timedelta(days=6)).isoformat(),
                 "value_rp": WEEK_RP, "items": [{"name": "telur ayam", "quantity": 14.0, "unit": "butir"}],
                 "delivered_on": day.isoformat()}, ok=(201,),
            )  # fmt: skip
            self.delivered_rp += WEEK_RP
        self.done += 1


def bearer(secret: str, role: str, kelurahan: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(secret, role=role, sub=f'{role}-replicas', kelurahan=kelurahan)}"}


async def run_load(load: Load, up: Up, chaos: Callable[[Load], Awaitable[None]]) -> None:
    async with httpx.AsyncClient(timeout=15) as http:
        donor_id = await load.donor(http, 1, FAMILIES * SPONSORSHIP_RP)
        limit = asyncio.Semaphore(CONCURRENT)

        async def one(serial: int) -> None:
            async with limit:
                await load.family(http, serial, donor_id)

        async with asyncio.timeout(LOAD_DEADLINE):
            await asyncio.gather(*(one(9000 + n) for n in range(FAMILIES)), chaos(load))


async def kill_during_load(load: Load, up: Up, killed: dict[str, int]) -> None:
    """A third of the way in: the registry's relay leader. Two thirds: one funding replica."""
    await wait_until(lambda: load.done >= FAMILIES // 3, LOAD_DEADLINE, interval=0.1, message="a third done")
    stack = up.stack()
    conn = await asyncpg.connect(stack["databases"]["registry"])
    try:
        from shared.outbox import relay_leader

        leader = await relay_leader(conn, "registry")
    finally:
        await conn.close()
    assert leader is not None
    killed["registry relay leader"] = int(leader.split("@")[0])
    os.kill(killed["registry relay leader"], signal.SIGKILL)
    await wait_until(lambda: load.done >= 2 * FAMILIES // 3, LOAD_DEADLINE, interval=0.1, message="two thirds")
    killed["funding[2]"] = up.pids()["funding[2]"]
    os.kill(killed["funding[2]"], signal.SIGKILL)


def matches(subject: str, pattern: str) -> bool:
    """NATS subject matching: `*` one token, `>` the rest."""
    s, p = subject.split("."), pattern.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or (token != "*" and token != s[i]):
            return False
    return len(s) == len(p)


async def published(conn: asyncpg.Connection) -> list[tuple[str, Envelope]]:
    rows = await conn.fetch("select subject, payload from outbox order by id")
    return [(r["subject"], Envelope.from_bytes(bytes(r["payload"]))) for r in rows]


async def test_two_replicas_each_under_load_through_kills_lose_nothing_and_count_nothing_twice(tmp_path: Path) -> None:
    from services.aid.app import repositories
    from services.aid.replay import rebuild as rebuild_aid
    from services.aid.views import VIEWS as AID_VIEWS
    from services.funding.replay import rebuild as rebuild_funding
    from services.funding.views import VIEW_TABLES as FUNDING_VIEWS
    from services.registry.app import registry
    from services.registry.replay import rebuild as rebuild_registry
    from services.reporting.projections import PROJECTIONS
    from services.reporting.replay import rebuild as rebuild_reporting

    async with genting_up(tmp_path, "--replicas", "2") as up:
        secrets = load_secrets(up.data_dir)
        tokens = {
            "admin": bearer(secrets.jwt_secret, "admin"),
            "treasurer": bearer(secrets.jwt_secret, "treasurer"),
            "kader": bearer(secrets.jwt_secret, "kader", MEDONO),
            "lurah": bearer(secrets.jwt_secret, "lurah", MEDONO),
        }
        load = Load(tokens, up.urls)
        killed: dict[str, int] = {}
        await run_load(load, up, lambda load: kill_during_load(load, up, killed))

        assert load.done == FAMILIES
        # The load may finish inside the restart's backoff: wait for both to be replaced.
        await wait_until(
            lambda: not set(killed.values()) & set(up.pids().values()), 30, message="killed processes replaced"
        )
        output = up.output()
        assert "genting: funding[2] exited (-9); restarting in 1.0 s" in output
        assert sum("exited (-9); restarting" in line for line in output.splitlines()) == 2, output[-3000:]

        settled = await quiet(up)
        assert all(s.dead_letters == 0 for s in settled), settled
        consumers = {c.name: c for s in settled for c in s.consumers}

        operator = up.stack()["nats_url"]
        nc = await nats.connect(operator, inbox_prefix=inbox_prefix_for(operator))
        try:
            js = nc.jetstream()
            async with databases(up) as db:
                # Every committed event is in its stream exactly once (no loss, no duplicate publish).
                events = {name: await published(conn) for name, conn in db.items()}
                for name, sent in events.items():
                    committed = await db[name].fetchval("select count(*) from events")
                    assert len(sent) == committed, name
                    if sent:
                        info = await js.stream_info(stream_name(name))
                        assert info.state.messages == len(sent), (name, info.state.messages, len(sent))

                # Every consumer's gate stands at the last version of every stream it follows.
                for consumer in consumers.values():
                    owner, upstream = consumer.name.split("-", 1)
                    projection = next((p for p in PROJECTIONS if p.name == consumer.name), None) or _runner_projection(
                        owner, consumer.name
                    )
                    expected: dict[UUID, int] = defaultdict(int)
                    for subject, env in events[upstream]:
                        if any(matches(subject, f) for f in projection.filter_subjects):
                            expected[env.stream_id] = max(expected[env.stream_id], env.stream_version)
                    rows = await db[owner].fetch(
                        "select stream_id, version from projection_versions where projection = $1", consumer.name
                    )
                    assert {r["stream_id"]: r["version"] for r in rows} == dict(expected), consumer.name
                    assert expected, consumer.name

                # Every read model equals a replay of its events.
                # Each service's own data key (genting up gives each its own).
                keys = {
                    name: Settings(
                        jwt_secret=SecretStr(secrets.jwt_secret), data_key=SecretStr(secrets.data_keys[name])
                    )
                    for name in ("registry", "aid")
                }
                await replay_equals_live(
                    db["registry"], ("families_view",), lambda pool: rebuild_registry(pool, registry(keys["registry"]))
                )
                await replay_equals_live(
                    db["aid"], AID_VIEWS, lambda pool: rebuild_aid(pool, repositories(keys["aid"]))
                )
                await replay_equals_live(db["funding"], FUNDING_VIEWS, rebuild_funding)
                reporting_tables = tuple(t for p in PROJECTIONS for t in p.tables)
                # The replay reads through consumers of its own: the admin's (`genting replay` gives it).
                from genting.cli import _nats_url_for

                as_reporting = await nats.connect(_nats_url_for(up.data_dir, "admin"))
                try:
                    await replay_equals_live(
                        db["reporting"],
                        reporting_tables,
                        lambda pool: rebuild_reporting(pool, as_reporting.jetstream()),
                    )
                finally:
                    await as_reporting.close()
        finally:
            await nc.close()

        # The money adds up to the rupiah, in every service.
        assert load.delivered_rp == FAMILIES * WEEKS * WEEK_RP
        async with httpx.AsyncClient(timeout=15) as http:
            admin = tokens["admin"]
            plans = (await http.get(f"{up.urls['aid']}/plans?limit=200", headers=admin)).json()["items"]
            assert len(plans) == FAMILIES
            assert sum(p["delivered_rp"] for p in plans) == load.delivered_rp
            assert sum(p["budget_rp"] for p in plans) == load.sponsored_rp
            for family_id in load.families:
                funded = (await http.get(f"{up.urls['funding']}/families/{family_id}/funding", headers=admin)).json()
                assert (funded["sponsored_rp"], funded["drawn_rp"]) == (SPONSORSHIP_RP, WEEKS * WEEK_RP)
            money = (await http.get(f"{up.urls['reporting']}/funding", headers=admin)).json()
            given = (await http.get(f"{up.urls['reporting']}/aid", headers=admin)).json()
            progress = (await http.get(f"{up.urls['reporting']}/progress", headers=admin)).json()
        assert (money["received_rp"], money["allocated_rp"], money["drawn_rp"]) == (
            load.received_rp,
            load.sponsored_rp,
            load.delivered_rp,
        )
        assert (given["delivered_rp"], given["deliveries"]) == (load.delivered_rp, FAMILIES * WEEKS)
        assert (progress["registered"], progress["enrolled"], progress["sponsored"]) == (FAMILIES,) * 3
    assert up.proc.returncode == 0, up.output()[-3000:]


def _runner_projection(owner: str, name: str) -> Any:
    """The projection class of a service's consumer (aid's and funding's, by name)."""
    from services.aid.policies import FundingPolicy, RegistryPolicy
    from services.funding.policies import AidPolicy
    from services.funding.policies import RegistryPolicy as FundingRegistryPolicy

    for cls in (RegistryPolicy, FundingPolicy, AidPolicy, FundingRegistryPolicy):
        if cls.name == name:
            return cls
    raise AssertionError(f"unknown consumer {name} of {owner}")
