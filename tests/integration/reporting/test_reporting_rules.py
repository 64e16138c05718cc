"""The programme's rules as reporting shows them (issues 12 and 13), against a real PostgreSQL and
nats-server: gaps that agree with aid's, the history by effective dates, the funding gap's unit
from the plan settings, underfunded plans and the top-up they need."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext
from reporting_support import publish, token, wait_caught_up

from services.reporting.app import create_app
from services.reporting.settings import ReportingSettings
from shared.clock import FixedClock
from shared.contracts import registry as R
from shared.testing import reporting_scenarios as S
from shared.testing.apps import serving
from shared.testing.reporting_examples import MINIMUM_RP, Programme

pytestmark = pytest.mark.integration


async def get(client: httpx.AsyncClient, path: str, **kw: Any) -> Any:
    response = await client.get(path, **kw)
    assert response.status_code == 200, response.text
    return response.json()


async def load(client: httpx.AsyncClient, js: JetStreamContext, p: Programme) -> httpx.AsyncClient:
    await publish(js, p.published)
    await wait_caught_up(js)
    return client


class TestGapsAgreeWithAid:
    """Aid's gaps are the uncovered days up to the last day accounted for; a late
    delivery fills them. Reporting's counters only went up."""

    async def test_a_late_delivery_that_fills_a_gap_removes_it(
        self, reporting: httpx.AsyncClient, js: JetStreamContext
    ) -> None:
        p = Programme()
        plan = p.open_plan(p.register(S.MEDONO))  # days 3..182
        p.gap(plan, first_day=3, days=7)  # aid: days 3..9 passed without food ...
        p.deliver(plan, first_day=10, days=7, on=16)  # ... when days 10..16 were delivered
        p.deliver(plan, first_day=3, days=7, on=17)  # the paper record of days 3..9, entered late
        await load(reporting, js, p)
        aid = await get(reporting, "/aid")
        assert (aid["plans_with_gaps"], aid["gap_days"], aid["gaps_to_chase"]) == (0, 0, [])
        assert await get(reporting, "/aid/gaps", headers=token("admin")) == []

    async def test_a_partly_filled_gap_counts_what_is_still_missing_and_completed_plans_have_none(
        self, reporting: httpx.AsyncClient, js: JetStreamContext
    ) -> None:
        p = Programme()
        plan = p.open_plan(p.register(S.MEDONO))
        p.gap(plan, first_day=3, days=10)  # days 3..12
        p.deliver(plan, first_day=13, days=30, on=13)
        p.deliver(plan, first_day=3, days=3, on=14)  # fills days 3..5: 6..12 still missing
        done = p.open_plan(p.register(S.KAUMAN))
        p.gap(done, first_day=3, days=10)
        p.deliver(done, first_day=13, days=170, on=13)
        p.deliver(done, first_day=3, days=10, on=14)  # all 180 days now
        p.complete(done, on=183)
        await load(reporting, js, p)
        aid = await get(reporting, "/aid")
        assert (aid["plans_with_gaps"], aid["gap_days"]) == (1, 7)
        assert [(g["kelurahan_code"], g["plans_with_gaps"], g["gap_days"]) for g in aid["gaps_to_chase"]] == [
            (S.MEDONO, 1, 7)
        ]
        [gap] = await get(reporting, "/aid/gaps", headers=token("admin"))
        assert (gap["plan_id"], gap["gaps"], gap["gap_days"], gap["days_covered"]) == (str(plan), 1, 7, 33)

    async def test_an_incomplete_plan_keeps_its_gap_but_is_not_one_to_chase(
        self, reporting: httpx.AsyncClient, js: JetStreamContext
    ) -> None:
        p = Programme()
        plan = p.open_plan(p.register(S.MEDONO))
        p.deliver(plan, first_day=3, days=170, on=3)
        p.gap(plan, first_day=173, days=10)  # the window passed with its last ten days uncovered
        p.close(plan, on=184, outcome="incomplete", delivered_rp=170 * 15_000, days_covered=170)
        await load(reporting, js, p)
        aid = await get(reporting, "/aid")
        assert (aid["plans_with_gaps"], aid["gap_days"], aid["gaps_to_chase"]) == (1, 10, [])


