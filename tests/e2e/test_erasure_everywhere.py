"""An erasure that reaches everywhere, on the four services as real processes.

Two families get a full history in all four services, every free-text field and name carrying
the family's own marker: registered (names, NIK, KK, address, birth dates), verified with a note,
weighed three months running without gain (so aid flags the child), sponsored with a note, a plan
opened by itself, a delivery confirmed with a photo reference, an intervention with a
description, the home visit with a note, an education session; every command sent with an
Idempotency-Key (its answer is kept), a few refused on purpose. Then the admin erases the first
family's personal data, and once aid and funding have consumed `PersonalDataErased` nothing
readable of it is left in any table of any database, any message of any stream, any service's
log, any read route's answer or any kept answer. The second family's texts are still shown, and the first family's
counts and history remain.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import nats
import pytest
from erasure_search import database_of, family_keys, hits, search_database, stream_texts

from shared.auth import issue_token
from shared.testing import TEST_SIGNING_KEY, wait_until
from shared.testing.registry_examples import kk, nik

pytestmark = pytest.mark.e2e

MEDONO = "33.75.01.1002"
SERVICES = ("registry", "funding", "aid", "reporting")


def today() -> date:
    """The services' own clock: the city's calendar day."""
    return datetime.now(ZoneInfo("Asia/Jakarta")).date()


TODAY = today()


def months_back(day: date, n: int) -> date:
    """The same day of the month `n` calendar months earlier (at most the 28th)."""
    month = day.month - n
    year = day.year + (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, min(day.day, 28))


WEIGHED = (months_back(TODAY, 2), months_back(TODAY, 1), TODAY)  # three monthly weighings
REGISTERED = WEIGHED[0] - timedelta(days=10)
PROGRAMME_START = TODAY - timedelta(days=120)


def bearer(role: str, kelurahan: str | None = None) -> dict[str, str]:
    token = issue_token(TEST_SIGNING_KEY, role=role, sub=f"{role}-erasure-e2e", kelurahan=kelurahan)
    return {"Authorization": f"Bearer {token}"}


ADMIN, KADER, LURAH = bearer("admin"), bearer("kader", MEDONO), bearer("lurah", MEDONO)
STAFF_TAG = f"ZQS{uuid4().hex[:10]}"  # the facilitator's and donor's: kept, never on the bus or in a log
DONOR = {"name": f"PT {STAFF_TAG} Batik", "donor_type": "csr", "contact": f"{STAFF_TAG}@example.id"}


@dataclass
class Family:
    """One family's story and what it wrote: `secrets` must vanish on its erasure."""

    tag: str  # in every name and free-text field of this family
    serial: int
    family_id: str = ""
    plan_id: str = ""
    tracking_code: str = ""
    photo_id: str = ""
    secrets: list[str] = field(default_factory=list)
    verification_note: str = ""  # kept by the registry, shown by no route
    # Every command sent (url, body, headers with its Idempotency-Key, the status it got): a retry
    # of an accepted one gets the kept answer. Some are refused on purpose (a taken KK, a member
    # without `sex`, a photo reference with a space, a note too long): what they sent must not
    # stay in a log or a table either.
    commands: list[tuple[str, dict[str, Any], dict[str, str], int]] = field(default_factory=list)


@pytest.fixture
async def urls(service_process: Any) -> dict[str, Any]:
    env = {"GENTING_PROGRAMME_START": PROGRAMME_START.isoformat()}
    started = await asyncio.gather(*(service_process(name, env=env) for name in SERVICES))
    return {svc.name: svc for svc in started}


async def send(
    http: httpx.AsyncClient,
    family: Family,
    url: str,
    body: dict[str, Any],
    headers: dict[str, str],
    refused: int | None = None,
) -> Any:
    """POST with an Idempotency-Key: accepted, or refused with the status `refused`."""
    headers = headers | {"Idempotency-Key": str(uuid4())}  # the client's, not the family's
    response = await http.post(url, json=body, headers=headers)
    assert response.status_code == refused if refused else response.status_code in (200, 201), response.text
    family.commands.append((url, body, headers, response.status_code))
    return response.json()


