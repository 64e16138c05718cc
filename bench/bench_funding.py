"""Funding benchmark: sponsorships over HTTP and the ledger's projection, beside raw baselines
measured in the same run (bench/bench.py's helpers and baselines, imported, not copied).

    .venv/bin/python bench/bench_funding.py [--commands 600] [--events 4000] [--raw-rows 4000] [--reps 3]

| system                                                   | raw baseline (bench.py)                        |
|----------------------------------------------------------|------------------------------------------------|
| POST /sponsorships, 8 clients, funding as a real process | asyncpg, 8 connections, one insert per txn     |
| AidDelivered → SponsorshipDrawn through ProjectionRunner | pull fetch(500) + one executemany/batch + acks |

A sponsorship command locks the family's row, loads the donor's stream, appends the donor's
FundsAllocated at its version and the new sponsorship's FamilySponsored, and updates the read
model: two streams and a handful of rows in one transaction. Each client sponsors from its own
donors, so the rate is not one donor's contention. A delivery, in the projection, locks the
family, records the delivery, loads the family's sponsorship and appends SponsorshipDrawn.

Like bench.py it uses GENTING_NATS_URL / GENTING_DATABASE_URL when set (the GENTING_REGISTRY and
GENTING_AID streams are deleted and recreated there: point it at a disposable server only), else
embedded servers in a temporary directory. Timings are printed, never asserted; the exit status
is non-zero only when something failed functionally.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import sys
import time
import uuid
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import nats  # noqa: E402
import uvloop  # noqa: E402
from corpus import make_corpus  # noqa: E402  bench/corpus.py
from figures import (  # noqa: E402  bench/figures.py
    BENCH_SERVICE,
    CLIENTS,
    PROJECTION_BATCH,
    PUBLISH_WINDOW,
    bench_parser,
    median,
    running,
    timed,
    wait_for,
    whole_streams,
)
from load_generators import http_client  # noqa: E402  bench/load_generators.py
from nats.js import JetStreamContext  # noqa: E402
from processes import CORES, BenchFailure, measured, run_with_servers, start_service  # noqa: E402  bench/processes.py
from pydantic import SecretStr  # noqa: E402
from raw_probes import raw_pg, raw_publish_and_consume  # noqa: E402  bench/raw_probes.py
from streams import delete_stream  # noqa: E402  bench/streams.py

from genting import nats_topology  # noqa: E402
from services.funding.app import MIGRATIONS, handlers  # noqa: E402
from services.funding.domain import ReceiveContribution, RegisterDonor, SponsorFamily  # noqa: E402
from services.funding.handlers import Handlers  # noqa: E402
from services.funding.policies import AidPolicy  # noqa: E402
from services.funding.settings import FundingSettings  # noqa: E402
from shared.auth import Principal, issue_token  # noqa: E402
from shared.clock import city_clock, now  # noqa: E402
from shared.contracts.registry import FamilyEnrolled  # noqa: E402
from shared.db import create_pool, migrate  # noqa: E402
from shared.eventstore import Metadata  # noqa: E402
from shared.logging import configure_logging  # noqa: E402
from shared.messaging import MSG_ID_HEADER, Envelope, dlq_stream_name  # noqa: E402
from shared.nats_setup import ensure_stream, owned_stream_config  # noqa: E402
from shared.projection import ProjectionRunner  # noqa: E402
from shared.settings import DEFAULT_CITY  # noqa: E402
from shared.testing import facts  # noqa: E402

TODAY = city_clock(DEFAULT_CITY)()  # the services' day, not UTC's
ADMIN = Principal(sub="bench", role="admin")  # the handlers decide who may; the bench acts as an admin
MEDONO = "33.75.01.1002"
SPONSORSHIP_RP = 2_700_000
DONORS_PER_CLIENT = 10
DELIVERIES_PER_PLAN = 4
UPSTREAM = ("registry", "aid")


def envelope(event: Any, version: int = 1) -> tuple[str, bytes, str]:
    """(subject, payload, msg id) of an upstream fact, as its owner's relay would publish it."""
    env = Envelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=event.aggregate_id(),
        stream_version=version,
        occurred_at=now(),
        data=event.model_dump(mode="json"),
    )
    return event.subject(), env.to_bytes(), str(env.event_id)


