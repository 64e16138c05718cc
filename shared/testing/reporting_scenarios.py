"""Programmes of upstream events with known answers: a small scripted one whose every report is
worked out by hand (tests), and a full-size one (the benchmark, a demo)."""

from __future__ import annotations

from functools import cache
from typing import Any, get_args

from services.reporting.areas import Areas
from services.reporting.settings import ReportingSettings
from shared.contracts.funding import DonorType
from shared.programme import Programme as CityProgramme
from shared.testing.reporting_examples import MINIMUM_RP, PLAN_DAYS, Programme

MEDONO, KAUMAN, KRAPYAK, BANYURIP = "33.75.01.1002", "33.75.02.1004", "33.75.03.1002", "33.75.04.1002"
PEKALONGAN, SEMARANG = "33.75", "33.74"
TEMBALANG = "33.74.10.1006"  # Kota Semarang, kecamatan Tembalang (Kemendagri reference data)


@cache
def city_areas(city: str = PEKALONGAN) -> Areas:
    """The kecamatan and kelurahan reporting lists for a deployment with GENTING_CITY=`city`."""
    return Areas(CityProgramme.from_settings(ReportingSettings(city=city)))


def scripted() -> Programme:
    """Eight families in four kelurahan, four donors; the answers are in SCRIPTED_* below."""
    p = Programme(seed=7)
    ind = p.donor("individual", received_rp=5_000_000, pledged_rp=6_000_000)
    csr = p.donor("csr", received_rp=10_000_000)
    bumd = p.donor("bumd", received_rp=4_000_000, pledged_rp=4_000_000)
    p.donor("community", pledged_rp=1_000_000)

    f1, f2, f3, f4, f5, f6, f7, f8 = (
        p.register(k) for k in (MEDONO, MEDONO, KAUMAN, KAUMAN, KRAPYAK, KRAPYAK, BANYURIP, BANYURIP)
    )
    for f in (f1, f2, f3, f4, f5, f7):
        p.enroll(f)
    p.reject(f6)
    # f1: one sponsorship, an active plan, two deliveries (one confirmed), recovering child.
    s1 = p.sponsor(ind, f1)
    p1 = p.open_plan(f1)
    d1 = p.deliver(p1, first_day=3, days=30, on=3)
    p.confirm(p1, d1, on=4)
    p.draw(s1, ind, f1, p1, d1, 450_000, MINIMUM_RP - 450_000, on=3)
    d2 = p.deliver(p1, first_day=33, days=30, on=33)
    p.draw(s1, ind, f1, p1, d2, 450_000, MINIMUM_RP - 900_000, on=33)
    # f2: two sponsorships from two donors (counted once), ten uncovered days, then a delivery.
    s2 = p.sponsor(csr, f2, 1_500_000)
    p.sponsor(ind, f2, 1_200_000)
    p2 = p.open_plan(f2)
    p.gap(p2, first_day=3, days=10)
    d3 = p.deliver(p2, first_day=13, days=30, on=13)
    p.draw(s2, csr, f2, p2, d3, 450_000, 1_050_000, on=13)
    # f3: completed its six months with one delivery.
    s4 = p.sponsor(csr, f3)
    p3 = p.open_plan(f3)
    d4 = p.deliver(p3, first_day=3, days=PLAN_DAYS, on=5)
    p.confirm(p3, d4, on=6)
    p.draw(s4, csr, f3, p3, d4, MINIMUM_RP, 0, on=5)
    p.complete(p3, on=183)
    # f4 sponsored below the minimum; f5 not at all: together the funding gap.
    p.sponsor(bumd, f4, 1_000_000)
    # f7: sponsored, plan opened, then the family moved away: plan closed, money released.
    s6 = p.sponsor(bumd, f7)
    p4 = p.open_plan(f7)
    p.exit(f7, on=20)
    p.close(p4, on=20, outcome="exited", delivered_rp=0, days_covered=0, unspent_rp=MINIMUM_RP)
    p.release(s6, bumd, f7, MINIMUM_RP, on=20, plan=p4)
    # Education, interventions, growth.
    p.session("nutrition", MEDONO, [f1, f2], on=10)
    p.session("hygiene", KAUMAN, [f3, f4], on=12)
    p.session("nutrition", KRAPYAK, [f5], on=14)
    p.intervene(p1, "clean_water", 500_000, on=20)
    p.intervene(p3, "sanitation", 1_500_000, on=21)
    m1, m2, m3 = p.new_id(), p.new_id(), p.new_id()
    p.measure(f1, m1, on=3, haz=-2.5)
    p.measure(f1, m1, on=33, haz=-1.8)
    p.measure(f2, m2, on=3, haz=-1.0)
    p.measure(f2, m2, on=33, haz=-2.2)
    p.measure(f3, m3, on=5, haz=-3.1)
    # Home visits: m2 weighed no more on day 66 than on day 3 (visited on day 68); m3 lost weight
    # by day 70 (not visited yet).
    p.measure(f2, m2, on=66, haz=-2.4, weight_kg=7.03)
    p.visit_home(p.flag_home_visit(p2, f2, m2, on=66, since=3, weight_then_kg=7.03, weight_now_kg=7.03), on=68)
    p.measure(f3, m3, on=70, haz=-3.2, weight_kg=6.9)
    p.flag_home_visit(p3, f3, m3, on=70, since=5, weight_then_kg=7.05, weight_now_kg=6.9)
    del f8  # registered, still waiting for the lurah
    return p


