"""Request bodies of a family registration, shared by POST /families and the agency import."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from pydantic import Field, StrictBool, StrictStr

from services.registry.domain import NewMember, RegisterFamily
from shared.http import StrictBody


class MemberIn(StrictBody):
    name: StrictStr
    nik: StrictStr | None = Field(None, description="16 digits; null for a newborn whose NIK is pending")
    role: StrictStr = Field(description="pregnant_mother | breastfeeding_mother | baduta | other")
    birth_date: date
    sex: StrictStr = Field(description="M | F")
    expected_delivery_date: date | None = Field(None, description="pregnant_mother only")


class RegisterFamilyIn(StrictBody):
    kk_number: StrictStr = Field(description="No. KK, 16 digits")
    head_name: StrictStr
    address: StrictStr
    kelurahan_code: StrictStr = Field(examples=["33.75.01.1002"])
    members: list[MemberIn]
    risk_factors: list[StrictStr] = Field(
        description="the claimed risk factor codes; the registry adds those the members' dates imply, and at "
        "least one (claimed or implied) is required, else 422 naming `risk_factors`"
    )
    consent: StrictBool = Field(description="a parent's or guardian's consent (UU 27/2022); must be true")
    registered_on: date | None = Field(
        None,
        description="the day the family was registered (on paper, say); default today in the city. Not in "
        "the future nor before the programme's start; ages and the baduta rule are computed at this date",
    )


def new_member(m: MemberIn, member_id: UUID) -> NewMember:
    return NewMember(
        member_id=member_id,
        name=m.name,
        nik=m.nik,
        role=m.role,
        birth_date=m.birth_date,
        sex=m.sex,
        expected_delivery_date=m.expected_delivery_date,
    )


def registration(body: RegisterFamilyIn, family_id: UUID, today: date, registered_by: str) -> RegisterFamily:
    """The command a registration body asks for; ids and `today` are the handler's to stamp."""
    return RegisterFamily(
        family_id=family_id,
        today=today,
        registered_by=registered_by,
        kk_number=body.kk_number,
        head_name=body.head_name,
        address=body.address,
        kelurahan_code=body.kelurahan_code,
        members=tuple(new_member(m, uuid4()) for m in body.members),
        risk_factors=tuple(body.risk_factors),
        consent=body.consent,
        registered_on=body.registered_on,
    )
