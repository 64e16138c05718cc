"""The shapes of reporting's answers (GET /funding, /aid, /outcomes; /progress is the contract's
CityProgress). Money is integer rupiah; every list has a stable order."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class FundingTotals(_Model):
    donors: int = 0  # donors registered
    pledged_rp: int = 0  # promised (PledgeMade)
    received_rp: int = 0  # arrived (ContributionReceived)
    allocated_rp: int = 0  # sponsorships given to families, less what was released back
    drawn_rp: int = 0  # paid out for delivered food and its distribution (SponsorshipDrawn)
    drawn_distribution_rp: int = Field(
        default=0, description="of drawn_rp, what paid the food's distribution (the rest paid food)"
    )
    released_rp: int = 0  # unspent sponsorship returned to donors (SponsorshipReleased)
    available_rp: int = 0  # received, not allocated


class DonorTypeFunding(FundingTotals):
    donor_type: str


class _OfKelurahan(_Model):
    """A row about one kelurahan, named as Areas.named names it."""

    kelurahan_code: str
    kelurahan: str
    kecamatan: str


class KelurahanTopUps(_OfKelurahan):
    plans: int  # active plans whose remaining budget cannot pay the daily minimum for the days left
    top_up_rp: int  # what they lack together


class FundingReport(FundingTotals):
    """Totals at the top level; `funding_gap_rp` is what enrolled, not-exited families still need."""

    by_donor_type: list[DonorTypeFunding]
    funding_gap_rp: int = Field(
        description="the sum over enrolled, not-exited families of max(0, the family's minimum - what was "
        "sponsored to the family); a family's minimum is family_minimum_rp, or its own plan days (enrolment "
        "to the registry's plan_until, GENTING_PLAN_UNTIL_CHILD_MONTHS) x (the daily minimum + the distribution cost)"
    )
    families_short: int = Field(description="enrolled, not-exited families sponsored below their minimum")
    family_minimum_rp: int = Field(
        description="plan days x (daily minimum + distribution cost): what opens a plan (the programme "
        "settings), the programme default; a family "
        "with a plan_until (GENTING_PLAN_UNTIL_CHILD_MONTHS) has its own minimum"
    )
    underfunded_plans: int = Field(
        default=0,
        description="active plans whose remaining budget cannot pay the daily minimum for their uncovered "
        "days left (aid's AidPlanUnderfunded, until AidPlanFullyFunded)",
    )
    top_up_needed_rp: int = Field(default=0, description="what the underfunded plans lack together (sum of shortfalls)")
    unfunded_rp: int = Field(
        default=0,
        description="food and distribution delivered that no sponsorship could pay (funding's DeliveryUnfunded): "
        "aid's delivered_rp + distribution_rp = drawn_rp + unfunded_rp",
    )
    unfunded_distribution_rp: int = Field(default=0, description="of unfunded_rp, what was distribution")
    top_ups_by_kelurahan: list[KelurahanTopUps] = Field(
        default_factory=list, description="kelurahan with an underfunded plan, the largest top-up first"
    )
    as_of: datetime


class TopicSessions(_Model):
    topic: str
    sessions: int
    families: int


class KindInterventions(_Model):
    kind: str
    interventions: int
    value_rp: int


class SourceInterventions(_Model):
    """What one source gave in kind for interventions (they never draw on sponsorships)."""

    source_type: str = Field(description="`donor` (an orang tua asuh), `organisation`, or `unnamed`")
    source: str = Field(description="the donor's id or the organisation's code; empty when unnamed")
    interventions: int
    value_rp: int


class DayDeliveries(_Model):
    date: date
    deliveries: int
    delivered_rp: int
    days_covered: int
    distribution_rp: int = Field(default=0, description="what bringing that food cost, beside delivered_rp")


class WeekDeliveries(_Model):
    week_start: date  # a Monday
    deliveries: int
    delivered_rp: int
    days_covered: int
    distribution_rp: int = Field(default=0, description="what bringing that food cost, beside delivered_rp")


class KelurahanGaps(_OfKelurahan):
    plans_with_gaps: int  # active plans with uncovered days
    gap_days: int


class AidReport(_Model):
    delivered_rp: int
    deliveries: int
    confirmed_deliveries: int
    days_covered: int  # days of food delivered, summed over deliveries
    plans_opened: int
    plans_active: int
    plans_completed: int
    plans_incomplete: int
    plans_exited: int
    plans_with_gaps: int  # plans (any status) with uncovered days now (a late delivery may fill them)
    gap_days: int
    education_sessions: int
    education_families: int
    education_by_topic: list[TopicSessions]
    interventions: int
    interventions_rp: int
    interventions_by_kind: list[KindInterventions]
    deliveries_by_day: list[DayDeliveries]
    gaps_to_chase: list[KelurahanGaps]  # active plans with gaps, per kelurahan
    as_of: datetime
    home_visits_flagged: int = 0  # children flagged for a home visit: no weight gain in two months
    home_visits_done: int = 0  # of those, visited
    # By delivered_on, one item per week (Monday) from the programme's start to this week.
    deliveries_by_week: list[WeekDeliveries] = Field(default_factory=list)
    underfunded_plans: int = 0  # active plans that cannot pay the daily minimum for the days left
    top_up_needed_rp: int = 0
    drawn_rp: int = Field(
        default=0,
        description="what the sponsorships paid for delivered food and its distribution (SponsorshipDrawn)",
    )
    distribution_rp: int = Field(
        default=0,
        description="what bringing the delivered food cost (the deliveries' distribution_rp, paid from the plans'"
        " budgets beside delivered_rp, the food's value); 0 without a distribution cost",
    )
    drawn_distribution_rp: int = Field(default=0, description="of drawn_rp, what paid distribution")
    unfunded_distribution_rp: int = Field(default=0, description="of unfunded_rp, what was distribution")
    interventions_by_source: list[SourceInterventions] = Field(
        default_factory=list,
        description="interventions are given in kind, never drawn from sponsorships: what each source "
        "gave, donors first, then organisations, then unnamed; the values sum to interventions_rp",
    )
    unfunded_rp: int = Field(
        default=0,
        description="food and distribution delivered that no sponsorship could pay (funding's DeliveryUnfunded),"
        " for the programme office to settle: delivered_rp + distribution_rp = drawn_rp + unfunded_rp once both"
        " streams are read",
    )


class _OfPlan(_Model):
    """A row about one aid plan, with its family and kelurahan."""

    plan_id: str
    family_id: str
    kelurahan_code: str
    kelurahan: str


class UnderfundedPlan(_OfPlan):
    shortfall_rp: int  # what the remaining budget lacks for the uncovered days left
    uncovered_days: int | None
    remaining_rp: int | None
    detected_on: date | None
    end_date: date | None


class PlanGap(_OfPlan):
    start_date: date | None
    end_date: date | None
    gaps: int
    gap_days: int
    last_gap_to: date | None
    days_covered: int


class OutcomeCounts(_Model):
    children_measured: int = 0
    measurements: int = 0
    stunted_at_first: int = 0  # stunted (HAZ < -2) at their first measurement
    stunted_at_latest: int = 0  # stunted at their latest measurement
    recovered: int = 0  # stunted at first, not at latest
    newly_stunted: int = 0  # not stunted at first, stunted at latest


class KelurahanOutcomes(OutcomeCounts):
    kelurahan_code: str
    kelurahan: str
    kecamatan: str


class MonthOutcomes(_Model):
    """Children measured in a calendar month (their latest measurement of that month) and how many
    of them were stunted then."""

    month: date  # the first day of the month
    children_measured: int
    stunted: int


class OutcomesReport(OutcomeCounts):
    by_kelurahan: list[KelurahanOutcomes]
    as_of: datetime
    # City-wide, one item per month from the programme's start to this month (zeros included).
    by_month: list[MonthOutcomes] = Field(default_factory=list)


class ProgressWeek(_Model):
    """The city's counts as of the end (Sunday) of the week starting `period_start`, by effective dates."""

    period_start: date  # a Monday
    registered: int
    enrolled: int
    sponsored: int
    aid_active: int
    completed: int
    exited: int
