"""The facts the registry publishes about families: public data only, never personal data."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.contracts.base import Event, EventCatalog

# CONTRACT.md: no payload ever carries a name, NIK, KK number, address or birth date.
# Ages travel in completed months; the personal part stays sealed inside the registry.

Role = Literal["pregnant_mother", "breastfeeding_mother", "baduta", "other"]
Sex = Literal["M", "F"]
ExitReason = Literal["graduated", "moved_away", "aged_out", "deceased", "duplicate", "consent_withdrawn"]
ActiveStatus = Literal["registered", "enrolled"]
Position = Literal["recumbent", "standing"]  # length lying down (WHO: under 24 months), height standing

KelurahanCode = Annotated[str, StringConstraints(pattern=r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")]
KecamatanCode = Annotated[str, StringConstraints(pattern=r"^\d{2}\.\d{2}\.\d{2}$")]
AgeMonths = Annotated[int, Field(ge=0)]
MemberCounts = dict[Role, Annotated[int, Field(ge=0)]]


class MemberSummary(BaseModel):
    """A family member as the public may know them: role, sex and age in months, no identity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    member_id: UUID
    role: Role
    sex: Sex
    age_months: AgeMonths


class FamilyEvent(Event):
    """A fact about one family in the registry (base class, never published itself)."""

    context: ClassVar[str] = "registry"
    aggregate: ClassVar[str] = "family"
    id_field: ClassVar[str] = "family_id"

    family_id: UUID


class FamilyRegistered(FamilyEvent):
    """Staff registered a family at risk of stunting in a kelurahan, pending the lurah's check."""

    event_type: ClassVar[str] = "FamilyRegistered"

    kelurahan_code: KelurahanCode
    kecamatan_code: KecamatanCode
    members: list[MemberSummary]
    member_counts: MemberCounts
    risk_factors: list[str]
    registered_on: date
    registered_by: str


class MemberAdded(FamilyEvent):
    """A new member, a newborn say, joined a registered or enrolled family."""

    event_type: ClassVar[str] = "MemberAdded"

    member_id: UUID
    role: Role
    sex: Sex
    age_months: AgeMonths
    kelurahan_code: KelurahanCode
    added_on: date
    added_by: str


class FamilyVerified(FamilyEvent):
    """The lurah checked the registered family and confirmed it belongs in the programme."""

    event_type: ClassVar[str] = "FamilyVerified"

    kelurahan_code: KelurahanCode
    verified_on: date
    verified_by: str


class FamilyEnrolled(FamilyEvent):
    """The family is enrolled in the programme and may now be sponsored by orang tua asuh."""

    event_type: ClassVar[str] = "FamilyEnrolled"

    kelurahan_code: KelurahanCode
    kecamatan_code: KecamatanCode
    member_counts: MemberCounts
    risk_factors: list[str]
    enrolled_on: date
    # A programme date, never the birth date (the registry's README, "Plan until a child's age").
    plan_until: date | None = Field(
        default=None,
        description="the first day the family is no longer planned for: the day its youngest baduta turns "
        "GENTING_PLAN_UNTIL_CHILD_MONTHS months; null: the programme's fixed GENTING_PLAN_DAYS (the setting is "
        "unset, or no baduta yet)",
    )


class FamilyRejected(FamilyEvent):
    """The lurah checked the registered family and found it does not belong in the programme."""

    event_type: ClassVar[str] = "FamilyRejected"

    kelurahan_code: KelurahanCode
    rejected_on: date
    rejected_by: str


class GrowthMeasured(FamilyEvent):
    """A child of the family was weighed and measured; the WHO 2006 z-scores say whether they are stunted."""

    event_type: ClassVar[str] = "GrowthMeasured"

    measurement_id: UUID
    member_id: UUID
    kelurahan_code: KelurahanCode
    measured_on: date
    age_months: AgeMonths  # completed months on measured_on; never the birth date
    weight_kg: float
    length_cm: float
    position: Position  # how the length was taken; the z-score is corrected to the WHO convention
    haz: float  # length/height-for-age z-score, 2 decimals
    waz: float | None = None  # weight-for-age z-score, 2 decimals
    stunted: bool  # haz < -2
    severely_stunted: bool  # haz < -3
    measured_by: str


class FamilyExited(FamilyEvent):
    """The family left the programme for the given reason; no further aid is planned for it."""

    event_type: ClassVar[str] = "FamilyExited"

    kelurahan_code: KelurahanCode
    reason: ExitReason
    exited_on: date
    previous_status: ActiveStatus
    exited_by: str


class MotherGaveBirth(FamilyEvent):
    """A pregnant mother of the family gave birth: she is a breastfeeding mother from `born_on`.
    The baby joins the family as a `MemberAdded` (role baduta) recorded with it."""

    event_type: ClassVar[str] = "MotherGaveBirth"

    member_id: UUID  # the mother
    kelurahan_code: KelurahanCode
    born_on: date


class ChildAgedOut(FamilyEvent):
    """A baduta of the family turned 24 months on `aged_out_on`: their role is `other` from then.
    Derived by the registry's clock; the date is the birthday, whenever it was recorded."""

    event_type: ClassVar[str] = "ChildAgedOut"

    member_id: UUID
    kelurahan_code: KelurahanCode
    aged_out_on: date


class FamilyEligibilityChanged(FamilyEvent):
    """The family became, or stopped being, a programme target on `effective_on`: no member is a
    target any more (its last baduta aged out, with no pregnant or breastfeeding mother left), or
    one is again (a newborn, a pregnancy). Derived by the registry; de-identified (no member, no
    date of birth). Funding sponsors and aid opens plans only for eligible families; a running
    plan runs to its end. Also published, `eligible` unchanged, when an enrolled family's
    `plan_until` moves (a newborn becomes its youngest baduta)."""

    event_type: ClassVar[str] = "FamilyEligibilityChanged"

    kelurahan_code: KelurahanCode
    eligible: bool
    effective_on: date
    plan_until: date | None = Field(
        default=None,
        description="the family's plan_until (FamilyEnrolled's) as the registry knows it from effective_on; "
        "null: the fixed GENTING_PLAN_DAYS",
    )


class PersonalDataErased(FamilyEvent):
    """The family's personal data was erased for good; its counts and history remain."""

    event_type: ClassVar[str] = "PersonalDataErased"

    kelurahan_code: KelurahanCode
    erased_on: date
    erased_by: str


RegistryEvent = (
    FamilyRegistered
    | MemberAdded
    | FamilyVerified
    | FamilyEnrolled
    | FamilyRejected
    | FamilyExited
    | PersonalDataErased
    | GrowthMeasured
    | MotherGaveBirth
    | ChildAgedOut
    | FamilyEligibilityChanged
)

CATALOG = EventCatalog(
    "registry",
    [
        FamilyRegistered,
        MemberAdded,
        FamilyVerified,
        FamilyEnrolled,
        FamilyRejected,
        FamilyExited,
        PersonalDataErased,
        GrowthMeasured,
        MotherGaveBirth,
        ChildAgedOut,
        FamilyEligibilityChanged,
    ],
)

__all__ = [
    "CATALOG",
    "ActiveStatus",
    "ChildAgedOut",
    "ExitReason",
    "FamilyEligibilityChanged",
    "FamilyEnrolled",
    "FamilyEvent",
    "FamilyExited",
    "FamilyRegistered",
    "FamilyRejected",
    "FamilyVerified",
    "GrowthMeasured",
    "MemberAdded",
    "MemberSummary",
    "MotherGaveBirth",
    "PersonalDataErased",
    "Position",
    "RegistryEvent",
    "Role",
    "Sex",
]