SCRIPTED_PROGRESS = {
    "registered": 8,
    "enrolled": 6,
    "sponsored": 5,
    "aid_active": 2,
    "completed": 1,
    "exited": 1,
    "rejected": 1,
}
SCRIPTED_BY_KELURAHAN = {
    MEDONO: {
        "registered": 2,
        "enrolled": 2,
        "sponsored": 2,
        "aid_active": 2,
        "completed": 0,
        "exited": 0,
        "rejected": 0,
    },
    KAUMAN: {
        "registered": 2,
        "enrolled": 2,
        "sponsored": 2,
        "aid_active": 0,
        "completed": 1,
        "exited": 0,
        "rejected": 0,
    },
    KRAPYAK: {
        "registered": 2,
        "enrolled": 1,
        "sponsored": 0,
        "aid_active": 0,
        "completed": 0,
        "exited": 0,
        "rejected": 1,
    },
    BANYURIP: {
        "registered": 2,
        "enrolled": 1,
        "sponsored": 1,
        "aid_active": 0,
        "completed": 0,
        "exited": 1,
        "rejected": 0,
    },
}
SCRIPTED_FUNDING: dict[str, dict[str, int]] = {
    "individual": {
        "donors": 1,
        "pledged_rp": 6_000_000,
        "received_rp": 5_000_000,
        "allocated_rp": 3_900_000,
        "drawn_rp": 900_000,
        "released_rp": 0,
        "available_rp": 1_100_000,
    },
    "csr": {
        "donors": 1,
        "pledged_rp": 0,
        "received_rp": 10_000_000,
        "allocated_rp": 4_200_000,
        "drawn_rp": 3_150_000,
        "released_rp": 0,
        "available_rp": 5_800_000,
    },
    "bumd": {
        "donors": 1,
        "pledged_rp": 4_000_000,
        "received_rp": 4_000_000,
        "allocated_rp": 1_000_000,
        "drawn_rp": 0,
        "released_rp": 2_700_000,
        "available_rp": 3_000_000,
    },
    "community": {
        "donors": 1,
        "pledged_rp": 1_000_000,
        "received_rp": 0,
        "allocated_rp": 0,
        "drawn_rp": 0,
        "released_rp": 0,
        "available_rp": 0,
    },
    "total": {
        "donors": 4,
        "pledged_rp": 11_000_000,
        "received_rp": 19_000_000,
        "allocated_rp": 9_100_000,
        "drawn_rp": 4_050_000,
        "released_rp": 2_700_000,
        "available_rp": 9_900_000,
    },
}
SCRIPTED_FUNDING_GAP_RP = 1_700_000 + MINIMUM_RP  # f4 short of 1.7 jt, f5 of the whole minimum
SCRIPTED_AID: dict[str, Any] = {
    "delivered_rp": 4_050_000,
    "deliveries": 4,
    "confirmed_deliveries": 2,
    "days_covered": 270,
    "plans_opened": 4,
    "plans_active": 2,
    "plans_completed": 1,
    "plans_incomplete": 0,
    "plans_exited": 1,
    "plans_with_gaps": 1,
    "gap_days": 10,
    "education_sessions": 3,
    "education_families": 5,
    "interventions": 2,
    "interventions_rp": 2_000_000,
    "home_visits_flagged": 2,
    "home_visits_done": 1,
}
SCRIPTED_OUTCOMES = {
    "children_measured": 3,
    "measurements": 7,
    "stunted_at_first": 2,
    "stunted_at_latest": 2,
    "recovered": 1,
    "newly_stunted": 1,
}


