"""The whole programme across the four services as real processes, over HTTP and NATS only: one
family's story from registration to funded deliveries with every service agreeing on the numbers;
the Pekalongan demo, seven months of a programme entered late in effective-date order, loaded twice
(the second load changes nothing) with completed plans and a burn-up over about 30 weeks; a small
simulated programme that began 200 days ago whose summary adds up."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from genting import demo
from genting.simulate import simulate
from shared.auth import issue_token
from shared.testing import TEST_SIGNING_KEY, wait_until
from shared.testing.funding_http import new_donor, sponsor
from shared.testing.registry_examples import family_body

pytestmark = pytest.mark.e2e

MEDONO = "33.75.01.1002"
SERVICES = ("registry", "funding", "aid", "reporting")


def today() -> date:
    """The services' own clock: the city's calendar day."""
    return datetime.now(ZoneInfo("Asia/Jakarta")).date()


def bearer(role: str, kelurahan: str | None = None) -> dict[str, str]:
    token = issue_token(TEST_SIGNING_KEY, role=role, sub=f"{role}-programme-e2e", kelurahan=kelurahan)
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer("admin")


def programme_start() -> date:
    """What `genting up --demo` sets GENTING_PROGRAMME_START to: the demo's first day."""
    return today() - timedelta(days=demo.PROGRAMME_DAYS)


@pytest.fixture
async def urls(service_process: Any) -> dict[str, str]:
    """The four services started side by side, as `genting up --demo` starts them."""
    env = {"GENTING_PROGRAMME_START": programme_start().isoformat()}
    started = await asyncio.gather(*(service_process(name, env=env) for name in SERVICES))
    return {svc.name: svc.url for svc in started}


