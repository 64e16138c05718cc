"""The Pekalongan demo's loader (`genting up --demo`): sends the dataset (`dataset.py`) through the
services' HTTP APIs, never their databases, so the dashboard tells the story the moment it opens.

Every POST carries an `Idempotency-Key` derived from the dataset (the services keep the first
response per key and caller), so loading again replays the stored responses and changes nothing.
Ids the services assign (families, donors, deliveries) come from those responses; plans are read.
The client (`genting/client.py`) rides out a service or nats-server restart, and a command that
needs an event to have reached its service first (a sponsorship needs funding to have read the
enrolment) waits for it on the read side.

The anchor day is the day of the first load, kept in the data dir (`demo.json`): a later
`up --demo` rebuilds the very same dataset.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from genting.client import Services, Tally, problem
from genting.demo.dataset import SEED, Dataset, Donor, Family, Session, build

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


async def load(
    dataset: Dataset, urls: dict[str, str], secret: str, *, concurrency: int = 8, out: TextIO | None = None
) -> LoadReport:
    """Send the dataset through the services' HTTP APIs; safe to run again (it then only replays)."""
    api = Services(urls, secret, concurrency=concurrency, sub="demo")
    progress = ProgressLine("demo", dataset.requests(), out)
    started = time.monotonic()
    prefix = f"demo:{dataset.seed}:{dataset.anchor.isoformat()}"
    donor_ids: dict[str, str] = {}
    family_ids: dict[str, str] = {}
    families_done = 0

    def tick() -> None:
        t = api.tally
        progress.update(
            t.sent, f"requests · {families_done}/{len(dataset.families)} families · {sum(t.refused.values())} refused ·"
        )

    async def created(
        service: str, path: str, body: Any, *, role: str, key: str, id_field: str, kelurahan: str | None = None
    ) -> str | None:
        response = await api.command(service, path, body, role=role, key=f"{prefix}:{key}", kelurahan=kelurahan)
        tick()
        if response.status_code not in (200, 201):
            if response.status_code == 422 and "already used for a different request" in problem(response).detail:
                raise DatasetChanged(
                    f"{key} was loaded before with other data: this data dir holds the demo of "
                    "an earlier version; start from a fresh --data-dir to load this one"
                )
            api.tally.refuse(response, key)
            return None
        return str(response.json()[id_field]) if id_field else ""

    async def donor(d: Donor) -> None:
        donor_id = await created(
            "funding",
            "/donors",
            {"name": d.name, "donor_type": d.donor_type, "contact": d.contact},
            role="admin",
            key=f"donor:{d.key}",
            id_field="donor_id",
        )
        if donor_id is None:
            return
        donor_ids[d.key] = donor_id
        for n, amount in enumerate(d.pledges):
            await created(
                "funding",
                f"/donors/{donor_id}/pledges",
                {"amount_rp": amount, "note": "janji tahun 2025"},
                role="admin",
                key=f"pledge:{d.key}:{n}",
                id_field="pledge_id",
            )
        for n, c in enumerate(d.contributions):
            await created(
                "funding",
                f"/donors/{donor_id}/contributions",
                {
                    "amount_rp": c.amount_rp,
                    "received_on": c.received_on.isoformat(),
                    "method": c.method,
                    "reference": c.reference,
                },
                role="agency",
                key=f"contribution:{d.key}:{n}",
                id_field="contribution_id",
            )

    async def family(f: Family) -> None:
        nonlocal families_done
        try:
            await _family_story(f)
        finally:
            families_done += 1
            tick()

    async def _family_story(f: Family) -> None:
        code = f.kelurahan_code
        family_id = await created(
            "registry", "/families", f.body, role="kader", kelurahan=code, key=f"family:{f.key}", id_field="family_id"
        )
        if family_id is None:
            return
        family_ids[f.key] = family_id
        if f.decision is not None:
            await created(
                "registry",
                f"/families/{family_id}/verification",
                {"decision": f.decision, "note": f.note},
                role="lurah",
                kelurahan=code,
                key=f"verify:{f.key}",
                id_field="",
            )
        sponsored = 0
        sponsorable = not f.sponsorships or await api.sponsorable(family_id)
        if not sponsorable:  # NATS down longer than the client waits: the next `up --demo` carries on
            api.tally.refused["funding never heard of the enrolment"] += 1
        for n, s in enumerate(f.sponsorships if sponsorable else ()):
            sponsored += (
                await created(
                    "funding",
                    "/sponsorships",
                    {
                        "donor_id": donor_ids.get(s.donor_key),
                        "family_id": family_id,
                        "amount_rp": s.amount_rp,
                        "start_date": s.start_date.isoformat(),
                    },
                    role="admin",
                    key=f"sponsor:{f.key}:{n}",
                    id_field="sponsorship_id",
                )
                is not None
            )
        if f.gets_a_plan and sponsored == len(f.sponsorships):
            await _aid_story(f, family_id)
        if f.growth:
            members = (await api.get("registry", f"/families/{family_id}"))["members"]
            ids = {m["name"]: m["member_id"] for m in members}
            for n, g in enumerate(f.growth):
                await created(
                    "registry",
                    f"/families/{family_id}/growth-measurements",
                    {
                        "member_id": ids.get(g.child),
                        "measured_on": g.measured_on.isoformat(),
                        "weight_kg": g.weight_kg,
                        "length_cm": g.length_cm,
                    },
                    role="kader",
                    kelurahan=code,
                    key=f"growth:{f.key}:{n}",
                    id_field="measurement_id",
                )
        if f.home_visit:
            await _home_visit(f, family_id)

    async def _home_visit(f: Family, family_id: str) -> None:
        """Aid flags the child from the registry's GrowthMeasured; the kader then visits."""
        flag = await api.wait_for_home_visit(family_id)
        if flag is None:
            api.tally.refused["home visit never flagged"] += 1
            return
        await created(
            "aid",
            f"/home-visits/{flag['flag_id']}/visit",
            {"visited_on": flag["flagged_on"], "note": "Ibu diajari MP-ASI bergizi; anak dirujuk ke bidan"},
            role="kader",
            kelurahan=f.kelurahan_code,
            key=f"visit:{f.key}",
            id_field="",
        )

    async def _aid_story(f: Family, family_id: str) -> None:
        code = f.kelurahan_code
        plan = await api.wait_for_plan(family_id)
        if plan is None:
            api.tally.refused["plan never opened"] += 1
            return
        start = date.fromisoformat(plan["start_date"])
        delivered = []
        for n, d in enumerate(f.deliveries):
            body = {
                "period_from": (start + timedelta(days=d.offset)).isoformat(),
                "period_to": (start + timedelta(days=d.offset + d.days - 1)).isoformat(),
                "value_rp": d.value_rp,
                "items": [{"name": name, "quantity": qty, "unit": unit} for name, qty, unit in d.items],
                "delivered_on": start.isoformat(),
            }  # handed over on the plan's first day
            delivery_id = await created(
                "aid",
                f"/plans/{plan['plan_id']}/deliveries",
                body,
                role="kader",
                kelurahan=code,
                key=f"delivery:{f.key}:{n}",
                id_field="delivery_id",
            )
            delivered.append((n, d, delivery_id))
        for n, d, delivery_id in delivered:
            if d.confirmed and delivery_id:
                photo = {"photo_ref": f"s3://genting-proof/demo/{f.key}/minggu-{n + 1}.jpg"} if d.photo else {}
                await created(
                    "aid",
                    f"/deliveries/{delivery_id}/confirmation",
                    photo,
                    role="lurah",
                    kelurahan=code,
                    key=f"confirm:{f.key}:{n}",
                    id_field="",
                )
        for n, i in enumerate(f.interventions):
            await created(
                "aid",
                f"/plans/{plan['plan_id']}/interventions",
                {
                    "kind": i.kind,
                    "description": i.description,
                    "done_on": i.done_on.isoformat(),
                    "value_rp": i.value_rp,
                },
                role="kader",
                kelurahan=code,
                key=f"intervention:{f.key}:{n}",
                id_field="intervention_id",
            )

    async def session(s: Session) -> None:
        ids = [family_ids[k] for k in s.family_keys if k in family_ids]
        if ids:
            await created(
                "aid",
                "/education-sessions",
                {
                    "topic": s.topic,
                    "held_on": s.held_on.isoformat(),
                    "kelurahan_code": s.kelurahan_code,
                    "family_ids": ids,
                    "facilitator": s.facilitator,
                },
                role="kader",
                kelurahan=s.kelurahan_code,
                key=f"session:{s.key}",
                id_field="session_id",
            )

    async def leave(f: Family) -> None:
        if f.key in family_ids:
            await created(
                "registry",
                f"/families/{family_ids[f.key]}/exit",
                {"reason": f.exit_reason},
                role="lurah",
                kelurahan=f.kelurahan_code,
                key=f"exit:{f.key}",
                id_field="",
            )

    try:
        await each(donor, dataset.donors, concurrency)
        await each(family, dataset.families, 2 * concurrency)
        await each(session, dataset.sessions, concurrency)
        await each(leave, [f for f in dataset.families if f.exit_reason], concurrency)
        progress.finish()
        caught_up = await _reporting_caught_up(api, dataset)
    except BaseException:
        progress.finish()
        raise
    finally:
        await api.close()
    return LoadReport(dataset.sizes(), api.tally, api.counts.retries, time.monotonic() - started, caught_up)


