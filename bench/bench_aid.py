"""Aid benchmark: the delivery command rate over HTTP beside the raw asyncpg transaction rate,
and the latency from a delivery command to funding's SponsorshipDrawn, measured in one run.

    .venv/bin/python bench/bench_aid.py [--plans 400] [--commands 2000] [--reps 3] [--rate 20] [--seconds 10]

Uses GENTING_NATS_URL / GENTING_DATABASE_URL (a server URL) when set, else starts an embedded
nats-server and a durable embedded PostgreSQL in a temporary directory (bench/bench.py's
helpers). The GENTING_REGISTRY, GENTING_FUNDING and GENTING_AID streams are deleted and
recreated: point it at a disposable server only.

| system                                             | raw baseline                                   |
|----------------------------------------------------|------------------------------------------------|
| POST /plans/{id}/deliveries, 8 clients, many plans | asyncpg, 8 connections, one insert per txn     |
| POST delivery → SponsorshipDrawn on GENTING_FUNDING (funding as a real process), at R/s | — |
| POST delivery → AidDelivered on GENTING_AID, at R/s (always; the whole path when funding is absent) | — |

Registry events are published by the bench as the registry's relay would (the registry's own
command rate is bench/bench.py's). The throughput plans are funded by FamilySponsored events the
bench publishes (funding is not running then, so its CPU is not in that number); the latency
plans are sponsored through funding's own API, after funding has worked off aid's backlog
(it logs a `delivery_shortfall` for each throughput delivery: sponsorships it never made).
Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import nats  # noqa: E402
import processes  # noqa: E402  bench/processes.py: servers, services as processes
import uvloop  # noqa: E402
from corpus import make_corpus  # noqa: E402  bench/corpus.py: the raw baseline's events
from figures import bench_parser, median, percentile, wait_for  # noqa: E402  bench/figures.py: statistics
from nats.js import JetStreamContext  # noqa: E402
from nats.js.api import DeliverPolicy  # noqa: E402
from nats.js.errors import NotFoundError  # noqa: E402
from processes import BenchFailure, Servers, Service, note, run_with_servers  # noqa: E402
from raw_probes import raw_pg  # noqa: E402  bench/raw_probes.py: the raw baseline

from genting import nats_topology  # noqa: E402
from genting.services import get as service_entry  # noqa: E402
from genting.services import is_available  # noqa: E402
from shared.auth import issue_token  # noqa: E402
from shared.clock import city_clock, now  # noqa: E402
from shared.contracts.registry import MemberSummary, Role  # noqa: E402
from shared.logging import configure_logging  # noqa: E402
from shared.settings import DEFAULT_CITY  # noqa: E402
from shared.testing import facts  # noqa: E402
from shared.testing.bus import Publisher  # noqa: E402

CLIENTS = 8
MEDONO = "33.75.01.1002"
COUNTS: dict[Role, int] = {"pregnant_mother": 1, "breastfeeding_mother": 0, "baduta": 0, "other": 0}
STREAMS = ("GENTING_REGISTRY", "GENTING_FUNDING", "GENTING_AID")


def city_today() -> date:
    return city_clock(DEFAULT_CITY)()


async def start_service(servers: Servers, name: str, secret: str, data_key: str) -> Service:
    """`uvicorn --factory services.<name>.app:create_app` on a fresh database (bench/processes.py)."""
    env = {
        "GENTING_SERVICE": name,
        "GENTING_DATABASE_URL": await servers.fresh_db(f"{name}_{uuid.uuid4().hex[:6]}"),
        "GENTING_NATS_URL": servers.nats_url,
        "GENTING_JWT_ALGORITHM": "HS256",  # the development option: a benchmark mints its own tokens
        "GENTING_JWT_SECRET": secret,
        "GENTING_DATA_KEY": data_key,
        "GENTING_LOG_LEVEL": "warning",
        "GENTING_DATA_DIR": str(servers.workdir / name),
        # Every delivery here is handed over today and covers one day of its plan (Schedule), up to
        # the plan's last: the default horizon (14 days past the handing over) would refuse most.
        "GENTING_DELIVERY_MAX_AHEAD_DAYS": "180",
    }
    return await processes.start_service(servers, name, service_entry(name).factory, env)


class Upstream(Publisher):
    """Registry (and, without funding, funding) facts published as their relays would."""

    async def enrol(self, family_id: uuid.UUID, on: date) -> None:
        member = MemberSummary(member_id=uuid.uuid4(), role="pregnant_mother", sex="F", age_months=300)
        for event in facts.enrolment(family_id, on, [member], COUNTS, kelurahan=MEDONO, staff="bench"):
            await self.emit(event)

    async def sponsor(self, family_id: uuid.UUID, on: date) -> None:
        await self.emit(facts.sponsored(family_id, 2_700_000, on, kelurahan=MEDONO, donor_type="csr"))


async def open_plans(aid: Service, token: str, families: list[uuid.UUID], timeout: float = 120) -> list[str]:
    """Wait until every family has its plan; returns the plan ids in the families' order."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=aid.url, timeout=30, headers={"authorization": f"Bearer {token}"}) as http:
        while True:
            body = (await http.get("/plans", params={"status": "active", "limit": 500})).json()
            plans: dict[str, str] = {}
            for offset in range(0, body["total"], 500):
                page = (await http.get("/plans", params={"status": "active", "limit": 500, "offset": offset})).json()
                plans.update({p["family_id"]: p["plan_id"] for p in page["items"]})
            if all(str(f) in plans for f in families):
                return [plans[str(f)] for f in families]
            if time.monotonic() > deadline:
                raise BenchFailure(f"only {len(plans)} of {len(families)} plans opened")
            await asyncio.sleep(0.2)


