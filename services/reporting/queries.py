"""Read-side SQL: the reports, derived with GROUP BY from the per-family, per-plan, ... rows."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, TypedDict, get_args

import asyncpg

from services.reporting.areas import Areas
from services.reporting.periods import holes, months, weeks
from services.reporting.reports import (
    AidReport,
    DayDeliveries,
    DonorTypeFunding,
    FundingReport,
    FundingTotals,
    KelurahanGaps,
    KelurahanOutcomes,
    KelurahanTopUps,
    KindInterventions,
    MonthOutcomes,
    OutcomeCounts,
    OutcomesReport,
    PlanGap,
    ProgressWeek,
    SourceInterventions,
    TopicSessions,
    UnderfundedPlan,
    WeekDeliveries,
)
from services.reporting.settings import ReportingSettings
from shared.clock import now
from shared.contracts.aid import EducationTopic, InterventionKind
from shared.contracts.funding import DonorType
from shared.contracts.reporting import CityProgress, KecamatanProgress, KelurahanProgress, ProgressCounts
from shared.programme import family_minimum_rp, family_plan_days

COUNTS = tuple(ProgressCounts.model_fields)

# A family's stage comes from three consumers' rows; a family is counted once per stage however
# many sponsorships or plans it has. Plans: active until completed or closed.
PROGRESS_SQL = """
with plan_state as (
    select family_id, max(kelurahan_code) as kelurahan_code,
           bool_or(completed_on is null and closed_on is null) as active,
           bool_or(completed_on is not null or outcome = 'completed') as completed
    from plans_view where family_id is not null group by family_id
), ids as (
    select family_id from families_view
    union select family_id from family_funding_view
    union select family_id from plan_state
)
select coalesce(f.kelurahan_code, s.kelurahan_code, p.kelurahan_code, '') as kelurahan_code,
       count(f.registered_on) as registered,
       count(f.enrolled_on) as enrolled,
       count(*) filter (where s.sponsorships > 0) as sponsored,
       count(*) filter (where p.active) as aid_active,
       count(*) filter (where p.completed) as completed,
       count(f.exited_on) as exited,
       count(f.rejected_on) as rejected
