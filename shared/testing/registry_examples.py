"""Example builders ("controls"): valid NIK/KK numbers and registration bodies for tests, the
benchmark and the demo. Deterministic for a given serial, so runs repeat."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

PEKALONGAN_BARAT = "337501"  # province 33, regency 75 (Kota Pekalongan), district 01


def nik(born: date, sex: str, serial: int, region: str = PEKALONGAN_BARAT) -> str:
    """A structurally valid NIK: women's birth day + 40; serial 1..9999."""
    day = born.day + (40 if sex == "F" else 0)
    return f"{region}{day:02d}{born.month:02d}{born.year % 100:02d}{serial % 9999 + 1:04d}"


def kk(recorded: date, serial: int, region: str = PEKALONGAN_BARAT) -> str:
    """A structurally valid No. KK; the serial makes it unique."""
    return f"{region}{recorded.day:02d}{recorded.month:02d}{recorded.year % 100:02d}{serial % 9999 + 1:04d}"


def family_body(
    serial: int,
    today: date,
    kelurahan_code: str = "33.75.01.1002",
    *,
    with_baduta: bool = True,
    risk_factors: tuple[str, ...] = ("poor", "no_proper_latrine"),
) -> dict[str, Any]:
    """A registration body for POST /families: a breastfeeding mother and (optionally) her baby.

    Different serials give different KK numbers and NIKs (unique for serials below 9999 per
    recording date; the recording date also moves with the serial to widen the space).
    """
    recorded = today - timedelta(days=400 + serial // 9999)
    mother_born = date(1996, 1, 1) + timedelta(days=serial % 3000)
    members: list[dict[str, Any]] = [
        {
            "name": f"Ibu Contoh {serial}",
            "nik": nik(mother_born, "F", serial),
            "role": "breastfeeding_mother",
            "birth_date": mother_born.isoformat(),
            "sex": "F",
        }
    ]
    if with_baduta:
        members.append(
            {
                "name": f"Anak Contoh {serial}",
                "nik": None,
                "role": "baduta",
                "birth_date": (today - timedelta(days=90 + serial % 300)).isoformat(),
                "sex": "M" if serial % 2 else "F",
            }
        )
    return {
        "kk_number": kk(recorded, serial),
        "head_name": f"Bapak Contoh {serial}",
        "address": f"Jl. Contoh No. {serial}, Pekalongan",
        "kelurahan_code": kelurahan_code,
        "members": members,
        "risk_factors": list(risk_factors),
        "consent": True,
    }


MEMBER_COLUMNS = ("name", "nik", "role", "birth_date", "sex", "expected_delivery_date")


def import_csv(bodies: list[dict[str, Any]], *, slots: int = 2, delimiter: str = ",") -> str:
    """Registration bodies as an agency export for POST /families/import (importing.py's columns):
    one row per family, members flattened into member1_*, member2_*, ..."""
    header = ["kk_number", "head_name", "address", "kelurahan_code", "risk_factors", "consent"]
    header += [f"member{n}_{part}" for n in range(1, slots + 1) for part in MEMBER_COLUMNS]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    for body in bodies:
        row = [
            body["kk_number"],
            body["head_name"],
            body["address"],
            body["kelurahan_code"],
            ";".join(body["risk_factors"]),
            "true" if body["consent"] is True else str(body["consent"]),
        ]
        for n in range(slots):
            member = body["members"][n] if n < len(body["members"]) else {}
            row += [member.get(part) or "" for part in MEMBER_COLUMNS]
        writer.writerow(row)
    return out.getvalue()