def delivery_body(start: date, day: int) -> bytes:
    first = start + timedelta(days=day)
    return json.dumps(
        {
            "period_from": first.isoformat(),
            "period_to": first.isoformat(),
            "value_rp": 15_000,
            "items": [{"name": "telur", "quantity": 2, "unit": "butir"}],
            "delivered_on": city_today().isoformat(),
        }
    ).encode()


class Schedule:
    """(plan, day) pairs, round-robin over the plans so that concurrent clients rarely share one."""

    def __init__(self, plans: list[str], start: date) -> None:
        self.plans, self.start, self.day = plans, start, 0
        self._it = self._pairs()

    def _pairs(self) -> Iterator[tuple[str, bytes]]:
        while self.day < 180:
            for plan in self.plans:
                yield plan, delivery_body(self.start, self.day)
            self.day += 1

    def take(self, n: int) -> list[tuple[str, bytes]]:
        out = [pair for _, pair in zip(range(n), self._it, strict=False)]
        if len(out) < n:
            raise BenchFailure("out of plan days: use more --plans")
        return out


async def post_deliveries(aid: Service, token: str, work: list[tuple[str, bytes]]) -> float:
    todo = iter(work)

    async def client_loop() -> None:
        async with httpx.AsyncClient(
            base_url=aid.url,
            timeout=30,
            headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
        ) as http:
            for plan_id, body in todo:
                response = await http.post(f"/plans/{plan_id}/deliveries", content=body)
                if response.status_code != 201:
                    raise BenchFailure(f"delivery answered {response.status_code}: {response.text[:1000]}")

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(CLIENTS)))
    return len(work) / (time.perf_counter() - started)


async def watch(js: JetStreamContext, stream: str, subject: str, seen: dict[str, float]) -> Any:
    """Records, per delivery id, when its event became visible on the bus."""

    async def on_msg(msg: Any) -> None:
        seen[json.loads(msg.data)["data"]["delivery_id"]] = time.perf_counter()

    return await js.subscribe(
        subject, stream=stream, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW, cb=on_msg
    )


async def sponsor_through_funding(funding: Service, token: str, families: list[uuid.UUID], on: date) -> None:
    """A donor, its money and one sponsorship per family, through funding's own API."""
    async with httpx.AsyncClient(base_url=funding.url, timeout=30, headers={"authorization": f"Bearer {token}"}) as f:
        donor = (await f.post("/donors", json={"name": "Bench CSR", "donor_type": "csr"})).json()["donor_id"]
        response = await f.post(
            f"/donors/{donor}/contributions",
            json={
                "amount_rp": 2_700_000 * len(families),
                "received_on": on.isoformat(),
                "method": "transfer",
                "reference": f"BENCH-{uuid.uuid4().hex[:8]}",
            },
        )
        if response.status_code != 201:
            raise BenchFailure(f"contribution answered {response.status_code}: {response.text[:500]}")
        for family in families:
            deadline = time.monotonic() + 60
            while True:  # 409 until funding has consumed the enrolment
                response = await f.post(
                    "/sponsorships",
                    json={
                        "donor_id": donor,
                        "family_id": str(family),
                        "amount_rp": 2_700_000,
                        "start_date": on.isoformat(),
                    },
                )
                if response.status_code == 201:
                    break
                if time.monotonic() > deadline:
                    raise BenchFailure(f"sponsorship answered {response.status_code}: {response.text[:500]}")
                await asyncio.sleep(0.1)


