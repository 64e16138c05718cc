"""Funding's read side: donor statements, per-type totals, pages of donors and a family's funding,
as plain dicts from the read model (views.py) and the families learned from the registry."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeAlias
from uuid import UUID

import asyncpg
from pydantic import BaseModel, Field

from shared.reads import Page, json_row, page

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool

# -- what the queries answer (the API's response models) ----------------------------------------


class SponsorshipLine(BaseModel):
    sponsorship_id: UUID
    donor_id: UUID
    family_id: UUID
    kelurahan_code: str | None
    amount_rp: int
    drawn_rp: int
    drawn_distribution_rp: int = Field(
        0,
        description="of drawn_rp, what paid the distribution of the food (bringing it, GENTING_DISTRIBUTION_COST_RP"
        " a day covered); the rest paid food",
    )
    released_rp: int
    remaining_rp: int
    released_reason: str | None
    start_date: date
    sponsored_on: date
    note: str | None = None  # admin only; gone for good once the family's personal data is erased


class ContributionLine(BaseModel):
    contribution_id: UUID
    amount_rp: int
    received_on: date
    method: str


class PledgeNoteLine(BaseModel):
    pledge_id: UUID
    note: str


class DonorStatement(BaseModel):
    """One meaning of allocated (the same as reporting's): `allocated_rp` is what is
    set aside for sponsorships NET of releases (sponsored − released), so received = available +
    allocated and allocated = drawn + remaining; `released_rp` is shown beside it.
    `name`, `contact` and `pledge_notes` are present only for an admin, a treasurer and the donor itself;
    None once the donor's personal data was erased."""

    donor_id: UUID
    donor_type: str
    registered_on: date
    pledged_rp: int
    received_rp: int
    allocated_rp: int
    drawn_rp: int = Field(description="what the donor's sponsorships paid for delivered food and its distribution")
    drawn_food_rp: int = Field(0, description="of drawn_rp, what paid food")
    drawn_distribution_rp: int = Field(
        0,
        description="of drawn_rp, what paid the distribution of the food (bringing it, GENTING_DISTRIBUTION_COST_RP"
        " a day covered); the rest paid food",
    )
    released_rp: int
    remaining_rp: int
    available_rp: int
    families_sponsored: int
    version: int
    sponsorships: list[SponsorshipLine]
    in_kind_interventions_rp: int = Field(
        0,
        description="interventions this donor gave in kind (aid's InterventionRecorded naming it as the source);"
        " apart from the money above: interventions never draw on sponsorships",
    )
    contributions: list[ContributionLine]
    name: str | None = None
    contact: str | None = None
    pledge_notes: list[PledgeNoteLine] | None = Field(
        None, description="the notes of the donor's pledges, oldest first: only where name and contact are shown"
    )


class TypeTotals(BaseModel):
    """De-identified totals of one donor type."""

    donor_type: str
    donors: int
    pledged_rp: int
    received_rp: int
    allocated_rp: int
    drawn_rp: int
    drawn_distribution_rp: int = Field(
        0,
        description="of drawn_rp, what paid the distribution of the food (bringing it, GENTING_DISTRIBUTION_COST_RP"
        " a day covered); the rest paid food",
    )
    released_rp: int
    available_rp: int


class FamilyFunding(BaseModel):
    family_id: UUID
    status: str
    sponsored_rp: int
    drawn_rp: int
    drawn_distribution_rp: int = Field(
        0,
        description="of drawn_rp, what paid the distribution of the food (bringing it, GENTING_DISTRIBUTION_COST_RP"
        " a day covered); the rest paid food",
    )
    released_rp: int
    remaining_rp: int
    sponsorships: list[SponsorshipLine]


# -- queries --------------------------------------------------------------------------------------

_SPONSORSHIP_COLUMNS = (
    "sponsorship_id, donor_id, family_id, kelurahan_code, amount_rp, drawn_rp, drawn_distribution_rp, released_rp,"
    " amount_rp - drawn_rp - released_rp as remaining_rp, released_reason, start_date, sponsored_on"
)


async def donor_statement(db: Db, donor_id: UUID) -> dict[str, Any] | None:
    """received = available + allocated; allocated (net of releases) = drawn + remaining."""
    row = await db.fetchrow(
        "select d.donor_id, d.donor_type, d.registered_on, d.pledged_rp, d.received_rp, d.allocated_rp,"
        " coalesce(s.drawn_rp, 0)::bigint as drawn_rp,"
        " coalesce(s.drawn_rp - s.drawn_distribution_rp, 0)::bigint as drawn_food_rp,"
        " coalesce(s.drawn_distribution_rp, 0)::bigint as drawn_distribution_rp, d.returned_rp as released_rp,"
        " coalesce(s.remaining_rp, 0)::bigint as remaining_rp,"
        " d.received_rp - d.allocated_rp as available_rp,"
        " coalesce(s.families, 0) as families_sponsored, d.version"
        " from donors_view d left join lateral (select sum(drawn_rp) as drawn_rp,"
        "  sum(drawn_distribution_rp) as drawn_distribution_rp,"
        "  sum(amount_rp - drawn_rp - released_rp) as remaining_rp, count(distinct family_id) as families"
        "  from sponsorships_view where donor_id = d.donor_id) s on true"
        " where d.donor_id = $1",
        donor_id,
    )
    if row is None:
        return None
    statement = json_row(row)
    sponsorships = await db.fetch(
        f"select {_SPONSORSHIP_COLUMNS} from sponsorships_view where donor_id = $1"
        " order by sponsored_on, sponsorship_id",
        donor_id,
    )
    statement["sponsorships"] = [json_row(r) for r in sponsorships]
    contributions = await db.fetch(
        "select contribution_id, amount_rp, received_on, method from contributions_view where donor_id = $1"
        " order by received_on, contribution_id",
        donor_id,
    )
    statement["contributions"] = [json_row(r) for r in contributions]
    statement["in_kind_interventions_rp"] = await db.fetchval(
        "select coalesce(sum(value_rp), 0)::bigint from donor_in_kind_interventions where donor_id = $1", donor_id
    )
    return statement


async def totals_by_type(db: Db) -> list[dict[str, Any]]:
    """De-identified: per donor type, no ids and no names (what an auditor sees)."""
    rows = await db.fetch(
        "select d.donor_type, count(*) as donors, sum(d.pledged_rp)::bigint as pledged_rp,"
        " sum(d.received_rp)::bigint as received_rp, sum(d.allocated_rp)::bigint as allocated_rp,"
        " sum(coalesce(s.drawn_rp, 0))::bigint as drawn_rp,"
        " sum(coalesce(s.drawn_distribution_rp, 0))::bigint as drawn_distribution_rp,"
        " sum(d.returned_rp)::bigint as released_rp,"
        " sum(d.received_rp - d.allocated_rp)::bigint as available_rp"
        " from donors_view d left join (select donor_id, sum(drawn_rp) as drawn_rp,"
        "  sum(drawn_distribution_rp) as drawn_distribution_rp from sponsorships_view"
        "  group by donor_id) s on s.donor_id = d.donor_id"
        " group by d.donor_type order by d.donor_type"
    )
    # drawn_distribution_rp only when there is some (default 0): a programme without a distribution
    # cost answers what it did before.
    return [
        {k: (int(v) if k != "donor_type" else v) for k, v in dict(r).items() if k != "drawn_distribution_rp" or v}
        for r in rows
    ]


async def donor_page(db: Db, limit: int, offset: int, only: UUID | None = None) -> Page:
    return await page(
        db,
        "donors_view",
        {"donor_id = $": only},
        order_by="registered_on, donor_id",
        limit=limit,
        offset=offset,
        columns="donor_id",
    )


async def family_funding(db: Db, family_id: UUID) -> dict[str, Any] | None:
    status = await db.fetchval("select status from funding_families where family_id = $1", family_id)
    rows = await db.fetch(
        f"select {_SPONSORSHIP_COLUMNS} from sponsorships_view where family_id = $1"
        " order by sponsored_on, sponsorship_id",
        family_id,
    )
    if status is None and not rows:
        return None
    sponsorships = [json_row(r) for r in rows]
    return {"family_id": str(family_id), "status": status or "unknown", **sponsorship_totals(sponsorships)}


def sponsorship_totals(sponsorships: list[dict[str, Any]]) -> dict[str, Any]:
    """The totals of exactly these sponsorships: what a reader is shown sums what it may see (a
    donor's view of a family is its own sponsorships, never the family's total)."""
    return {
        "sponsored_rp": sum(s["amount_rp"] for s in sponsorships),
        "drawn_rp": sum(s["drawn_rp"] for s in sponsorships),
        "drawn_distribution_rp": sum(s["drawn_distribution_rp"] for s in sponsorships),
        "released_rp": sum(s["released_rp"] for s in sponsorships),
        "remaining_rp": sum(s["remaining_rp"] for s in sponsorships),
        "sponsorships": sponsorships,
    }
