"""The proof photos of deliveries (CONTRACT.md, Aid: Photos): the kader uploads the photo, it is
kept in the object store (a directory here; an S3 bucket, on a moto server on loopback, below),
only the kelurahan's staff and admin fetch it, the lurah's confirmation names it and the bus
carries only its id, and erasing the family deletes it."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import boto3
import httpx
import pytest
from aid_support import (
    KAUMAN,
    MEDONO,
    TODAY,
    Aid,
    FakeClock,
    Upstream,
    declare_upstream_streams,
    delivery,
    token,
    wait_events,
    wait_plan,
)
from nats.aio.client import Client

from services.aid.app import create_app
from services.aid.handlers import Handlers
from services.aid.photo_store import S3PhotoStore, sniff
from services.aid.settings import AidSettings
from shared.auth import Principal
from shared.contracts.registry import PersonalDataErased
from shared.errors import Forbidden
from shared.testing import wait_until
from shared.testing.apps import serving, settings_for

pytestmark = pytest.mark.integration

KADER, LURAH = token("kader", MEDONO), token("lurah", MEDONO)
# A minimal JPEG: its magic bytes and some payload (the service sniffs, it does not decode).
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40


@pytest.fixture
async def aid(database_url: str, nc: Client, js_clean: str, tmp_path: Path) -> AsyncIterator[Aid]:
    js = nc.jetstream()
    await declare_upstream_streams(js)
    settings = settings_for(
        AidSettings, database_url, js_clean, clock_interval_seconds=3600.0, photo_dir=tmp_path / "photos"
    )
    app = create_app(settings)
    app.state.clock = FakeClock()
    async with serving(app, "aid") as http:
        yield Aid(http, app, app.state.clock, Upstream(js), js)


async def a_delivery(aid: Aid) -> tuple[UUID, str]:
    family = uuid4()
    await aid.upstream.enrol(family)
    await aid.upstream.sponsor(family)
    plan = await wait_plan(aid.http, family)
    answer = await aid.http.post(f"/plans/{plan['plan_id']}/deliveries", json=delivery(TODAY, 7), headers=KADER)
    assert answer.status_code == 201, answer.text
    return family, answer.json()["delivery_id"]


async def upload(
    aid: Aid, delivery_id: str, data: bytes, key: str | None = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    # httpx makes a fresh multipart boundary on every call, as a browser does on a retry.
    extra = {"Idempotency-Key": key} if key else {}
    return await aid.http.post(
        f"/deliveries/{delivery_id}/photo",
        files={"photo": ("bukti.jpg", data, "image/jpeg")},
        headers={**(headers or KADER), **extra},
    )


async def test_the_kader_uploads_the_lurah_sees_and_confirms_with_it_and_the_bus_carries_only_its_id(
    aid: Aid, tmp_path: Path
) -> None:
    family, delivery_id = await a_delivery(aid)

    first = await upload(aid, delivery_id, JPEG, key="foto-1")
    again = await upload(aid, delivery_id, JPEG, key="foto-1")  # the phone retries after a lost answer
    assert first.status_code == again.status_code == 201, first.text
    photo_id = first.json()["photo_id"]
    assert again.json()["photo_id"] == photo_id
    assert first.json()["content_type"] == "image/jpeg"
    assert [p.name for p in (tmp_path / "photos").iterdir()] == [f"{photo_id}.img"]  # stored once
    plan = await wait_plan(aid.http, family)
    [shown] = (await aid.http.get(f"/plans/{plan['plan_id']}", headers=LURAH)).json()["deliveries"]
    assert shown["photos"] == [photo_id]  # the lurah's confirmation queue shows it

    seen = await aid.http.get(f"/photos/{photo_id}", headers=LURAH)
    assert seen.status_code == 200
    assert (seen.content, seen.headers["content-type"]) == (JPEG, "image/jpeg")
    assert "no-store" in seen.headers["cache-control"]
    for outsider in (token("kader", KAUMAN), token("lurah", KAUMAN), token("donor"), token("auditor")):
        assert (await aid.http.get(f"/photos/{photo_id}", headers=outsider)).status_code == 403
    assert (await aid.http.get(f"/photos/{photo_id}", headers=token("admin"))).status_code == 200
    assert (await aid.http.get(f"/photos/{uuid4()}", headers=LURAH)).status_code == 404

    confirm = f"/deliveries/{delivery_id}/confirmation"
    confirmed = await aid.http.post(confirm, json={"photo_id": photo_id}, headers=LURAH)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["photo_id"] == photo_id
    [event] = await wait_events(aid.js, "DeliveryConfirmed")
    assert event["data"]["photo_id"] == photo_id
    assert "genting-photo" not in str(event) and "bukti" not in str(event)


async def test_refused_uploads_say_why_and_store_nothing(aid: Aid, tmp_path: Path) -> None:
    _, delivery_id = await a_delivery(aid)
    text = await upload(aid, delivery_id, b"bukan foto, hanya teks")
    assert text.status_code == 422
    assert [e["field"] for e in text.json()["errors"]] == ["photo"]
    too_big = await upload(aid, delivery_id, JPEG[:16] + b"\0" * (5 << 20))
    assert too_big.status_code in (413, 422), too_big.text
    elsewhere = await upload(aid, delivery_id, JPEG, headers=token("kader", KAUMAN))
    assert elsewhere.status_code == 403
    assert (await upload(aid, str(uuid4()), JPEG)).status_code == 404
    await upload(aid, delivery_id, JPEG, key="k")
    reused = await upload(aid, delivery_id, JPEG + b"\1", key="k")  # the same key, another photo
    assert reused.status_code == 422
    assert len(list((tmp_path / "photos").iterdir())) == 1
    # A confirmation naming a photo that is not this delivery's is refused.
    confirm = f"/deliveries/{delivery_id}/confirmation"
    other = await aid.http.post(confirm, json={"photo_id": str(uuid4())}, headers=LURAH)
    assert other.status_code == 422
    assert [e["field"] for e in other.json()["errors"]] == ["photo_id"]


async def test_the_handler_refuses_a_role_before_it_looks_at_the_photo_or_the_delivery(aid: Aid) -> None:
    """Authorization is the handler's (Handlers.store_photo), whatever path calls it: a role that
    may not store photos learns nothing, not whether the bytes are an image nor the delivery exists."""
    handlers: Handlers = aid.app.state.handlers
    async with aid.pool.acquire() as conn:
        for role in ("auditor", "donor", "agency"):
            with pytest.raises(Forbidden):
                await handlers.store_photo(conn, uuid4(), b"bukan foto", None, Principal(f"{role}-1", role, MEDONO))
    refused = await upload(aid, str(uuid4()), b"bukan foto", headers=token("auditor"))
    assert refused.status_code == 403


async def test_erasing_the_family_deletes_its_photos(aid: Aid, tmp_path: Path) -> None:
    family, delivery_id = await a_delivery(aid)
    _, kept_delivery = await a_delivery(aid)
    erased_photo = (await upload(aid, delivery_id, JPEG)).json()["photo_id"]
    kept_photo = (await upload(aid, kept_delivery, JPEG + b"x")).json()["photo_id"]

    await aid.upstream.emit(
        PersonalDataErased(family_id=family, kelurahan_code=MEDONO, erased_on=TODAY, erased_by="admin-test")
    )
    await wait_until(
        lambda: aid.pool.fetchval("select 1 from erased_families where family_id = $1", family),
        message="the family erased",
    )
    assert (await aid.http.get(f"/photos/{erased_photo}", headers=LURAH)).status_code == 404
    assert [p.name for p in (tmp_path / "photos").iterdir()] == [f"{kept_photo}.img"]
    assert (await aid.http.get(f"/photos/{kept_photo}", headers=LURAH)).status_code == 200
    assert (await upload(aid, delivery_id, JPEG)).status_code == 409  # none kept for it again


def test_the_bytes_decide_the_type() -> None:
    assert sniff(JPEG) == "image/jpeg"
    assert sniff(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert sniff(b"RIFF\0\0\0\0WEBPVP8 ") == "image/webp"
    assert sniff(b"GIF89a") is None
    assert sniff(b"<svg") is None


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    """An S3 API (moto's server) on a free loopback port, for this test only."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


async def test_the_s3_store_keeps_reads_and_deletes_photos_in_the_bucket(s3_endpoint: str) -> None:
    keys: dict[str, Any] = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}
    boto3.client("s3", endpoint_url=s3_endpoint, **keys).create_bucket(Bucket="genting-photos")
    store = S3PhotoStore(
        "genting-photos", endpoint_url=s3_endpoint, access_key="test", secret_key="test", region="us-east-1"
    )
    photo_id = uuid4()
    await store.put(photo_id, JPEG, "image/jpeg")
    assert await store.get(photo_id) == JPEG
    listed = boto3.client("s3", endpoint_url=s3_endpoint, **keys).list_objects_v2(Bucket="genting-photos")
    assert [o["Key"] for o in listed["Contents"]] == [f"photos/{photo_id}"]
    await store.delete(photo_id)
    await store.delete(photo_id)  # an erasure redelivered
    assert await store.get(photo_id) is None