async def caught_up(js: JetStreamContext, stream: str, durable: str, timeout: float = 300) -> None:
    """Wait until a consumer has worked off its backlog, so that it does not queue the measured events."""
    state: dict[str, bool] = {"done": False}

    async def check() -> None:
        with contextlib.suppress(NotFoundError):
            info = await js.consumer_info(stream, durable)
            last = (await js.stream_info(stream)).state.last_seq
            state["done"] = info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq >= last

    deadline = time.monotonic() + timeout
    await check()
    while not state["done"]:
        if time.monotonic() > deadline:
            raise BenchFailure(f"{durable} did not catch up with {stream} in {timeout:g} s")
        await asyncio.sleep(0.2)
        await check()
    note(f"{durable} caught up with {stream}")


async def latency(
    aid: Service,
    js: JetStreamContext,
    token: str,
    plans: list[str],
    start: date,
    rate: float,
    seconds: float,
    with_funding: bool,
) -> dict[str, Any]:
    """Deliveries at a fixed rate (open loop); per delivery, when AidDelivered and (with funding)
    SponsorshipDrawn became visible on the bus."""
    aid_seen: dict[str, float] = {}
    drawn_seen: dict[str, float] = {}
    subs = [await watch(js, "GENTING_AID", "genting.aid.plan.*.AidDelivered", aid_seen)]
    if with_funding:
        subs.append(await watch(js, "GENTING_FUNDING", "genting.funding.sponsorship.*.SponsorshipDrawn", drawn_seen))
    schedule = Schedule(plans, start)
    sent: dict[str, float] = {}
    answered: list[float] = []
    async with httpx.AsyncClient(
        base_url=aid.url,
        timeout=30,
        limits=httpx.Limits(max_connections=64),
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    ) as h:

        async def send(plan_id: str, body: bytes) -> None:
            t0 = time.perf_counter()
            response = await h.post(f"/plans/{plan_id}/deliveries", content=body)
            answered.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 201:
                raise BenchFailure(f"delivery answered {response.status_code}: {response.text[:500]}")
            sent[response.json()["delivery_id"]] = t0

        work = schedule.take(int(rate * seconds))
        began = time.perf_counter()
        tasks = []
        for i, (plan_id, body) in enumerate(work):
            await asyncio.sleep(max(0.0, began + i / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(send(plan_id, body)))
        await asyncio.gather(*tasks)
    with contextlib.suppress(BenchFailure):  # a shortfall is reported below, with its counts
        await wait_for(
            lambda: len(aid_seen) >= len(sent) and (not with_funding or len(drawn_seen) >= len(sent)),
            60,
            "events on the bus",
        )
    for sub in subs:
        await sub.unsubscribe()
    out: dict[str, Any] = {
        "rate_per_s": rate,
        "n": len(sent),
        "http_p50_ms": percentile(answered, 50),
        "http_p99_ms": percentile(answered, 99),
    }
    for label, seen in (("aid_delivered", aid_seen), ("funding_drawn", drawn_seen if with_funding else None)):
        if seen is None:
            continue
        lat = [(seen[d] - t) * 1000 for d, t in sent.items() if d in seen]
        if len(lat) != len(sent):
            raise BenchFailure(f"{label}: {len(lat)} of {len(sent)} deliveries became visible")
        out[label] = {"p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99), "max_ms": max(lat)}
    return out


async def run(args: argparse.Namespace, servers: Servers) -> dict[str, Any]:
    nc = await nats.connect(servers.nats_url, name="genting-bench-aid")
    js = nc.jetstream()
    for name in STREAMS:
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(name)
    # What `genting migrate` does before any service starts: a service may not create its stream
    # or its durables itself.
    await nats_topology.create_streams(js)
    await nats_topology.create_durables(js)
    secret, data_key = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    admin = issue_token(secret, role="admin", sub="bench-admin")
    kader = issue_token(secret, role="kader", sub="bench-kader", kelurahan=MEDONO)
    with_funding = is_available(service_entry("funding")) and not args.no_funding
    started: list[Service] = []
    today = city_today()
    upstream = Upstream(js, timeout=10.0)
    try:
        aid = await start_service(servers, "aid", secret, data_key)
        started.append(aid)
        families = [uuid.uuid4() for _ in range(args.plans)]
        for family in families:
            await upstream.enrol(family, today)
            await upstream.sponsor(family, today)
        plans = await open_plans(aid, admin, families)
        note(f"{len(plans)} plans opened")
        schedule = Schedule(plans, today)
        await post_deliveries(aid, kader, schedule.take(200))  # warm-up
        rates, raws = [], []
        for rep in range(args.reps):
            raws.append(await raw_pg(servers, rep, make_corpus(args.raw_rows)))
            rates.append(await post_deliveries(aid, kader, schedule.take(args.commands)))
            note(f"rep {rep + 1}: {rates[-1]:,.0f} deliveries/s, raw asyncpg {raws[-1]:,.0f} txn/s")

        lat_families = [uuid.uuid4() for _ in range(args.latency_plans)]
        for family in lat_families:
            await upstream.enrol(family, today)
        if with_funding:
            funding = await start_service(servers, "funding", secret, data_key)
            started.append(funding)
            await sponsor_through_funding(funding, admin, lat_families, today)
            await caught_up(js, "GENTING_AID", "funding-aid")  # the throughput runs' deliveries first
        else:
            for family in lat_families:
                await upstream.sponsor(family, today)
        lat_plans = await open_plans(aid, admin, lat_families)
        lat = await latency(aid, js, kader, lat_plans, today, args.rate, args.seconds, with_funding)
    finally:
        for svc in started:
            svc.stop()
        for name in STREAMS:
            with contextlib.suppress(Exception):
                await js.delete_stream(name)
        await nc.close()
    return {"commands_per_s": rates, "raw_pg_txn_per_s": raws, "latency": lat, "with_funding": with_funding}


def report(args: argparse.Namespace, results: dict[str, Any]) -> None:
    cmd, raw = median(results["commands_per_s"]), median(results["raw_pg_txn_per_s"])
    lat = results["latency"]
    print()
    print(
        f"Aid benchmark — {os.cpu_count()} CPUs, medians of {args.reps} runs ({args.commands} deliveries each, "
        f"{args.plans} plans, {CLIENTS} clients)"
    )
    print(
        f"  POST /plans/{{id}}/deliveries   {cmd:8,.0f} /s   raw asyncpg (8 conns, 1 insert/txn) {raw:8,.0f} /s"
        f"   ratio {cmd / raw:.0%}"
    )
    print(
        f"  per repetition: deliveries {'/'.join(f'{v:,.0f}' for v in results['commands_per_s'])}; "
        f"raw {'/'.join(f'{v:,.0f}' for v in results['raw_pg_txn_per_s'])}"
    )
    print(
        f"  latency at {lat['rate_per_s']:g} deliveries/s ({lat['n']} deliveries), HTTP round trip "
        f"p50 {lat['http_p50_ms']:.1f} ms, p99 {lat['http_p99_ms']:.1f} ms:"
    )
    a = lat["aid_delivered"]
    print(
        f"    POST delivery → AidDelivered on GENTING_AID:          p50 {a['p50_ms']:6.1f} ms  "
        f"p99 {a['p99_ms']:6.1f} ms  max {a['max_ms']:6.1f} ms"
    )
    if "funding_drawn" in lat:
        f = lat["funding_drawn"]
        print(
            f"    POST delivery → SponsorshipDrawn on GENTING_FUNDING: p50 {f['p50_ms']:6.1f} ms  "
            f"p99 {f['p99_ms']:6.1f} ms  max {f['max_ms']:6.1f} ms  (funding as a real process)"
        )
    else:
        print("    (funding not available: only command → AidDelivered on the bus was measured)")


def main() -> int:
    parser = bench_parser(__doc__ or "", commands=(2000, "deliveries per repetition"), raw_rows=6000)
    parser.add_argument("--plans", type=int, default=400, help="plans for the throughput runs")
    parser.add_argument("--latency-plans", type=int, default=40)
    parser.add_argument("--rate", type=float, default=20.0, help="deliveries/s in the latency run")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--no-funding", action="store_true", help="measure without funding even if it exists")
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    configure_logging("bench", "warning")

    def measure(servers: Servers) -> None:
        results = uvloop.run(run(args, servers))
        report(args, results)
        if args.out:
            args.out.write_text(
                json.dumps(
                    {
                        "when": now().isoformat(timespec="seconds"),
                        "args": {k: str(v) for k, v in vars(args).items()},
                        **results,
                    },
                    indent=2,
                )
                + "\n"
            )

    return run_with_servers("genting-bench-aid-", measure)


if __name__ == "__main__":
    sys.exit(main())