async def without_clock(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    body: dict[str, Any] = (await http.get(url, headers=ADMIN)).json()
    body.pop("as_of", None)
    return body


async def test_one_family_from_registration_to_funded_deliveries_and_every_service_tells_the_same_numbers(
    urls: dict[str, str],
) -> None:
    kader, lurah = bearer("kader", MEDONO), bearer("lurah", MEDONO)
    day = today()
    async with httpx.AsyncClient(timeout=15) as http:
        registry, funding, aid, reporting = (urls[name] for name in ("registry", "funding", "aid", "reporting"))

        registered = await http.post(f"{registry}/families", json=family_body(4242, day, MEDONO), headers=kader)
        assert registered.status_code == 201, registered.text
        family_id = registered.json()["family_id"]
        verified = await http.post(
            f"{registry}/families/{family_id}/verification", json={"decision": "approve"}, headers=lurah
        )
        assert verified.json()["status"] == "enrolled"

        async def donor(name: str, donor_type: str, received: int) -> str:
            given_on, reference = day - timedelta(days=3), f"TRF-{name}"
            return await new_donor(
                http,
                ADMIN,
                donor_type,
                received,
                given_on,
                name=name,
                contact=None,
                reference=reference,
                recorded_by=bearer("treasurer"),
                at=funding,
            )

        batik = await donor("PT Batik Pesisir", "csr", 3_000_000)
        asn = await donor("Ibu Sri (ASN Dinkes)", "individual", 1_000_000)

        assert await sponsor(http, ADMIN, batik, family_id, 2_000_000, day, at=funding, wait=30)
        # Two orang tua asuh share the family.
        assert await sponsor(http, ADMIN, asn, family_id, 1_000_000, day, at=funding)

        async def plan() -> dict[str, Any] | None:
            items = (await http.get(f"{aid}/plans", params={"family_id": family_id}, headers=ADMIN)).json()["items"]
            return items[0] if items and items[0]["budget_rp"] == 3_000_000 else None

        opened = await wait_until(plan, 20, interval=0.1, message="aid opens the plan with both sponsorships")
        # The plan starts at the later of the enrolment (today, the lurah's approval) and the sponsorships' start.
        assert (opened["status"], opened["start_date"], opened["days"]) == ("active", day.isoformat(), 180)
        start = date.fromisoformat(opened["start_date"])

        # Food for 5 days at a time, handed over today: aid takes a delivery at most 14 days ahead.
        def block(n: int, daily: int) -> dict[str, Any]:
            first = start + timedelta(days=5 * n)
            return {
                "period_from": first.isoformat(),
                "period_to": (first + timedelta(days=4)).isoformat(),
                "value_rp": 5 * daily,
                "items": [{"name": "telur ayam", "quantity": 14.0, "unit": "butir"}],
                "delivered_on": day.isoformat(),
            }

        deliveries = f"{aid}/plans/{opened['plan_id']}/deliveries"
        first = await http.post(deliveries, json=block(0, 15_000), headers=kader)
        assert first.status_code == 201, first.text
        short = await http.post(deliveries, json=block(1, 14_000), headers=kader)
        assert short.status_code == 422 and short.json()["errors"][0]["field"] == "value_rp"
        third = await http.post(deliveries, json=block(2, 16_000), headers=kader)  # block 1 left uncovered
        assert third.status_code == 201, third.text
        gap = {"from": (start + timedelta(days=5)).isoformat(), "to": (start + timedelta(days=9)).isoformat()}

        confirm = f"{aid}/deliveries/{first.json()['delivery_id']}/confirmation"
        photo = {"photo_ref": "s3://proof/medono/w1.jpg"}
        assert (await http.post(confirm, json=photo, headers=lurah)).status_code == 200
        assert (await http.post(confirm, json={}, headers=lurah)).status_code == 409  # once only

        session = await http.post(
            f"{aid}/education-sessions",
            headers=kader,
            json={
                "topic": "nutrition",
                "held_on": day.isoformat(),
                "kelurahan_code": MEDONO,
                "family_ids": [family_id],
                "facilitator": "Bidan Wahyuni",
            },
        )
        assert session.status_code == 201, session.text
        intervention = await http.post(
            f"{aid}/plans/{opened['plan_id']}/interventions",
            headers=kader,
            json={
                "kind": "sanitation",
                "description": "Jamban sehat",
                "done_on": day.isoformat(),
                "value_rp": 3_250_000,
            },
        )
        assert intervention.status_code == 201, intervention.text
        members = (await http.get(f"{registry}/families/{family_id}", headers=ADMIN)).json()["members"]
        baby = next(m for m in members if m["role"] == "baduta")
        measured = await http.post(
            f"{registry}/families/{family_id}/growth-measurements",
            headers=kader,
            json={"member_id": baby["member_id"], "measured_on": day.isoformat(), "weight_kg": 5.1, "length_cm": 55.0},
        )
        assert measured.status_code == 201, measured.text

        delivered = 5 * 15_000 + 5 * 16_000
        plan_now = (await http.get(f"{aid}/plans/{opened['plan_id']}", headers=ADMIN)).json()
        assert (plan_now["delivered_rp"], plan_now["days_covered"], plan_now["gaps"]) == (delivered, 10, [gap])

        # Funding draws what aid delivered, oldest sponsorship first: all of it from Batik's.
        async def drawn() -> dict[str, Any] | None:
            body: dict[str, Any] = (await http.get(f"{funding}/families/{family_id}/funding", headers=ADMIN)).json()
            return body if body["drawn_rp"] == delivered else None

        funded = await wait_until(drawn, 20, interval=0.1, message="funding draws the deliveries")
        assert (funded["sponsored_rp"], funded["remaining_rp"]) == (3_000_000, 3_000_000 - delivered)
        statements = {d: (await http.get(f"{funding}/donors/{d}", headers=ADMIN)).json() for d in (batik, asn)}
        assert (statements[batik]["drawn_rp"], statements[asn]["drawn_rp"]) == (delivered, 0)
        assert (statements[batik]["available_rp"], statements[asn]["available_rp"]) == (1_000_000, 0)

        # Reporting, from events only, tells the same story.
        async def reported() -> tuple[dict[str, Any], ...] | None:
            progress = await without_clock(http, f"{reporting}/progress")
            money = await without_clock(http, f"{reporting}/funding")
            given = await without_clock(http, f"{reporting}/aid")
            outcomes = await without_clock(http, f"{reporting}/outcomes")
            done = (
                money["drawn_rp"] == delivered
                and given["confirmed_deliveries"] == 1
                and given["education_sessions"] == 1
                and outcomes["children_measured"] == 1
                and sum(k["interventions"] for k in given["interventions_by_kind"]) == 1
            )
            return (progress, money, given) if done else None

        progress, money, given = await wait_until(reported, 30, interval=0.2, message="reporting catches up")
        assert {k: progress[k] for k in ("registered", "enrolled", "sponsored", "aid_active", "completed")} == {
            "registered": 1,
            "enrolled": 1,
            "sponsored": 1,
            "aid_active": 1,
            "completed": 0,
        }
        medono = next(k for k in progress["by_kelurahan"] if k["kelurahan_code"] == MEDONO)
        assert (medono["enrolled"], medono["sponsored"]) == (1, 1)
        assert (money["received_rp"], money["allocated_rp"], money["drawn_rp"]) == (4_000_000, 3_000_000, delivered)
        types = {t["donor_type"]: t for t in money["by_donor_type"]}
        assert (types["csr"]["drawn_rp"], types["individual"]["allocated_rp"]) == (delivered, 1_000_000)
        assert money["funding_gap_rp"] == 0  # the family has its six months' money
        assert (given["delivered_rp"], given["deliveries"], given["days_covered"]) == (delivered, 2, 10)
        assert (given["plans_with_gaps"], given["gap_days"]) == (1, 5)
        assert given["delivered_rp"] == plan_now["delivered_rp"] == funded["drawn_rp"]


async def snapshot(urls: dict[str, str]) -> dict[str, Any]:
    """Every count a second load could change, read from all four services."""
    async with httpx.AsyncClient(timeout=15) as http:
        out: dict[str, Any] = {}
        for path in ("/progress", "/funding", "/aid", "/outcomes"):
            out[path] = await without_clock(http, urls["reporting"] + path)
        for name, path in (
            ("registry", "/families"),
            ("funding", "/donors"),
            ("aid", "/plans"),
            ("aid", "/education-sessions"),
            ("aid", "/home-visits"),
        ):
            out[name + path] = (await http.get(urls[name] + path, headers=ADMIN)).json()["total"]
        return out


def _every_story(dataset: demo.Dataset) -> bool:
    sizes = dataset.sizes()
    return all(
        sizes[k] for k in ("rejected", "awaiting_verification", "exits", "interventions", "completed", "home_visits")
    ) and (sizes["plans"] < sizes["sponsored"])  # someone sponsored below the six-month minimum


async def test_the_demo_loads_through_the_apis_and_loading_it_again_changes_nothing(urls: dict[str, str]) -> None:
    # A small programme with every kind of story in it. The stories depend on the day the
    # programme ends (today) as well as the seed, so the seed is the first that has them all today.
    dataset = next(d for d in (demo.build(40, anchor=today(), seed=s) for s in range(1, 1000)) if _every_story(d))
    sizes = dataset.sizes()
    assert dataset.first_day == programme_start()

    first = await demo.load(dataset, urls, TEST_SIGNING_KEY)
    assert not first.tally.refused, first.tally.examples
    assert not first.missing, first.missing
    assert first.tally.sent == dataset.requests() and first.tally.replayed == 0
    assert first.reporting_caught_up
    before = await snapshot(urls)
    progress, aid = before["/progress"], before["/aid"]
    assert (progress["registered"], progress["enrolled"], progress["rejected"], progress["exited"]) == (
        sizes["families"],
        sizes["approved"],
        sizes["rejected"],
        sizes["exits"],
    )
    assert progress["sponsored"] == sizes["sponsored"] and before["/funding"]["families_short"] > 0
    assert (aid["deliveries"], aid["confirmed_deliveries"], aid["plans_opened"]) == (
        sizes["deliveries"],
        sizes["confirmations"],
        sizes["plans"],
    )
    # Plans that began more than 180 days ago and got every week are completed, by effective dates.
    assert progress["completed"] == sizes["completed"] > 0
    assert before["funding/donors"] == sizes["donors"] and before["/funding"]["donors"] == sizes["donors"]
    assert before["aid/education-sessions"] == sizes["education_sessions"]
    outcomes = before["/outcomes"]
    assert outcomes["measurements"] == sizes["growth_measurements"]
    assert outcomes["children_measured"] == sizes["children_measured"]
    assert aid["home_visits_done"] == sizes["home_visits"]

    # The burn-up: one week a row from the demo's first day, counts that grow by effective date.
    history = first.reporting["history"]
    assert 30 <= len(history) <= 32 and history[0]["period_start"] <= programme_start().isoformat()
    registered = [week["registered"] for week in history]
    assert registered == sorted(registered) and registered[0] < registered[-1] == sizes["families"]
    assert registered[len(history) // 2] < sizes["families"]  # families kept coming over the months
    completed = [week["completed"] for week in history]
    assert completed[0] == 0 and completed[-1] == sizes["completed"]

    again = await demo.load(dataset, urls, TEST_SIGNING_KEY)
    assert not again.tally.refused, again.tally.examples
    assert again.tally.replayed == again.tally.sent == dataset.requests()  # every command a stored response
    assert await snapshot(urls) == before
    assert "Dashboard: http://" in demo.summary(again, urls["reporting"] + "/")


async def test_a_simulated_programme_adds_up(urls: dict[str, str], js_clean: str) -> None:
    summary = await simulate(24, 200, urls, TEST_SIGNING_KEY, nats_url=js_clean, seed=7, sample_every=4)

    assert summary.unexpected_refusals == 0, (summary.refused, summary.examples, summary.missing)
    assert summary.commands == summary.accepted + sum(summary.refused_on_purpose.values())
    assert all(reason.startswith("422 ") for reason in summary.refused_on_purpose)
    assert summary.seen == {**summary.seen, **summary.expected}, summary.render()  # reporting caught up
    assert summary.expected["registered"] == 24 and summary.expected["deliveries"] >= 3 * summary.expected["sponsored"]
    assert summary.expected["completed"] > 0  # plans that began more than 180 days ago
    assert summary.incomplete is not None and summary.holds, summary.render()
    accepted = summary.accepted_by_kind
    enrolled, rejected = summary.expected["enrolled"], accepted["verification"] - summary.expected["enrolled"]
    # Every accepted registry command is on the bus: registered; verified + enrolled, or rejected; measured;
    # exited (and members changing as time passes: births, children aging out).
    assert summary.events["GENTING_REGISTRY"] >= (
        accepted["registration"] + 2 * enrolled + rejected + accepted["growth"] + accepted["exit"]
    )
    assert (
        summary.events["GENTING_FUNDING"]
        >= accepted["donor"] + accepted["contribution"] + 2 * accepted["sponsorship"] + accepted["delivery"]
    )  # a donor's allocation and the sponsorship; a draw per delivery
    assert summary.events["GENTING_AID"] >= accepted["delivery"] + accepted["confirmation"] + accepted["education"]
    assert summary.latency["enrolment"] and summary.latency["delivery"]
    assert "refused otherwise        0" in summary.render()