async def each(work: Any, items: list[Any], width: int) -> None:
    """Run `work(item)` for every item, at most `width` at a time, in the items' order. The first
    error stops the others."""
    queue = list(reversed(items))

    async def worker() -> None:
        while queue:
            await work(queue.pop())

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(max(1, min(width, len(items)))):
                group.create_task(worker())
    except BaseExceptionGroup as errors:
        raise errors.exceptions[0] from None


async def _reporting_caught_up(api: Services, dataset: Dataset, timeout: float = 60.0) -> bool:
    """True once reporting counts at least what the demo sent (events travel asynchronously)."""
    sizes = dataset.sizes()

    async def counts() -> tuple[dict[str, Any], dict[str, Any]]:
        return await api.get("reporting", "/progress"), await api.get("reporting", "/aid")

    def caught_up(seen: tuple[dict[str, Any], dict[str, Any]]) -> bool:
        progress, aid = seen
        return (
            progress["registered"] >= sizes["families"]
            and aid["deliveries"] >= sizes["deliveries"]
            and aid["confirmed_deliveries"] >= sizes["confirmations"]
            and progress["exited"] >= sizes["exits"]
            and aid.get("home_visits_done", 0) >= sizes["home_visits"]
        )

    _, done = await api.poll_until(counts, caught_up, timeout=timeout)
    return done


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
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"seed": seed, "families": size, "anchor": anchor.isoformat()}, indent=2))
    return build(size, anchor=anchor, seed=seed), note


def summary(report: LoadReport, dashboard: str) -> str:
    s, t = report.sizes, report.tally
    lines = [
        f"demo: {s['families']} families in {s['kelurahan']} kelurahan ({s['approved']} approved, {s['rejected']} "
        f"rejected, {s['awaiting_verification']} awaiting the lurah), {s['donors']} donors, {s['sponsorships']} "
        f"sponsorships, {s['plans']} aid plans, {s['deliveries']} deliveries ({s['confirmations']} confirmed), "
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
    if not report.reporting_caught_up:
        lines.append("demo: reporting has not caught up yet; the dashboard will fill in shortly")
    lines.append(f"Dashboard: {dashboard}")
    return "\n".join(lines)
