"""The Pekalongan demo's dataset, generated (what it is made of: `records.py`): a programme in
mid-course, a pure function of (seed, number of families, the day it is loaded, how many days ago
it began). A seeded `random.Random`, fixed name lists, no fresh ids, no clock, no I/O: the same
arguments give the same dataset to the last rupiah, so a later `up --demo` rebuilds the very same
requests (the loader, `loader.py`, sends them in effective-date order, `Dataset.steps`).

The programme began `days` days before the load (the demo's first day, `Dataset.first_day`;
`genting up` sets `GENTING_PROGRAMME_START` to it). Over those months: families are registered
and verified; donors give (monthly salary deductions, institutional transfers) and sponsor
enrolled families a few days later; a plan's weekly food packages are handed over on their days
(delivered on the first day each covers, confirmed by the lurah within a few days); plans that
began more than 180 days ago are completed, or ended incomplete when a week was never delivered;
a few families move away (their plan closes and the rest of the money goes back to the donors);
children are weighed monthly at the posyandu; education sessions are held every six weeks or so.
Every date is on or after the first day and on or before the load day, and every record comes
after the records it depends on (CONTRACT.md, "Effective dates and late entry")."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from genting.demo.names import (
    BOYS,
    CIVIL_SERVICE,
    DONORS,
    FOODS,
    GIRLS,
    INSTITUTIONS,
    INTERVENTIONS,
    LENGTH,
    MEN,
    MEN_SECOND,
    REJECTIONS,
    RISKS,
    STREETS,
    TOPICS,
    WEIGHT,
    WOMEN,
    WOMEN_SECOND,
)
from genting.demo.records import (
    DEFAULT_FAMILIES,
    KELURAHAN,
    MONTH,
    PLAN_DAYS,
    PLAN_MINIMUM_RP,
    PROGRAMME_DAYS,
    SEED,
    SERIALS,
    Contribution,
    Dataset,
    Delivery,
    Donor,
    Family,
    Growth,
    Intervention,
    Session,
    Sponsorship,
)
from shared.regions import Kelurahan
from shared.testing.registry_examples import kk, nik


def build(
    families: int = DEFAULT_FAMILIES,
    *,
    anchor: date,
    seed: int = SEED,
    days: int = PROGRAMME_DAYS,
    serials: range = SERIALS,
    under_value_share: float = 0.0,
) -> Dataset:
    """The programme that began `days` days before `anchor`: the same arguments give the same
    dataset, to the last rupiah."""
    if families < 1:
        raise ValueError("the demo needs at least one family")
    if days < 1:
        raise ValueError("the programme needs at least one day")
    rng = random.Random(f"genting-demo-{seed}")
    first = anchor - timedelta(days=days)
    used: set[str] = set()
    weights = [rng.uniform(0.4, 2.2) for _ in KELURAHAN]  # some kelurahan have many more KRS
    fams = []
    for i in range(families):
        kel = KELURAHAN[i] if i < len(KELURAHAN) else rng.choices(KELURAHAN, weights)[0]
        # Registration keeps coming, busiest in the first weeks (the census backlog).
        registered = first + timedelta(days=int((days - 7) * rng.random() ** 1.4)) if days > 7 else first
        fams.append(family(rng, i, kel, registered, used, serials))
    for fam in fams:
        _verify(rng, fam, anchor)
    donors = _donors(rng, families)
    _sponsor(rng, fams, donors, anchor)
    _contributions(rng, donors, first)
    for fam in fams:
        if fam.gets_a_plan:
            _aid(rng, fam, anchor, under_value_share)
        _growth(rng, fam, anchor)
    return Dataset(seed, anchor, first, donors, fams, _sessions(rng, fams, first, anchor))


def _name(rng: random.Random, given: tuple[str, ...]) -> str:
    return f"{rng.choice(given)} {rng.choice(WOMEN_SECOND if given is WOMEN else MEN_SECOND)}"


def _person(rng: random.Random, used: set[str], region: str, born: date, sex: str, serials: range) -> str:
    while (number := nik(born, sex, rng.choice(serials), region)) in used:
        pass
    used.add(number)
    return number


def family(
    rng: random.Random, i: int, kel: Kelurahan, registered: date, used: set[str], serials: range = SERIALS
) -> Family:
    """One KRS family of that kelurahan, as the kader registers it on `registered` (ages, risk
    factors and the baduta rule hold on that day); `used` keeps NIK/KK numbers unique."""
    code, kelurahan = kel.code, kel.name
    region = "3375" + code[6:8]  # Kota Pekalongan, the family's kecamatan
    mother_age = rng.choice((17, 18, 19, 21, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 35, 36, 38, 41))
    mother_born = registered - timedelta(days=mother_age * 365 + rng.randrange(30, 330))
    father_born = mother_born - timedelta(days=rng.randrange(300, 3000))
    father, mother = _name(rng, MEN), _name(rng, WOMEN)
    shape = rng.choices(("baby", "pregnant", "pregnant_with_baby", "baby_no_mother"), (60, 20, 12, 8))[0]
    members: list[dict[str, Any]] = [
        {
            "name": father,
            "nik": _person(rng, used, region, father_born, "M", serials),
            "role": "other",
            "birth_date": father_born.isoformat(),
            "sex": "M",
        }
    ]
    if shape != "baby_no_mother":  # the mother works away, a grandmother cares for the baby
        role = "breastfeeding_mother" if shape == "baby" else "pregnant_mother"
        mom: dict[str, Any] = {
            "name": mother,
            "nik": _person(rng, used, region, mother_born, "F", serials),
            "role": role,
            "birth_date": mother_born.isoformat(),
            "sex": "F",
        }
        if role == "pregnant_mother":
            mom["expected_delivery_date"] = (registered + timedelta(days=rng.randrange(30, 240))).isoformat()
        members.append(mom)
    if shape != "pregnant":
        sex = rng.choice("MF")
        born = registered - timedelta(days=rng.randrange(10, 600))
        baby_nik = _person(rng, used, region, born, sex, serials) if rng.random() < 0.7 else None  # newborns: pending
        name = f"{rng.choice(GIRLS if sex == 'F' else BOYS)} {father.split()[0]}"
        members.append({"name": name, "nik": baby_nik, "role": "baduta", "birth_date": born.isoformat(), "sex": sex})
    risks = set(rng.sample(RISKS[:4], rng.choice((1, 1, 2, 2, 3))))
    if shape != "baby_no_mother" and mother_age < 20:
        risks.add("mother_too_young")
    if shape != "baby_no_mother" and mother_age >= 35:
        risks.add("mother_too_old")
    if shape == "pregnant_with_baby" and date.fromisoformat(mom["expected_delivery_date"]) < born + timedelta(days=730):
        risks.add("births_too_close")  # only when the dates say so: the registry refuses a claim they contradict
    while (card := kk(registered - timedelta(days=rng.randrange(200, 5000)), rng.choice(serials), region)) in used:
        pass
    used.add(card)
    rt, rw = rng.randrange(1, 9), rng.randrange(1, 12)
    body = {
        "kk_number": card,
        "head_name": father,
        "address": f"{rng.choice(STREETS)} Gg. {rng.randrange(1, 15)} No. {rng.randrange(1, 120)}, "
        f"RT {rt:02d}/RW {rw:02d}, {kelurahan}",
        "kelurahan_code": code,
        "members": members,
        "risk_factors": sorted(risks),
        "consent": True,
    }
    return Family(f"F{i:04d}", code, body, None, registered)


def _verify(rng: random.Random, fam: Family, today: date) -> None:
    """The lurah decides within two weeks (the baduta still under 24 months, the mother still
    pregnant); families registered in the last days wait for the decision."""
    decided = fam.registered_on + timedelta(days=rng.randrange(2, 15))
    roll = rng.random()
    if decided > today or roll < 0.03:
        return
    fam.decision = "reject" if roll < 0.08 else "approve"
    fam.decided_on = decided
    fam.note = rng.choice(REJECTIONS) if fam.decision == "reject" else None


def _lookup(table: Mapping[int, tuple[float, ...]], months: float, column: int) -> float:
    """Linear interpolation in a table by age in months."""
    keys = sorted(table)
    low = max(k for k in keys if k <= months)
    high = min((k for k in keys if k >= months), default=low)
    if high == low:
        return table[low][column]
    share = (months - low) / (high - low)
    return table[low][column] + share * (table[high][column] - table[low][column])


def _growth(rng: random.Random, fam: Family, today: date) -> None:
    """Monthly weighings at the posyandu from registration (or birth) while the child is under
    two, until today or the family leaves. About a quarter start stunted; the food helps, slowly.
    A few enrolled children gain nothing at two weighings in a row: aid flags them (the posyandu
    rule), and half of those get their home visit a few days later."""
    if fam.decision == "reject":
        return
    last = min(today, (fam.exited_on or today) - timedelta(days=1))
    stalls = fam.decision == "approve" and rng.random() < 0.1
    # The posyandu meets on one day of every month: a weighing each calendar month, none skipped,
    # so the weighings the dataset stalls are the consecutive months aid's rule judges.
    posyandu_day = rng.randrange(1, 29)
    for baby in (m for m in fam.body["members"] if m["role"] == "baduta"):
        born, girl = date.fromisoformat(baby["birth_date"]), baby["sex"] == "F"
        z = max(-3.8, min(1.8, rng.gauss(-1.1, 1.0)))
        when = _posyandu_on_or_after(max(fam.registered_on, born + timedelta(days=3)), posyandu_day)
        weighings: list[Growth] = []
        stall_from = rng.randrange(1, 4)
        while when <= last and (when - born).days < 720:
            months = (when - born).days / MONTH
            median, sd = _lookup(LENGTH, months, 2 if girl else 0), _lookup(LENGTH, months, 3 if girl else 1)
            weight = round(_lookup(WEIGHT, months, 1 if girl else 0) * (1 + 0.08 * z), 1)
            n = len(weighings)
            if stalls and stall_from < n <= stall_from + 2:  # no gain twice: the same weight, or less
                weight = round(weighings[-1].weight_kg - rng.choice((0.0, 0.0, 0.1)), 1)
                if n == stall_from + 2 and fam.flagged_on is None:
                    fam.flagged_on = when
            length = round(median + z * sd, 1)
            weighings.append(Growth(baby["name"], when, weight, length, (length - median) / sd < -2.0 - 1e-9))
            z += rng.gauss(0.12, 0.12)
            when = _next_month(when)
        fam.growth += weighings
    if fam.flagged_on is not None and rng.random() < 0.5:
        visit = fam.flagged_on + timedelta(days=rng.randrange(1, 6))
        fam.visited_on = visit if visit <= last else None


def _posyandu_on_or_after(day: date, posyandu_day: int) -> date:
    """The first meeting of a posyandu held on `posyandu_day` of each month, on or after `day`."""
    meeting = day.replace(day=posyandu_day)
    return meeting if meeting >= day else _next_month(meeting)


def _next_month(meeting: date) -> date:
    """The same day of the next month (posyandu days are 1–28: every month has one)."""
    return date(meeting.year + meeting.month // 12, meeting.month % 12 + 1, meeting.day)


def _donors(rng: random.Random, families: int) -> list[Donor]:
    donors = []
    for n in range(max(6, families // 4)):  # civil servants give from their salary, as individuals
        title = rng.choice(("", "", "dr. ", "Drs. ", "Hj. ", "H. "))
        donors.append(
            Donor(
                f"ind{n:03d}",
                f"{title}{_name(rng, rng.choice((WOMEN, MEN)))} (ASN {rng.choice(CIVIL_SERVICE)})",
                "individual",
                f"0812-{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}",
            )
        )
    for donor_type, names in DONORS.items():
        count = len(names) if donor_type != "community" else min(len(names), max(3, families // 25))
        for n, name in enumerate(names[:count]):
            contact = f"csr@{name.split()[1].lower()}.example" if donor_type in INSTITUTIONS else None
            donors.append(Donor(f"{donor_type}{n:02d}", name, donor_type, contact))
    return donors


def _sponsor(rng: random.Random, fams: list[Family], donors: list[Donor], today: date) -> None:
    """Who sponsors whom, a few days after the enrolment: most enrolled families fully (several
    sponsors for some), a few only in part (the funding gap), a few not yet. A plan opens when
    the sponsorships reach the six-month minimum, on the day of the last one."""
    by_type: dict[str, list[Donor]] = {}
    for d in donors:
        by_type.setdefault(d.donor_type, []).append(d)

    def pick(*types: str) -> Donor:
        return rng.choice(by_type[rng.choice(types)])

    for fam in (f for f in fams if f.decision == "approve"):
        assert fam.decided_on is not None
        pattern = rng.choices(("none", "part", "one", "two", "three"), (5, 5, 40, 36, 14))[0]
        shares: list[tuple[Donor, int]] = {
            "none": [],
            "part": [(pick("individual", "community"), 1_350_000)],
            "one": [(pick(*INSTITUTIONS), rng.choice((2_700_000, 2_700_000, 2_880_000, 3_150_000)))],
            "two": [(pick("individual"), 1_350_000), (pick("individual", "community"), 1_350_000)],
            "three": [(pick("community"), 1_200_000), (pick("individual"), 900_000), (pick("individual"), 600_000)],
        }[pattern]
        start = fam.decided_on + timedelta(days=rng.randrange(1, 8))
        for n, (donor, amount) in enumerate(shares):
            day = start + timedelta(days=n * rng.randrange(0, 3))  # co-sponsors join within days
            if day > today:
                break
            donor.allocated_rp += amount
            donor.gives_on.append((day, amount))
            fam.sponsorships.append(Sponsorship(donor.key, amount, day))
        if sum(s.amount_rp for s in fam.sponsorships) >= PLAN_MINIMUM_RP:
            fam.plan_start = max(s.start_date for s in fam.sponsorships)


def _contributions(rng: random.Random, donors: list[Donor], first: date) -> None:
    """Money is there before it is given: each month's sponsorships of a donor are covered by a
    contribution received a few days before the first of them (a salary deduction for a civil
    servant), with some to spare; some institutions pledge more. A donor is registered on the
    day of its first contribution."""
    for d in donors:
        by_month: dict[tuple[int, int], list[tuple[date, int]]] = {}
        for day, amount in sorted(d.gives_on):
            by_month.setdefault((day.year, day.month), []).append((day, amount))
        received = first - timedelta(days=1)
        for m, gifts in enumerate(by_month.values()):
            spare = rng.choice((0, 0, 1, 2, 3)) * 450_000 if m == 0 else 0
            # After the month before's (a month's money never arrives before the donor is registered,
            # and a salary deduction's reference, dated by its day, stays unique), before the gifts.
            received = max(first, received + timedelta(days=1), gifts[0][0] - timedelta(days=rng.randrange(1, 10)))
            amount = sum(a for _, a in gifts) + spare
            if d.donor_type == "individual":
                method, reference = "transfer", f"POTGAJI/{received:%Y%m%d}/{d.key}"
            else:
                method = "cash" if d.donor_type == "community" else "transfer"
                reference = f"TRF/{received:%Y%m%d}/{d.key}-{m + 1}"
            d.contributions.append(Contribution(amount, received, method, reference))
        if not d.contributions:  # a donor still deciding: registered on the first day, nothing received
            d.registered_on = first
            continue
        d.registered_on = d.contributions[0].received_on
        if d.donor_type != "individual" and rng.random() < 0.5:
            d.pledges.append(d.allocated_rp + rng.choice((1, 2, 5, 10)) * PLAN_MINIMUM_RP)


def _aid(rng: random.Random, fam: Family, today: date, under_value_share: float) -> None:
    """Weekly food packages from the plan's first day, each handed over on the first day it
    covers, until today (or the family's exit). Now and then a week is skipped: a plan whose
    window then passes ends incomplete. A few families move away mid-plan."""
    start = fam.plan_start
    assert start is not None
    budget = sum(s.amount_rp for s in fam.sponsorships)
    daily = min(rng.choice((15_000, 15_000, 15_500, 16_000, 17_500)), budget // PLAN_DAYS // 500 * 500)
    weeks = -(-PLAN_DAYS // 7)
    skipped = {rng.randrange(2, weeks - 2)} if rng.random() < 0.12 else set()
    if rng.random() < 0.04:
        fam.exit_reason = rng.choice(("moved_away", "moved_away", "consent_withdrawn"))
        exit_on = start + timedelta(days=rng.randrange(20, 150))
        fam.exited_on = exit_on if exit_on < today else None
        fam.exit_reason = fam.exit_reason if fam.exited_on else None
    end = min(today, (fam.exited_on or today + timedelta(days=1)) - timedelta(days=1))
    for week in range(weeks):
        offset = 7 * week
        delivered_on = start + timedelta(days=offset)
        if delivered_on > end:
            break
        if week in skipped:
            continue
        days = min(7, PLAN_DAYS - offset)
        foods = rng.sample(FOODS, rng.randrange(3, 6))
        items = tuple((name, qty, unit) for name, unit, qty in foods)
        confirmed_on: date | None = delivered_on + timedelta(days=rng.choice((0, 0, 1, 2, 3)))
        if rng.random() > 0.92 or confirmed_on > end:  # type: ignore[operator]
            confirmed_on = None
        fam.deliveries.append(
            Delivery(
                offset,
                days,
                days * daily,
                items,
                delivered_on,
                confirmed_on,
                confirmed_on is not None and rng.random() < 0.6,
                rng.random() < under_value_share,
            )
        )
    if rng.random() < 0.2:
        kind, description, value = rng.choice(INTERVENTIONS)
        done = start + timedelta(days=rng.randrange(3, 150))
        if done <= end:
            fam.interventions.append(Intervention(kind, description, done, value))


def _sessions(rng: random.Random, fams: list[Family], first: date, today: date) -> list[Session]:
    """Posyandu classes about every six weeks in each kelurahan, for the families receiving aid
    there by then (registered before the day)."""
    sessions = []
    for kel in KELURAHAN:
        here = [f for f in fams if f.kelurahan_code == kel.code and f.plan_start is not None]
        held = first + timedelta(days=rng.randrange(21, 42))
        n = 0
        while held <= today:
            present = [
                f.key
                for f in here
                if f.plan_start is not None
                and f.plan_start <= held
                and (f.exited_on is None or held < f.exited_on)
                and rng.random() < 0.8
            ]
            if present:
                facilitator = rng.choice(
                    (
                        f"Bidan {_name(rng, WOMEN)}",
                        f"Kader Posyandu {kel.name}",
                        f"Tim Pendamping Keluarga {kel.name}",
                        f"Ahli gizi Puskesmas {kel.name}",
                    )
                )
                topic = rng.choice(TOPICS)
                sessions.append(Session(f"S{kel.code}-{n}", kel.code, topic, held, tuple(sorted(present)), facilitator))
                n += 1
            held += timedelta(days=rng.randrange(35, 50))
    return sessions
