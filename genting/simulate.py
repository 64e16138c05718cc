"""`genting simulate --families N --days D`: a whole programme driven through the HTTP APIs of a
running stack, then a summary of what was sent, refused, propagated, and how long it took.

Families are registered by the kader, approved (a few rejected) by their lurah, sponsored by
donors of every type from money received, and — once aid has opened their plan — receive food
for D days in weekly blocks (a few blocks skipped: recorded gaps; a few first sent under the
daily minimum: refused on purpose, then sent right), confirmed by the lurah, with growth
measurements, interventions and education sessions. The service clocks are real and a plan
starts on the day of its enrolment, so the D days run from today: each block is recorded today
for the days it covers.

Latency is sampled, not polled per command: for every k-th enrolment (and delivery), the time
from the command's response until reporting's `/progress` `enrolled` (`/aid` `deliveries`) first
counts as many as had been acknowledged by then — one poller for all samples, asking every
50 ms or so while a sample is pending (so a latency is known to within about that).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar, TextIO

import httpx

from genting.client import DEFAULT_URLS, Services, problem
from genting.demo import FOODS, INTERVENTIONS, PLAN_MINIMUM_RP, TOPICS, ProgressLine, each, family, today
from services.registry.reference import KELURAHAN

STREAMS = ("GENTING_REGISTRY", "GENTING_FUNDING", "GENTING_AID", "GENTING_REPORTING")
DONOR_TYPES = (
    ("individual", 40),
    ("community", 15),
    ("bumd", 8),
    ("csr", 15),
    ("bumn", 6),
    ("university", 6),
    ("media", 4),
    ("other", 6),
)
DAILY_RATES = (15_000, 15_000, 15_500, 16_000)
SPONSORED_DAILY = 16_000  # each family's sponsorship covers the highest daily rate for the whole plan
SERIALS = range(1, 6999)  # NIK/KK serials apart from the demo's


def add_parser(commands: Any, default_dir: Path) -> argparse.ArgumentParser:
    sim: argparse.ArgumentParser = commands.add_parser(
        "simulate",
        help="drive a realistic programme through the HTTP APIs of a running stack",
        description="Registers N families and runs their programme for D days (deliveries in weekly blocks) "
        "against the services of `genting up` (URLs from the data dir, or GENTING_<SERVICE>_URL), then "
        "prints commands sent and refused, events propagated, command-to-reporting latency and wall time.",
    )
    sim.add_argument("--families", type=int, default=100, metavar="N", help="families to register (default 100)")
    sim.add_argument("--days", type=int, default=180, metavar="D", help="days of aid to deliver (default 180)")
    sim.add_argument("--concurrency", type=int, default=8, metavar="K", help="requests in flight (default 8)")
    sim.add_argument("--seed", type=int, help="repeat a run's choices (default: a new seed each run)")
    sim.add_argument(
        "--sample-every",
        type=int,
        default=10,
        metavar="K",
        help="sample the latency of every K-th enrolment and delivery (default 10)",
    )
    sim.add_argument("--data-dir", type=Path, default=default_dir, metavar="DIR")
    return sim


@dataclass(frozen=True)
class Block:
    offset: int  # days from the plan's start
    days: int
    daily_rp: int
    under_value_first: bool  # sent first below the daily minimum: refused on purpose
    confirmed: bool


@dataclass
class Script:
    """What happens to one family, decided before the run (so the totals are known up front)."""

    index: int
    kelurahan_code: str
    body: dict[str, Any]
    measurements: list[tuple[str, float, float]]  # (child's name, weight_kg, length_cm), measured today
    approve: bool
    sponsors: list[tuple[int, int]] = field(default_factory=list)  # (donor index, amount)
    blocks: list[Block] = field(default_factory=list)
    intervention: tuple[str, str, int] | None = None
    exits: bool = False  # leaves half-way (moved away): the plan closes

    def commands(self) -> int:
        return (
            2
            + len(self.sponsors)
            + sum(1 + b.under_value_first + b.confirmed for b in self.blocks)
            + len(self.measurements)
            + (self.intervention is not None)
            + self.exits
        )


@dataclass
class Summary:
    families: int
    days: int
    commands: int = 0
    accepted: int = 0
    refused: Counter[str] = field(default_factory=Counter)  # unexpected: "status title (type)" -> count
    refused_on_purpose: Counter[str] = field(default_factory=Counter)
    waits: int = 0
    retries: int = 0  # requests sent again while a service or nats-server restarted
    sent_by_kind: Counter[str] = field(default_factory=Counter)
    accepted_by_kind: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)  # a few refusals in full
    expected: dict[str, int] = field(default_factory=dict)  # what reporting should gain
    seen: dict[str, int] = field(default_factory=dict)  # what it gained
    events: dict[str, int] = field(default_factory=dict)  # stream -> messages added
    latency: dict[str, list[float]] = field(default_factory=dict)
    catch_up_seconds: float | None = None  # from the last command until reporting agreed
    wall_seconds: float = 0.0

    @property
    def unexpected_refusals(self) -> int:
        return sum(self.refused.values())

    def render(self) -> str:
        lines = [
            f"simulate: {self.families} families × {self.days} days in {_duration(self.wall_seconds)} (wall)",
            f"  commands sent     {self.commands:>8,}  ({self.commands / max(self.wall_seconds, 1e-9):,.0f}/s)",
        ]
        lines.append("    " + ", ".join(f"{kind} {n:,}" for kind, n in self.sent_by_kind.most_common()))
        lines.append(f"  accepted          {self.accepted:>8,}")
        lines.append(
            f"  refused on purpose{sum(self.refused_on_purpose.values()):>8,}"
            + "".join(f"  [{n}× {r}]" for r, n in self.refused_on_purpose.items())
        )
        lines.append(
            f"  refused otherwise {self.unexpected_refusals:>8,}"
            + "".join(f"  [{n}× {r}]" for r, n in self.refused.most_common())
        )
        lines += [f"    e.g. {example}" for example in self.examples]
        lines.append(f"  waits             {self.waits:>8,}  (polls while an event was on its way)")
        if self.retries:
            lines.append(f"  sent again        {self.retries:>8,}  (a service or NATS was restarting)")
        if self.events:
            lines.append(
                "  events published  "
                + ", ".join(f"{s.removeprefix('GENTING_').lower()} +{n:,}" for s, n in self.events.items())
                + f"  (total +{sum(self.events.values()):,})"
            )
        agreed = all(self.seen.get(k) == v for k, v in self.expected.items())
        lines.append(
            "  reporting         "
            + ", ".join(f"{k} +{self.seen.get(k, 0):,}/{v:,}" for k, v in self.expected.items())
            + (
                "  (all propagated"
                + (
                    f", {self.catch_up_seconds:.1f} s after the last command)"
                    if self.catch_up_seconds is not None
                    else ")"
                )
                if agreed
                else "  (NOT all propagated)"
            )
        )
        for name, samples in self.latency.items():
            if samples:
                lines.append(
                    f"  latency {name:<10}p50 {_ms(statistics.median(samples))}  "
                    f"p99 {_ms(_percentile(samples, 0.99))}  max {_ms(max(samples))}  (n={len(samples)}, "
                    f"command response → reporting counts it)"
                )
        return "\n".join(lines)


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{int(seconds // 60)} min {seconds % 60:02.0f} s"


def scripts(families: int, days: int, seed: int, anchor: date) -> tuple[list[Script], list[tuple[str, str]]]:
    """The run's families and donors (name, type), from the seed."""
    rng = random.Random(f"genting-simulate-{seed}")
    used: set[str] = set()
    n_donors = max(len(DONOR_TYPES), math.ceil(families / 6))
    types = [t for t, _ in DONOR_TYPES]
    donor_types = types + rng.choices(types, [w for _, w in DONOR_TYPES], k=n_donors - len(types))
    donors = [(f"Donatur simulasi {seed}-{n} ({t})", t) for n, t in enumerate(donor_types)]
    total = math.ceil(max(PLAN_MINIMUM_RP, 180 * SPONSORED_DAILY) / 1000) * 1000
    out = []
    for i in range(families):
        kel = KELURAHAN[i % len(KELURAHAN)]
        fam = family(rng, i, kel, anchor, used, SERIALS)
        today_s = [(g.child, g.weight_kg, g.length_cm) for g in fam.growth if g.measured_on == anchor]
        script = Script(i, kel.code, fam.body, today_s, approve=rng.random() >= 0.03)
        if script.approve:
            first = rng.randrange(n_donors)
            if rng.random() < 0.3:  # two orang tua asuh share the family
                script.sponsors = [
                    (first, total // 2),
                    ((first + 1 + rng.randrange(n_donors - 1)) % n_donors, total - total // 2),
                ]
            else:
                script.sponsors = [(first, total)]
            script.blocks = _blocks(rng, days)
            script.exits = rng.random() < 0.01
            if script.exits:
                script.blocks = script.blocks[: len(script.blocks) // 2]
            if rng.random() < 0.1:
                script.intervention = rng.choice(INTERVENTIONS)
        out.append(script)
    return out, donors


def _blocks(rng: random.Random, days: int) -> list[Block]:
    """Weekly blocks over `days` days from the plan's start; a middle block skipped now and then."""
    count = math.ceil(days / 7)
    skipped = rng.randrange(1, count - 1) if count >= 3 and rng.random() < 0.05 else None
    return [
        Block(7 * b, min(7, days - 7 * b), rng.choice(DAILY_RATES), rng.random() < 0.01, rng.random() < 0.9)
        for b in range(count)
        if b != skipped
    ]


class Prober:
    """Command-to-reporting latency: one poller resolves every pending sample of a counter."""

    SOURCES: ClassVar[dict[str, tuple[str, str]]] = {
        "enrolment": ("/progress", "enrolled"),
        "delivery": ("/aid", "deliveries"),
    }

    def __init__(self, api: Services, baseline: dict[str, int]) -> None:
        self.api = api
        self.acked = dict.fromkeys(self.SOURCES, 0)
        self.baseline = baseline
        self.pending: list[tuple[str, int, float]] = []
        self.samples: dict[str, list[float]] = {name: [] for name in self.SOURCES}
        self.wake = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()

    async def drained(self, timeout: float) -> None:
        """Until every sample is resolved (or the timeout passes: those samples are dropped)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.idle.wait(), timeout)

    def ack(self, name: str, sample: bool) -> None:
        self.acked[name] += 1
        if sample:
            self.pending.append((name, self.baseline[name] + self.acked[name], time.monotonic()))
            self.idle.clear()
            self.wake.set()

    async def run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.pending:
                names = {name for name, _, _ in self.pending}
                seen = {}
                for name in names:
                    path, field_name = self.SOURCES[name]
                    with contextlib.suppress(httpx.HTTPError):  # reporting busy: ask again next round
                        seen[name] = int((await self.api.get("reporting", path))[field_name])
                now = time.monotonic()
                # A sample added while we asked, for a counter not read this round, waits for the next.
                resolved = [
                    (name, target, started)
                    for name, target, started in self.pending
                    if name in seen and seen[name] >= target
                ]
                for name, _, started in resolved:
                    self.samples[name].append(now - started)
                self.pending = [p for p in self.pending if p not in resolved]
                await asyncio.sleep(0.05)
            self.idle.set()


async def simulate(
    families: int,
    days: int,
    urls: dict[str, str],
    secret: str,
    *,
    nats_url: str | None = None,
    concurrency: int = 8,
    seed: int | None = None,
    sample_every: int = 10,
    out: TextIO | None = None,
) -> Summary:
    """Run the programme; the summary says what happened (see the module's docstring)."""
    if families < 1 or days < 1:
        raise ValueError("--families and --days must be at least 1")
    seed = seed if seed is not None else int.from_bytes(os.urandom(4), "big")
    anchor = today()
    plan, donors = scripts(families, days, seed, anchor)
    api = Services(urls, secret, concurrency=concurrency, sub=f"sim{seed}")
    summary = Summary(families, days)
    prefix = f"sim:{seed}"
    total = len(donors) * 2 + sum(s.commands() for s in plan) + _session_count(plan, days)
    progress = ProgressLine("simulate", total, out)
    started = time.monotonic()
    before_events = await _stream_counts(nats_url)
    before = await _reporting(api)
    prober = Prober(api, {"enrolment": before["enrolled"], "delivery": before["deliveries"]})
    probing = asyncio.create_task(prober.run())
    donor_ids: dict[int, str] = {}
    family_ids: dict[int, str] = {}
    enrolled: set[int] = set()
    sponsored: set[int] = set()
    completed: set[int] = set()
    done = 0

    async def send(
        kind: str,
        service: str,
        path: str,
        body: Any,
        *,
        role: str,
        key: str,
        kelurahan: str | None = None,
        on_purpose: bool = False,
    ) -> Any:
        nonlocal done
        response = await api.command(service, path, body, role=role, key=f"{prefix}:{key}", kelurahan=kelurahan)
        done += 1
        summary.commands += 1
        summary.sent_by_kind[kind] += 1
        progress.update(done, f"commands · {len(family_ids)}/{families} families ·")
        if response.status_code in (200, 201):
            summary.accepted += 1
            summary.accepted_by_kind[kind] += 1
            return response.json()
        if on_purpose and response.status_code == 422:
            summary.refused_on_purpose[problem(response).reason] += 1
        else:
            summary.refused[api.tally.refuse(response, key)] += 1
        return None

    async def donor(n: int) -> None:
        name, donor_type = donors[n]
        created = await send(
            "donor",
            "funding",
            "/donors",
            {"name": name, "donor_type": donor_type, "contact": None},
            role="admin",
            key=f"donor:{n}",
        )
        if created is None:
            return
        donor_ids[n] = created["donor_id"]
        need = sum(amount for s in plan for d, amount in s.sponsors if d == n) or PLAN_MINIMUM_RP
        await send(
            "contribution",
            "funding",
            f"/donors/{created['donor_id']}/contributions",
            {
                "amount_rp": need,
                "received_on": (anchor - timedelta(days=1)).isoformat(),
                "method": "transfer",
                "reference": f"SIM/{seed}/{n}",
            },
            role="agency",
            key=f"contribution:{n}",
        )

    async def run_family(s: Script) -> None:
        code = s.kelurahan_code
        registered = await send(
            "registration", "registry", "/families", s.body, role="kader", kelurahan=code, key=f"family:{s.index}"
        )
        if registered is None:
            return
        family_id = registered["family_id"]
        family_ids[s.index] = family_id
        decision = {"decision": "approve" if s.approve else "reject", "note": None if s.approve else "bukan KRS"}
        verified = await send(
            "verification",
            "registry",
            f"/families/{family_id}/verification",
            decision,
            role="lurah",
            kelurahan=code,
            key=f"verify:{s.index}",
        )
        if verified is None or not s.approve:
            return
        enrolled.add(s.index)
        prober.ack("enrolment", s.index % sample_every == 0)
        accepted = 0
        if not await api.sponsorable(family_id):  # funding has not read the enrolment in time
            summary.refused["funding never heard of the enrolment"] += 1
            return
        for n, (d, amount) in enumerate(s.sponsors):
            if await send(
                "sponsorship",
                "funding",
                "/sponsorships",
                {
                    "donor_id": donor_ids.get(d),
                    "family_id": family_id,
                    "amount_rp": amount,
                    "start_date": anchor.isoformat(),
                },
                role="admin",
                key=f"sponsor:{s.index}:{n}",
            ):
                sponsored.add(s.index)
                accepted += 1
        if accepted < len(s.sponsors):
            return  # short of the minimum: no plan opens (the refusal is in the summary)
        opened = await api.wait_for_plan(family_id)
        if opened is None:
            summary.refused["plan never opened"] += 1
            return
        await run_plan(s, family_id, opened)
        if s.exits:
            await send(
                "exit",
                "registry",
                f"/families/{family_id}/exit",
                {"reason": "moved_away"},
                role="lurah",
                kelurahan=code,
                key=f"exit:{s.index}",
            )

    async def run_plan(s: Script, family_id: str, opened: dict[str, Any]) -> None:
        code, plan_id = s.kelurahan_code, opened["plan_id"]
        start = date.fromisoformat(opened["start_date"])
        foods = [{"name": name, "quantity": qty, "unit": unit} for name, unit, qty in FOODS[:4]]
        covered = 0
        for n, b in enumerate(s.blocks):
            days = min(b.days, int(opened["days"]) - b.offset)
            if days < 1:
                break
            body = {
                "period_from": (start + timedelta(days=b.offset)).isoformat(),
                "period_to": (start + timedelta(days=b.offset + days - 1)).isoformat(),
                "value_rp": days * b.daily_rp,
                "items": foods,
                "delivered_on": anchor.isoformat(),
            }
            if b.under_value_first:
                await send(
                    "delivery",
                    "aid",
                    f"/plans/{plan_id}/deliveries",
                    {**body, "value_rp": days * 14_000},
                    role="kader",
                    kelurahan=code,
                    key=f"short:{s.index}:{n}",
                    on_purpose=True,
                )
            delivered = await send(
                "delivery",
                "aid",
                f"/plans/{plan_id}/deliveries",
                body,
                role="kader",
                kelurahan=code,
                key=f"delivery:{s.index}:{n}",
            )
            if delivered is None:
                continue
            covered += days
            prober.ack("delivery", s.index % sample_every == 0 and n == 0)
            if b.confirmed:
                await send(
                    "confirmation",
                    "aid",
                    f"/deliveries/{delivered['delivery_id']}/confirmation",
                    {},
                    role="lurah",
                    kelurahan=code,
                    key=f"confirm:{s.index}:{n}",
                )
        if covered == int(opened["days"]):
            completed.add(s.index)
        if s.intervention is not None:
            kind, description, value = s.intervention
            await send(
                "intervention",
                "aid",
                f"/plans/{plan_id}/interventions",
                {"kind": kind, "description": description, "done_on": anchor.isoformat(), "value_rp": value},
                role="kader",
                kelurahan=code,
                key=f"intervention:{s.index}",
            )
        if s.measurements:
            members = (await api.get("registry", f"/families/{family_id}"))["members"]
            ids = {m["name"]: m["member_id"] for m in members}
            for n, (child, weight, length) in enumerate(s.measurements):
                await send(
                    "growth",
                    "registry",
                    f"/families/{family_id}/growth-measurements",
                    {
                        "member_id": ids.get(child),
                        "measured_on": anchor.isoformat(),
                        "weight_kg": weight,
                        "length_cm": length,
                    },
                    role="kader",
                    kelurahan=code,
                    key=f"growth:{s.index}:{n}",
                )

    async def sessions() -> None:
        jobs = []
        for kel in KELURAHAN:
            here = [
                family_ids[s.index]
                for s in plan
                if s.kelurahan_code == kel.code and s.approve and not s.exits and s.index in family_ids
            ]
            for n in range(_sessions_per_kelurahan(days) if here else 0):
                for part in range(0, len(here), 500):
                    jobs.append((kel.code, n, part, here[part : part + 500]))

        async def hold(job: tuple[str, int, int, list[str]]) -> None:
            code, n, part, ids = job
            await send(
                "education",
                "aid",
                "/education-sessions",
                {
                    "topic": TOPICS[n % len(TOPICS)],
                    "held_on": anchor.isoformat(),
                    "kelurahan_code": code,
                    "family_ids": ids,
                    "facilitator": f"Kader Posyandu {code}",
                },
                role="kader",
                kelurahan=code,
                key=f"session:{code}:{n}:{part}",
            )

        await each(hold, jobs, concurrency)

    try:
        await each(donor, list(range(len(donors))), concurrency)
        await each(run_family, plan, 2 * concurrency)
        await sessions()
        last_command = time.monotonic()
        progress.finish()
        accepted = summary.accepted_by_kind
        summary.expected = {
            "registered": accepted["registration"],
            "enrolled": len(enrolled),
            "sponsored": len(sponsored),
            "completed": len(completed),
            "exited": accepted["exit"],
            "deliveries": accepted["delivery"],
            "confirmed_deliveries": accepted["confirmation"],
            "education_sessions": accepted["education"],
        }
        summary.seen, summary.catch_up_seconds = await _caught_up(api, before, summary.expected, last_command)
        await prober.drained(timeout=30.0)
    finally:
        probing.cancel()
        await asyncio.gather(probing, return_exceptions=True)
        await api.close()
    summary.waits = api.counts.waits
    summary.retries = api.counts.retries
    summary.examples = api.tally.examples
    summary.latency = prober.samples
    after_events = await _stream_counts(nats_url)
    summary.events = {s: after_events[s] - before_events.get(s, 0) for s in after_events}
    summary.wall_seconds = time.monotonic() - started
    return summary


def _sessions_per_kelurahan(days: int) -> int:
    return max(1, math.ceil(days / 30))  # one class a month


def _session_count(plan: list[Script], days: int) -> int:
    count = 0
    for kel in KELURAHAN:
        here = sum(1 for s in plan if s.kelurahan_code == kel.code and s.approve and not s.exits)
        count += _sessions_per_kelurahan(days) * math.ceil(here / 500)
    return count


async def _reporting(api: Services) -> dict[str, int]:
    progress = await api.get("reporting", "/progress")
    aid = await api.get("reporting", "/aid")
    return {
        **{k: int(progress[k]) for k in ("registered", "enrolled", "sponsored", "exited", "completed")},
        **{k: int(aid[k]) for k in ("deliveries", "confirmed_deliveries", "education_sessions")},
    }


async def _caught_up(
    api: Services, before: dict[str, int], expected: dict[str, int], since: float, timeout: float = 180.0
) -> tuple[dict[str, int], float | None]:
    """Reporting's gains, once they match what was sent (or when the timeout passes)."""

    async def gained() -> dict[str, int]:
        now = await _reporting(api)
        return {k: now[k] - before[k] for k in now}

    seen, done = await api.poll_until(
        gained, lambda g: all(g.get(k) == v for k, v in expected.items()), timeout=timeout - (time.monotonic() - since)
    )
    return seen, (time.monotonic() - since) if done else None


async def _stream_counts(nats_url: str | None) -> dict[str, int]:
    """Messages in each GENTING_* stream, or nothing when NATS is not known or not reachable."""
    if not nats_url:
        return {}
    import nats
    from nats.js.errors import NotFoundError

    try:
        nc = await nats.connect(nats_url, connect_timeout=3, max_reconnect_attempts=0)
    except Exception:
        return {}
    try:
        js = nc.jetstream()
        counts = {}
        for stream in STREAMS:
            try:
                counts[stream] = (await js.stream_info(stream)).state.messages
            except NotFoundError:
                counts[stream] = 0
        return counts
    finally:
        await nc.close()


def run(args: argparse.Namespace) -> int:
    """The CLI: URLs and NATS from the running stack (or the environment), tokens from the data dir."""
    from genting.state import load_secrets, read_stack

    stack = read_stack(args.data_dir) or {}
    urls = {
        name: os.environ.get(f"GENTING_{name.upper()}_URL") or stack.get("services", {}).get(name) or url
        for name, url in DEFAULT_URLS.items()
    }
    nats_url = os.environ.get("GENTING_NATS_URL") or stack.get("nats_url")
    if args.families < 1 or args.days < 1 or args.concurrency < 1 or args.sample_every < 1:
        print("genting: --families, --days, --concurrency and --sample-every must be at least 1", file=sys.stderr)
        return 2
    if args.days > 180:
        print("genting: a plan covers 180 days; simulating 180", file=sys.stderr)
        args.days = 180
    secret = load_secrets(args.data_dir).jwt_secret
    try:
        summary = asyncio.run(
            simulate(
                args.families,
                args.days,
                urls,
                secret,
                nats_url=nats_url,
                concurrency=args.concurrency,
                seed=args.seed,
                sample_every=args.sample_every,
            )
        )
    except httpx.HTTPError as exc:
        print(
            f"genting: the services did not answer ({type(exc).__name__}: {exc}); is `genting up` running?",
            file=sys.stderr,
        )
        return 2
    print(summary.render())
    return 1 if summary.unexpected_refusals else 0
