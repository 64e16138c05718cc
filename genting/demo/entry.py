"""Late entry: a dataset's records sent through the services' HTTP APIs in effective-date order,
each with its date (CONTRACT.md, "Effective dates and late entry"). The demo loader and
`genting simulate` both enter their programmes this way.

The order. Records are entered period by period (a day, by default): every record of a period
before any of the next, so the services see the programme unfold as it did, and a dashboard
watched meanwhile fills week by week. Within a period: the donors' ledger first (registrations,
pledges, money received), then the families' stories, then the education sessions (they list
families registered before them). Within each of those, actors (a donor, a family, a session)
run side by side, each one's records one after the other in date order; that is as ordered as
entering them on their days (two kaders on the same day don't wait for each other) and keeps
the concurrency that makes it fast.

What a record needs from another service's event (funding must have read the enrolment before
a sponsorship, aid must have opened the plan before a delivery, aid must have flagged a child
before the home visit) is waited for on the read side, with the client's `poll_until`.

Every POST carries an `Idempotency-Key` derived from the dataset (`prefix` + the record), so
entering the same dataset again replays the stored responses and changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import groupby
from typing import Any

import httpx

from genting.demo.records import Dataset, Donor, Family, Session, Step
from genting.services_client import Services

PARTIAL_PLAN_WAIT = 5.0  # seconds: a partly sponsored family's plan may still open (amounts vary)
HOME_VISIT_WAIT = 30.0  # seconds: a flag that aid never raises is reported, not waited for forever


@dataclass
class Outcome:
    """What one command got: the caller's tally reads it."""

    kind: str
    key: str  # the record, e.g. `delivery:F0012:3`
    response: httpx.Response
    on_purpose: bool = False  # a refusal provoked on purpose (`genting simulate`)

    @property
    def accepted(self) -> bool:
        return self.response.status_code in (200, 201)


@dataclass
class Entered:
    """Ids the services assigned, and what happened to each family (for the caller's checks)."""

    donors: dict[str, str] = field(default_factory=dict)
    families: dict[str, str] = field(default_factory=dict)
    enrolled: set[str] = field(default_factory=set)
    sponsored: set[str] = field(default_factory=set)
    sponsorships: dict[str, int] = field(default_factory=dict)  # family key -> sponsorships accepted
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)  # family key -> aid's plan when opened
    no_plan: set[str] = field(default_factory=set)  # families whose plan was waited for and never opened
    deliveries: dict[tuple[str, int], str] = field(default_factory=dict)
    covered: dict[str, int] = field(default_factory=dict)  # family key -> days covered by accepted deliveries
    members: dict[str, dict[str, str]] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)  # a precondition that never came: count


# What the demo's grievances say, by category.
GRIEVANCE_TEXT = {
    "missed_delivery": "Paket minggu ini belum sampai ke rumah.",
    "food_quality": "Telur dalam paket ada yang pecah.",
    "eligibility": "Tetangga kami belum didata padahal ada baduta.",
    "conduct": "Petugas datang terlambat dan tidak ramah.",
    "other": "Jadwal penyuluhan bentrok dengan jam kerja.",
}


