"""What makes two imported rows the same family: a row's content normalised (spacing, case,
member order), compared with a registered family's, and its canonical text, which the import
ledger keeps only as a keyed hash (lookup_hashes.py)."""

from __future__ import annotations

import json
from typing import Any

from services.registry.bodies import RegisterFamilyIn
from services.registry.domain import Family


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def row_content(body: RegisterFamilyIn) -> dict[str, Any]:
    """What makes two rows the same family: every field, normalised (spacing, case, member order)."""
    members = sorted(
        (
            {
                "name": _norm(m.name),
                "nik": m.nik,
                "role": m.role,
                "sex": m.sex,
                "birth_date": m.birth_date.isoformat(),
                "expected_delivery_date": m.expected_delivery_date.isoformat() if m.expected_delivery_date else None,
            }
            for m in body.members
        ),
        key=lambda m: json.dumps(m, sort_keys=True),
    )
    return {
        "kk_number": body.kk_number.strip(),
        "head_name": _norm(body.head_name),
        "address": _norm(body.address),
        "kelurahan_code": body.kelurahan_code.strip(),
        "members": members,
        "risk_factors": sorted(set(body.risk_factors)),
        # only when given, so the ledger's rows recorded before the column existed still match
        **({"registered_on": body.registered_on.isoformat()} if body.registered_on else {}),
    }


def family_content(state: Family) -> dict[str, Any] | None:
    """The same shape for a registered family (None once its personal data is erased)."""
    if state.erased or state.kk_number is None or state.head_name is None or state.address is None:
        return None
    members = []
    for m in state.members:
        if m.personal is None:
            return None
        p = m.personal
        members.append(
            {
                "name": _norm(p.name),
                "nik": p.nik,
                "role": m.role,
                "sex": m.sex,
                "birth_date": p.birth_date.isoformat(),
                "expected_delivery_date": p.expected_delivery_date.isoformat() if p.expected_delivery_date else None,
            }
        )
    return {
        "kk_number": state.kk_number,
        "head_name": _norm(state.head_name),
        "address": _norm(state.address),
        "kelurahan_code": state.kelurahan_code,
        "members": sorted(members, key=lambda m: json.dumps(m, sort_keys=True)),
        "risk_factors": sorted(set(state.risk_factors)),
    }


def same_family(state: Family, body: RegisterFamilyIn) -> bool:
    """Whether a registered family is the row's: the same content, its risk factors a superset of
    the row's (the registry adds the age-rule factors the dates imply), whatever the row's date."""
    family, row = family_content(state), row_content(body)
    if family is None:
        return False
    claimed, held = set(row.pop("risk_factors")), set(family.pop("risk_factors"))
    row.pop("registered_on", None)
    return family == row and claimed <= held


def content_key(content: dict[str, Any]) -> str:
    """A canonical text of a row's content, for the ledger's keyed hash."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"))
