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
    drawn_rp: int = 0  # paid out for delivered food (SponsorshipDrawn)
    released_rp: int = 0  # unspent sponsorship returned to donors (SponsorshipReleased)
    available_rp: int = 0  # received, not allocated


class DonorTypeFunding(FundingTotals):
    donor_type: str


class FundingReport(FundingTotals):
    """Totals at the top level; `funding_gap_rp` is what enrolled, not-exited families still need."""

    by_donor_type: list[DonorTypeFunding]
    funding_gap_rp: int
    families_short: int = Field(description="enrolled, not-exited families sponsored below the minimum")
    family_minimum_rp: int
    as_of: datetime


class TopicSessions(_Model):
    topic: str
    sessions: int
    families: int


class KindInterventions(_Model):
    kind: str
    interventions: int
    value_rp: int


class DayDeliveries(_Model):
    date: date
    deliveries: int
    delivered_rp: int
    days_covered: int


class KelurahanGaps(_Model):
    kelurahan_code: str
    kelurahan: str
    kecamatan: str
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
    plans_with_gaps: int  # plans (any status) with at least one uncovered stretch
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


class PlanGap(_Model):
    plan_id: str
    family_id: str
    kelurahan_code: str
    kelurahan: str
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


class OutcomesReport(OutcomeCounts):
    by_kelurahan: list[KelurahanOutcomes]
    as_of: datetime