class TestHistory:
    """GET /progress/history, one item a week (Monday) from the programme's start to
    this week, each count as of the end of that week by effective dates."""

    async def test_each_week_counts_by_effective_dates_and_the_last_agrees_with_progress(
        self, reporting: httpx.AsyncClient, js: JetStreamContext
    ) -> None:
        p = S.scripted()  # day 0 = Monday 6 January 2025
        late = p.register(S.KRAPYAK, on=-3)  # a paper registration of Friday 3 January, entered last
        p.enroll(late, on=-2)
        reporting.app.state.clock = FixedClock(date(2025, 7, 16))  # type: ignore[attr-defined]
        await load(reporting, js, p)
        weeks = await get(reporting, "/progress/history")  # public
        # The programme starts on Wednesday 1 January 2025: its first week is that of Monday 30 December.
        assert weeks[0]["period_start"] == "2024-12-30" and weeks[-1]["period_start"] == "2025-07-14"
        assert len(weeks) == 29
        by_week = {w["period_start"]: w for w in weeks}
        fields = ("registered", "enrolled", "sponsored", "aid_active", "completed", "exited")

        def counts(week: str) -> tuple[int, ...]:
            return tuple(by_week[week][f] for f in fields)

        assert counts("2024-12-30") == (1, 1, 0, 0, 0, 0)  # only the late entry, in its own week
        assert counts("2025-01-06") == (9, 7, 5, 4, 0, 0)  # four plans opened on 9 January
        assert counts("2025-01-13") == (9, 7, 5, 4, 0, 0)
        assert counts("2025-01-20") == (9, 7, 5, 3, 0, 1)  # f7 exited on 26 January, its plan closed
        assert counts("2025-06-30") == (9, 7, 5, 3, 0, 1)
        assert counts("2025-07-07") == (9, 7, 5, 2, 1, 1)  # f3's plan completed on 8 July
        progress = await get(reporting, "/progress")
        assert counts("2025-07-14") == tuple(progress[f] for f in fields)

    async def test_weekly_deliveries_and_monthly_stunting_share_follow_effective_dates(
        self, reporting: httpx.AsyncClient, js: JetStreamContext
    ) -> None:
        reporting.app.state.clock = FixedClock(date(2025, 3, 10))  # type: ignore[attr-defined]
        await load(reporting, js, S.scripted())
        aid = await get(reporting, "/aid")
        weekly = {w["week_start"]: w["deliveries"] for w in aid["deliveries_by_week"]}
        weeks = list(weekly)
        assert (weeks[0], weeks[-1], len(weeks)) == ("2024-12-30", "2025-03-10", 11)
        # Delivered on 9, 11 and 19 January and 8 February.
        assert {k: v for k, v in weekly.items() if v} == {"2025-01-06": 2, "2025-01-13": 1, "2025-02-03": 1}
        outcomes = await get(reporting, "/outcomes", headers=token("auditor"))
        # Each child once a month, by its latest measurement that month: January m1 -2.5, m2 -1.0,
        # m3 -3.1 (2 of 3 stunted); February m1 -1.8, m2 -2.2 (1 of 2); March m2 -2.4, m3 -3.2 (2 of 2).
        assert [(m["month"], m["children_measured"], m["stunted"]) for m in outcomes["by_month"]] == [
            ("2025-01-01", 3, 2),
            ("2025-02-01", 2, 1),
            ("2025-03-01", 2, 2),
        ]


@pytest.fixture
async def twenty_a_day(settings: ReportingSettings, js: JetStreamContext) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"daily_minimum_rp": 20_000}))
    async with serving(app, "reporting") as client:
        yield client