from ids
left join families_view f using (family_id)
left join family_funding_view s using (family_id)
left join plan_state p using (family_id)
group by 1
"""


@asynccontextmanager
async def consistent_read(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """One read-only snapshot: numbers read together (the dashboard's three reports) agree."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        yield conn


async def progress(conn: asyncpg.Connection | asyncpg.Pool, target: int, areas: Areas) -> CityProgress:
    """Every kelurahan of the city (zeros included), then any other code a family was filed under."""
    rows = {r["kelurahan_code"]: r for r in await conn.fetch(PROGRESS_SQL)}
    by_kelurahan = []
    for code in areas.ordered(rows):
        a = areas.area(code)
        counts = {c: rows[code][c] if code in rows else 0 for c in COUNTS}
        by_kelurahan.append(
            KelurahanProgress(
                kelurahan_code=code, kelurahan=a.name, kecamatan_code=a.kecamatan_code, kecamatan=a.kecamatan, **counts
            )
        )
    return CityProgress(
        target=target,
        as_of=now(),
        by_kelurahan=by_kelurahan,
        by_kecamatan=by_kecamatan(by_kelurahan, areas),
        **_sums(by_kelurahan, COUNTS),
    )


def by_kecamatan(rows: Sequence[KelurahanProgress], areas: Areas) -> list[KecamatanProgress]:
    names = areas.kecamatan_names
    codes = [code for code, _ in areas.kecamatan] + sorted({r.kecamatan_code for r in rows} - set(names))
    return [
        KecamatanProgress(
            kecamatan_code=code,
            kecamatan=names.get(code, code),
            **_sums([r for r in rows if r.kecamatan_code == code], COUNTS),
        )
        for code in codes
    ]


def _sums(rows: Sequence[Any], fields: Sequence[str]) -> dict[str, int]:
    return {f: sum(getattr(r, f) for r in rows) for f in fields}


FUNDING_SQL = """
select donor_type, count(registered_on) as donors, sum(pledged_rp)::bigint as pledged_rp,
       sum(received_rp)::bigint as received_rp, sum(sponsored_rp - released_rp)::bigint as allocated_rp,
       sum(drawn_rp)::bigint as drawn_rp, sum(released_rp)::bigint as released_rp,
       sum(drawn_distribution_rp)::bigint as drawn_distribution_rp
from donors_view group by donor_type
"""

# What sponsors allocated to each enrolled, not-exited family (gross: money drawn for its food was
# for it; a plan opens only once the minimum is reached), less what went back to the donors because
# no plan opened in time (released `no_plan`); with the dates that fix the family's own minimum.
GAP_SQL = """
select f.enrolled_on, f.plan_until, coalesce(s.sponsored_rp - s.unplanned_released_rp, 0)::bigint as held_rp
from families_view f left join family_funding_view s using (family_id)
where f.enrolled_on is not null and f.exited_on is null
"""


@dataclass(frozen=True)
class PlanTerms:
    """The programme's plan as the funding gap measures it (kernel settings)."""

    plan_days: int
    daily_minimum_rp: int
    distribution_daily_rp: int

    @classmethod
    def of(cls, settings: ReportingSettings) -> PlanTerms:
        return cls(settings.plan_days, settings.daily_minimum_rp, settings.distribution_cost_rp)

    def minimum_rp(self, days: int) -> int:
        return family_minimum_rp(self.daily_minimum_rp, days, distribution_daily_rp=self.distribution_daily_rp)


async def funding_gap(conn: asyncpg.Connection | asyncpg.Pool, programme: PlanTerms) -> tuple[int, int]:
    """The funding gap and the families short of their minimum. Each family's minimum is its own
    (`shared.programme`: its days from enrolment to the registry's plan_until, else the fixed
    plan days, at the daily minimum plus the distribution cost), summed here rather than in SQL
    so the formula stays in one place."""
    gap = short = 0
    for r in await conn.fetch(GAP_SQL):
        days = family_plan_days(programme.plan_days, r["enrolled_on"], r["plan_until"])
        lacking = programme.minimum_rp(days) - r["held_rp"]
        if lacking > 0:
            gap, short = gap + lacking, short + 1
    return gap, short


# Active plans aid says cannot pay the daily minimum for their uncovered days left.
UNDERFUNDED = "shortfall_rp > 0 and completed_on is null and closed_on is null"


async def funding(conn: asyncpg.Connection | asyncpg.Pool, programme: PlanTerms, areas: Areas) -> FundingReport:
    """`programme` is the programme's plan (kernel settings): the fixed days, the daily food minimum
    and the distribution cost; a family with a plan_until has its own days (`funding_gap`)."""
    rows = {r["donor_type"] or "other": r for r in await conn.fetch(FUNDING_SQL)}
    types = list(get_args(DonorType)) + sorted(set(rows) - set(get_args(DonorType)))
    by_type = [DonorTypeFunding(donor_type=t, **_funding_values(rows.get(t))) for t in types]
    gap, short = await funding_gap(conn, programme)
    unfunded = await conn.fetchrow(
        "select coalesce(sum(unfunded_rp), 0)::bigint as unfunded_rp,"
        " coalesce(sum(unfunded_distribution_rp), 0)::bigint as unfunded_distribution_rp"
        " from unfunded_deliveries_view"
    )
    totals = _sums(by_type, tuple(FundingTotals.model_fields))
    rows_by_kelurahan = await conn.fetch(
        "select kelurahan_code, count(*) as plans, sum(shortfall_rp)::bigint as top_up_rp from plans_view"
        f" where {UNDERFUNDED} group by kelurahan_code order by top_up_rp desc, kelurahan_code"
    )
    top_ups = [
        KelurahanTopUps(**areas.named(r["kelurahan_code"]), plans=r["plans"], top_up_rp=r["top_up_rp"])
        for r in rows_by_kelurahan
    ]
    return FundingReport(
        by_donor_type=by_type,
        funding_gap_rp=gap,
        families_short=short,
        unfunded_rp=unfunded["unfunded_rp"],
        unfunded_distribution_rp=unfunded["unfunded_distribution_rp"],
        family_minimum_rp=programme.minimum_rp(programme.plan_days),
        underfunded_plans=sum(t.plans for t in top_ups),
        top_up_needed_rp=sum(t.top_up_rp for t in top_ups),
        top_ups_by_kelurahan=top_ups,
        as_of=now(),
        **totals,
    )


async def underfunded_plans(
    conn: asyncpg.Connection | asyncpg.Pool, areas: Areas, kelurahan_code: str | None = None
) -> list[UnderfundedPlan]:
    rows = await conn.fetch(
        "select plan_id, family_id, kelurahan_code, shortfall_rp, uncovered_days, remaining_rp,"
        f" underfunded_on, end_date from plans_view where {UNDERFUNDED}"
        " and ($1::text is null or kelurahan_code = $1) order by shortfall_rp desc, plan_id",
        kelurahan_code,
    )
    return [
        UnderfundedPlan(
            **_of_plan(r, areas),
            shortfall_rp=r["shortfall_rp"],
            uncovered_days=r["uncovered_days"],
            remaining_rp=r["remaining_rp"],
            detected_on=r["underfunded_on"],
            end_date=r["end_date"],
        )
        for r in rows
    ]


def _funding_values(row: asyncpg.Record | None) -> dict[str, int]:
    if row is None:
        return {}
    values = {
        k: int(row[k] or 0)
        for k in (
            "donors",
            "pledged_rp",
            "received_rp",
            "allocated_rp",
            "drawn_rp",
            "released_rp",
            "drawn_distribution_rp",
        )
    }
    return values | {"available_rp": values["received_rp"] - values["allocated_rp"]}


AID_SQL = """
select
  (select coalesce(sum(value_rp), 0)::bigint from deliveries_view where value_rp is not null) as delivered_rp,
  (select coalesce(sum(distribution_rp), 0)::bigint from deliveries_view) as distribution_rp,
  (select count(*) from deliveries_view where delivered_on is not null) as deliveries,
  (select count(*) from deliveries_view where delivered_on is not null and confirmed_on is not null)
    as confirmed_deliveries,
  (select coalesce(sum(days), 0)::bigint from deliveries_view) as days_covered,
  (select coalesce(sum(drawn_rp), 0)::bigint from donors_view) as drawn_rp,
  (select coalesce(sum(drawn_distribution_rp), 0)::bigint from donors_view) as drawn_distribution_rp,
  (select coalesce(sum(unfunded_rp), 0)::bigint from unfunded_deliveries_view) as unfunded_rp,
  (select coalesce(sum(unfunded_distribution_rp), 0)::bigint from unfunded_deliveries_view)
    as unfunded_distribution_rp,
  count(*) filter (where opened_on is not null) as plans_opened,
  count(*) filter (where opened_on is not null and completed_on is null and closed_on is null) as plans_active,
  count(*) filter (where completed_on is not null or outcome = 'completed') as plans_completed,
  count(*) filter (where outcome = 'incomplete') as plans_incomplete,
  count(*) filter (where outcome = 'exited') as plans_exited,
  count(*) filter (where {gap} > 0) as plans_with_gaps,
  coalesce(sum({gap}), 0)::bigint as gap_days,
  count(*) filter (where {underfunded}) as underfunded_plans,
  coalesce(sum(shortfall_rp) filter (where {underfunded}), 0)::bigint as top_up_needed_rp,
  (select count(*) from home_visits_view where flagged_on is not null) as home_visits_flagged,
  (select count(*) from home_visits_view where visited_on is not null) as home_visits_done
from plans_view
"""
# A plan's uncovered days now, as aid counts them: from its start to the last day accounted for
# (a delivery's or a recorded gap's), less the days delivered (deliveries never overlap). A late
# delivery that fills a recorded gap raises days_covered, not the horizon: the gap is gone.
GAP_DAYS = (
    "(case when horizon is null or start_date is null then 0"
    " else greatest(0, horizon - start_date + 1 - days_covered) end)"
)
AID_SQL = AID_SQL.format(gap=GAP_DAYS, underfunded=UNDERFUNDED)
ACTIVE_GAPS = f"{GAP_DAYS} > 0 and completed_on is null and closed_on is null"


WEEKLY_DELIVERIES_SQL = """
select w.period_start, count(d.delivery_id) as deliveries, coalesce(sum(d.value_rp), 0)::bigint as delivered_rp,
       coalesce(sum(d.days), 0)::bigint as days_covered, coalesce(sum(d.distribution_rp), 0)::bigint as distribution_rp
from unnest($1::date[]) as w(period_start)
left join deliveries_view d on d.delivered_on between w.period_start and w.period_start + 6
group by w.period_start order by w.period_start
"""


async def aid(conn: asyncpg.Connection | asyncpg.Pool, programme_start: date, today: date, areas: Areas) -> AidReport:
    summary = dict(await conn.fetchrow(AID_SQL))
    weekly = await conn.fetch(WEEKLY_DELIVERIES_SQL, weeks(programme_start, today))
    topics = {
        r["topic"]: r
        for r in await conn.fetch(
            "select topic, count(*) as sessions, coalesce(sum(families), 0)::bigint as families"
            " from education_sessions_view group by topic"
        )
    }
    kinds = {
        r["kind"]: r
        for r in await conn.fetch(
            "select kind, count(*) as interventions, coalesce(sum(value_rp), 0)::bigint as value_rp"
            " from interventions_view group by kind"
        )
    }
    sources = await conn.fetch(
        "select case when source_donor_id is not null then 'donor'"
        " when source_organisation is not null then 'organisation' else 'unnamed' end as source_type,"
        " coalesce(source_donor_id::text, source_organisation, '') as source,"
        " count(*) as interventions, coalesce(sum(value_rp), 0)::bigint as value_rp"
        " from interventions_view group by 1, 2"
    )
    days = await conn.fetch(
        "select delivered_on, count(*) as deliveries, sum(value_rp)::bigint as delivered_rp,"
        " coalesce(sum(days), 0)::bigint as days_covered,"
        " coalesce(sum(distribution_rp), 0)::bigint as distribution_rp from deliveries_view"
        " where delivered_on is not null group by delivered_on order by delivered_on"
    )
    gaps = await conn.fetch(
        f"select kelurahan_code, count(*) as plans, sum({GAP_DAYS})::bigint as gap_days from plans_view"
        f" where {ACTIVE_GAPS} group by kelurahan_code"
    )
    by_topic = [
        TopicSessions(topic=t, **counts)
        for t, counts in _every(get_args(EducationTopic), topics, ("sessions", "families"))
    ]
    by_kind = [
        KindInterventions(kind=k, **counts)
        for k, counts in _every(get_args(InterventionKind), kinds, ("interventions", "value_rp"))
    ]
    return AidReport(
        **summary,
        education_sessions=sum(t.sessions for t in by_topic),
        education_families=sum(t.families for t in by_topic),
        education_by_topic=by_topic,
        interventions=sum(k.interventions for k in by_kind),
        interventions_rp=sum(k.value_rp for k in by_kind),
        interventions_by_kind=by_kind,
        interventions_by_source=sorted(
            (SourceInterventions(**dict(r)) for r in sources),
            key=lambda s: (("donor", "organisation", "unnamed").index(s.source_type), s.source),
        ),
        deliveries_by_day=[
            DayDeliveries(
                date=r["delivered_on"],
                deliveries=r["deliveries"],
                delivered_rp=r["delivered_rp"] or 0,
                days_covered=r["days_covered"],
                distribution_rp=r["distribution_rp"],
            )
            for r in days
        ],
        gaps_to_chase=_gaps_by_kelurahan(gaps, areas),
        deliveries_by_week=[
            WeekDeliveries(
                week_start=r["period_start"],
                deliveries=r["deliveries"],
                delivered_rp=r["delivered_rp"],
                days_covered=r["days_covered"],
                distribution_rp=r["distribution_rp"],
            )
            for r in weekly
        ],
        as_of=now(),
    )


class _PlanNamed(TypedDict):
    plan_id: str
    family_id: str
    kelurahan_code: str
    kelurahan: str


def _of_plan(r: asyncpg.Record, areas: Areas) -> _PlanNamed:
    """The fields a row about one plan starts with (reports._OfPlan), from a plans_view row."""
    code = r["kelurahan_code"] or ""
    return _PlanNamed(
        plan_id=str(r["plan_id"]), family_id=str(r["family_id"]), kelurahan_code=code, kelurahan=areas.area(code).name
    )


def _ordered(known: Sequence[str], found: Any) -> list[str]:
    return list(known) + sorted(set(found) - set(known) - {None})


def _every(
    known: Sequence[str], rows: dict[str, asyncpg.Record], counts: Sequence[str]
) -> list[tuple[str, dict[str, int]]]:
    """Each known key (then any other found) with its row's `counts`: zeros where it has no row."""
    return [(key, {c: rows[key][c] if key in rows else 0 for c in counts}) for key in _ordered(known, rows)]


def _gaps_by_kelurahan(rows: Sequence[asyncpg.Record], areas: Areas) -> list[KelurahanGaps]:
    out = [
        KelurahanGaps(**areas.named(r["kelurahan_code"]), plans_with_gaps=r["plans"], gap_days=r["gap_days"] or 0)
        for r in rows
    ]
    # The longest uncovered stretches first: those are the kelurahan to call today.
    return sorted(out, key=lambda g: (-g.gap_days, g.kelurahan_code))


async def plan_gaps(
    conn: asyncpg.Connection | asyncpg.Pool, areas: Areas, kelurahan_code: str | None = None
) -> list[PlanGap]:
    rows = await conn.fetch(
        f"select plan_id, family_id, kelurahan_code, start_date, end_date, horizon, last_gap_to, days_covered,"
        f" {GAP_DAYS} as gap_days from plans_view where {ACTIVE_GAPS} and ($1::text is null or kelurahan_code = $1)"
        " order by gap_days desc, plan_id",
        kelurahan_code,
    )
    periods: dict[Any, list[tuple[date, date]]] = {r["plan_id"]: [] for r in rows}
    for d in await conn.fetch(
        "select plan_id, period_from, period_to from deliveries_view where plan_id = any($1::uuid[])", list(periods)
    ):
        periods[d["plan_id"]].append((d["period_from"], d["period_to"]))
    return [
        PlanGap(
            **_of_plan(r, areas),
            start_date=r["start_date"],
            end_date=r["end_date"],
            gaps=len(holes(r["start_date"], r["horizon"], periods[r["plan_id"]])),
            gap_days=r["gap_days"],
            last_gap_to=r["last_gap_to"],
            days_covered=r["days_covered"],
        )
        for r in rows
    ]


HISTORY_SQL = """
with plans as (
    select family_id, coalesce(start_date, opened_on) as began, least(completed_on, closed_on) as ended,
           coalesce(completed_on, case when outcome = 'completed' then closed_on end) as completed_on
    from plans_view where family_id is not null
), weeks as (
    select w as period_start, w + 6 as period_end from unnest($1::date[]) as w
)
select w.period_start,
  (select count(*) from families_view f where f.registered_on <= w.period_end) as registered,
  (select count(*) from families_view f where f.enrolled_on <= w.period_end) as enrolled,
  (select count(*) from family_funding_view s where s.sponsorships > 0 and s.first_sponsored_on <= w.period_end)
    as sponsored,
  (select count(distinct family_id) from plans p
    where p.began <= w.period_end and (p.ended is null or p.ended > w.period_end)) as aid_active,
  (select count(distinct family_id) from plans p where p.completed_on <= w.period_end) as completed,
  (select count(*) from families_view f where f.exited_on <= w.period_end) as exited
from weeks w order by w.period_start
"""


async def history(conn: asyncpg.Connection | asyncpg.Pool, programme_start: date, today: date) -> list[ProgressWeek]:
    """GET /progress/history: the city's counts as of the end of each week, by effective dates."""
    return [ProgressWeek(**dict(r)) for r in await conn.fetch(HISTORY_SQL, weeks(programme_start, today))]


# First and latest per child by measurement date; measurements of one day in the order recorded.
OUTCOMES_SQL = """
with ordered as (
    select member_id, kelurahan_code, stunted,
           row_number() over (partition by member_id order by measured_on, family_id, stream_version) as up,
           row_number() over (partition by member_id order by measured_on desc, family_id desc,
                              stream_version desc) as down,
           count(*) over (partition by member_id) as n
    from growth_view where member_id is not null
), children as (
    select member_id, max(kelurahan_code) filter (where down = 1) as kelurahan_code, max(n) as n,
           bool_or(stunted) filter (where up = 1) as first_stunted,
           bool_or(stunted) filter (where down = 1) as latest_stunted
    from ordered group by member_id
)
select coalesce(kelurahan_code, '') as kelurahan_code, count(*) as children_measured,
       sum(n)::bigint as measurements,
       count(*) filter (where first_stunted) as stunted_at_first,
       count(*) filter (where latest_stunted) as stunted_at_latest,
       count(*) filter (where first_stunted and not latest_stunted) as recovered,
       count(*) filter (where not first_stunted and latest_stunted) as newly_stunted
from children group by 1
"""


# The stunting share by month: each child measured in the month counts once, by its latest
# measurement of that month (posyandu weigh children monthly; a month without a measurement says
# nothing about the child, so it is not carried forward).
MONTHLY_SQL = """
with latest as (
    select distinct on (member_id, date_trunc('month', measured_on))
           date_trunc('month', measured_on)::date as month, stunted
    from growth_view where member_id is not null and measured_on is not null
    order by member_id, date_trunc('month', measured_on), measured_on desc, family_id desc, stream_version desc
)
select m as month, count(l.month) as children_measured, count(*) filter (where l.stunted) as stunted
from unnest($1::date[]) as m left join latest l on l.month = m
group by m order by m
"""


async def outcomes(
    conn: asyncpg.Connection | asyncpg.Pool, programme_start: date, today: date, areas: Areas
) -> OutcomesReport:
    rows = {r["kelurahan_code"]: r for r in await conn.fetch(OUTCOMES_SQL)}
    by_month = [MonthOutcomes(**dict(r)) for r in await conn.fetch(MONTHLY_SQL, months(programme_start, today))]
    fields = tuple(OutcomeCounts.model_fields)
    by_kelurahan = [
        KelurahanOutcomes(**areas.named(code), **{f: int(rows[code][f]) if code in rows else 0 for f in fields})
        for code in areas.ordered(rows)
    ]
    return OutcomesReport(by_kelurahan=by_kelurahan, by_month=by_month, as_of=now(), **_sums(by_kelurahan, fields))


# -- the grievances and the money by month (GET /grievances/summary, the transparency page) --------

GRIEVANCE_STATUS = (
    "case when resolved_on is not null then 'resolved' when escalated_on is not null then 'escalated' else 'open' end"
)


async def grievance_summary(conn: asyncpg.Connection, today: date) -> dict[str, Any]:
    rows = await conn.fetch(
        f"select coalesce(category, 'other') as category, {GRIEVANCE_STATUS} as status,"
        " coalesce(kelurahan_code, '') as k, due_on, filed_on, resolved_on from grievances_view"
        " where filed_on is not null"
    )

    def count(key: str) -> list[dict[str, Any]]:
        counts: dict[str, int] = {}
        for r in rows:
            counts[r[key]] = counts.get(r[key], 0) + 1
        return [{"key": k, "count": n} for k, n in sorted(counts.items())]

    durations = sorted((r["resolved_on"] - r["filed_on"]).days for r in rows if r["resolved_on"] is not None)
    median: float | None = None
    if durations:
        mid = len(durations) // 2
        median = float(durations[mid]) if len(durations) % 2 else (durations[mid - 1] + durations[mid]) / 2
    return {
        "total": len(rows),
        "by_category": count("category"),
        "by_status": count("status"),
        "by_kelurahan": count("k"),
        "overdue": sum(1 for r in rows if r["status"] != "resolved" and r["due_on"] and r["due_on"] < today),
        "median_days_to_resolve": median,
    }


async def money_by_month(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "select month, donor_type, received_rp, sponsored_rp - released_rp as allocated_rp, drawn_rp"
        " from money_by_month_view order by month, donor_type"
    )
    return [{**dict(r), "month": r["month"].strftime("%Y-%m")} for r in rows]


# -- the reports with this deployment's settings: the JSON routes, the CSV exports, the dashboard --


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows, read in one snapshot: the same reports as the JSON routes."""

    progress: CityProgress
    funding: FundingReport
    aid: AidReport
    history: list[ProgressWeek]
    outcomes: OutcomesReport
    grievances: dict[str, Any]


@dataclass(frozen=True)
class ReportQueries:
    """The reports as the settings ask for them (target, programme start, the funding gap's unit),
    for the city's `today`: the one place that turns settings into the queries' arguments, so a
    JSON route, its CSV export and the dashboard give the same numbers. Call inside
    `consistent_read`, so numbers read together agree."""

    settings: ReportingSettings
    areas: Areas
    today: date

    async def progress(self, conn: asyncpg.Connection) -> CityProgress:
        return await progress(conn, self.settings.target_families, self.areas)

    async def funding(self, conn: asyncpg.Connection) -> FundingReport:
        # The funding gap's unit: a whole plan's food and distribution (the minimum aid opens it at),
        # of each family's own length.
        return await funding(conn, PlanTerms.of(self.settings), self.areas)

    async def aid(self, conn: asyncpg.Connection) -> AidReport:
        return await aid(conn, self.settings.programme_start, self.today, self.areas)

    async def history(self, conn: asyncpg.Connection) -> list[ProgressWeek]:
        return await history(conn, self.settings.programme_start, self.today)

    async def outcomes(self, conn: asyncpg.Connection) -> OutcomesReport:
        return await outcomes(conn, self.settings.programme_start, self.today, self.areas)

    async def grievances(self, conn: asyncpg.Connection) -> dict[str, Any]:
        return await grievance_summary(conn, self.today)

    async def dashboard(self, conn: asyncpg.Connection) -> Dashboard:
        """Every figure the dashboard shows: the methods above, in one read."""
        return Dashboard(
            progress=await self.progress(conn),
            funding=await self.funding(conn),
            aid=await self.aid(conn),
            history=await self.history(conn),
            outcomes=await self.outcomes(conn),
            grievances=await self.grievances(conn),
        )
