"""The Pekalongan demo's loader (`genting up --demo`): enters the dataset (`dataset.py`), seven
months of a programme, through the services' HTTP APIs, never their databases, in effective-date
order (`entry.py`: late entry, as a city adopting Genting mid-programme would), so the dashboard
tells the story the moment it opens.

Every POST carries an `Idempotency-Key` derived from the dataset (the services keep the first
response per key and caller), so loading again replays the stored responses and changes nothing.
The client (`genting/client.py`) rides out a service or nats-server restart.

The anchor day is the day of the first load, kept in the data dir (`demo.json`) with the
programme's first day: a later `up --demo` rebuilds the very same dataset, and `genting up` sets
`GENTING_PROGRAMME_START` from it (`programme_start`) so the services accept the demo's dates and
the dashboard's history begins where the demo does.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from genting.client import problem
from genting.demo.dataset import build
from genting.demo.entry import Entry, Outcome
from genting.demo.records import PROGRAMME_DAYS, SEED, Dataset
from genting.services_client import Services, Tally

STATE_FILE = "demo.json"
WIB = ZoneInfo("Asia/Jakarta")


class DatasetChanged(Exception):
    """The services hold a demo loaded from another dataset (the demo's code changed since)."""


class ProgressLine:
    """One line on stderr: redrawn in place on a terminal, every 10% otherwise (logs, CI)."""

    WIDTH = 30

    def __init__(self, label: str, total: int, out: TextIO | None = None) -> None:
        self.label, self.total = label, max(total, 1)
        self.out = out if out is not None else sys.stderr
        self.live = self.out.isatty()
        self.shown = -1
        self.started = time.monotonic()

    def update(self, done: int, note: str = "") -> None:
        done = min(done, self.total)
        step = done * 10 // self.total
        if not self.live and step == self.shown:
            return
        self.shown = step
        filled = self.WIDTH * done // self.total
        line = (
            f"{self.label} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{self.total} "
            f"{note} {time.monotonic() - self.started:.0f} s"
        )
        self.out.write(f"\r{line}\x1b[K" if self.live else f"{line}\n")
        self.out.flush()

    def finish(self) -> None:
        if self.live and self.shown >= 0:
            self.out.write("\n")
            self.out.flush()
        self.shown = -1


@dataclass
class LoadReport:
    sizes: dict[str, int]
    tally: Tally
    retries: int  # requests sent again: a service or nats-server was restarting
    seconds: float
    reporting_caught_up: bool
    missing: dict[str, int] = field(default_factory=dict)  # a precondition that never came
    reporting: dict[str, Any] = field(default_factory=dict)  # what the dashboard shows afterwards


async def load(
    dataset: Dataset,
    urls: dict[str, str],
    secret: str,
    *,
    concurrency: int = 8,
    out: TextIO | None = None,
    period_days: int = 7,
) -> LoadReport:
    """Send the dataset through the services' HTTP APIs in effective-date order (`entry.py`),
    week by week; safe to run again (it then only replays)."""
    api = Services(urls, secret, concurrency=concurrency, sub="demo")
    progress = ProgressLine("demo", dataset.requests(), out)
    started = time.monotonic()
    prefix = f"demo:{dataset.seed}:{dataset.anchor.isoformat()}"
    week = [dataset.first_day]

    def record(outcome: Outcome) -> None:
        response = outcome.response
        if not outcome.accepted:
            if response.status_code == 422 and "already used for a different request" in problem(response).detail:
                raise DatasetChanged(
                    f"{outcome.key} was loaded before with other data: this data dir holds the demo of "
                    "an earlier version; start from a fresh --data-dir to load this one"
                )
            if not outcome.on_purpose:
                api.tally.refuse(response, outcome.key)
        progress.update(api.tally.sent, f"requests · entering {week[0]:%d %b %Y} ·")

    entry = Entry(dataset, api, prefix, record, today=today())
    entry.on_period = lambda day: week.__setitem__(0, day)
    try:
        await entry.run(width=2 * concurrency, period_days=period_days)
        progress.finish()
        caught_up, seen = await _reporting_caught_up(api, dataset, dict(entry.ids.missing))
    except BaseException:
        progress.finish()
        raise
    finally:
        await api.close()
    return LoadReport(
        dataset.sizes(),
        api.tally,
        api.counts.retries,
        time.monotonic() - started,
        caught_up,
        dict(entry.ids.missing),
        seen,
    )


async def _reporting_caught_up(
    api: Services, dataset: Dataset, missing: dict[str, int], timeout: float = 60.0
) -> tuple[bool, dict[str, Any]]:
    """Whether reporting counts at least what the demo sent (events travel asynchronously), and
    what it shows: `/progress`, `/aid`, `/outcomes` and `/progress/history` (when it has them).
    A visit whose flag aid never raised was not sent, so it is not waited for either."""
    sizes = dict(dataset.sizes())
    sizes["home_visits"] -= missing.get("home visit never flagged", 0)

    async def counts() -> tuple[dict[str, Any], dict[str, Any]]:
        return await api.get("reporting", "/progress"), await api.get("reporting", "/aid")

    def caught_up(seen: tuple[dict[str, Any], dict[str, Any]]) -> bool:
        progress, aid = seen
        return bool(
            progress["registered"] >= sizes["families"]
            and aid["deliveries"] >= sizes["deliveries"]
            and aid["confirmed_deliveries"] >= sizes["confirmations"]
            and progress["exited"] >= sizes["exits"]
            and aid.get("home_visits_done", 0) >= sizes["home_visits"]
        )

    (progress, aid), done = await api.poll_until(counts, caught_up, timeout=timeout)
    seen: dict[str, Any] = {"progress": progress, "aid": aid}
    for name, path in (("outcomes", "/outcomes"), ("history", "/progress/history")):
        response = await api.send("GET", "reporting", path)
        if response.status_code == 200:
            seen[name] = response.json()
    return done, seen


# -- the data dir: which demo it holds --------------------------------------------------------


def today() -> date:
    """The city's calendar day, as the services count it."""
    return datetime.now(WIB).date()


def remembered(data_dir: Path, families: int) -> tuple[Dataset, str | None]:
    """The dataset this data dir holds (or is about to hold): the one loaded before, if any,
    whatever size is asked now (a note says so), else a new one anchored today."""
    path = data_dir / STATE_FILE
    note = None
    try:
        state = json.loads(path.read_text())
        anchor, seed, size = date.fromisoformat(state["anchor"]), int(state["seed"]), int(state["families"])
        if size != families:
            note = (
                f"this data dir holds the demo with {size} families (loaded {anchor}); loading that one "
                f"again. For {families} families, use a fresh --data-dir."
            )
    except (OSError, ValueError, KeyError):
        anchor, seed, size = today(), SEED, families
        first = anchor - timedelta(days=PROGRAMME_DAYS)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {"seed": seed, "families": size, "anchor": anchor.isoformat(), "programme_start": first.isoformat()}
        path.write_text(json.dumps(state, indent=2))
    return build(size, anchor=anchor, seed=seed), note


def programme_start(data_dir: Path) -> date:
    """The demo's first day: what `genting up --demo` sets `GENTING_PROGRAMME_START` to (unless the
    environment sets it), before the services start. From `demo.json` when the data dir holds a
    demo, else the first day of the demo about to be loaded today."""
    try:
        state = json.loads((data_dir / STATE_FILE).read_text())
        anchor = date.fromisoformat(state["anchor"])
    except (OSError, ValueError, KeyError):
        anchor = today()
    return anchor - timedelta(days=PROGRAMME_DAYS)


def summary(report: LoadReport, dashboard: str) -> str:
    s, t = report.sizes, report.tally
    lines = [
        f"demo: {s['families']} families in {s['kelurahan']} kelurahan ({s['approved']} approved, {s['rejected']} "
        f"rejected, {s['awaiting_verification']} awaiting the lurah), {s['donors']} donors, {s['sponsorships']} "
        f"sponsorships, {s['plans']} aid plans ({s['completed']} completed, {s['incomplete']} incomplete), "
        f"{s['deliveries']} deliveries ({s['confirmations']} confirmed), "
        f"{s['education_sessions']} education sessions, {s['interventions']} interventions, "
        f"{s['growth_measurements']} growth measurements ({s['home_visits_flagged']} children without weight gain, "
        f"{s['home_visits']} visited), {s['exits']} exits",
        f"demo: {t.sent} requests in {report.seconds:.0f} s: {t.accepted - t.replayed} new, {t.replayed} already "
        f"there, {sum(t.refused.values())} refused"
        + (f", {report.retries} sent again while a service restarted" if report.retries else ""),
    ]
    for reason, count in t.refused.most_common():
        lines.append(f"  refused {count}× {reason}")
    lines += [f"  e.g. {example}" for example in t.examples]
    if report.missing:
        lines += [f"  {count}× {what}" for what, count in report.missing.items()]
    if progress := report.reporting.get("progress"):
        lines.append(
            f"demo: the dashboard shows {progress['registered']} registered, {progress['enrolled']} enrolled, "
            f"{progress['aid_active']} receiving aid, {progress['completed']} completed (180 days) over "
            f"{len(report.reporting.get('history') or ()) or s['weeks']} weeks"
        )
    if not report.reporting_caught_up:
        lines.append("demo: reporting has not caught up yet; the dashboard will fill in shortly")
    lines.append(f"Dashboard: {dashboard}")
    return "\n".join(lines)