class TestFundingRules:
    async def test_money_released_because_no_plan_opened_counts_the_family_short_again(
        self, reporting: httpx.AsyncClient, js: JetStreamContext
    ) -> None:
        p = Programme()
        waiting, planned = p.register("33.75.01.1002"), p.register("33.75.01.1002")
        p.enroll(waiting)
        p.enroll(planned)
        donor = p.donor("csr", received_rp=5_000_000)
        held = p.sponsor(donor, waiting, 1_000_000)
        p.sponsor(donor, planned, MINIMUM_RP)
        plan = p.open_plan(planned)
        p.deliver(plan, 1, 7, on=3)
        p.complete(plan, on=190)
        p.release(held, donor, waiting, 1_000_000, on=62, reason="no_plan")
        await load(reporting, js, p)
        body = await get(reporting, "/funding")
        # The waiting family's Rp1,000,000 went back: it is short the whole minimum again; the
        # completed plan's family was funded (gross), whatever came back after its plan.
        assert (body["funding_gap_rp"], body["families_short"]) == (MINIMUM_RP, 1)
        assert sum(t["released_rp"] for t in body["by_donor_type"]) >= 1_000_000

    async def test_the_funding_gap_unit_is_plan_days_times_the_daily_minimum(
        self, twenty_a_day: httpx.AsyncClient, js: JetStreamContext
    ) -> None:
        # A city with Rp20,000 a day measures against 180 x 20,000, not Rp2,700,000.
        await load(twenty_a_day, js, S.scripted())
        body = await get(twenty_a_day, "/funding")
        assert body["family_minimum_rp"] == 3_600_000
        # f1, f2, f3 have 2.7 jt (0.9 jt short each), f4 1 jt (2.6 jt), f5 nothing (3.6 jt).
        assert (body["funding_gap_rp"], body["families_short"]) == (3 * 900_000 + 2_600_000 + 3_600_000, 5)

    async def test_a_family_with_a_plan_until_is_short_of_its_own_minimum(
        self, reporting: httpx.AsyncClient, js: JetStreamContext
    ) -> None:
        # GENTING_PLAN_UNTIL_CHILD_MONTHS: the registry's plan_until fixes each family's days from
        # its enrolment (day 1), so its minimum; the report names the fixed days' minimum.
        p = Programme()
        fixed, longer, newborn = (p.register(S.MEDONO) for _ in range(3))
        p.enroll(fixed)
        p.enroll(longer, plan_until=p.day(1 + 400))  # 400 days: Rp6,000,000
        p.enroll(newborn)  # a pregnancy only: the fixed days, until the birth gives a date
        k = p.kelurahan_of[newborn]
        moved = R.FamilyEligibilityChanged(
            family_id=newborn, kelurahan_code=k, eligible=True, effective_on=p.day(30), plan_until=p.day(1 + 700)
        )
        p.emit(moved)
        donor = p.donor("csr", received_rp=20_000_000)
        for family in (fixed, longer, newborn):
            p.sponsor(donor, family, MINIMUM_RP)
        await load(reporting, js, p)
        body = await get(reporting, "/funding")
        assert body["family_minimum_rp"] == MINIMUM_RP
        lacking = (400 * 15_000 - MINIMUM_RP) + (700 * 15_000 - MINIMUM_RP)
        assert (body["funding_gap_rp"], body["families_short"]) == (lacking, 2)

    async def test_allocated_is_net_of_releases_and_drawn_is_separate(
        self, reporting: httpx.AsyncClient, js: JetStreamContext
    ) -> None:
        # One meaning, the same as funding's /donors: sponsored - released.
        await load(reporting, js, S.scripted())
        body = await get(reporting, "/funding")
        bumd = next(t for t in body["by_donor_type"] if t["donor_type"] == "bumd")
        # bumd sponsored 1 jt (f4) and 2.7 jt (f7, released when f7 exited).
        assert (bumd["allocated_rp"], bumd["released_rp"], bumd["available_rp"]) == (1_000_000, 2_700_000, 3_000_000)
        assert body["allocated_rp"] == sum(t["allocated_rp"] for t in body["by_donor_type"])

    async def test_underfunded_plans_are_listed_with_the_top_up_they_need_until_topped_up(
        self, reporting: httpx.AsyncClient, js: JetStreamContext
    ) -> None:
        # 2.7 jt budget, a first delivery of Rp150,000 for 7 days leaves 2.55 jt for
        # 173 days that need 2.595 jt: Rp45,000 short.
        p = Programme()
        short = p.open_plan(p.register(S.MEDONO), budget_rp=MINIMUM_RP)
        p.deliver(short, first_day=3, days=7, on=3, per_day_rp=150_000 // 7 + 1)
        p.underfunded(short, shortfall_rp=45_000, uncovered_days=173, remaining_rp=2_550_000, on=3)
        topped = p.open_plan(p.register(S.KAUMAN))
        p.underfunded(topped, shortfall_rp=30_000, uncovered_days=170, remaining_rp=2_520_000, on=4)
        p.fully_funded(topped, on=5)
        ended = p.open_plan(p.register(S.KRAPYAK))
        p.underfunded(ended, shortfall_rp=10_000, uncovered_days=5, remaining_rp=65_000, on=4)
        p.close(ended, on=190, outcome="incomplete", delivered_rp=0, days_covered=0)
        await load(reporting, js, p)
        funding = await get(reporting, "/funding")
        assert (funding["underfunded_plans"], funding["top_up_needed_rp"]) == (1, 45_000)
        assert [(t["kelurahan_code"], t["plans"], t["top_up_rp"]) for t in funding["top_ups_by_kelurahan"]] == [
            (S.MEDONO, 1, 45_000)
        ]
        aid = await get(reporting, "/aid")
        assert (aid["underfunded_plans"], aid["top_up_needed_rp"]) == (1, 45_000)
        [plan] = await get(reporting, "/aid/underfunded", headers=token("auditor"))
        assert (plan["plan_id"], plan["shortfall_rp"], plan["uncovered_days"], plan["remaining_rp"]) == (
            str(short),
            45_000,
            173,
            2_550_000,
        )
        assert await get(reporting, "/aid/underfunded", headers=token("lurah", S.KAUMAN)) == []
        assert (await reporting.get("/aid/underfunded", headers=token("donor"))).status_code == 403
