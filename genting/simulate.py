"""`genting simulate --families N --days D`: a programme that began D days ago, driven through the
HTTP APIs of a running stack, then a summary of what was sent, refused, propagated, and how long
it took.

The programme is the demo's kind (`genting/demo/dataset.py`, from the seed, with NIK/KK serials
of its own): families registered over the D days, verified by their lurah (a few rejected),
sponsored by donors of every type from money received before, weekly food packages handed over
on their days (a few weeks skipped: gaps; now and then first sent under the daily minimum:
refused on purpose, then sent right), confirmed by the lurah, monthly growth measurements,
interventions, education sessions, a few exits. Its records are entered in effective-date order,
day by day (`genting/demo/entry.py`: late entry), so the dashboard can be watched filling week
by week. Plans that began more than 180 days ago complete, or end incomplete when a week was
never delivered.

The invariants: no command refused except on purpose; reporting's counts gain exactly what was
accepted (registered, enrolled, sponsored, completed, exited, deliveries, confirmations,
sessions); aid's incomplete plans are those whose window passed with days uncovered.

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
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, ClassVar, TextIO

import httpx

from genting.client import problem
from genting.demo import PLAN_DAYS, Entry, Outcome, ProgressLine, build, today
from genting.services_client import DEFAULT_URLS, Services
from genting.state import add_data_dir, load_secrets, read_stack

STREAMS = ("GENTING_REGISTRY", "GENTING_FUNDING", "GENTING_AID", "GENTING_REPORTING")
SERIALS = range(1, 6999)  # NIK/KK serials apart from the demo's
UNDER_VALUE_SHARE = 0.01  # deliveries first sent below the daily minimum, refused on purpose
RECORDING_GRACE_DAYS = 14  # aid may wait this long after a window's end before it ends a plan incomplete


def add_parser(commands: Any) -> argparse.ArgumentParser:
    sim: argparse.ArgumentParser = commands.add_parser(
        "simulate",
        help="drive a realistic programme through the HTTP APIs of a running stack",
        description="Enters a programme of N families that began D days ago, day by day in effective-date order, "
        "through the services of `genting up` (URLs from the data dir, or GENTING_<SERVICE>_URL), then "
        "prints commands sent and refused, events propagated, command-to-reporting latency and wall time.",
    )
    sim.add_argument("--families", type=int, default=100, metavar="N", help="families to register (default 100)")
    sim.add_argument(
        "--days",
        type=int,
        default=210,
        metavar="D",
        help="the programme began D days ago (default 210: completions and incompletes)",
    )
    sim.add_argument("--concurrency", type=int, default=8, metavar="K", help="requests in flight (default 8)")
    sim.add_argument("--seed", type=int, help="repeat a run's choices (default: a new seed each run)")
    sim.add_argument(
        "--sample-every",
        type=int,
        default=10,
        metavar="K",
        help="sample the latency of every K-th enrolment and delivery (default 10)",
    )
    sim.add_argument(
        "--period-days",
        type=int,
        default=1,
        metavar="P",
        help="enter the records P days at a time (default 1: day by day)",
    )
    add_data_dir(sim)
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
    outages: int = 0  # times a service stopped answering and came back (a restart ridden out)
    longest_outage: float = 0.0  # seconds
    sent_by_kind: Counter[str] = field(default_factory=Counter)
    accepted_by_kind: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)  # a few refusals in full
    missing: dict[str, int] = field(default_factory=dict)  # a precondition that never came
    incomplete: tuple[int, int, int] | None = None  # aid's incomplete plans gained: (seen, least, most expected)
    expected: dict[str, int] = field(default_factory=dict)  # what reporting should gain
    seen: dict[str, int] = field(default_factory=dict)  # what it gained
    events: dict[str, int] = field(default_factory=dict)  # stream -> messages added
    latency: dict[str, list[float]] = field(default_factory=dict)
    catch_up_seconds: float | None = None  # from the last command until reporting agreed
    wall_seconds: float = 0.0
    families_before: int = 0  # registered on the stack before the run (the demo, an earlier run)

    @property
    def unexpected_refusals(self) -> int:
        return sum(self.refused.values()) + sum(self.missing.values())

    @property
    def holds(self) -> bool:
        """Every invariant: nothing refused unexpectedly, reporting agrees, incompletes as expected."""
        agreed = all(self.seen.get(k) == v for k, v in self.expected.items())
        incomplete = self.incomplete is None or self.incomplete[1] <= self.incomplete[0] <= self.incomplete[2]
        return not self.unexpected_refusals and agreed and incomplete

    def render(self) -> str:
        lines = [
            f"simulate: {self.families} families, a programme of {self.days} days, "
            f"in {_duration(self.wall_seconds)} (wall)",
            f"  commands sent     {self.commands:>8,}  ({self.commands / max(self.wall_seconds, 1e-9):,.0f}/s)",
        ]
        lines.append("    " + ", ".join(f"{kind} {n:,}" for kind, n in self.sent_by_kind.most_common()))
        if self.families_before:
            lines.append(
                f"  note: the stack already held {self.families_before:,} families. Aid ends a plan incomplete once the"
                " deployment's records have passed its window, so an earlier programme entered through today can end"
                " this one's plans early (PlanNotActive): for a clean run, use a fresh --data-dir."
            )
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
        lines += [f"  missing           {n:>8,}  ({what})" for what, n in self.missing.items()]
        lines.append(f"  waits             {self.waits:>8,}  (polls while an event was on its way)")
        if self.retries:
            lines.append(f"  sent again        {self.retries:>8,}  (a service or NATS was restarting)")
        if self.outages:
            lines.append(
                f"  outages ridden    {self.outages:>8,}  (the longest {self.longest_outage:.1f} s without an answer)"
            )
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
        if self.incomplete is not None:
            seen, least, most = self.incomplete
            verdict = "as expected" if least <= seen <= most else "NOT as expected"
            lines.append(
                f"  incomplete plans  {seen:>8,}  (expected {least}–{most}: window passed, days uncovered; {verdict})"
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
    period_days: int = 1,
    out: TextIO | None = None,
) -> Summary:
    """Run the programme; the summary says what happened (see the module's docstring)."""
    if families < 1 or days < 1:
        raise ValueError("--families and --days must be at least 1")
    seed = seed if seed is not None else int.from_bytes(os.urandom(4), "big")
    anchor = today()
    dataset = build(families, anchor=anchor, seed=seed, days=days, serials=SERIALS, under_value_share=UNDER_VALUE_SHARE)
    api = Services(urls, secret, concurrency=concurrency, sub=f"sim{seed}")
    summary = Summary(families, days)
    progress = ProgressLine("simulate", dataset.requests(), out)
    started = time.monotonic()
    before_events = await _stream_counts(nats_url)
    before = await _reporting(api)
    summary.families_before = before["registered"]
    before_incomplete = await _incomplete(api)
    prober = Prober(api, {"enrolment": before["enrolled"], "delivery": before["deliveries"]})
    probing = asyncio.create_task(prober.run())
    entering = [dataset.first_day]

    def record(outcome: Outcome) -> None:
        summary.commands += 1
        summary.sent_by_kind[outcome.kind] += 1
        progress.update(summary.commands, f"commands · entering {entering[0]:%d %b %Y} ·")
        if outcome.accepted:
            summary.accepted += 1
            summary.accepted_by_kind[outcome.kind] += 1
            if outcome.kind == "verification" and outcome.response.json().get("status") == "enrolled":
                prober.ack("enrolment", _family_index(outcome.key) % sample_every == 0)
            elif outcome.kind == "delivery" and outcome.key.endswith(":0"):
                prober.ack("delivery", _family_index(outcome.key) % sample_every == 0)
        elif outcome.on_purpose and outcome.response.status_code == 422:
            summary.refused_on_purpose[problem(outcome.response).reason] += 1
        else:
            summary.refused[api.tally.refuse(outcome.response, outcome.key)] += 1

    entry = Entry(dataset, api, f"sim:{seed}", record, today=anchor)
    entry.on_period = lambda day: entering.__setitem__(0, day)
    try:
        entered = await entry.run(width=2 * concurrency, period_days=period_days)
        last_command = time.monotonic()
        progress.finish()
        accepted = summary.accepted_by_kind
        exited = {f.key for f in dataset.families if f.exited_on is not None} & set(entered.families)
        completed = [
            key for key, days_covered in entered.covered.items() if days_covered == PLAN_DAYS and key not in exited
        ]
        summary.expected = {
            "registered": accepted["registration"],
            "enrolled": len(entered.enrolled),
            "sponsored": len(entered.sponsored),
            "completed": len(completed),
            "exited": accepted["exit"],
            "deliveries": accepted["delivery"],
            "confirmed_deliveries": accepted["confirmation"],
            "education_sessions": accepted["education"],
        }
        summary.seen, summary.catch_up_seconds = await _caught_up(api, before, summary.expected, last_command)
        summary.incomplete = await _incompletes(api, dataset, entered, exited, anchor, before_incomplete)
        await prober.drained(timeout=30.0)
    finally:
        probing.cancel()
        await asyncio.gather(probing, return_exceptions=True)
        await api.close()
    summary.missing = dict(entered.missing)
    summary.waits = api.counts.waits
    summary.retries = api.counts.retries
    summary.outages = api.counts.outages
    summary.longest_outage = api.counts.longest_outage
    summary.examples = [e for e in api.tally.examples if not e.startswith("short:")]
    summary.latency = prober.samples
    after_events = await _stream_counts(nats_url)
    summary.events = {s: after_events[s] - before_events.get(s, 0) for s in after_events}
    summary.wall_seconds = time.monotonic() - started
    return summary


def _family_index(key: str) -> int:
    """`delivery:F0012:0` → 12."""
    return int(key.split(":")[1].removeprefix("F"))


async def _incomplete(api: Services) -> int:
    """Aid's plans that ended incomplete, in all."""
    return int((await api.get("aid", "/plans", params={"status": "incomplete", "limit": 1}))["total"])


async def _incompletes(
    api: Services, dataset: Any, entered: Any, exited: set[str], today: date, before: int
) -> tuple[int, int, int]:
    """(incomplete plans gained, least expected, most expected). A plan whose window passed with
    days uncovered ends incomplete; aid may wait up to the recording grace after the window's end
    (late entry must not end a plan too early), so those ending within the grace may or may not
    have. Asked until the least is reached, or half a minute."""
    least = most = 0
    for f in dataset.families:
        plan = entered.plans.get(f.key)
        if plan is None or f.key in exited or entered.covered.get(f.key, 0) >= PLAN_DAYS:
            continue
        end = date.fromisoformat(plan["start_date"]) + timedelta(days=PLAN_DAYS - 1)
        most += end < today
        least += end + timedelta(days=RECORDING_GRACE_DAYS) < today
    seen, _ = await api.poll_until(lambda: _incomplete(api), lambda n: n - before >= least, timeout=30.0)
    return seen - before, least, most


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

    from shared.nats_setup import inbox_prefix_for

    try:
        nc = await nats.connect(
            nats_url, connect_timeout=3, max_reconnect_attempts=0, inbox_prefix=inbox_prefix_for(nats_url)
        )
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

    stack = read_stack(args.data_dir) or {}
    urls = {
        name: os.environ.get(f"GENTING_{name.upper()}_URL") or stack.get("services", {}).get(name) or url
        for name, url in DEFAULT_URLS.items()
    }
    nats_url = os.environ.get("GENTING_NATS_URL") or stack.get("nats_url")
    if min(args.families, args.days, args.concurrency, args.sample_every, args.period_days) < 1:
        print(
            "genting: --families, --days, --concurrency, --sample-every and --period-days must be at least 1",
            file=sys.stderr,
        )
        return 2
    secret = load_secrets(args.data_dir).signing_key
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
                period_days=args.period_days,
            )
        )
    except httpx.HTTPError as exc:
        print(
            f"genting: the services did not answer ({type(exc).__name__}: {exc}); is `genting up` running?",
            file=sys.stderr,
        )
        return 2
    print(summary.render())
    return 0 if summary.holds else 1