async def publish_all(js: JetStreamContext, stream: str, messages: list[tuple[str, bytes, str]]) -> None:
    for start in range(0, len(messages), PUBLISH_WINDOW):
        await asyncio.gather(
            *(
                js.publish(s, p, stream=stream, timeout=10.0, headers={MSG_ID_HEADER: m})
                for s, p, m in messages[start : start + PUBLISH_WINDOW]
            )
        )


async def fresh_upstreams(js: JetStreamContext) -> None:
    for context in UPSTREAM:
        await delete_stream(js, f"GENTING_{context.upper()}")
        await ensure_stream(js, owned_stream_config(context))


def enrolled(family_id: uuid.UUID) -> FamilyEnrolled:
    return facts.enrolled(family_id, TODAY, kelurahan=MEDONO)


# -- sponsorships over HTTP --------------------------------------------------------------------------


async def start_funding(servers: Any, js: JetStreamContext) -> tuple[Any, str]:
    await fresh_upstreams(js)
    await delete_stream(js, "GENTING_FUNDING")
    # What `genting migrate` does before any service starts: a service may not create its stream
    # or its durables itself.
    await nats_topology.create_streams(js)
    await nats_topology.create_durables(js)
    secret = secrets.token_urlsafe(32)
    db = await servers.fresh_db("funding_commands")
    env = {
        "GENTING_SERVICE": "funding",
        "GENTING_DATABASE_URL": db,
        "GENTING_NATS_URL": servers.nats_url,
        "GENTING_JWT_ALGORITHM": "HS256",  # the development option: a benchmark mints its own tokens
        "GENTING_JWT_SECRET": secret,
        "GENTING_DATA_KEY": secrets.token_urlsafe(32),  # donors' names are kept sealed
        "GENTING_LOG_LEVEL": "warning",
    }
    token = issue_token(secret, role="admin", sub="bench-admin")
    return await start_service(servers, "funding", "services.funding.app:create_app", env, token, "/sponsorships"), db


async def donors_with_money(client: httpx.AsyncClient, count: int) -> list[str]:
    async def one(i: int) -> str:
        response = await client.post("/donors", json={"name": f"Donatur {i}", "donor_type": "csr"})
        donor_id: str = response.json()["donor_id"]
        gift = await client.post(
            f"/donors/{donor_id}/contributions",
            json={
                "amount_rp": 10_000_000_000,
                "received_on": TODAY.isoformat(),
                "method": "transfer",
                "reference": f"BENCH-{i}",
            },
        )
        if gift.status_code != 201:
            raise BenchFailure(f"contribution answered {gift.status_code}: {gift.text[:500]}")
        return donor_id

    return [await one(i) for i in range(count)]


async def enrol_families(js: JetStreamContext, db: str, n: int) -> list[uuid.UUID]:
    """n FamilyEnrolled on GENTING_REGISTRY, and wait until funding has read them all."""
    families = [uuid.uuid4() for _ in range(n)]
    await publish_all(js, "GENTING_REGISTRY", [envelope(enrolled(f)) for f in families])
    conn = await asyncpg.connect(db)
    try:
        deadline = time.monotonic() + 60
        while (
            await conn.fetchval("select count(*) from funding_families where family_id = any($1::uuid[])", families) < n
        ):
            if time.monotonic() > deadline:
                raise BenchFailure("funding did not read the enrolments within 60 s")
            await asyncio.sleep(0.05)
    finally:
        await conn.close()
    return families


async def sponsor_all(service: Any, donors: list[str], families: list[uuid.UUID]) -> float:
    """8 clients, one request in flight each; client i sponsors from donors i, i+8, … in turn."""
    todo = iter(families)

    async def client_loop(mine: list[str]) -> None:
        async with http_client(service) as client:
            for k, family_id in enumerate(todo):
                body = {
                    "donor_id": mine[k % len(mine)],
                    "family_id": str(family_id),
                    "amount_rp": SPONSORSHIP_RP,
                    "start_date": TODAY.isoformat(),
                }
                response = await client.post("/sponsorships", content=json.dumps(body))
                if response.status_code != 201:
                    raise BenchFailure(f"POST /sponsorships answered {response.status_code}: {response.text[:500]}")

    started = time.perf_counter()
    await asyncio.gather(*(client_loop(donors[i::CLIENTS]) for i in range(CLIENTS)))
    return len(families) / (time.perf_counter() - started)


