"""The registry's commands. Ids, `today` and the acting user are stamped by the caller (a route,
an import row), so deciding stays pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from shared.contracts.registry import Position


@dataclass(frozen=True)
class NewMember:
    member_id: UUID
    name: str
    nik: str | None
    role: str
    birth_date: date
    sex: str
    expected_delivery_date: date | None = None


@dataclass(frozen=True)
class RegisterFamily:
    family_id: UUID
    today: date
    registered_by: str
    kk_number: str
    head_name: str
    address: str
    kelurahan_code: str
    members: tuple[NewMember, ...]
    risk_factors: tuple[str, ...]
    consent: bool


@dataclass(frozen=True)
class AddMember:
    family_id: UUID
    today: date
    added_by: str
    member: NewMember


@dataclass(frozen=True)
class VerifyFamily:
    family_id: UUID
    today: date
    decided_by: str
    decision: str  # "approve" | "reject"
    note: str | None = None


@dataclass(frozen=True)
class ExitFamily:
    family_id: UUID
    today: date
    exited_by: str
    reason: str


@dataclass(frozen=True)
class ErasePersonalData:
    family_id: UUID
    today: date
    erased_by: str


@dataclass(frozen=True)
class RecordGrowth:
    family_id: UUID
    today: date
    measured_by: str
    measurement_id: UUID
    member_id: UUID
    measured_on: date
    weight_kg: float
    length_cm: float
    position: Position | None = None  # None: WHO's convention for the child's age


Command = RegisterFamily | AddMember | VerifyFamily | ExitFamily | ErasePersonalData | RecordGrowth
