"""Small, hand-made reports for the pure rendering tests (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.reporting.areas import Area
from services.reporting.queries import by_kecamatan
from services.reporting.reports import (
    AidReport,
    DayDeliveries,
    DonorTypeFunding,
    FundingReport,
    KelurahanGaps,
    KindInterventions,
    MonthOutcomes,
    ProgressWeek,
    TopicSessions,
    WeekDeliveries,
)
from shared.contracts.reporting import CityProgress, KelurahanProgress
from shared.testing.reporting_scenarios import city_areas

AS_OF = datetime(2025, 3, 1, 2, 30, tzinfo=UTC)


def progress_row(a: Area, **figures: int) -> KelurahanProgress:
    """A kelurahan's row of the city's progress with these figures (the others zero)."""
    return KelurahanProgress(
        kelurahan_code=a.code, kelurahan=a.name, kecamatan_code=a.kecamatan_code, kecamatan=a.kecamatan, **figures
    )


def city_progress(enrolled_in_medono: int = 3) -> CityProgress:
    areas = city_areas()
    rows = [progress_row(a, registered=i % 3, enrolled=i % 2, sponsored=i % 2) for i, a in enumerate(areas.kelurahan)]
    rows[0] = rows[0].model_copy(update={"registered": 5, "enrolled": enrolled_in_medono, "completed": 1})
    totals = {f: sum(getattr(r, f) for r in rows) for f in ("registered", "enrolled", "sponsored", "completed")}
    return CityProgress(target=1330, as_of=AS_OF, by_kelurahan=rows, by_kecamatan=by_kecamatan(rows, areas), **totals)


def sample_funding() -> FundingReport:
    csr = DonorTypeFunding(
        donor_type="csr",
        donors=2,
        pledged_rp=0,
        received_rp=10_000_000,
        allocated_rp=4_200_000,
        drawn_rp=3_150_000,
        released_rp=0,
        available_rp=5_800_000,
    )
    ind = DonorTypeFunding(
        donor_type="individual", donors=1, received_rp=5_000_000, allocated_rp=2_700_000, available_rp=2_300_000
    )
    return FundingReport(
        by_donor_type=[ind, csr],
        funding_gap_rp=4_400_000,
        families_short=2,
        family_minimum_rp=2_700_000,
        as_of=AS_OF,
        donors=3,
        received_rp=15_000_000,
        allocated_rp=6_900_000,
        drawn_rp=3_150_000,
        available_rp=8_100_000,
    )


def sample_aid() -> AidReport:
    return AidReport(
        delivered_rp=900_000,
        deliveries=2,
        confirmed_deliveries=1,
        days_covered=60,
        plans_opened=2,
        plans_active=2,
        plans_completed=0,
        plans_incomplete=0,
        plans_exited=0,
        plans_with_gaps=1,
        gap_days=10,
        education_sessions=1,
        education_families=2,
        education_by_topic=[TopicSessions(topic="nutrition", sessions=1, families=2)],
        interventions=1,
        interventions_rp=500_000,
        interventions_by_kind=[KindInterventions(kind="clean_water", interventions=1, value_rp=500_000)],
        deliveries_by_day=[
            DayDeliveries(date=date(2025, 1, 9), deliveries=1, delivered_rp=450_000, days_covered=30),
            DayDeliveries(date=date(2025, 2, 8), deliveries=1, delivered_rp=450_000, days_covered=30),
        ],
        gaps_to_chase=[
            KelurahanGaps(
                kelurahan_code="33.75.01.1002",
                kelurahan="Medono",
                kecamatan="Pekalongan Barat",
                plans_with_gaps=1,
                gap_days=10,
            )
        ],
        as_of=AS_OF,
        home_visits_flagged=3,
        home_visits_done=1,
        deliveries_by_week=[
            WeekDeliveries(week_start=date(2025, 1, 6), deliveries=1, delivered_rp=450_000, days_covered=30),
            WeekDeliveries(week_start=date(2025, 1, 13), deliveries=0, delivered_rp=0, days_covered=0),
            WeekDeliveries(week_start=date(2025, 1, 20), deliveries=3, delivered_rp=450_000, days_covered=30),
        ],
    )


def sample_history() -> list[ProgressWeek]:
    """Three weeks of a programme that started on Monday 6 January 2025."""
    counts = ((4, 2, 1, 0, 0, 0), (9, 6, 4, 3, 0, 1), (12, 10, 8, 7, 1, 1))
    fields = ("registered", "enrolled", "sponsored", "aid_active", "completed", "exited")
    return [
        ProgressWeek(period_start=date(2025, 1, 6 + 7 * i), **dict(zip(fields, c, strict=True)))
        for i, c in enumerate(counts)
    ]


def sample_months() -> list[MonthOutcomes]:
    return [
        MonthOutcomes(month=date(2025, 1, 1), children_measured=8, stunted=3),
        MonthOutcomes(month=date(2025, 2, 1), children_measured=0, stunted=0),
        MonthOutcomes(month=date(2025, 3, 1), children_measured=3, stunted=1),
    ]