async def system_sponsorships(servers: Any, js: JetStreamContext, n: int, reps: int) -> list[float]:
    funding, db = await start_funding(servers, js)
    try:
        async with http_client(funding) as client:
            donors = await donors_with_money(client, CLIENTS * DONORS_PER_CLIENT)
        await sponsor_all(funding, donors, await enrol_families(js, db, 50))  # warm-up
        rates = []
        for _ in range(reps):
            families = await enrol_families(js, db, n)
            with measured(servers, "sponsorships", funding.proc.pid):
                rates.append(await sponsor_all(funding, donors, families))
        expected = 50 + n * reps
        conn = await asyncpg.connect(db)
        try:
            got = await conn.fetchval("select count(*) from sponsorships_view")
        finally:
            await conn.close()
        if got != expected:
            raise BenchFailure(f"sponsorships: {got} of {expected} in the read model")
    finally:
        funding.stop()
    return rates


# -- the ledger's projection in this process ---------------------------------------------------------


def in_process_handlers() -> Handlers:
    """Funding's handlers as app.py wires them, with a data key of the run's own: a donor's name
    is personal data, kept sealed, so funding refuses it without one."""
    return handlers(FundingSettings(data_key=SecretStr(secrets.token_urlsafe(32))))


async def seed_sponsored_families(pool: asyncpg.Pool, families: int) -> list[uuid.UUID]:
    """Families enrolled and sponsored straight through funding's handlers (no HTTP)."""
    meta = Metadata(occurred_at=now())
    donor_id = uuid.uuid4()
    ids = [uuid.uuid4() for _ in range(families)]
    funding = in_process_handlers()
    async with pool.acquire() as conn, conn.transaction():
        await funding.register_donor(conn, RegisterDonor(donor_id, "csr", "Bench", None, TODAY), ADMIN, meta)
        gift = ReceiveContribution(donor_id, uuid.uuid4(), 10_000_000_000, TODAY, "transfer", "BENCH", TODAY)
        await funding.receive_contribution(conn, gift, ADMIN, meta)
        await conn.executemany(
            "insert into funding_families (family_id, status, kelurahan_code, enrolled_on)"
            " values ($1, 'enrolled', $2, $3)",
            [(f, MEDONO, TODAY) for f in ids],
        )
        for family_id in ids:
            command = SponsorFamily(uuid.uuid4(), donor_id, family_id, SPONSORSHIP_RP, TODAY, TODAY, "enrolled", MEDONO)
            await funding.sponsor_family(conn, command, ADMIN, meta)
    return ids


