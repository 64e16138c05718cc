"""Example facts as other services publish them, for tests that feed a consumer (Eventide's
"controls"): a family's enrolment, its exit, a plan opened. What the tests vary is a parameter;
the rest is a plausible constant."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from uuid import UUID, uuid4

from shared.contracts.aid import AidDelivered, AidPlanOpened, DeliveredItem
from shared.contracts.base import Event
from shared.contracts.funding import DonorType, FamilySponsored
from shared.contracts.registry import (
    FamilyEnrolled,
    FamilyExited,
    FamilyRegistered,
    FamilyVerified,
    MemberSummary,
    Role,
)

MEDONO = "33.75.01.1002"
PLAN_DAYS = 180
DAILY_MINIMUM_RP = 15_000


def enrolment(
    family_id: UUID,
    on: date,
    members: Sequence[MemberSummary],
    counts: dict[Role, int],
    *,
    kelurahan: str = MEDONO,
    staff: str = "test",
) -> list[Event]:
    """The registry's history of an enrolled family: registered, verified, enrolled (v1..v3), by
    `kader-<staff>` and `lurah-<staff>`."""
    return [
        FamilyRegistered(
            family_id=family_id,
            kelurahan_code=kelurahan,
            kecamatan_code=kelurahan[:8],
            members=list(members),
            member_counts=counts,
            risk_factors=["poor"],
            registered_on=on,
            registered_by=f"kader-{staff}",
        ),
        FamilyVerified(family_id=family_id, kelurahan_code=kelurahan, verified_on=on, verified_by=f"lurah-{staff}"),
        enrolled(family_id, on, counts, kelurahan=kelurahan),
    ]


def enrolled(
    family_id: UUID,
    on: date,
    counts: dict[Role, int] | None = None,
    *,
    kelurahan: str = MEDONO,
    plan_until: date | None = None,
) -> FamilyEnrolled:
    """The registry enrolled a poor family (one baduta unless `counts` says otherwise; a
    `plan_until` when the registry plans until a child's age)."""
    return FamilyEnrolled(
        family_id=family_id,
        kelurahan_code=kelurahan,
        kecamatan_code=kelurahan[:8],
        member_counts={"baduta": 1} if counts is None else counts,
        risk_factors=["poor"],
        enrolled_on=on,
        plan_until=plan_until,
    )


def exit_of(family_id: UUID, on: date, *, kelurahan: str = MEDONO, by: str = "lurah-test") -> FamilyExited:
    """The family moved away while enrolled."""
    return FamilyExited(
        family_id=family_id,
        kelurahan_code=kelurahan,
        reason="moved_away",
        exited_on=on,
        previous_status="enrolled",
        exited_by=by,
    )


def sponsored(
    family_id: UUID,
    amount_rp: int,
    start: date,
    *,
    kelurahan: str = MEDONO,
    donor_type: DonorType = "individual",
    sponsorship_id: UUID | None = None,
) -> FamilySponsored:
    """A new donor sponsored the family from `start`, the day it was entered."""
    return FamilySponsored(
        sponsorship_id=sponsorship_id or uuid4(),
        donor_id=uuid4(),
        donor_type=donor_type,
        family_id=family_id,
        amount_rp=amount_rp,
        start_date=start,
        kelurahan_code=kelurahan,
        sponsored_on=start,
    )


def plan_opened(
    plan_id: UUID, family_id: UUID, start: date, *, budget_rp: int = 2_700_000, kelurahan: str = MEDONO
) -> AidPlanOpened:
    """Aid opened a plan of the programme's length and daily minimum from `start`."""
    return AidPlanOpened(
        plan_id=plan_id,
        family_id=family_id,
        kelurahan_code=kelurahan,
        start_date=start,
        end_date=start + timedelta(days=PLAN_DAYS - 1),
        days=PLAN_DAYS,
        daily_minimum_rp=DAILY_MINIMUM_RP,
        budget_rp=budget_rp,
        opened_on=start,
    )


def delivered(
    plan_id: UUID,
    family_id: UUID,
    first_day: date,
    days: int,
    value_rp: int,
    *,
    kelurahan: str = MEDONO,
    delivery_id: UUID | None = None,
    items: Sequence[DeliveredItem] = (),
) -> AidDelivered:
    """Aid handed over, on `first_day`, food for `days` days from that day, worth `value_rp`."""
    return AidDelivered(
        plan_id=plan_id,
        family_id=family_id,
        kelurahan_code=kelurahan,
        delivery_id=delivery_id or uuid4(),
        period_from=first_day,
        period_to=first_day + timedelta(days=days - 1),
        days=days,
        value_rp=value_rp,
        delivered_on=first_day,
        items=list(items),
    )
