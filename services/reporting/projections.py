"""Reporting's three projections, one durable consumer per upstream context: what each upstream
event says about reporting's rows. The translations are pure; `tables.execute` writes them, one
upsert per change, each column as its `Table` declares it: `add` sums, `first` keeps the first
value, `last` the latest, `least` / `greatest` the smallest / largest whatever the order.

These tables are reporting's read model; queries.py reads them (the JSON reports, and the
dashboard: dashboard.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ConfigDict

from services.reporting.tables import Change, Table, change, execute
from shared.contracts import aid, funding, registry
from shared.contracts.base import EventCatalog
from shared.messaging import Envelope, stream_name

FAMILIES = Table(
    "families_view",
    ("family_id",),
    first=("kelurahan_code", "registered_on", "enrolled_on", "rejected_on", "exited_on", "exit_reason"),
    # The registry's plan_until only ever moves later (a newborn): the latest wins in any order.
    greatest=("plan_until",),
)
GROWTH = Table(
    "growth_view",
    ("family_id", "stream_version"),
    first=("member_id", "kelurahan_code", "measured_on", "age_months", "haz", "stunted"),
)
FAMILY_FUNDING = Table(
    "family_funding_view",
    ("family_id",),
    add=("sponsorships", "sponsored_rp", "drawn_rp", "released_rp", "unplanned_released_rp"),
    first=("kelurahan_code",),
    least=("first_sponsored_on",),  # the earliest effective date, whatever the order of entry
)
DONORS = Table(
    "donors_view",
    ("donor_id",),
    add=(
        "pledges",
        "pledged_rp",
        "contributions",
        "received_rp",
        "sponsorships",
        "sponsored_rp",
        "drawn_rp",
        "released_rp",
        "drawn_distribution_rp",  # of drawn_rp, what paid distribution
    ),
    first=("donor_type", "registered_on"),
)
PLANS = Table(
    "plans_view",
    ("plan_id",),
    add=("deliveries", "delivered_rp", "days_covered", "distribution_rp"),
    first=(
        "family_id",
        "kelurahan_code",
        "opened_on",
        "start_date",
        "end_date",
        "days",
        "completed_on",
        "closed_on",
        "outcome",
        "distribution_daily_rp",
    ),
    # The plan's funding state as aid last said it (AidPlanUnderfunded / AidPlanFullyFunded).
    last=("budget_rp", "shortfall_rp", "uncovered_days", "remaining_rp", "underfunded_on"),
    # The last day accounted for (a delivery's or a recorded gap's last day): aid's gaps are the
    # uncovered days from the start up to it, so reporting derives the same from days_covered.
    greatest=("horizon", "last_gap_to"),
)
DELIVERIES = Table(
    "deliveries_view",
    ("delivery_id",),
    first=(
        "plan_id",
        "kelurahan_code",
        "delivered_on",
        "period_from",
        "period_to",
        "days",
        "value_rp",
        "confirmed_on",
        "distribution_rp",
    ),
)
SESSIONS = Table("education_sessions_view", ("session_id",), first=("topic", "held_on", "kelurahan_code", "families"))
INTERVENTIONS = Table(
    "interventions_view",
    ("intervention_id",),
    first=("plan_id", "kelurahan_code", "kind", "done_on", "value_rp", "source_donor_id", "source_organisation"),
)
HOME_VISITS = Table("home_visits_view", ("flag_id",), first=("kelurahan_code", "flagged_on", "visited_on"))
GRIEVANCES = Table(
    "grievances_view",
    ("grievance_id",),
    first=("kelurahan_code", "category", "filed_on", "due_on"),
    greatest=("escalated_on", "resolved_on"),
)
# What no sponsorship could pay of a delivery (funding's DeliveryUnfunded): delivered food and
# distribution = drawn + unfunded.
UNFUNDED = Table(
    "unfunded_deliveries_view",
    ("delivery_id",),
    first=(
        "plan_id",
        "family_id",
        "kelurahan_code",
        "delivered_on",
        "value_rp",
        "unfunded_rp",
        "distribution_rp",
        "unfunded_distribution_rp",
    ),
)
# Money by (first day of the) month and donor type, for the public transparency page.
MONEY_BY_MONTH = Table(
    "money_by_month_view", ("month", "donor_type"), add=("received_rp", "sponsored_rp", "released_rp", "drawn_rp")
)


def _month(day: date) -> date:
    return day.replace(day=1)


def _distribution(**figures: int) -> dict[str, int]:
    """The distribution figures an event carries, those that are not 0: without a distribution
    cost (GENTING_DISTRIBUTION_COST_RP=0) a change is what it was before (a missing counter adds
    0, a missing value stays null and sums as 0)."""
    return {name: value for name, value in figures.items() if value}


def registry_changes(env: Envelope) -> list[Change]:
    event = _parse(registry.CATALOG, env)
    match event:
        case registry.GrowthMeasured():
            # Keyed by the family stream's version: one row per measurement, first and latest per
            # child are picked at query time.
            return [
                change(
                    GROWTH,
                    (event.family_id, env.stream_version),
                    member_id=event.member_id,
                    kelurahan_code=event.kelurahan_code,
                    measured_on=event.measured_on,
                    age_months=event.age_months,
                    haz=event.haz,
                    stunted=event.stunted,
                )
            ]
        case registry.FamilyRegistered():
            return [
                change(
                    FAMILIES, event.family_id, kelurahan_code=event.kelurahan_code, registered_on=event.registered_on
                )
            ]
        case registry.FamilyEnrolled():
            return [
                change(
                    FAMILIES,
                    event.family_id,
                    kelurahan_code=event.kelurahan_code,
                    enrolled_on=event.enrolled_on,
                    plan_until=event.plan_until,
                )
            ]
        case registry.FamilyEligibilityChanged():
            return [change(FAMILIES, event.family_id, plan_until=event.plan_until)]
        case registry.FamilyRejected():
            return [
                change(FAMILIES, event.family_id, kelurahan_code=event.kelurahan_code, rejected_on=event.rejected_on)
            ]
        case registry.FamilyExited():
            return [
                change(
                    FAMILIES,
                    event.family_id,
                    kelurahan_code=event.kelurahan_code,
                    exited_on=event.exited_on,
                    exit_reason=event.reason,
                )
            ]
    # Verified, member added, birth, aged out, data erased: no family count changes (a birth or a
    # child ageing out changes who is in the family, not the family's stage); unknown types: ignored.
    return []


def funding_changes(env: Envelope) -> list[Change]:
    event = _parse(funding.CATALOG, env)
    match event:
        case funding.DonorRegistered():
            return [change(DONORS, event.donor_id, donor_type=event.donor_type, registered_on=event.registered_on)]
        case funding.PledgeMade():
            return [change(DONORS, event.donor_id, donor_type=event.donor_type, pledges=1, pledged_rp=event.amount_rp)]
        case funding.ContributionReceived():
            return [
                change(
                    DONORS, event.donor_id, donor_type=event.donor_type, contributions=1, received_rp=event.amount_rp
                ),
                change(MONEY_BY_MONTH, (_month(event.received_on), event.donor_type), received_rp=event.amount_rp),
            ]
        case funding.FamilySponsored():
            return [
                change(
                    DONORS, event.donor_id, donor_type=event.donor_type, sponsorships=1, sponsored_rp=event.amount_rp
                ),
                change(
                    FAMILY_FUNDING,
                    event.family_id,
                    kelurahan_code=event.kelurahan_code,
                    first_sponsored_on=event.sponsored_on,
                    sponsorships=1,
                    sponsored_rp=event.amount_rp,
                ),
                change(MONEY_BY_MONTH, (_month(event.sponsored_on), event.donor_type), sponsored_rp=event.amount_rp),
            ]
        case funding.SponsorshipDrawn():
            return [
                change(
                    DONORS,
                    event.donor_id,
                    donor_type=event.donor_type,
                    drawn_rp=event.amount_rp,
                    **_distribution(drawn_distribution_rp=event.distribution_rp),
                ),
                change(FAMILY_FUNDING, event.family_id, drawn_rp=event.amount_rp),
                change(MONEY_BY_MONTH, (_month(event.drawn_on), event.donor_type), drawn_rp=event.amount_rp),
            ]
        case funding.SponsorshipReleased():
            return [
                change(DONORS, event.donor_id, donor_type=event.donor_type, released_rp=event.amount_rp),
                change(
                    FAMILY_FUNDING,
                    event.family_id,
                    released_rp=event.amount_rp,
                    # Released with no plan ever opened: the money left the family (the gap's meaning).
                    unplanned_released_rp=event.amount_rp if event.reason == "no_plan" else 0,
                ),
                change(MONEY_BY_MONTH, (_month(event.released_on), event.donor_type), released_rp=event.amount_rp),
            ]
        case funding.DeliveryUnfunded():
            return [
                change(
                    UNFUNDED,
                    event.delivery_id,
                    plan_id=event.plan_id,
                    family_id=event.family_id,
                    kelurahan_code=event.kelurahan_code,
                    delivered_on=event.delivered_on,
                    value_rp=event.value_rp,
                    unfunded_rp=event.unfunded_rp,
                    **_distribution(
                        distribution_rp=event.distribution_rp, unfunded_distribution_rp=event.unfunded_distribution_rp
                    ),
                )
            ]
    return []


class _PlanUnderfunded(BaseModel):
    """AidPlanUnderfunded as reporting reads it (a tolerant reader: known fields only, so it works
    whether or not aid's catalog in this build already lists the type)."""

    model_config = ConfigDict(extra="ignore")

    plan_id: UUID
    kelurahan_code: str | None = None
    shortfall_rp: int
    uncovered_days: int = 0
    remaining_rp: int = 0
    detected_on: date | None = None


class _PlanFullyFunded(BaseModel):
    model_config = ConfigDict(extra="ignore")

    plan_id: UUID
    kelurahan_code: str | None = None


def _funding_state(env: Envelope) -> list[Change]:
    if env.event_type == "AidPlanUnderfunded":
        u = _PlanUnderfunded.model_validate(env.data)
        return [
            change(
                PLANS,
                u.plan_id,
                kelurahan_code=u.kelurahan_code,
                shortfall_rp=u.shortfall_rp,
                uncovered_days=u.uncovered_days,
                remaining_rp=u.remaining_rp,
                underfunded_on=u.detected_on,
            )
        ]
    f = _PlanFullyFunded.model_validate(env.data)
    return [change(PLANS, f.plan_id, kelurahan_code=f.kelurahan_code, shortfall_rp=0, uncovered_days=0)]


def aid_changes(env: Envelope) -> list[Change]:
    if env.event_type in ("AidPlanUnderfunded", "AidPlanFullyFunded"):
        return _funding_state(env)
    event = _parse(aid.CATALOG, env)
    match event:
        case aid.AidPlanOpened():
            return [
                change(
                    PLANS,
                    event.plan_id,
                    family_id=event.family_id,
                    kelurahan_code=event.kelurahan_code,
                    opened_on=event.opened_on,
                    start_date=event.start_date,
                    end_date=event.end_date,
                    days=event.days,
                    budget_rp=event.budget_rp,
                    **_distribution(distribution_daily_rp=event.distribution_daily_rp),
                )
            ]
        case aid.AidPlanBudgetIncreased():
            return [change(PLANS, event.plan_id, budget_rp=event.budget_rp)]
        case aid.AidDelivered():
            return [
                change(
                    DELIVERIES,
                    event.delivery_id,
                    plan_id=event.plan_id,
                    kelurahan_code=event.kelurahan_code,
                    delivered_on=event.delivered_on,
                    period_from=event.period_from,
                    period_to=event.period_to,
                    days=event.days,
                    value_rp=event.value_rp,
                    **_distribution(distribution_rp=event.distribution_rp),
                ),
                change(
                    PLANS,
                    event.plan_id,
                    deliveries=1,
                    delivered_rp=event.value_rp,
                    **_distribution(distribution_rp=event.distribution_rp),
                    days_covered=event.days,
                    horizon=event.period_to,
                ),
            ]
        case aid.DeliveryConfirmed():
            return [change(DELIVERIES, event.delivery_id, confirmed_on=event.confirmed_on)]
        case aid.CoverageGapDetected():
            # Not a counter: a later delivery may fill the stretch; the gaps are
            # derived at query time from the horizon and the days covered.
            return [change(PLANS, event.plan_id, horizon=event.gap_to, last_gap_to=event.gap_to)]
        case aid.AidPlanCompleted():
            return [change(PLANS, event.plan_id, completed_on=event.completed_on)]
        case aid.AidPlanClosed():
            return [change(PLANS, event.plan_id, closed_on=event.closed_on, outcome=event.outcome)]
        case aid.InterventionRecorded():
            return [
                change(
                    INTERVENTIONS,
                    event.intervention_id,
                    plan_id=event.plan_id,
                    kelurahan_code=event.kelurahan_code,
                    kind=event.kind,
                    done_on=event.done_on,
                    value_rp=event.value_rp,
                    source_donor_id=event.source_donor_id,
                    source_organisation=event.source_organisation,
                )
            ]
        case aid.EducationSessionHeld():
            return [
                change(
                    SESSIONS,
                    event.session_id,
                    topic=event.topic,
                    held_on=event.held_on,
                    kelurahan_code=event.kelurahan_code,
                    families=event.families,
                )
            ]
        case aid.HomeVisitFlagged():
            return [
                change(HOME_VISITS, event.flag_id, kelurahan_code=event.kelurahan_code, flagged_on=event.flagged_on)
            ]
        case aid.GrievanceFiled():
            return [
                change(
                    GRIEVANCES,
                    event.grievance_id,
                    kelurahan_code=event.kelurahan_code,
                    category=event.category,
                    filed_on=event.filed_on,
                    due_on=event.due_on,
                )
            ]
        case aid.GrievanceEscalated():
            return [change(GRIEVANCES, event.grievance_id, escalated_on=event.escalated_on)]
        case aid.GrievanceResolved():
            return [change(GRIEVANCES, event.grievance_id, resolved_on=event.resolved_on)]
        case aid.HomeVisitDone():
            return [
                change(HOME_VISITS, event.flag_id, kelurahan_code=event.kelurahan_code, visited_on=event.visited_on)
            ]
    return []


def _parse(catalog: EventCatalog, env: Envelope) -> object:
    """The event, upcast to its current version; None for a type this code does not know yet."""
    if env.event_type not in catalog.classes:
        return None
    return catalog.parse(env.event_type, env.schema_version, env.data)


Translate = Callable[[Envelope], list[Change]]


@dataclass
class ReportingProjection:
    """One upstream context's events into reporting's tables (shared.projection.Projection)."""

    name: str
    stream: str
    filter_subjects: Sequence[str]
    tables: Sequence[str]
    translate: Translate

    async def apply(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        await execute(conn, self.translate(envelope))


def _projection(context: str, translate: Translate, tables: Sequence[Table]) -> ReportingProjection:
    return ReportingProjection(
        name=f"reporting-{context}",
        stream=stream_name(context),
        filter_subjects=(f"genting.{context}.>",),
        tables=tuple(t.name for t in tables),
        translate=translate,
    )


PROJECTIONS: tuple[ReportingProjection, ...] = (
    _projection("registry", registry_changes, (FAMILIES, GROWTH)),
    _projection("funding", funding_changes, (FAMILY_FUNDING, DONORS, MONEY_BY_MONTH, UNFUNDED)),
    _projection("aid", aid_changes, (PLANS, DELIVERIES, SESSIONS, INTERVENTIONS, HOME_VISITS, GRIEVANCES)),
)
