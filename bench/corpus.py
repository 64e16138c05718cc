"""The workload: valid families for POST /families and the `FamilyRegistered` envelopes the
domain produces for them, 4 consecutive versions per aggregate, and publishing them windowed."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from figures import EVENTS_PER_STREAM, PUBLISH_WINDOW
from nats.js import JetStreamContext
from processes import (  # bench/processes.py: servers, services as processes, CPU accounting
    BenchFailure,
)

from services.registry.domain import Family, NewMember, RegisterFamily, decide
from services.registry.reference import KELURAHAN
from shared.messaging import MSG_ID_HEADER, Envelope


def _nik(region: str, born: date, sex: str, serial: int) -> str:
    day = born.day + (40 if sex == "F" else 0)
    return f"{region}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def family_request(i: int, today: date) -> dict[str, Any]:
    """Family number `i`: a breastfeeding mother and her baby, with NIKs and a KK no other family has.

    Uniqueness comes from (district, serial) in the NIK/KK region and serial parts: 99 × 9,999.
    """
    serial = i % 9999 + 1
    district = (i // 9999) % 99 + 1
    region = f"3375{district:02d}"
    mother_born = date(1990 + i % 15, 1 + i % 12, 1 + i % 28)
    baby_born = today - timedelta(days=30 + i % 300)
    return {
        "kk_number": f"{region}010120{serial:04d}",
        "head_name": f"Kepala Keluarga {i}",
        "address": f"Jl. Bench No. {i}, RT 01/RW 02",
        "kelurahan_code": KELURAHAN[i % len(KELURAHAN)].code,
        "members": [
            {
                "name": f"Ibu {i}",
                "nik": _nik(region, mother_born, "F", serial),
                "role": "breastfeeding_mother",
                "birth_date": mother_born.isoformat(),
                "sex": "F",
            },
            {
                "name": f"Bayi {i}",
                "nik": _nik(region, baby_born, "M", serial),
                "role": "baduta",
                "birth_date": baby_born.isoformat(),
                "sex": "M",
            },
        ],
        "risk_factors": ["poor", "no_proper_latrine"],
        "consent": True,
    }


class Bodies:
    """Pre-encoded POST /families bodies, handed out once each across all clients."""

    def __init__(self, start: int = 0) -> None:
        self.next = start
        self.today = datetime.now(UTC).date()

    def take(self) -> bytes:
        body = json.dumps(family_request(self.next, self.today)).encode()
        self.next += 1
        return body

    def batch(self, n: int) -> list[bytes]:
        return [self.take() for _ in range(n)]


@dataclass(frozen=True)
class Ev:
    event_id: uuid.UUID
    stream_id: uuid.UUID
    version: int
    payload: bytes  # Envelope.to_bytes(), as the outbox holds it and the relay publishes it

    def subject(self, prefix: str) -> str:
        return f"{prefix}.family.{self.stream_id}.FamilyRegistered"


def sample_registered_data(today: date) -> dict[str, Any]:
    """The data of a real FamilyRegistered, produced by the domain from a valid request."""
    body = family_request(0, today)
    command = RegisterFamily(
        family_id=uuid.uuid4(),
        today=today,
        registered_by="bench-admin",
        kk_number=body["kk_number"],
        head_name=body["head_name"],
        address=body["address"],
        kelurahan_code=body["kelurahan_code"],
        members=tuple(
            NewMember(
                member_id=uuid.uuid4(),
                name=m["name"],
                nik=m["nik"],
                role=m["role"],
                birth_date=date.fromisoformat(m["birth_date"]),
                sex=m["sex"],
            )
            for m in body["members"]
        ),
        risk_factors=tuple(body["risk_factors"]),
        consent=True,
    )
    return decide(Family(), command)[0].event.model_dump(mode="json")


def make_corpus(n: int) -> list[Ev]:
    """`n` envelopes over n/4 aggregates with versions 1..4; each aggregate's versions are spread
    over the stream (chunks of 100 aggregates, version-major inside a chunk)."""
    data = sample_registered_data(datetime.now(UTC).date())
    occurred = datetime.now(UTC)
    streams = [uuid.uuid4() for _ in range(-(-n // EVENTS_PER_STREAM))]
    out: list[Ev] = []
    for start in range(0, len(streams), 100):
        chunk = streams[start : start + 100]
        for version in range(1, EVENTS_PER_STREAM + 1):
            for sid in chunk:
                if len(out) == n:
                    break
                env = Envelope(
                    event_id=uuid.uuid4(),
                    event_type="FamilyRegistered",
                    schema_version=1,
                    stream_id=sid,
                    stream_version=version,
                    occurred_at=occurred,
                    correlation_id=uuid.uuid4(),
                    causation_id=uuid.uuid4(),
                    data=data | {"family_id": str(sid)},
                )
                out.append(Ev(env.event_id, sid, version, env.to_bytes()))
    # every version v of a stream precedes v+1 in the list: the projection never sees a gap
    return out


async def publish_windowed(js: JetStreamContext, stream: str, prefix: str, corpus: Sequence[Ev]) -> None:
    for start in range(0, len(corpus), PUBLISH_WINDOW):
        acks = await asyncio.gather(
            *(
                js.publish(
                    ev.subject(prefix),
                    ev.payload,
                    stream=stream,
                    timeout=10.0,
                    headers={MSG_ID_HEADER: str(ev.event_id)},
                )
                for ev in corpus[start : start + PUBLISH_WINDOW]
            )
        )
        if any(a.duplicate for a in acks):
            raise BenchFailure(f"{stream}: a fresh message was taken for a duplicate")