def full(families: int, seed: int = 3, donors: int = 200, today: int = 300) -> Programme:
    """A whole programme as of day `today`: families registered over the first 240 days, each
    enrolled, sponsored and fed in fortnightly deliveries (each confirmed and drawn). Families
    whose six months have passed are completed; the rest are mid-plan. One in twenty exits early;
    one in thirteen misses a fortnight (a coverage gap) and its plan ends incomplete."""
    p = Programme(seed=seed)
    rng = p._random
    types = get_args(DonorType)
    pool = [p.donor(types[i % len(types)], received_rp=MINIMUM_RP * (families // donors + 2)) for i in range(donors)]
    fortnight_rp = 15 * 15_000
    for i in range(families):
        kelurahan = city_areas().codes[i % len(city_areas().codes)]
        on = i * 240 // max(families, 1)
        family = p.register(kelurahan, on=on)
        p.enroll(family, on=on + 1)
        donor = pool[rng.randrange(len(pool))]
        sponsorship = p.sponsor(donor, family, on=on + 2)
        start = on + 3
        plan = p.open_plan(family, on=start)
        left, covered, leaving, gapped = MINIMUM_RP, 0, i % 20 == 19, i % 13 == 5
        for d in range(0, PLAN_DAYS, 15):
            day = start + d
            if day > today:
                break  # still to come
            if leaving and d >= 60:
                p.exit(family, on=day)
                p.close(
                    plan,
                    on=day,
                    outcome="exited",
                    delivered_rp=MINIMUM_RP - left,
                    days_covered=covered,
                    unspent_rp=left,
                )
                p.release(sponsorship, donor, family, left, on=day, plan=plan)
                break
            if gapped and d == 45:
                p.gap(plan, first_day=day, days=15)
                continue
            delivery = p.deliver(plan, first_day=day, days=15, on=day)
            if day + 1 <= today:
                p.confirm(plan, delivery, on=day + 1)
            left, covered = left - fortnight_rp, covered + 15
            p.draw(sponsorship, donor, family, plan, delivery, fortnight_rp, left, on=day)
        else:
            if start + PLAN_DAYS > today:
                continue
            if covered == PLAN_DAYS:
                p.complete(plan, on=start + PLAN_DAYS)
            else:
                p.close(
                    plan,
                    on=start + PLAN_DAYS,
                    outcome="incomplete",
                    delivered_rp=MINIMUM_RP - left,
                    days_covered=covered,
                    unspent_rp=left,
                )
                p.release(sponsorship, donor, family, left, on=start + PLAN_DAYS, plan=plan)
    return p
