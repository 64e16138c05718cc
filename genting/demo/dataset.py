"""The Pekalongan demo's dataset: a deterministic programme, a pure function of (seed, number of
families, anchor day). A seeded `random.Random`, fixed name lists, no fresh ids, no clock, no I/O:
the same arguments give the same dataset to the last rupiah, so a later `up --demo` rebuilds the
very same requests (the loader, `loader.py`, sends them).

The services' clocks are real and the registry stamps an enrolment with the day of the lurah's
approval, so every plan starts on the day of the first load (the anchor): deliveries cover the
plan's first weeks from that day on (food packages handed over that day). Money received,
pledges, growth measurements (from the posyandu cards) and education sessions are dated in the
weeks before.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from services.registry.reference import KELURAHAN, Kelurahan
from shared.testing.registry_examples import kk, nik

SEED = 2025
DEFAULT_FAMILIES = 300
DAILY_MINIMUM_RP = 15_000
PLAN_MINIMUM_RP = 180 * DAILY_MINIMUM_RP  # Rp2,700,000 opens a plan (aid's default policy)
NO_GAIN_DAYS = 60  # aid flags a child for a home visit who gained no weight in this many days
SERIALS = range(7000, 9998)  # the NIK/KK serials the demo uses; tests and the README use low ones

# Names are common Javanese ones; every donor and person is fictional.
WOMEN = (
    "Siti",
    "Sri",
    "Dewi",
    "Nur",
    "Rina",
    "Ayu",
    "Fitri",
    "Wulan",
    "Ratna",
    "Indah",
    "Lestari",
    "Umi",
    "Khasanah",
    "Aminah",
    "Rohmah",
    "Nurul",
    "Eka",
    "Dwi",
    "Mega",
    "Laila",
    "Anisa",
    "Putri",
    "Yuni",
    "Tutik",
)
MEN = (
    "Ahmad",
    "Muhammad",
    "Budi",
    "Agus",
    "Slamet",
    "Joko",
    "Eko",
    "Hadi",
    "Rudi",
    "Arif",
    "Fajar",
    "Imam",
    "Rizki",
    "Wahyu",
    "Yusuf",
    "Hendra",
    "Taufik",
    "Bambang",
    "Sugeng",
    "Teguh",
    "Nur Hasan",
    "Khoirul",
)
WOMEN_SECOND = (
    "Rahmawati",
    "Wahyuni",
    "Handayani",
    "Susanti",
    "Khotijah",
    "Aini",
    "Maesaroh",
    "Fadilah",
    "Lestari",
    "Safitri",
    "Zulaikha",
    "Masruroh",
)
MEN_SECOND = (
    "Santoso",
    "Setiawan",
    "Hidayat",
    "Saputra",
    "Prasetyo",
    "Kurniawan",
    "Mubarok",
    "Ma'ruf",
    "Zaenal",
    "Fauzi",
    "Nugroho",
    "Rifai",
)
GIRLS = ("Aisyah", "Nabila", "Kirana", "Salsabila", "Naura", "Keisha", "Nayla", "Raisa", "Syifa", "Alya")
BOYS = ("Alif", "Rafa", "Bagas", "Dimas", "Galih", "Arya", "Azka", "Fathan", "Zidan", "Hafiz", "Akbar")
STREETS = (
    "Jl. Dr. Sutomo",
    "Jl. Hayam Wuruk",
    "Jl. Diponegoro",
    "Jl. Merdeka",
    "Jl. Gajah Mada",
    "Jl. Kurinci",
    "Jl. Jlamprang",
    "Jl. Urip Sumoharjo",
    "Jl. Kusuma Bangsa",
    "Jl. Slamet",
    "Jl. Sriwijaya",
    "Jl. Bandeng",
)
RISKS = (
    "unsafe_drinking_water",
    "no_proper_latrine",
    "uninhabitable_house",
    "poor",
    "births_too_close",
    "too_many_children",
)
FOODS = (
    ("beras", "kg", 5.0),
    ("telur ayam", "butir", 14.0),
    ("ikan bandeng", "kg", 1.0),
    ("susu UHT", "kotak", 7.0),
    ("tempe", "papan", 3.0),
    ("sayur bayam", "ikat", 4.0),
    ("kacang hijau", "kg", 0.5),
    ("daging ayam", "kg", 1.0),
    ("tahu", "potong", 10.0),
    ("pisang", "sisir", 1.0),
    ("paket lauk Dashat", "porsi", 7.0),
)
CIVIL_SERVICE = (
    "Dinas Kesehatan",
    "Dinas Pendidikan",
    "Dinsos P2KB",
    "Bappeda",
    "RSUD Bendan",
    "Kecamatan",
    "Dinas Perdagangan",
    "BPKAD",
    "Setda",
    "Puskesmas",
)
DONORS: dict[str, tuple[str, ...]] = {  # institutional donors by type (fictional)
    "community": (
        "Paguyuban Pedagang Pasar Banjarsari",
        "Majelis Taklim Al-Hikmah Kauman",
        "Komunitas Batik Muda Pekalongan",
        "Ikatan Bidan Ranting Pekalongan Utara",
        "Karang Taruna Panjang Wetan",
        "Paguyuban Nelayan Krapyak",
        "Jamaah Masjid Jami' Setono",
        "Forum Warga Degayu",
        "Paguyuban Perajin Canting Jenggot",
        "Arisan PKK RW 05 Podosugih",
        "Komunitas Pesepeda Kota Batik",
        "Alumni SMA Kota Batik Peduli",
    ),
    "bumd": ("Perumda Tirta Batik", "Perumda BPR Bank Kota Batik", "Perumda Pasar Kota Batik"),
    "csr": (
        "PT Batik Pesisir Nusantara",
        "PT Tekstil Kota Batik",
        "PT Perikanan Samudra Pantura",
        "CV Sarung Pekalongan Jaya",
        "PT Mie Sehat Pekalongan",
        "Hotel Dinasti Batik",
        "PT Galangan Kapal Pantura",
        "PT Kopi Pesisir Utara",
    ),
    "bumn": ("Bank BUMN Cabang Pekalongan", "PLN-UP3 Pekalongan (CSR BUMN)"),
    "university": ("Universitas Kota Batik", "Politeknik Pantura"),
    "media": ("Radio Suara Kota Batik", "Harian Pantura Pos"),
    "other": ("Lembaga Amil Zakat Kota Batik", "Yayasan Peduli Anak Pesisir", "Koperasi Perajin Batik Setono"),
}
INSTITUTIONS = ("csr", "bumd", "bumn", "university", "media", "other")
TOPICS = ("nutrition", "hygiene", "clean_water", "early_marriage", "parenting", "breastfeeding")
INTERVENTIONS = (
    ("clean_water", "Tandon air dan saringan untuk air minum", 850_000),
    ("sanitation", "Jamban sehat dengan septic tank", 3_250_000),
    ("early_marriage_prevention", "Pendampingan remaja putri oleh PIK-R", 0),
    ("health_referral", "Rujukan ke Puskesmas untuk anemia ibu", 150_000),
)
REJECTIONS = (
    "Keluarga mampu, tidak memenuhi kriteria KRS",
    "Terdaftar ganda dengan KK lain",
    "Sudah pindah domisili sebelum verifikasi",
)
# WHO 2006 length-for-age, month: (boys median, boys SD, girls median, girls SD) and weight medians.
LENGTH = {
    0: (49.9, 1.9, 49.1, 1.9),
    3: (61.4, 2.1, 59.8, 2.1),
    6: (67.6, 2.2, 65.7, 2.3),
    9: (72.0, 2.4, 70.1, 2.5),
    12: (75.7, 2.5, 74.0, 2.6),
    18: (82.3, 2.8, 80.7, 2.9),
    24: (87.8, 3.1, 86.4, 3.2),
}
WEIGHT = {
    0: (3.3, 3.2),
    3: (6.4, 5.8),
    6: (7.9, 7.3),
    9: (8.9, 8.2),
    12: (9.6, 8.9),
    18: (10.9, 10.2),
    24: (12.2, 11.5),
}


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
            len(gs) > 1
            and (gs[-1].measured_on - gs[0].measured_on).days >= NO_GAIN_DAYS
            and gs[-1].weight_kg <= gs[0].weight_kg
            for gs in by_child.values()
        )

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
        return (
            s["donors"]
            + s["contributions"]
            + s["pledges"]
            + s["families"]
            + s["approved"]
            + s["rejected"]
            + s["sponsorships"]
            + s["deliveries"]
            + s["confirmations"]
            + s["interventions"]
            + s["growth_measurements"]
            + s["home_visits"]
            + s["education_sessions"]
            + s["exits"]
        )


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


def family(
    rng: random.Random, i: int, kel: Kelurahan, anchor: date, used: set[str], serials: range = SERIALS
) -> Family:
    """One KRS family of that kelurahan, registered on `anchor`; `used` keeps NIK/KK numbers unique."""
    code, kelurahan = kel.code, kel.name
    region = "3375" + code[6:8]  # Kota Pekalongan, the family's kecamatan
    mother_age = rng.choice((17, 18, 19, 21, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 35, 36, 38, 41))
    mother_born = anchor - timedelta(days=mother_age * 365 + rng.randrange(30, 330))
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
        "kk_number": card,
        "head_name": father,
        "address": f"{rng.choice(STREETS)} Gg. {rng.randrange(1, 15)} No. {rng.randrange(1, 120)}, "
        f"RT {rt:02d}/RW {rw:02d}, {kelurahan}",
        "kelurahan_code": code,
        "members": members,
        "risk_factors": sorted(risks),
        "consent": True,
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
            facilitator = rng.choice(
                (
                    f"Bidan {_name(rng, WOMEN)}",
                    f"Kader Posyandu {kel.name}",
                    f"Tim Pendamping Keluarga {kel.name}",
                    f"Ahli gizi Puskesmas {kel.name}",
                )
            )
            sessions.append(
                Session(
                    f"S{kel.code}-{n}",
                    kel.code,
                    rng.choice(TOPICS),
                    anchor - timedelta(days=rng.randrange(0, 28)),
                    families,
                    facilitator,
                )
            )
    return sessions
