"""What the distribution cost's events say about reporting's rows: a delivery's distribution
beside its food, a plan's rate and total, a draw's share that paid distribution, the unfunded
part that was distribution. Without a distribution cost the changes are what they were."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from reporting_samples import city_progress, sample_aid, sample_funding, sample_history, sample_months

from services.reporting.dashboard import render
from services.reporting.projections import DELIVERIES, DONORS, PLANS, UNFUNDED, aid_changes, funding_changes
from services.reporting.reports import AidReport, FundingReport
from shared.messaging import Envelope
from shared.testing.reporting_examples import Programme

MEDONO = "33.75.01.1002"


def last(p: Programme) -> Envelope:
    return p.published[-1].envelope


def test_a_plan_opened_with_a_distribution_rate_keeps_it() -> None:
    p = Programme()
    p.open_plan(p.register(MEDONO), distribution_daily_rp=5_000)
    [c] = aid_changes(last(p))
    assert c.table is PLANS and c.values["distribution_daily_rp"] == 5_000


def test_a_deliverys_distribution_is_kept_apart_from_its_food() -> None:
    p = Programme()
    plan = p.open_plan(p.register(MEDONO), distribution_daily_rp=5_000)
    p.deliver(plan, first_day=3, days=10, on=3, per_day_rp=20_000, distribution_rp=50_000)
    row, plan_change = aid_changes(last(p))
    assert row.table is DELIVERIES and (row.values["value_rp"], row.values["distribution_rp"]) == (200_000, 50_000)
    assert plan_change.table is PLANS
    assert (plan_change.values["delivered_rp"], plan_change.values["distribution_rp"]) == (200_000, 50_000)


def test_without_distribution_a_delivery_changes_what_it_did_before() -> None:
    p = Programme()
    plan = p.open_plan(p.register(MEDONO))
    p.deliver(plan, first_day=3, days=10, on=3)
    row, plan_change = aid_changes(last(p))
    assert "distribution_rp" not in row.values and "distribution_rp" not in plan_change.values


def test_a_draw_counts_what_of_it_paid_distribution_for_its_donor() -> None:
    p = Programme()
    family, donor = p.register(MEDONO), p.donor("csr", received_rp=5_000_000)
    sponsorship = p.sponsor(donor, family, 4_500_000)
    plan = p.open_plan(family, budget_rp=4_500_000, distribution_daily_rp=5_000)
    delivery = p.deliver(plan, first_day=3, days=7, on=3, per_day_rp=20_000, distribution_rp=35_000)
    p.draw(sponsorship, donor, family, plan, delivery, 175_000, 4_325_000, on=3, distribution_rp=35_000)
    donor_change = funding_changes(last(p))[0]
    assert donor_change.table is DONORS
    assert (donor_change.values["drawn_rp"], donor_change.values["drawn_distribution_rp"]) == (175_000, 35_000)


def test_an_unfunded_delivery_says_what_of_it_was_distribution() -> None:
    p = Programme()
    family = p.register(MEDONO)
    plan = p.open_plan(family, distribution_daily_rp=5_000)
    delivery = p.deliver(plan, first_day=3, days=7, on=3, per_day_rp=20_000, distribution_rp=35_000)
    p.unfunded(plan, delivery, 140_000, drawn_rp=150_000, on=3, distribution_rp=35_000)
    [c] = funding_changes(last(p))
    assert c.table is UNFUNDED
    assert (c.values["unfunded_rp"], c.values["distribution_rp"], c.values["unfunded_distribution_rp"]) == (
        25_000,
        35_000,
        25_000,
    )


def _metrics(funding: FundingReport, aid: AidReport) -> dict[str, int]:
    html = render(
        city_progress(),
        funding,
        aid,
        history=sample_history(),
        outcomes_by_month=sample_months(),
        city="Kota Ambon",
        refresh_seconds=30,
        zone=ZoneInfo("Asia/Jayapura"),
    )
    return {m: int(v) for m, v in re.findall(r'data-metric="([^"]+)" data-value="(-?\d+)"', html)}


def test_the_dashboard_shows_distribution_apart_from_the_food_when_there_is_some() -> None:
    sample = sample_funding()
    by_type = [
        t.model_copy(update={"drawn_distribution_rp": 35_000 if t.donor_type == "csr" else 0})
        for t in sample.by_donor_type
    ]
    funding = sample.model_copy(
        update={"by_donor_type": by_type, "drawn_distribution_rp": 35_000, "unfunded_distribution_rp": 5_000}
    )
    aid = sample_aid().model_copy(update={"distribution_rp": 40_000})
    shown = _metrics(funding, aid)
    assert shown["funding.drawn_distribution_rp"] == 35_000
    assert shown["funding.by_donor_type.csr.drawn_distribution_rp"] == 35_000
    assert shown["funding.unfunded_distribution_rp"] == 5_000
    assert shown["aid.distribution_rp"] == 40_000


def test_without_distribution_the_dashboard_shows_no_distribution_line() -> None:
    shown = _metrics(sample_funding(), sample_aid())
    assert not [m for m in shown if "distribution" in m]
