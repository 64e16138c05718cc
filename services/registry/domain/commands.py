"""The registry's commands. Ids, `today` and the acting user are stamped by the caller (a route,
an import row), so deciding stays pure. `today` is the day of recording (the city's); the
effective date (`registered_on`, `added_on`, `decided_on`, `exited_on`, `born_on`, `measured_on`)
is the day it happened, None meaning today (CONTRACT.md, "Effective dates and late entry")."""

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
    registered_on: date | None = None


@dataclass(frozen=True)
class AddMember:
    family_id: UUID
    today: date
    added_by: str
    member: NewMember
    added_on: date | None = None


@dataclass(frozen=True)
class VerifyFamily:
    family_id: UUID
    today: date
    decided_by: str
    decision: str  # "approve" | "reject"
    note: str | None = None
    decided_on: date | None = None


@dataclass(frozen=True)
class ExitFamily:
    family_id: UUID
    today: date
    exited_by: str
    reason: str
    exited_on: date | None = None


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


@dataclass(frozen=True)
class RecordBirth:
    """A pregnant mother of the family gave birth on `born_on`; `baby` joins as a baduta (its
    `birth_date` is `born_on`, its role `baduta`)."""

    family_id: UUID
    today: date
    recorded_by: str
    mother_id: UUID
    born_on: date
    baby: NewMember


@dataclass(frozen=True)
class AgeOutChildren:
    """The clock's step: each baduta whose 24-month birthday is on or before `today` ages out,
    on that birthday."""

    family_id: UUID
    today: date


Command = (
    RegisterFamily
    | AddMember
    | VerifyFamily
    | ExitFamily
    | ErasePersonalData
    | RecordGrowth
    | RecordBirth
    | AgeOutChildren
)
