"""The Pekalongan demo (`genting up --demo`): a deterministic programme, sent through the services'
HTTP APIs (never their databases), so the dashboard tells the story the moment it opens.

The dataset is a pure function of (seed, number of families, anchor day): a seeded
`random.Random`, fixed name lists, no fresh ids. The anchor is the day of the first load, kept in
the data dir (`demo.json`), so a later `up --demo` rebuilds the very same requests. Every POST
carries an `Idempotency-Key` derived from the dataset (the services keep the first response per
key and caller), so loading again replays the stored responses and changes nothing. Ids the
services assign (families, donors, deliveries) come from those responses; plans are read.

The services' clocks are real and the registry stamps an enrolment with the day of the lurah's
approval, so every plan starts on the day of the first load: deliveries cover the plan's first
weeks from that day on (food packages handed over that day). Money received, pledges, growth
measurements (from the posyandu cards) and education sessions are dated in the weeks before.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import httpx

from services.registry.reference import KELURAHAN, Kelurahan
from shared.auth import issue_token
from shared.testing.registry_examples import kk, nik

SEED = 2025
DEFAULT_FAMILIES = 300
DAILY_MINIMUM_RP = 15_000
PLAN_MINIMUM_RP = 180 * DAILY_MINIMUM_RP  # Rp2,700,000 opens a plan (aid's default policy)
STATE_FILE = "demo.json"
NO_GAIN_DAYS = 60  # aid flags a child for a home visit who gained no weight in this many days
SERIALS = range(7000, 9998)  # the NIK/KK serials the demo uses; tests and the README use low ones
WIB = ZoneInfo("Asia/Jakarta")
RETRY_ALWAYS = "ConcurrencyConflict"  # a refused command changes nothing: sending it again is safe
DEFAULT_URLS = {"registry": "http://127.0.0.1:8001", "aid": "http://127.0.0.1:8002",
                "funding": "http://127.0.0.1:8003", "reporting": "http://127.0.0.1:8004"}

# -- the dataset ------------------------------------------------------------------------------
# Names are common Javanese ones; every donor and person is fictional.
WOMEN = ("Siti", "Sri", "Dewi", "Nur", "Rina", "Ayu", "Fitri", "Wulan", "Ratna", "Indah", "Lestari", "Umi",
         "Khasanah", "Aminah", "Rohmah", "Nurul", "Eka", "Dwi", "Mega", "Laila", "Anisa", "Putri", "Yuni", "Tutik")
MEN = ("Ahmad", "Muhammad", "Budi", "Agus", "Slamet", "Joko", "Eko", "Hadi", "Rudi", "Arif", "Fajar", "Imam",
       "Rizki", "Wahyu", "Yusuf", "Hendra", "Taufik", "Bambang", "Sugeng", "Teguh", "Nur Hasan", "Khoirul")
WOMEN_SECOND = ("Rahmawati", "Wahyuni", "Handayani", "Susanti", "Khotijah", "Aini", "Maesaroh", "Fadilah",
                "Lestari", "Safitri", "Zulaikha", "Masruroh")
MEN_SECOND = ("Santoso", "Setiawan", "Hidayat", "Saputra", "Prasetyo", "Kurniawan", "Mubarok", "Ma'ruf", "Zaenal",
              "Fauzi", "Nugroho", "Rifai")
GIRLS = ("Aisyah", "Nabila", "Kirana", "Salsabila", "Naura", "Keisha", "Nayla", "Raisa", "Syifa", "Alya")
BOYS = ("Alif", "Rafa", "Bagas", "Dimas", "Galih", "Arya", "Azka", "Fathan", "Zidan", "Hafiz", "Akbar")
STREETS = ("Jl. Dr. Sutomo", "Jl. Hayam Wuruk", "Jl. Diponegoro", "Jl. Merdeka", "Jl. Gajah Mada", "Jl. Kurinci",
           "Jl. Jlamprang", "Jl. Urip Sumoharjo", "Jl. Kusuma Bangsa", "Jl. Slamet", "Jl. Sriwijaya", "Jl. Bandeng")
RISKS = ("unsafe_drinking_water", "no_proper_latrine", "uninhabitable_house", "poor", "births_too_close",
         "too_many_children")
FOODS = (("beras", "kg", 5.0), ("telur ayam", "butir", 14.0), ("ikan bandeng", "kg", 1.0), ("susu UHT", "kotak", 7.0),
         ("tempe", "papan", 3.0), ("sayur bayam", "ikat", 4.0), ("kacang hijau", "kg", 0.5), ("daging ayam", "kg", 1.0),
         ("tahu", "potong", 10.0), ("pisang", "sisir", 1.0), ("paket lauk Dashat", "porsi", 7.0))
CIVIL_SERVICE = ("Dinas Kesehatan", "Dinas Pendidikan", "Dinsos P2KB", "Bappeda", "RSUD Bendan", "Kecamatan",
                 "Dinas Perdagangan", "BPKAD", "Setda", "Puskesmas")
DONORS: dict[str, tuple[str, ...]] = {  # institutional donors by type (fictional)
    "community": ("Paguyuban Pedagang Pasar Banjarsari", "Majelis Taklim Al-Hikmah Kauman",
                  "Komunitas Batik Muda Pekalongan", "Ikatan Bidan Ranting Pekalongan Utara",
                  "Karang Taruna Panjang Wetan", "Paguyuban Nelayan Krapyak", "Jamaah Masjid Jami' Setono",
                  "Forum Warga Degayu", "Paguyuban Perajin Canting Jenggot", "Arisan PKK RW 05 Podosugih",
                  "Komunitas Pesepeda Kota Batik", "Alumni SMA Kota Batik Peduli"),
    "bumd": ("Perumda Tirta Batik", "Perumda BPR Bank Kota Batik", "Perumda Pasar Kota Batik"),
    "csr": ("PT Batik Pesisir Nusantara", "PT Tekstil Kota Batik", "PT Perikanan Samudra Pantura",
            "CV Sarung Pekalongan Jaya", "PT Mie Sehat Pekalongan", "Hotel Dinasti Batik",
            "PT Galangan Kapal Pantura", "PT Kopi Pesisir Utara"),
    "bumn": ("Bank BUMN Cabang Pekalongan", "PLN-UP3 Pekalongan (CSR BUMN)"),
    "university": ("Universitas Kota Batik", "Politeknik Pantura"),
    "media": ("Radio Suara Kota Batik", "Harian Pantura Pos"),
    "other": ("Lembaga Amil Zakat Kota Batik", "Yayasan Peduli Anak Pesisir", "Koperasi Perajin Batik Setono"),
}
INSTITUTIONS = ("csr", "bumd", "bumn", "university", "media", "other")
TOPICS = ("nutrition", "hygiene", "clean_water", "early_marriage", "parenting", "breastfeeding")
INTERVENTIONS = (("clean_water", "Tandon air dan saringan untuk air minum", 850_000),
                 ("sanitation", "Jamban sehat dengan septic tank", 3_250_000),
                 ("early_marriage_prevention", "Pendampingan remaja putri oleh PIK-R", 0),
                 ("health_referral", "Rujukan ke Puskesmas untuk anemia ibu", 150_000))
REJECTIONS = ("Keluarga mampu, tidak memenuhi kriteria KRS", "Terdaftar ganda dengan KK lain",
              "Sudah pindah domisili sebelum verifikasi")
# WHO 2006 length-for-age, month: (boys median, boys SD, girls median, girls SD) and weight medians.
LENGTH = {0: (49.9, 1.9, 49.1, 1.9), 3: (61.4, 2.1, 59.8, 2.1), 6: (67.6, 2.2, 65.7, 2.3), 9: (72.0, 2.4, 70.1, 2.5),
          12: (75.7, 2.5, 74.0, 2.6), 18: (82.3, 2.8, 80.7, 2.9), 24: (87.8, 3.1, 86.4, 3.2)}
WEIGHT = {0: (3.3, 3.2), 3: (6.4, 5.8), 6: (7.9, 7.3), 9: (8.9, 8.2), 12: (9.6, 8.9), 18: (10.9, 10.2),
          24: (12.2, 11.5)}


@dataclass(frozen=True)
class Contribution:
    amount_rp: int
    received_on: date
    method: str
    reference: str


@dataclass
class Donor:
    key: str
    name: str
    donor_type: str
    contact: str | None
    pledges: list[int] = field(default_factory=list)
    contributions: list[Contribution] = field(default_factory=list)
    allocated_rp: int = 0


@dataclass(frozen=True)
class Sponsorship:
    donor_key: str
    amount_rp: int
    start_date: date


@dataclass(frozen=True)
class Delivery:
    """Days from the plan's start; the plan's start comes from aid (the day of enrolment)."""

    offset: int
    days: int
    value_rp: int
    items: tuple[tuple[str, float, str], ...]
    confirmed: bool
    photo: bool


@dataclass(frozen=True)
class Intervention:
    kind: str
    description: str
    done_on: date
    value_rp: int


@dataclass(frozen=True)
class Growth:
    child: str  # the member's name (unique in the family)
    measured_on: date
    weight_kg: float
    length_cm: float


@dataclass
class Family:
    key: str
    kelurahan_code: str
    body: dict[str, Any]
    decision: str | None  # approve | reject | None (awaiting the lurah)
    note: str | None = None
    sponsorships: list[Sponsorship] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    interventions: list[Intervention] = field(default_factory=list)
    growth: list[Growth] = field(default_factory=list)
    exit_reason: str | None = None
    home_visit: bool = False  # a child gained no weight in two months (aid flags it); a kader visits

    @property
    def stalled(self) -> bool:
        """A child weighs no more today than two months before: aid flags the child for a home visit."""
        by_child: dict[str, list[Growth]] = {}
        for g in self.growth:
            by_child.setdefault(g.child, []).append(g)
        return self.decision == "approve" and any(
            len(gs) > 1 and (gs[-1].measured_on - gs[0].measured_on).days >= NO_GAIN_DAYS
            and gs[-1].weight_kg <= gs[0].weight_kg for gs in by_child.values())

    @property
    def gets_a_plan(self) -> bool:
        return self.decision == "approve" and sum(s.amount_rp for s in self.sponsorships) >= PLAN_MINIMUM_RP


@dataclass(frozen=True)
class Session:
    key: str
    kelurahan_code: str
    topic: str
    held_on: date
    family_keys: tuple[str, ...]
    facilitator: str


@dataclass
class Dataset:
    seed: int
    anchor: date
    donors: list[Donor]
    families: list[Family]
    sessions: list[Session]

    def sizes(self) -> dict[str, int]:
        fams = self.families
        return {
            "families": len(fams),
            "kelurahan": len({f.kelurahan_code for f in fams}),
            "approved": sum(f.decision == "approve" for f in fams),
            "rejected": sum(f.decision == "reject" for f in fams),
            "awaiting_verification": sum(f.decision is None for f in fams),
            "donors": len(self.donors),
            "contributions": sum(len(d.contributions) for d in self.donors),
            "pledges": sum(len(d.pledges) for d in self.donors),
            "sponsored": sum(bool(f.sponsorships) for f in fams),
            "sponsorships": sum(len(f.sponsorships) for f in fams),
            "plans": sum(f.gets_a_plan for f in fams),
            "deliveries": sum(len(f.deliveries) for f in fams),
            "confirmations": sum(d.confirmed for f in fams for d in f.deliveries),
            "interventions": sum(len(f.interventions) for f in fams),
            "growth_measurements": sum(len(f.growth) for f in fams),
            "home_visits_flagged": sum(f.stalled for f in fams),
            "home_visits": sum(f.home_visit for f in fams),
            "education_sessions": len(self.sessions),
            "exits": sum(f.exit_reason is not None for f in fams),
        }

    def requests(self) -> int:
        """POSTs the loader sends (the progress line's total)."""
        s = self.sizes()
        return (s["donors"] + s["contributions"] + s["pledges"] + s["families"] + s["approved"] + s["rejected"]
                + s["sponsorships"] + s["deliveries"] + s["confirmations"] + s["interventions"]
                + s["growth_measurements"] + s["home_visits"] + s["education_sessions"] + s["exits"])


def build(families: int = DEFAULT_FAMILIES, *, anchor: date, seed: int = SEED) -> Dataset:
    """The demo programme: the same arguments give the same dataset, to the last rupiah."""
    if families < 1:
        raise ValueError("the demo needs at least one family")
    rng = random.Random(f"genting-demo-{seed}")
    used: set[str] = set()
    weights = [rng.uniform(0.4, 2.2) for _ in KELURAHAN]  # some kelurahan have many more KRS
    fams = []
    for i in range(families):
        kel = KELURAHAN[i] if i < len(KELURAHAN) else rng.choices(KELURAHAN, weights)[0]
        fams.append(family(rng, i, kel, anchor, used))
    donors = _donors(rng, families, anchor)
    _sponsor(rng, fams, donors, anchor)
    _contributions(rng, donors, anchor)
    for fam in fams:
        if fam.gets_a_plan:
            _aid(rng, fam, anchor)
    return Dataset(seed, anchor, donors, fams, _sessions(rng, fams, anchor))


def _name(rng: random.Random, given: tuple[str, ...]) -> str:
    return f"{rng.choice(given)} {rng.choice(WOMEN_SECOND if given is WOMEN else MEN_SECOND)}"


def _person(rng: random.Random, used: set[str], region: str, born: date, sex: str, serials: range) -> str:
    while (number := nik(born, sex, rng.choice(serials), region)) in used:
        pass
    used.add(number)
    return number


def family(rng: random.Random, i: int, kel: Kelurahan, anchor: date, used: set[str],
           serials: range = SERIALS) -> Family:
    """One KRS family of that kelurahan, registered on `anchor`; `used` keeps NIK/KK numbers unique."""
    code, kelurahan = kel.code, kel.name
    region = "3375" + code[6:8]  # Kota Pekalongan, the family's kecamatan
    mother_age = rng.choice((17, 18, 19, 21, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 35, 36, 38, 41))
    mother_born = anchor - timedelta(days=mother_age * 365 + rng.randrange(30, 330))
    father_born = mother_born - timedelta(days=rng.randrange(300, 3000))
    father, mother = _name(rng, MEN), _name(rng, WOMEN)
    shape = rng.choices(("baby", "pregnant", "pregnant_with_baby", "baby_no_mother"), (60, 20, 12, 8))[0]
    members: list[dict[str, Any]] = [
        {"name": father, "nik": _person(rng, used, region, father_born, "M", serials), "role": "other",
         "birth_date": father_born.isoformat(), "sex": "M"}]
    if shape != "baby_no_mother":  # the mother works away, a grandmother cares for the baby
        role = "breastfeeding_mother" if shape == "baby" else "pregnant_mother"
        mom: dict[str, Any] = {"name": mother, "nik": _person(rng, used, region, mother_born, "F", serials),
                               "role": role, "birth_date": mother_born.isoformat(), "sex": "F"}
        if role == "pregnant_mother":
            mom["expected_delivery_date"] = (anchor + timedelta(days=rng.randrange(20, 240))).isoformat()
        members.append(mom)
    if shape != "pregnant":
        sex = rng.choice("MF")
        born = anchor - timedelta(days=rng.randrange(10, 700))
        baby_nik = _person(rng, used, region, born, sex, serials) if rng.random() < 0.7 else None  # newborns: pending
        name = f"{rng.choice(GIRLS if sex == 'F' else BOYS)} {father.split()[0]}"
        members.append({"name": name, "nik": baby_nik, "role": "baduta", "birth_date": born.isoformat(), "sex": sex})
    risks = set(rng.sample(RISKS[:4], rng.choice((1, 1, 2, 2, 3))))
    if shape != "baby_no_mother" and mother_age < 20:
        risks.add("mother_too_young")
    if shape != "baby_no_mother" and mother_age >= 35:
        risks.add("mother_too_old")
    if shape == "pregnant_with_baby":
        risks.add("births_too_close")
    while (card := kk(anchor - timedelta(days=rng.randrange(200, 5000)), rng.choice(serials), region)) in used:
        pass
    used.add(card)
    rt, rw = rng.randrange(1, 9), rng.randrange(1, 12)
    body = {
        "kk_number": card, "head_name": father,
        "address": f"{rng.choice(STREETS)} Gg. {rng.randrange(1, 15)} No. {rng.randrange(1, 120)}, "
                   f"RT {rt:02d}/RW {rw:02d}, {kelurahan}",
        "kelurahan_code": code, "members": members, "risk_factors": sorted(risks), "consent": True,
    }
    roll = rng.random()
    decision = "reject" if roll < 0.05 else None if roll < 0.11 else "approve"
    fam = Family(f"F{i:04d}", code, body, decision, rng.choice(REJECTIONS) if decision == "reject" else None)
    if decision != "reject":
        stalls = decision == "approve" and rng.random() < 0.08
        for baby in (m for m in members if m["role"] == "baduta"):
            fam.growth += _measurements(rng, baby, anchor, stalls)
        fam.home_visit = fam.stalled and rng.random() < 0.5
    return fam


def _lookup(table: Mapping[int, tuple[float, ...]], months: float, column: int) -> float:
    """Linear interpolation in a table by age in months."""
    keys = sorted(table)
    low = max(k for k in keys if k <= months)
    high = min((k for k in keys if k >= months), default=low)
    if high == low:
        return table[low][column]
    share = (months - low) / (high - low)
    return table[low][column] + share * (table[high][column] - table[low][column])


def _measurements(rng: random.Random, baby: dict[str, Any], anchor: date, stalls: bool) -> list[Growth]:
    """The child's card at the posyandu: a measurement nine weeks ago (if born by then) and one
    today. A child who `stalls` weighs no more today than then."""
    born, girl = date.fromisoformat(baby["birth_date"]), baby["sex"] == "F"
    z = max(-3.8, min(1.8, rng.gauss(-1.1, 1.0)))  # about a quarter stunted (haz < -2)
    out: list[Growth] = []
    for when in sorted({max(born + timedelta(days=3), anchor - timedelta(days=63)), anchor}):
        months = (when - born).days / 30.4375
        median = _lookup(LENGTH, months, 2 if girl else 0)
        sd = _lookup(LENGTH, months, 3 if girl else 1)
        weight = round(_lookup(WEIGHT, months, 1 if girl else 0) * (1 + 0.08 * z), 1)
        if stalls and out:
            weight = round(out[0].weight_kg - rng.choice((0.0, 0.1, 0.2)), 1)
        out.append(Growth(baby["name"], when, weight, round(median + z * sd, 1)))
        z += rng.gauss(0.15, 0.2)  # the food helps, slowly
    return out


def _donors(rng: random.Random, families: int, anchor: date) -> list[Donor]:
    donors = []
    for n in range(max(6, families // 4)):  # civil servants give from their salary, as individuals
        title = rng.choice(("", "", "dr. ", "Drs. ", "Hj. ", "H. "))
        donors.append(Donor(f"ind{n:03d}", f"{title}{_name(rng, rng.choice((WOMEN, MEN)))} "
                                            f"(ASN {rng.choice(CIVIL_SERVICE)})", "individual",
                            f"0812-{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}"))
    for donor_type, names in DONORS.items():
        count = len(names) if donor_type != "community" else min(len(names), max(3, families // 25))
        for n, name in enumerate(names[:count]):
            contact = f"csr@{name.split()[1].lower()}.example" if donor_type in INSTITUTIONS else None
            donors.append(Donor(f"{donor_type}{n:02d}", name, donor_type, contact))
    return donors


def _sponsor(rng: random.Random, fams: list[Family], donors: list[Donor], anchor: date) -> None:
    """Who sponsors whom: most enrolled families fully (several sponsors for some), a few only in
    part (the funding gap), a few not yet."""
    by_type: dict[str, list[Donor]] = {}
    for d in donors:
        by_type.setdefault(d.donor_type, []).append(d)
    def pick(*types: str) -> Donor:
        return rng.choice(by_type[rng.choice(types)])

    for fam in (f for f in fams if f.decision == "approve"):
        pattern = rng.choices(("none", "part", "one", "two", "three"), (6, 5, 40, 35, 14))[0]
        shares: list[tuple[Donor, int]] = {
            "none": [],
            "part": [(pick("individual", "community"), 1_350_000)],
            "one": [(pick(*INSTITUTIONS), rng.choice((2_700_000, 2_700_000, 2_880_000, 3_150_000)))],
            "two": [(pick("individual"), 1_350_000), (pick("individual", "community"), 1_350_000)],
            "three": [(pick("community"), 1_200_000), (pick("individual"), 900_000), (pick("individual"), 600_000)],
        }[pattern]
        start = anchor - timedelta(days=rng.randrange(0, 21))  # the plan starts at enrolment anyway
        for donor, amount in shares:
            donor.allocated_rp += amount
            fam.sponsorships.append(Sponsorship(donor.key, amount, start))


def _contributions(rng: random.Random, donors: list[Donor], anchor: date) -> None:
    """Money received covers what is allocated, with some to spare; some donors pledge more."""
    for d in donors:
        spare = rng.choice((0, 0, 1, 2, 3)) * 450_000
        total = d.allocated_rp + spare
        if d.donor_type == "individual":  # a salary deduction every month, in round amounts
            months = rng.choice((3, 4, 6))
            monthly = -(-total // months // 50_000) * 50_000
            left = total
            for m in range(months):
                amount = min(monthly, left) if m < months - 1 else left
                day = anchor - timedelta(days=30 * (months - m) - 1)
                if amount > 0:
                    d.contributions.append(Contribution(amount, day, "transfer", f"POTGAJI/{day:%Y%m%d}/{d.key}"))
                left -= amount
        elif total:
            parts = 1 if total < 5_000_000 else 2
            for p in range(parts):
                amount = total // parts + (total % parts if p == parts - 1 else 0)
                day = anchor - timedelta(days=rng.randrange(5, 60))
                method = "cash" if d.donor_type == "community" else "transfer"
                d.contributions.append(Contribution(amount, day, method, f"TRF/{day:%Y%m%d}/{d.key}-{p + 1}"))
        if d.donor_type != "individual" and rng.random() < 0.5:
            d.pledges.append(total + rng.choice((1, 2, 5, 10)) * PLAN_MINIMUM_RP)


def _aid(rng: random.Random, fam: Family, anchor: date) -> None:
    """A few weekly food packages from the plan's first day, sometimes a week skipped (a gap)."""
    weeks = rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 6))
    skipped = rng.randrange(1, weeks) if weeks >= 3 and rng.random() < 0.2 else None
    daily = rng.choice((15_000, 15_000, 15_500, 16_000, 17_500))
    for week in range(weeks + (skipped is not None)):
        if week == skipped:
            continue
        foods = rng.sample(FOODS, rng.randrange(3, 6))
        items = tuple((name, qty, unit) for name, unit, qty in foods)
        confirmed = rng.random() < (0.55 if week == weeks - 1 else 0.9)
        fam.deliveries.append(Delivery(7 * week, 7, 7 * daily, items, confirmed, confirmed and rng.random() < 0.6))
    if rng.random() < 0.2:
        kind, description, value = rng.choice(INTERVENTIONS)
        fam.interventions.append(Intervention(kind, description, anchor - timedelta(days=rng.randrange(0, 20)), value))
    if rng.random() < 0.025:
        fam.exit_reason = rng.choice(("moved_away", "moved_away", "consent_withdrawn"))


def _sessions(rng: random.Random, fams: list[Family], anchor: date) -> list[Session]:
    """Posyandu classes: one to three per kelurahan for the families receiving aid there."""
    sessions = []
    for kel in KELURAHAN:
        here = [f.key for f in fams if f.kelurahan_code == kel.code and f.gets_a_plan]
        if not here:
            continue
        for n in range(rng.choice((1, 2, 2, 3))):
            families = tuple(sorted(rng.sample(here, max(1, round(len(here) * rng.uniform(0.5, 1.0))))))
            facilitator = rng.choice((f"Bidan {_name(rng, WOMEN)}", f"Kader Posyandu {kel.name}",
                                      f"Tim Pendamping Keluarga {kel.name}", f"Ahli gizi Puskesmas {kel.name}"))
            sessions.append(Session(f"S{kel.code}-{n}", kel.code, rng.choice(TOPICS),
                                    anchor - timedelta(days=rng.randrange(0, 28)), families, facilitator))
    return sessions


# -- the loader ---------------------------------------------------------------------------------


class DatasetChanged(Exception):
    """The services hold a demo loaded from another dataset (the demo's code changed since)."""


@dataclass
class Tally:
    """What happened to the requests sent: accepted, replayed (a stored response), refused."""

    sent: int = 0
    accepted: int = 0
    replayed: int = 0
    waits: int = 0  # retried while an event was still on its way to the service that needs it
    refused: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def refuse(self, response: httpx.Response, what: str) -> str:
        reason = reason_of(response)
        self.refused[reason] += 1
        if len(self.examples) < 5:
            self.examples.append(f"{what}: {reason}: {problem_detail(response)}")
        return reason


def reason_of(response: httpx.Response) -> str:
    """`422 Invalid input (validation)`: status, title and the problem type's last segment."""
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code}"
    kind = str(body.get("type", "")).rsplit("/", 1)[-1]
    return f"{response.status_code} {body.get('title', '')}" + (f" ({kind})" if kind and kind != "about:blank" else "")


def problem_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    errors = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in body.get("errors") or [])
    return errors or str(body.get("detail", ""))


class Api:
    """The four services over HTTP: bounded requests in flight, a token per caller, every POST
    with an Idempotency-Key (so a retry after a network error is safe), outcomes tallied."""

    def __init__(self, urls: dict[str, str], secret: str, *, concurrency: int = 8, sub: str = "demo") -> None:
        self.urls = {name: url.rstrip("/") for name, url in urls.items()}
        self.secret = secret
        self.sub = sub
        self.slots = asyncio.Semaphore(concurrency)
        self.http = httpx.AsyncClient(timeout=60.0, limits=httpx.Limits(max_connections=4 * concurrency))
        self.tokens: dict[tuple[str, str | None], str] = {}
        self.tally = Tally()

    async def close(self) -> None:
        await self.http.aclose()

    def headers(self, role: str, kelurahan: str | None = None) -> dict[str, str]:
        if (role, kelurahan) not in self.tokens:
            sub = f"{self.sub}-{role}" + (f"-{kelurahan}" if kelurahan else "")
            self.tokens[role, kelurahan] = issue_token(self.secret, role=role, sub=sub, kelurahan=kelurahan,
                                                       ttl_seconds=24 * 3600)
        return {"Authorization": f"Bearer {self.tokens[role, kelurahan]}"}

    async def send(self, method: str, service: str, path: str, *, role: str, kelurahan: str | None = None,
                   key: str | None = None, body: Any = None, params: dict[str, Any] | None = None) -> httpx.Response:
        headers = self.headers(role, kelurahan)
        if key is not None:
            headers["Idempotency-Key"] = key
        url = self.urls[service] + path
        for attempt in range(1, 5):
            try:
                async with self.slots:
                    return await self.http.request(method, url, json=body, params=params, headers=headers)
            except httpx.TransportError:
                if attempt == 4 or (method == "POST" and key is None):
                    raise
            await asyncio.sleep(0.25 * attempt)
        raise AssertionError("unreachable")

    async def command(self, service: str, path: str, body: Any, *, role: str, key: str,
                      kelurahan: str | None = None, wait_for: str | None = None, timeout: float = 60.0,
                      expect: tuple[int, ...] = (200, 201)) -> httpx.Response:
        """POST and count the outcome. `wait_for`: a problem type meaning "an event this service
        needs has not reached it yet" (409 FamilyNotSponsorable before funding has read the
        enrolment, say), retried with the same key until `timeout`; so is a concurrency conflict
        that outlasted the service's own retries (many sponsorships of one donor at once).
        Anything else refused is tallied and returned."""
        deadline = time.monotonic() + timeout
        pause = 0.02
        retry_on = {f"({RETRY_ALWAYS})"} | ({f"({wait_for})"} if wait_for else set())
        while True:
            response = await self.send("POST", service, path, role=role, kelurahan=kelurahan, key=key, body=body)
            waiting = response.status_code in (404, 409, 422) and time.monotonic() < deadline \
                and any(reason_of(response).endswith(kind) for kind in retry_on)
            if not waiting:
                break
            self.tally.waits += 1
            await asyncio.sleep(pause * random.uniform(0.5, 1.5))  # jitter: racing writers spread out
            pause = min(pause * 2, 0.5)
        self.tally.sent += 1
        if response.status_code in expect:
            self.tally.accepted += 1
            if response.headers.get("Idempotent-Replayed") == "true":
                self.tally.replayed += 1
        return response

    async def get(self, service: str, path: str, *, role: str = "admin", kelurahan: str | None = None,
                  params: dict[str, Any] | None = None) -> Any:
        response = await self.send("GET", service, path, role=role, kelurahan=kelurahan, params=params)
        response.raise_for_status()
        return response.json()

    async def wait_for_plan(self, family_id: str, timeout: float = 60.0) -> dict[str, Any] | None:
        """Aid's plan for the family, once aid has read the enrolment and the sponsorships."""
        deadline = time.monotonic() + timeout
        pause = 0.02
        while True:
            items = (await self.get("aid", "/plans", params={"family_id": family_id}))["items"]
            if items:
                plan: dict[str, Any] = items[0]
                return plan
            if time.monotonic() > deadline:
                return None
            self.tally.waits += 1
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.5)


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
        line = (f"{self.label} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{self.total} "
                f"{note} {time.monotonic() - self.started:.0f} s")
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
    seconds: float
    reporting_caught_up: bool


async def load(dataset: Dataset, urls: dict[str, str], secret: str, *, concurrency: int = 8,
               out: TextIO | None = None) -> LoadReport:
    """Send the dataset through the services' HTTP APIs; safe to run again (it then only replays)."""
    api = Api(urls, secret, concurrency=concurrency, sub="demo")
    progress = ProgressLine("demo", dataset.requests(), out)
    started = time.monotonic()
    prefix = f"demo:{dataset.seed}:{dataset.anchor.isoformat()}"
    donor_ids: dict[str, str] = {}
    family_ids: dict[str, str] = {}
    families_done = 0

    def tick() -> None:
        t = api.tally
        progress.update(t.sent, f"requests · {families_done}/{len(dataset.families)} families · "
                                f"{sum(t.refused.values())} refused ·")

    async def created(service: str, path: str, body: Any, *, role: str, key: str, id_field: str,
                      kelurahan: str | None = None, wait_for: str | None = None) -> str | None:
        response = await api.command(service, path, body, role=role, key=f"{prefix}:{key}", kelurahan=kelurahan,
                                     wait_for=wait_for)
        tick()
        if response.status_code not in (200, 201):
            if response.status_code == 422 and "already used for a different request" in response.text:
                raise DatasetChanged(f"{key} was loaded before with other data: this data dir holds the demo of "
                                     "an earlier version; start from a fresh --data-dir to load this one")
            api.tally.refuse(response, key)
            return None
        return str(response.json()[id_field]) if id_field else ""

    async def donor(d: Donor) -> None:
        donor_id = await created("funding", "/donors", {"name": d.name, "donor_type": d.donor_type,
                                 "contact": d.contact}, role="admin", key=f"donor:{d.key}", id_field="donor_id")
        if donor_id is None:
            return
        donor_ids[d.key] = donor_id
        for n, amount in enumerate(d.pledges):
            await created("funding", f"/donors/{donor_id}/pledges", {"amount_rp": amount, "note": "janji tahun 2025"},
                          role="admin", key=f"pledge:{d.key}:{n}", id_field="pledge_id")
        for n, c in enumerate(d.contributions):
            await created("funding", f"/donors/{donor_id}/contributions",
                          {"amount_rp": c.amount_rp, "received_on": c.received_on.isoformat(), "method": c.method,
                           "reference": c.reference}, role="agency", key=f"contribution:{d.key}:{n}",
                          id_field="contribution_id")

    async def family(f: Family) -> None:
        nonlocal families_done
        try:
            await _family_story(f)
        finally:
            families_done += 1
            tick()

    async def _family_story(f: Family) -> None:
        code = f.kelurahan_code
        family_id = await created("registry", "/families", f.body, role="kader", kelurahan=code,
                                  key=f"family:{f.key}", id_field="family_id")
        if family_id is None:
            return
        family_ids[f.key] = family_id
        if f.decision is not None:
            await created("registry", f"/families/{family_id}/verification", {"decision": f.decision, "note": f.note},
                          role="lurah", kelurahan=code, key=f"verify:{f.key}", id_field="")
        sponsored = 0
        for n, s in enumerate(f.sponsorships):
            sponsored += await created(
                "funding", "/sponsorships", {"donor_id": donor_ids.get(s.donor_key), "family_id": family_id,
                "amount_rp": s.amount_rp, "start_date": s.start_date.isoformat()}, role="admin",
                key=f"sponsor:{f.key}:{n}", id_field="sponsorship_id", wait_for="FamilyNotSponsorable") is not None
        if f.gets_a_plan and sponsored == len(f.sponsorships):
            await _aid_story(f, family_id)
        if f.growth:
            members = (await api.get("registry", f"/families/{family_id}"))["members"]
            ids = {m["name"]: m["member_id"] for m in members}
            for n, g in enumerate(f.growth):
                await created("registry", f"/families/{family_id}/growth-measurements",
                              {"member_id": ids.get(g.child), "measured_on": g.measured_on.isoformat(),
                               "weight_kg": g.weight_kg, "length_cm": g.length_cm}, role="kader", kelurahan=code,
                              key=f"growth:{f.key}:{n}", id_field="measurement_id")
        if f.home_visit:
            await _home_visit(f, family_id)

    async def _home_visit(f: Family, family_id: str) -> None:
        """Aid flags the child from the registry's GrowthMeasured; the kader then visits."""
        deadline = time.monotonic() + 60
        while not (flags := (await api.get("aid", "/home-visits", params={"family_id": family_id}))["items"]):
            if time.monotonic() > deadline:
                api.tally.refused["home visit never flagged"] += 1
                return
            api.tally.waits += 1
            await asyncio.sleep(0.1)
        flag = flags[0]
        await created("aid", f"/home-visits/{flag['flag_id']}/visit",
                      {"visited_on": flag["flagged_on"], "note": "Ibu diajari MP-ASI bergizi; anak dirujuk ke bidan"},
                      role="kader", kelurahan=f.kelurahan_code, key=f"visit:{f.key}", id_field="")

    async def _aid_story(f: Family, family_id: str) -> None:
        code = f.kelurahan_code
        plan = await api.wait_for_plan(family_id)
        if plan is None:
            api.tally.refused["plan never opened"] += 1
            return
        start = date.fromisoformat(plan["start_date"])
        delivered = []
        for n, d in enumerate(f.deliveries):
            body = {"period_from": (start + timedelta(days=d.offset)).isoformat(),
                    "period_to": (start + timedelta(days=d.offset + d.days - 1)).isoformat(),
                    "value_rp": d.value_rp, "items": [{"name": name, "quantity": qty, "unit": unit}
                                                      for name, qty, unit in d.items],
                    "delivered_on": start.isoformat()}  # handed over on the plan's first day
            delivery_id = await created("aid", f"/plans/{plan['plan_id']}/deliveries", body, role="kader",
                                        kelurahan=code, key=f"delivery:{f.key}:{n}", id_field="delivery_id")
            delivered.append((n, d, delivery_id))
        for n, d, delivery_id in delivered:
            if d.confirmed and delivery_id:
                photo = {"photo_ref": f"s3://genting-proof/demo/{f.key}/minggu-{n + 1}.jpg"} if d.photo else {}
                await created("aid", f"/deliveries/{delivery_id}/confirmation", photo, role="lurah", kelurahan=code,
                              key=f"confirm:{f.key}:{n}", id_field="")
        for n, i in enumerate(f.interventions):
            await created("aid", f"/plans/{plan['plan_id']}/interventions",
                          {"kind": i.kind, "description": i.description, "done_on": i.done_on.isoformat(),
                           "value_rp": i.value_rp}, role="kader", kelurahan=code, key=f"intervention:{f.key}:{n}",
                          id_field="intervention_id")

    async def session(s: Session) -> None:
        ids = [family_ids[k] for k in s.family_keys if k in family_ids]
        if ids:
            await created("aid", "/education-sessions", {"topic": s.topic, "held_on": s.held_on.isoformat(),
                          "kelurahan_code": s.kelurahan_code, "family_ids": ids, "facilitator": s.facilitator},
                          role="kader", kelurahan=s.kelurahan_code, key=f"session:{s.key}", id_field="session_id")

    async def leave(f: Family) -> None:
        if f.key in family_ids:
            await created("registry", f"/families/{family_ids[f.key]}/exit", {"reason": f.exit_reason},
                          role="lurah", kelurahan=f.kelurahan_code, key=f"exit:{f.key}", id_field="")

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
    return LoadReport(dataset.sizes(), api.tally, time.monotonic() - started, caught_up)


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


async def _reporting_caught_up(api: Api, dataset: Dataset, timeout: float = 60.0) -> bool:
    """True once reporting counts at least what the demo sent (events travel asynchronously)."""
    sizes = dataset.sizes()
    deadline = time.monotonic() + timeout
    while True:
        progress = await api.get("reporting", "/progress")
        aid = await api.get("reporting", "/aid")
        if (progress["registered"] >= sizes["families"] and aid["deliveries"] >= sizes["deliveries"]
                and aid["confirmed_deliveries"] >= sizes["confirmations"]
                and progress["exited"] >= sizes["exits"]
                and aid.get("home_visits_done", 0) >= sizes["home_visits"]):
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)


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
            note = (f"this data dir holds the demo with {size} families (loaded {anchor}); loading that one "
                    f"again. For {families} families, use a fresh --data-dir.")
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
        f"there, {sum(t.refused.values())} refused",
    ]
    for reason, count in t.refused.most_common():
        lines.append(f"  refused {count}× {reason}")
    lines += [f"  e.g. {example}" for example in t.examples]
    if not report.reporting_caught_up:
        lines.append("demo: reporting has not caught up yet; the dashboard will fill in shortly")
    lines.append(f"Dashboard: {dashboard}")
    return "\n".join(lines)