def deliveries(families: list[uuid.UUID], n: int) -> list[tuple[str, bytes, str]]:
    """n AidDelivered over n/4 plans, versions 1..4 per plan, each plan's versions spread out."""
    plans = [(uuid.uuid4(), families[i % len(families)]) for i in range(-(-n // DELIVERIES_PER_PLAN))]
    out: list[tuple[str, bytes, str]] = []
    for version in range(1, DELIVERIES_PER_PLAN + 1):
        for plan_id, family_id in plans:
            if len(out) == n:
                break
            event = facts.delivered(plan_id, family_id, TODAY, 1, 15_000, kelurahan=MEDONO)
            out.append(envelope(event, version))
    return out


async def system_ledger_projection(servers: Any, js: JetStreamContext, rep: int, n: int) -> float:
    db = await servers.fresh_db(f"funding_projection{rep}")
    await migrate(db, MIGRATIONS)
    pool = await create_pool(db, min_size=2, max_size=4)
    try:
        families = await seed_sponsored_families(pool, max(1, n // DELIVERIES_PER_PLAN))
        await fresh_upstreams(js)
        await publish_all(js, "GENTING_AID", deliveries(families, n))
        ledger = in_process_handlers()
        policy = AidPolicy(ledger)
        runner = ProjectionRunner(pool, js, policy, service=BENCH_SERVICE, batch=PROJECTION_BATCH)
        with measured(servers, "ledger_projection"):
            started = time.perf_counter()
            async with running(runner.run()):
                await wait_for(
                    lambda: runner.stats.applied >= n or runner.stats.dead_lettered > 0, 300, "ledger projection"
                )
                elapsed = time.perf_counter() - started
        drawn = await pool.fetchval("select count(*) from events where event_type = 'SponsorshipDrawn'")
        if drawn != n or ledger.stats.shortfalls:
            raise BenchFailure(f"ledger projection: {drawn} of {n} draws, {ledger.stats.shortfalls} shortfalls")
    finally:
        await pool.close()
    return n / elapsed


# -- the run -------------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, servers: Any) -> dict[str, Any]:
    nc = await nats.connect(servers.nats_url, name="genting-bench-funding")
    js = nc.jetstream()
    per_rep: dict[str, list[float]] = {"raw_pg": [], "raw_consume": [], "ledger_projection": []}
    try:
        raw_rows, corpus = make_corpus(args.raw_rows), make_corpus(args.events)
        for rep in range(args.reps):
            print(f"repetition {rep + 1}/{args.reps}", flush=True)
            per_rep["raw_pg"].append(await timed("raw asyncpg", raw_pg(servers, rep, raw_rows)))
            _, consume = await timed("raw publish + consume", raw_publish_and_consume(servers, js, rep, corpus))
            per_rep["raw_consume"].append(consume)
            per_rep["ledger_projection"].append(
                await timed("ledger projection", system_ledger_projection(servers, js, rep, args.events))
            )
        per_rep["sponsorships"] = await timed(
            f"sponsorships over HTTP, {args.reps} × {args.commands}",
            system_sponsorships(servers, js, args.commands, args.reps),
        )
    finally:
        for name in [
            *servers.streams,
            "GENTING_FUNDING",
            "GENTING_REGISTRY",
            "GENTING_AID",
            dlq_stream_name(BENCH_SERVICE),
            dlq_stream_name("funding"),
        ]:
            with contextlib.suppress(Exception):
                await delete_stream(js, name)
        await nc.close()
    return {"per_rep": per_rep, "medians": {k: median(v) for k, v in per_rep.items()}}


def report(args: argparse.Namespace, results: dict[str, Any]) -> None:
    m = results["medians"]
    rows = [
        ("sponsorships/s over HTTP (8 clients)", m["sponsorships"], m["raw_pg"], "asyncpg 1 insert/txn, 8 conns"),
        (
            "AidDelivered→SponsorshipDrawn events/s",
            m["ledger_projection"],
            m["raw_consume"],
            "fetch(500)+executemany upsert+ack",
        ),
    ]
    print(
        f"\nGenting funding benchmark — medians of {args.reps} runs (commands {args.commands}, "
        f"events {args.events}, raw rows {args.raw_rows})"
    )
    width = max(len(r[0]) for r in rows)
    for name, system, raw, what in rows:
        print(f"{name:<{width}} | {system:>9,.1f} | raw {raw:>9,.1f} ({what}) | {system / raw:.0%}")
    print(
        "per repetition: "
        + "; ".join(f"{k} " + "/".join(f"{v:,.0f}" for v in vs) for k, vs in results["per_rep"].items())
    )
    print(f"cores busy: {dict((k, v) for k, v in CORES.items() if k in ('sponsorships', 'ledger_projection'))}")


def main() -> int:
    args = whole_streams(
        bench_parser(
            __doc__ or "",
            commands=(600, "sponsorships per repetition"),
            events=(4000, "deliveries for the projection and its raw"),
            raw_rows=4000,
        ).parse_args()
    )
    configure_logging("bench", "warning")
    return run_with_servers("genting-bench-funding-", lambda servers: report(args, uvloop.run(run(args, servers))))


if __name__ == "__main__":
    sys.exit(main())
