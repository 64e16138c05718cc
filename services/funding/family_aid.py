"""What a donor may see of the families it sponsors, learned from aid's plan facts that funding
already consumes (AidPlanOpened, AidDelivered, DeliveryConfirmed, AidPlanCompleted, AidPlanClosed):
the plan's status and window, the days covered, the deliveries and how many the lurah confirmed.
De-identified by construction: aid's events carry no name, NIK, address or growth. Each write is
an upsert keyed by plan or delivery, so an event handled twice changes nothing."""

from __future__ import annotations

from typing import Any, TypeAlias
from uuid import UUID

import asyncpg

from shared.contracts import aid

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool


async def record(conn: asyncpg.Connection, event: object) -> None:
    match event:
        case aid.AidPlanOpened():
            await conn.execute(
                "insert into family_aid_plans (plan_id, family_id, status, start_date, end_date)"
                " values ($1, $2, 'open', $3, $4) on conflict (plan_id) do nothing",
                event.plan_id,
                event.family_id,
                event.start_date,
                event.end_date,
            )
        case aid.AidDelivered():
            await conn.execute(
                "insert into family_aid_deliveries (delivery_id, plan_id, family_id, days, delivered_on)"
                " values ($1, $2, $3, $4, $5) on conflict (delivery_id) do nothing",
                event.delivery_id,
                event.plan_id,
                event.family_id,
                event.days,
                event.delivered_on,
            )
        case aid.DeliveryConfirmed():
            await conn.execute(
                "update family_aid_deliveries set confirmed_on = $2 where delivery_id = $1",
                event.delivery_id,
                event.confirmed_on,
            )
        case aid.AidPlanCompleted():
            await _ended(conn, event.plan_id, "completed", event.days_covered)
        case aid.AidPlanClosed():
            await _ended(conn, event.plan_id, event.outcome, event.days_covered)


async def _ended(conn: asyncpg.Connection, plan_id: UUID, status: str, days_covered: int) -> None:
    await conn.execute(
        "update family_aid_plans set status = $2, days_covered = $3 where plan_id = $1", plan_id, status, days_covered
    )


async def donor_families(db: Db, donor_id: UUID) -> list[dict[str, Any]]:
    """One line per family the donor sponsors (CONTRACT.md, `GET /donors/{id}/families`), its
    latest plan's status and window, and the donor's own money in it (not the other donors')."""
    rows = await db.fetch(
        "with mine as ("
        "  select family_id, min(kelurahan_code) as kelurahan_code, sum(amount_rp)::bigint as sponsored,"
        "   sum(drawn_rp)::bigint as drawn from sponsorships_view where donor_id = $1 group by family_id),"
        " plan as ("
        "  select distinct on (family_id) * from family_aid_plans where family_id in (select family_id from mine)"
        "  order by family_id, start_date desc, plan_id),"
        " del as ("
        "  select family_id, count(*) as deliveries, count(confirmed_on) as confirmed,"
        "   max(delivered_on) as last_on, sum(days)::int as days from family_aid_deliveries"
        "  where family_id in (select family_id from mine) group by family_id)"
        " select m.family_id, m.kelurahan_code, coalesce(p.status, 'none') as plan_status, p.start_date, p.end_date,"
        "  coalesce(p.days_covered, d.days, 0) as days_covered, d.last_on as last_delivery_on,"
        "  coalesce(d.confirmed, 0) as confirmed_deliveries, coalesce(d.deliveries, 0) as deliveries,"
        "  m.sponsored as your_sponsored_rp, m.drawn as your_drawn_rp"
        " from mine m left join plan p using (family_id) left join del d using (family_id)"
        " order by m.family_id",
        donor_id,
    )
    return [
        {
            k: (str(v) if isinstance(v, UUID) else v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in dict(r).items()
        }
        for r in rows
    ]