async def registered(http: httpx.AsyncClient, registry: str, family: Family) -> None:
    tag, serial = family.tag, family.serial
    mother_born, baby_born = (
        date(1991, 3, 1) + timedelta(days=37 * (serial % 100)),
        TODAY - timedelta(days=240 + serial % 10),
    )
    body: dict[str, Any] = {
        "kk_number": kk(REGISTERED, serial),
        "head_name": f"Bapak {tag} Kepala",
        "address": f"Jl. {tag} Gang Melati No. 7, Medono",
        "kelurahan_code": MEDONO,
        "members": [
            {
                "name": f"Ibu {tag} Ibunda",
                "nik": nik(mother_born, "F", serial),
                "role": "breastfeeding_mother",
                "birth_date": mother_born.isoformat(),
                "sex": "F",
            },
            {
                "name": f"Anak {tag} Bayi",
                "nik": nik(baby_born, "M", serial + 1),
                "role": "baduta",
                "birth_date": baby_born.isoformat(),
                "sex": "M",
            },
        ],
        "risk_factors": ["poor", "no_proper_latrine"],
        "consent": True,
        "registered_on": REGISTERED.isoformat(),
    }
    family.family_id = (await send(http, family, f"{registry}/families", body, KADER))["family_id"]
    await send(http, family, f"{registry}/families", body, KADER, refused=409)  # the KK is taken
    # A member without `sex`: a validator's message may echo the whole member (name, NIK, birth date).
    unsexed = {**body, "members": [{k: v for k, v in m.items() if k != "sex"} for m in body["members"]]}
    await send(http, family, f"{registry}/families", unsexed, KADER, refused=422)
    note = family.verification_note = f"Bu {tag} sudah dicek di rumah"
    verification = {"decision": "approve", "note": note, "decided_on": (REGISTERED + timedelta(days=1)).isoformat()}
    await send(http, family, f"{registry}/families/{family.family_id}/verification", verification, LURAH)
    members = body["members"]
    family.secrets += [body["kk_number"], body["head_name"], body["address"], note]
    family.secrets += [m[k] for m in members for k in ("name", "nik", "birth_date")]

    detail = (await http.get(f"{registry}/families/{family.family_id}", headers=ADMIN)).json()
    baby = next(m["member_id"] for m in detail["members"] if m["role"] == "baduta")
    for on, kg in zip(WEIGHED, (7.5, 7.5, 7.4), strict=True):  # no gain for two months: aid flags the child
        weighing = {"member_id": baby, "measured_on": on.isoformat(), "weight_kg": kg, "length_cm": 66.0}
        await send(http, family, f"{registry}/families/{family.family_id}/growth-measurements", weighing, KADER)


async def sponsored(http: httpx.AsyncClient, funding: str, family: Family, donor_id: str) -> None:
    note = f"Keluarga {family.tag}: anak kedua sering sakit"
    body: dict[str, Any] = {
        "donor_id": donor_id,
        "family_id": family.family_id,
        "amount_rp": 2_700_000,
        "start_date": TODAY.isoformat(),
        "note": note,
    }

    async def once_enrolled() -> bool:  # 409 until funding has read the enrolment
        response = await http.post(f"{funding}/sponsorships", json=body, headers=ADMIN)
        assert response.status_code in (201, 409), response.text
        return response.status_code == 201

    await wait_until(once_enrolled, 30, interval=0.2, message="funding knows the family")
    family.secrets.append(note)


