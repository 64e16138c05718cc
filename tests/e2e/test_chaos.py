"""Chaos: `genting simulate` on `genting up --replicas 2` while service replicas, nats-server and
PostgreSQL are SIGKILLed in turn, on a schedule. `genting up` restarts what dies; the services
answer 503 while their database is away; the simulation's client sends again with the same
Idempotency-Key. At the end:

- nothing was refused but what was meant to be (simulate's exit status and summary);
- every delivery aid holds is in funding's draws and reporting's totals, to the rupiah;
- every read model equals a replay of its events;
- no outbox backlog, no consumer lag, no dead letter (`genting status`'s figures).

`make test` runs a short schedule (60 families, 40 days, one round of eight kills); `make chaos` a
long one (GENTING_CHAOS_FAMILIES=500, GENTING_CHAOS_DAYS=210, GENTING_CHAOS_KILLS=0: kills until
the simulation ends), printing what it killed and when.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import nats
import pytest
from consistency import databases, quiet, read_models_equal_replays
from up_support import REPO, Up, genting_up

from genting.embedded import die_with_parent
from shared.messaging import stream_name
from shared.nats_setup import inbox_prefix_for
from shared.testing import wait_until

pytestmark = pytest.mark.e2e

FAMILIES = int(os.environ.get("GENTING_CHAOS_FAMILIES", "60"))
DAYS = int(os.environ.get("GENTING_CHAOS_DAYS", "40"))
EVERY = float(os.environ.get("GENTING_CHAOS_EVERY", "2"))  # seconds between a restart and the next kill
SEED = int(os.environ.get("GENTING_CHAOS_SEED", "1717"))
# One round of the schedule in `make test`; `make chaos` sets 0: kill until the simulation ends.
KILLS = int(os.environ.get("GENTING_CHAOS_KILLS", "8"))
# In turn: a replica of each service, PostgreSQL and nats-server between them (each kind within
# the first three kills: a quiet machine runs the short simulation in well under a minute).
SCHEDULE = (
    "registry[1]", "postgres", "nats-server", "aid[2]", "funding[1]", "postgres", "reporting[2]", "nats-server",
)  # fmt: skip
SIMULATE_DEADLINE = float(os.environ.get("GENTING_CHAOS_DEADLINE", str(600 + FAMILIES * DAYS * 0.05)))


@dataclass
class Kill:
    at: float  # seconds after the simulation started
    target: str
    pid: int
    back_after: float | None = None  # seconds until `genting up` had it running again


def kind(target: str) -> str:
    return "replica" if "[" in target else target.removesuffix("-server")


async def kill_in_turn(up: Up, simulation: subprocess.Popen[bytes], started: float, kills: list[Kill]) -> None:
    """Until the simulation ends: wait EVERY seconds, SIGKILL the next target, wait until `genting
    up` has replaced it (its pid in stack.json changes), go on with the next."""
    turn = 0
    while simulation.poll() is None and (KILLS == 0 or turn < KILLS):
        await asyncio.sleep(EVERY)
        if simulation.poll() is not None:
            return
        target = SCHEDULE[turn % len(SCHEDULE)]
        turn += 1
        pid = up.pids()[target]
        os.kill(pid, signal.SIGKILL)
        kill = Kill(round(time.monotonic() - started, 1), target, pid)
        kills.append(kill)
        print(f"chaos: {kill.at:7.1f} s  SIGKILL {target} (pid {pid})", flush=True)

        def replaced(target: str = target, pid: int = pid) -> bool:
            now = up.pids().get(target)
            return now is not None and now != pid

        await wait_until(replaced, 120, interval=0.2, message=f"{target} restarted by genting up")
        kill.back_after = round(time.monotonic() - started - kill.at, 1)
        print(f"chaos: {time.monotonic() - started:7.1f} s  {target} running again", flush=True)


async def deliveries(conn: asyncpg.Connection, table: str, value: str = "value_rp") -> dict[str, int]:
    rows = await conn.fetch(f"select delivery_id, {value} as rp from {table}")
    return {str(r["delivery_id"]): int(r["rp"]) for r in rows}


async def test_simulate_through_kills_of_replicas_nats_and_postgres_loses_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    began = time.monotonic()
    async with genting_up(tmp_path, "--replicas", "2") as up:
        env = {k: v for k, v in os.environ.items() if k not in ("GENTING_NATS_URL", "GENTING_DATABASE_URL")}
        out, err = tmp_path / "simulate.out", tmp_path / "simulate.err"
        argv = [sys.executable, "-m", "genting.cli", "simulate", "--data-dir", str(up.data_dir)]
        argv += ["--families", str(FAMILIES), "--days", str(DAYS), "--seed", str(SEED), "--concurrency", "8"]
        kills: list[Kill] = []
        with out.open("wb") as stdout, err.open("wb") as stderr:
            simulation = subprocess.Popen(  # noqa: ASYNC220 (returns at once)
                argv, cwd=REPO, env=env, stdout=stdout, stderr=stderr, preexec_fn=die_with_parent()
            )
            started = time.monotonic()
            chaos = asyncio.create_task(kill_in_turn(up, simulation, started, kills))
            try:
                code = await asyncio.to_thread(simulation.wait, SIMULATE_DEADLINE)
            finally:
                if simulation.poll() is None:
                    simulation.kill()
                await chaos
        simulated = time.monotonic() - started
        summary, said = out.read_text(), err.read_text()
        print(summary)
        print(f"chaos: {len(kills)} kills in {simulated:.0f} s of simulation", flush=True)

        # Nothing refused but on purpose, reporting agreeing with what was accepted: simulate's verdict.
        assert code == 0, f"simulate exited {code}:\n{summary}\n{said[-3000:]}"
        assert {kind(k.target) for k in kills} == {"replica", "nats", "postgres"}, kills
        # The client said what it waited for, and that it was answered again.
        if any(k.target == "postgres" for k in kills):
            assert "genting: waiting for" in said, said[-2000:]
        assert "gave up" not in said, said[-2000:]
        assert re.search(r"accepted\s+[1-9]", summary), summary

        settled = await quiet(up, timeout=180)  # no outbox backlog, no consumer lag (genting status)
        async with databases(up) as db:
            # Every event committed is in its stream, once: nothing lost by a kill of nats-server.
            operator = up.stack()["nats_url"]
            nc = await nats.connect(operator, inbox_prefix=inbox_prefix_for(operator))
            try:
                js = nc.jetstream()
                for name, conn in db.items():
                    committed = await conn.fetchval("select count(*) from events")
                    if committed:
                        in_stream = (await js.stream_info(stream_name(name))).state.messages
                        lost = f"{name}: {committed} events committed, {in_stream} in the stream"
                        assert in_stream == committed, lost
            finally:
                await nc.close()
            assert all(s.dead_letters == 0 for s in settled), settled
            # Every delivery aid holds is drawn on in funding and counted in reporting, to the rupiah.
            aid = await deliveries(db["aid"], "deliveries_view")
            funding = await deliveries(db["funding"], "funding_deliveries")
            reporting = await deliveries(db["reporting"], "deliveries_view")
            assert aid, "the simulation delivered nothing"
            assert funding == aid
            assert reporting == aid
            paid = await db["funding"].fetchval(
                "select coalesce(sum(drawn_rp + shortfall_rp), 0) from funding_deliveries"
            )
            assert paid == sum(aid.values())  # each delivery drawn on its sponsorships, or its shortfall said
            drawn = await db["funding"].fetchval("select coalesce(sum(drawn_rp), 0) from funding_deliveries")
            counted = await db["reporting"].fetchval("select coalesce(sum(drawn_rp), 0) from family_funding_view")
            assert counted == drawn
            await read_models_equal_replays(up, db)
    print(
        "chaos: "
        + ", ".join(f"{k.target} at {k.at} s (back after {k.back_after} s)" for k in kills)
        + f"; whole test {time.monotonic() - began:.0f} s",
        flush=True,
    )