class Entry:
    """Enters `dataset` through `api`; `record(outcome)` is called after every command."""

    def __init__(
        self,
        dataset: Dataset,
        api: Services,
        prefix: str,
        record: Callable[[Outcome], None],
        *,
        today: date,
    ) -> None:
        self.dataset, self.api, self.prefix, self.record = dataset, api, prefix, record
        self.today = today
        self.ids = Entered()
        self.donors = {d.key: d for d in dataset.donors}
        self.families = {f.key: f for f in dataset.families}
        self.sessions = {s.key: s for s in dataset.sessions}
        self.on_period: Callable[[date], None] | None = None

    async def run(self, width: int = 16, period_days: int = 1) -> Entered:
        """Every step, period by period (see the module's docstring)."""
        first = self.dataset.first_day

        def period(step: Step) -> tuple[int, int]:
            return (step.day - first).days // period_days, step.phase

        for (number, _), group in groupby(self.dataset.steps(), key=period):
            chains = [list(steps) for _, steps in groupby(sorted(group, key=_by_actor), key=lambda s: s.actor)]
            await each(self._chain, chains, width)
            if self.on_period is not None:
                self.on_period(first + timedelta(days=number * period_days))
        await self._grievances()
        return self.ids

    # -- grievances: some families (and the public) complain; the lurah answers about half ------

    async def _grievances(self) -> None:
        """The dataset's grievances (Dataset.grievances), after everything else: filed by the
        family's kader with their past dates, half answered by the lurah, the rest left to aid's
        clock to escalate. The pages are not empty."""
        for g in self.dataset.grievances():
            f, k = g.family, g.family.kelurahan_code
            body: dict[str, Any] = {
                "kelurahan_code": k,
                "category": g.category,
                "description": GRIEVANCE_TEXT[g.category],
                "filed_on": g.filed_on.isoformat(),
            }
            if family_id := self.ids.families.get(f.key):
                body["family_id"] = family_id
            filed = await self.send(
                "grievance", f"grievance:{f.key}", "aid", "/grievances", body, role="kader", kelurahan=k
            )
            if filed is None or g.resolved_on is None:
                continue
            answer = {"resolution": "Sudah ditindaklanjuti kelurahan.", "resolved_on": g.resolved_on.isoformat()}
            path = f"/grievances/{filed['grievance_id']}/resolution"
            await self.send("resolution", f"resolution:{f.key}", "aid", path, answer, role="lurah", kelurahan=k)

    async def _chain(self, steps: list[Step]) -> None:
        for step in steps:
            await self.step(step)

    def missing(self, what: str) -> None:
        self.ids.missing[what] = self.ids.missing.get(what, 0) + 1

    async def send(
        self,
        kind: str,
        key: str,
        service: str,
        path: str,
        body: Any,
        *,
        role: str,
        kelurahan: str | None = None,
        on_purpose: bool = False,
    ) -> dict[str, Any] | None:
        response = await self.api.command(
            service, path, body, role=role, key=f"{self.prefix}:{key}", kelurahan=kelurahan
        )
        outcome = Outcome(kind, key, response, on_purpose)
        self.record(outcome)
        return response.json() if outcome.accepted else None

    async def step(self, step: Step) -> None:
        if step.kind in ("donor", "pledge", "contribution"):
            await self._donor_step(self.donors[step.actor], step)
        elif step.kind == "session":
            await self._session(self.sessions[step.actor])
        else:
            await self._family_step(self.families[step.actor], step)

    # -- the donors' ledger ------------------------------------------------------------------

    async def _donor_step(self, d: Donor, step: Step) -> None:
        body: dict[str, Any]
        if step.kind == "donor":
            # Institutions agree to be named on the transparency page; individuals are not named.
            consent = d.donor_type != "individual"
            body = {"name": d.name, "donor_type": d.donor_type, "contact": d.contact, "public_name_consent": consent}
            created = await self.send("donor", f"donor:{d.key}", "funding", "/donors", body, role="admin")
            if created is not None:
                self.ids.donors[d.key] = str(created["donor_id"])
            return
        donor_id = self.ids.donors.get(d.key)
        if donor_id is None:
            return
        if step.kind == "pledge":
            body = {"amount_rp": d.pledges[step.index], "note": f"janji tahun {self.dataset.first_day.year}"}
            await self.send(
                "pledge", f"pledge:{d.key}:{step.index}", "funding", f"/donors/{donor_id}/pledges", body, role="admin"
            )
            return
        c = d.contributions[step.index]
        body = {
            "amount_rp": c.amount_rp,
            "received_on": c.received_on.isoformat(),
            "method": c.method,
            "reference": c.reference,
        }
        await self.send(
            "contribution",
            f"contribution:{d.key}:{step.index}",
            "funding",
            f"/donors/{donor_id}/contributions",
            body,
            role="treasurer",
        )

    # -- a family's story --------------------------------------------------------------------

    async def _family_step(self, f: Family, step: Step) -> None:
        code, n = f.kelurahan_code, step.index
        if step.kind == "register":
            body = {**f.body, "registered_on": f.registered_on.isoformat()}
            created = await self.send(
                "registration", f"family:{f.key}", "registry", "/families", body, role="kader", kelurahan=code
            )
            if created is not None:
                self.ids.families[f.key] = str(created["family_id"])
            return
        family_id = self.ids.families.get(f.key)
        if family_id is None:
            return
        if step.kind == "verify":
            assert f.decided_on is not None
            body = {"decision": f.decision, "note": f.note, "decided_on": f.decided_on.isoformat()}
            if await self.send(
                "verification",
                f"verify:{f.key}",
                "registry",
                f"/families/{family_id}/verification",
                body,
                role="lurah",
                kelurahan=code,
            ):
                if f.decision == "approve":
                    self.ids.enrolled.add(f.key)
        elif step.kind == "sponsor":
            await self._sponsor(f, family_id, n)
        elif step.kind in ("deliver", "confirm", "intervene"):
            await self._aid(f, step)
        elif step.kind == "measure":
            await self._measure(f, family_id, n)
        elif step.kind == "visit":
            await self._visit(f, family_id)
        elif step.kind == "exit":
            assert f.exited_on is not None
            body = {"reason": f.exit_reason, "exited_on": f.exited_on.isoformat()}
            await self.send(
                "exit", f"exit:{f.key}", "registry", f"/families/{family_id}/exit", body, role="lurah", kelurahan=code
            )

    async def _sponsor(self, f: Family, family_id: str, n: int) -> None:
        if f.key not in self.ids.enrolled:
            return
        if n == 0 and not await self.api.sponsorable(family_id):  # NATS down longer than the client waits
            self.missing("funding never heard of the enrolment")
            return
        s = f.sponsorships[n]
        body = {
            "donor_id": self.ids.donors.get(s.donor_key),
            "family_id": family_id,
            "amount_rp": s.amount_rp,
            "start_date": s.start_date.isoformat(),
        }
        if await self.send("sponsorship", f"sponsor:{f.key}:{n}", "funding", "/sponsorships", body, role="admin"):
            self.ids.sponsored.add(f.key)
            self.ids.sponsorships[f.key] = self.ids.sponsorships.get(f.key, 0) + 1

    async def _plan(self, f: Family) -> dict[str, Any] | None:
        """Aid's plan for the family, waited for once (aid opens it from funding's events)."""
        if f.key in self.ids.plans:
            return self.ids.plans[f.key]
        if f.key in self.ids.no_plan:
            return None
        family_id = self.ids.families[f.key]
        if f.key not in self.ids.sponsored or len(f.sponsorships) == 0:
            return None
        # A family one of whose sponsorships was refused may never reach the plan's minimum: a short
        # look then, not the full ride-out wait (which, per family, held up a whole day's entry).
        whole = self.ids.sponsorships.get(f.key, 0) == len(f.sponsorships)
        plan = await self.api.wait_for_plan(family_id, **({} if whole else {"timeout": PARTIAL_PLAN_WAIT}))
        if plan is None:
            self.missing("plan never opened" if whole else "plan not opened: a sponsorship was refused")
            self.ids.no_plan.add(f.key)  # asked once: not again for each of its deliveries
            return None
        self.ids.plans[f.key] = plan
        return plan

    async def _aid(self, f: Family, step: Step) -> None:
        plan = await self._plan(f)
        if plan is None:
            return
        code, n, plan_id = f.kelurahan_code, step.index, plan["plan_id"]
        body: dict[str, Any]
        if step.kind == "deliver":
            d = f.deliveries[n]
            start = date.fromisoformat(plan["start_date"])  # as predicted, unless aid decided otherwise
            period_from = start + timedelta(days=d.offset)
            body = {
                "period_from": period_from.isoformat(),
                "period_to": (period_from + timedelta(days=d.days - 1)).isoformat(),
                "value_rp": d.value_rp,
                "items": [{"name": name, "quantity": qty, "unit": unit} for name, qty, unit in d.items],
                "delivered_on": min(max(d.delivered_on, start), self.today).isoformat(),
            }
            path = f"/plans/{plan_id}/deliveries"
            if d.under_value_first:  # below the daily minimum: refused on purpose, then sent right
                short = {**body, "value_rp": d.days * 14_000}
                await self.send("delivery", f"short:{f.key}:{n}", "aid", path, short, role="kader", kelurahan=code,
                                on_purpose=True)  # fmt: skip
            created = await self.send(
                "delivery", f"delivery:{f.key}:{n}", "aid", path, body, role="kader", kelurahan=code
            )
            if created is not None:
                self.ids.deliveries[f.key, n] = str(created["delivery_id"])
                self.ids.covered[f.key] = self.ids.covered.get(f.key, 0) + d.days
        elif step.kind == "confirm":
            d = f.deliveries[n]
            delivery_id = self.ids.deliveries.get((f.key, n))
            if delivery_id is None or d.confirmed_on is None:
                return
            body = {"confirmed_on": d.confirmed_on.isoformat()}
            if d.photo:
                body["photo_ref"] = f"s3://genting-proof/demo/{f.key}/minggu-{n + 1}.jpg"
            await self.send(
                "confirmation",
                f"confirm:{f.key}:{n}",
                "aid",
                f"/deliveries/{delivery_id}/confirmation",
                body,
                role="lurah",
                kelurahan=code,
            )
        else:
            i = f.interventions[n]
            body = {
                "kind": i.kind,
                "description": i.description,
                "done_on": i.done_on.isoformat(),
                "value_rp": i.value_rp,
            }
            await self.send(
                "intervention",
                f"intervention:{f.key}:{n}",
                "aid",
                f"/plans/{plan_id}/interventions",
                body,
                role="kader",
                kelurahan=code,
            )

    async def _measure(self, f: Family, family_id: str, n: int) -> None:
        if f.key not in self.ids.members:
            members = (await self.api.get("registry", f"/families/{family_id}"))["members"]
            self.ids.members[f.key] = {m["name"]: m["member_id"] for m in members}
        g = f.growth[n]
        body = {
            "member_id": self.ids.members[f.key].get(g.child),
            "measured_on": g.measured_on.isoformat(),
            "weight_kg": g.weight_kg,
            "length_cm": g.length_cm,
        }
        await self.send(
            "growth",
            f"growth:{f.key}:{n}",
            "registry",
            f"/families/{family_id}/growth-measurements",
            body,
            role="kader",
            kelurahan=f.kelurahan_code,
        )

    async def _visit(self, f: Family, family_id: str) -> None:
        """Aid flags the child from the registry's GrowthMeasured; the kader then visits."""
        flag = await self.api.wait_for_home_visit(family_id, timeout=HOME_VISIT_WAIT)
        if flag is None:
            self.missing("home visit never flagged")
            return
        assert f.visited_on is not None
        visited = min(max(f.visited_on, date.fromisoformat(flag["flagged_on"])), self.today)
        body = {"visited_on": visited.isoformat(), "note": "Ibu diajari MP-ASI bergizi; anak dirujuk ke bidan"}
        await self.send(
            "home_visit",
            f"visit:{f.key}",
            "aid",
            f"/home-visits/{flag['flag_id']}/visit",
            body,
            role="kader",
            kelurahan=f.kelurahan_code,
        )

    async def _session(self, s: Session) -> None:
        ids = [self.ids.families[k] for k in s.family_keys if k in self.ids.families]
        if not ids:
            return
        for part in range(0, len(ids), 500):  # aid takes at most 500 families a session
            body = {
                "topic": s.topic,
                "held_on": s.held_on.isoformat(),
                "kelurahan_code": s.kelurahan_code,
                "family_ids": ids[part : part + 500],
                "facilitator": s.facilitator,
            }
            key = f"session:{s.key}" + (f":{part}" if part else "")
            await self.send(
                "education", key, "aid", "/education-sessions", body, role="kader", kelurahan=s.kelurahan_code
            )


def _by_actor(step: Step) -> tuple[str, date, int, int]:
    return step.actor, step.day, step.rank, step.index


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