async def aided(http: httpx.AsyncClient, aid: str, family: Family) -> None:
    async def plan() -> str | None:
        items = (await http.get(f"{aid}/plans", params={"family_id": family.family_id}, headers=ADMIN)).json()["items"]
        return items[0]["plan_id"] if items else None

    family.plan_id = await wait_until(plan, 30, interval=0.2, message="aid opens the plan")
    tag = family.tag
    week = {
        "period_from": TODAY.isoformat(),
        "period_to": (TODAY + timedelta(days=6)).isoformat(),
        "value_rp": 7 * 15_000,
        "items": [{"name": "telur ayam", "quantity": 14.0, "unit": "butir"}],
        "delivered_on": TODAY.isoformat(),
    }
    delivered = await send(http, family, f"{aid}/plans/{family.plan_id}/deliveries", week, KADER)
    photo = f"s3://genting-proof/{tag}/bukti-terima.jpg"
    confirm = f"{aid}/deliveries/{delivered['delivery_id']}/confirmation"
    await send(http, family, confirm, {"photo_ref": f"{photo} (foto {tag})"}, LURAH, refused=422)  # a space
    await send(http, family, confirm, {"photo_ref": photo}, LURAH)
    # A proof photo (bytes, not text: the search is for its id's route answering after the erasure).
    uploaded = await http.post(
        f"{aid}/deliveries/{delivered['delivery_id']}/photo",
        files={"photo": ("bukti.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + tag.encode() * 64, "image/jpeg")},
        headers=KADER,
    )
    assert uploaded.status_code == 201, uploaded.text
    family.photo_id = uploaded.json()["photo_id"]
    complaint = f"Paket keluarga {tag} tidak datang minggu ini"
    grievance = {"kelurahan_code": MEDONO, "category": "missed_delivery", "description": complaint}
    filed = await send(http, family, f"{aid}/grievances", {**grievance, "family_id": family.family_id}, KADER)
    family.tracking_code = filed["tracking_code"]
    family.secrets.append(complaint)
    description = f"Jamban sehat untuk rumah {tag}"
    intervention = {"kind": "sanitation", "description": description, "done_on": TODAY.isoformat(), "value_rp": 0}
    await send(http, family, f"{aid}/plans/{family.plan_id}/interventions", intervention, KADER)

    async def flag() -> str | None:
        query = {"family_id": family.family_id}
        items = (await http.get(f"{aid}/home-visits", params=query, headers=ADMIN)).json()["items"]
        return items[0]["flag_id"] if items else None

    flag_id = await wait_until(flag, 30, interval=0.2, message="aid flags the child for a home visit")
    note = f"Ibu {tag} kurang ASI; rujuk ke puskesmas"
    visit = f"{aid}/home-visits/{flag_id}/visit"
    await send(http, family, visit, {"visited_on": TODAY.isoformat(), "note": note * 60}, KADER, refused=422)
    await send(
        http, family, f"{aid}/home-visits/{flag_id}/visit", {"visited_on": TODAY.isoformat(), "note": note}, KADER
    )
    session = {
        "topic": "nutrition",
        "held_on": TODAY.isoformat(),
        "kelurahan_code": MEDONO,
        "family_ids": [family.family_id],
        "facilitator": f"Bidan {STAFF_TAG}",  # staff, not the family's: kept on erasure (aid's README)
    }
    await send(http, family, f"{aid}/education-sessions", session, KADER)
    family.secrets += [photo, description, note]


async def every_answer(
    http: httpx.AsyncClient, services: dict[str, Any], family: Family, receipt: dict[str, str]
) -> dict[str, str]:
    """What every GET route of every service answers the admin (from each OpenAPI document, the
    family's own ids filled in, `family_id` given where a route takes it), and the kept answer a
    retry of each of the family's commands gets. Keyed by route."""
    ids = {
        "family_id": family.family_id,
        "plan_id": family.plan_id,
        "tracking_code": family.tracking_code,
        "photo_id": family.photo_id,
        **receipt,  # the donor's contribution and its receipt's verification code
    }
    answers: dict[str, str] = {}
    for name, svc in services.items():
        paths = (await http.get(f"{svc.url}/openapi.json")).json()["paths"]
        routes = [p for p, ops in paths.items() if "get" in ops] + ["/metrics", "/asyncapi"]
        for path in routes:
            params = {p["name"]: p["in"] for p in paths.get(path, {}).get("get", {}).get("parameters", [])}
            url = path
            for param in [p for p, where in params.items() if where == "path"]:
                if param == "donor_id":  # the donors: the list says who they are
                    donors = (await http.get(f"{svc.url}/donors", headers=ADMIN)).json()["items"]
                    ids["donor_id"] = donors[0]["donor_id"]
                assert param in ids, f"{name} {path}: no id for {param}: teach this test the route"
                url = url.replace(f"{{{param}}}", ids[param])
            query = {"family_id": family.family_id} if params.get("family_id") == "query" else {}
            response = await http.get(svc.url + url, params=query, headers=ADMIN)
            # A photo is deleted with its family: after the erasure its route answers 404.
            gone = path == "/photos/{photo_id}" and response.status_code == 404
            assert response.status_code == 200 or gone, (name, url, response.text)
            answers[f"{name} GET {url}"] = response.text
    # Only accepted commands: a refusal is not kept, so its retry would run again (after the
    # erasure the KK is free, and the registration would succeed, writing the data anew).
    for url, body, headers, status in family.commands:
        if status >= 300:
            continue
        response = await http.post(url, json=body, headers=headers)
        assert response.status_code == status, (url, response.text)
        answers[f"retry POST {url}"] = response.text
    return answers


def found_in(answers: dict[str, str], needles: list[str]) -> list[str]:
    return [hit for where, text in answers.items() for hit in hits(where, text, needles)]


async def counts(http: httpx.AsyncClient, reporting: str) -> dict[str, Any]:
    out = {}
    for path in ("/progress", "/funding", "/aid", "/outcomes"):
        body = (await http.get(reporting + path, headers=ADMIN)).json()
        body.pop("as_of", None)
        out[path] = body
    return out


async def settled(admin_url: str) -> bool:
    """Every consumer of every stream has been given, and has acknowledged, every message."""
    nc = await nats.connect(admin_url)
    try:
        js = nc.jetstream()
        for stream in await js.streams_info():
            assert stream.config.name is not None
            for consumer in await js.consumers_info(stream.config.name):
                if consumer.num_pending or consumer.num_ack_pending:
                    return False
        return True
    finally:
        await nc.close()


async def test_an_erased_family_leaves_nothing_readable_in_any_table_stream_log_or_answer(
    urls: dict[str, Any], pg_server_url: str, nats_url: str
) -> None:
    erased, kept = Family(f"ZQX{uuid4().hex[:10]}", 601), Family(f"ZQK{uuid4().hex[:10]}", 602)
    registry, funding, aid, reporting = (urls[name].url for name in ("registry", "funding", "aid", "reporting"))
    async with httpx.AsyncClient(timeout=20) as http:
        donor = await http.post(f"{funding}/donors", json=DONOR, headers=ADMIN)
        assert donor.status_code == 201, donor.text
        donor_id = donor.json()["donor_id"]
        contribution = {
            "amount_rp": 6_000_000,
            "received_on": PROGRAMME_START.isoformat(),
            "method": "transfer",
            "reference": f"TRF-{STAFF_TAG}",
        }
        given = await http.post(f"{funding}/donors/{donor_id}/contributions", json=contribution, headers=ADMIN)
        assert given.status_code == 201, given.text
        contribution_id = given.json()["contribution_id"]
        conn = await asyncpg.connect(urls["funding"].database_url)
        try:
            code = await conn.fetchval(
                "select verification_code from contribution_receipts where contribution_id = $1", UUID(contribution_id)
            )
        finally:
            await conn.close()
        receipt = {"contribution_id": contribution_id, "code": code}
        for family in (erased, kept):
            await registered(http, registry, family)
            await sponsored(http, funding, family, donor_id)
            await aided(http, aid, family)

        async def caught_up() -> dict[str, Any] | None:
            now = await counts(http, reporting)
            progress, given, outcomes = now["/progress"], now["/aid"], now["/outcomes"]
            done = (
                (progress["enrolled"], progress["sponsored"], progress["aid_active"]) == (2, 2, 2)
                and (given["confirmed_deliveries"], given["education_sessions"], given["home_visits_done"]) == (2, 2, 2)
                and sum(k["interventions"] for k in given["interventions_by_kind"]) == 2
                and outcomes["measurements"] == 6
            )
            return now if done and await settled(nats_url) else None

        before = await wait_until(caught_up, 60, interval=0.3, message="reporting and every consumer catch up")
        shown = await every_answer(http, urls, erased, receipt)
        # Until now the admin is shown the family's personal data and texts (so the search below can fail).
        hidden = [secret for secret in erased.secrets if not found_in(shown, [secret])]
        assert hidden == [erased.verification_note]

        answer = await http.delete(f"{registry}/families/{erased.family_id}/personal-data", headers=ADMIN)
        assert answer.status_code == 200, answer.text

        async def consumed() -> bool:
            plan = (await http.get(f"{aid}/plans/{erased.plan_id}", headers=ADMIN)).text
            sponsorships = (await http.get(f"{funding}/families/{erased.family_id}/funding", headers=ADMIN)).text
            return erased.tag not in plan + sponsorships and await settled(nats_url)

        await wait_until(consumed, 30, interval=0.2, message="aid and funding consume PersonalDataErased")

        # Every read route and every kept answer: nothing of the erased family; the other's still there.
        after = await every_answer(http, urls, erased, receipt)
        assert found_in(after, erased.secrets) == []
        assert found_in(after, [erased.tag]) == []
        kept_answers = await every_answer(http, urls, kept, receipt)
        for secret in (s for s in kept.secrets if s != kept.verification_note):
            assert found_in(kept_answers, [secret]), f"the other family's {secret!r} is no longer shown"

        # Its counts and history remain: reporting counts it, aid's plan and funding's money stay.
        assert await counts(http, reporting) == before
        plan = (await http.get(f"{aid}/plans/{erased.plan_id}", headers=ADMIN)).json()
        assert (plan["delivered_rp"], plan["days_covered"], plan["deliveries"][0]["confirmed_on"]) == (
            105_000,
            7,
            TODAY.isoformat(),
        )
        money = (await http.get(f"{funding}/families/{erased.family_id}/funding", headers=ADMIN)).json()
        assert (money["sponsored_rp"], money["drawn_rp"]) == (2_700_000, 105_000)
        assert (await http.get(f"{registry}/families/{erased.family_id}", headers=ADMIN)).status_code == 200

    # Every table of every service's database, read as the server's admin.
    holders = []
    for name, svc in urls.items():
        database = database_of(svc.database_url)
        keys = await family_keys(pg_server_url, database)
        if keys is not None:  # crypto-shredded: the erased family's key is gone, the other's kept
            assert erased.family_id not in keys and kept.family_id in keys, name
            holders.append(name)
        leaks, rows = await search_database(pg_server_url, database, [*erased.secrets, erased.tag])
        assert leaks == [], f"{name}'s database still holds the erased family's data: {leaks}"
        control, _ = await search_database(pg_server_url, database, [erased.family_id])
        assert rows and control, f"{name}: the search read {rows} rows and did not find the family's id"

    assert sorted(holders) == ["aid", "funding", "registry"]

    # Every message of every stream, dead letters included.
    streams = await stream_texts(nats_url)
    assert {"GENTING_REGISTRY", "GENTING_FUNDING", "GENTING_AID"} <= set(streams)
    never_published = [*erased.secrets, erased.tag, *kept.secrets, kept.tag, STAFF_TAG]
    leaks = [hit for name, texts in streams.items() for text in texts for hit in hits(name, text, never_published)]
    assert leaks == []
    assert hits("bus", "\n".join(streams["GENTING_REGISTRY"]), [erased.family_id])  # the search can find

    # Every service's log.
    for name, svc in urls.items():
        assert svc.output(), f"{name} wrote no log at all"
        assert hits(f"{name} log", svc.output(), never_published) == []
