"""The dashboard page: the numbers of the reports it is given, Indonesian formatting, phone-ready."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

from services.reporting.dashboard import daily_points, render
from services.reporting.formatting import local_time, number, percent, rupiah, rupiah_short
from services.reporting.reports import AidReport, DayDeliveries, FundingReport
from shared.contracts.reporting import CityProgress

WIB = ZoneInfo("Asia/Jakarta")


def page(progress: CityProgress, funding: FundingReport, aid: AidReport) -> str:
    return render(progress, funding, aid, city="Kota Pekalongan", refresh_seconds=30, zone=WIB)


def test_every_number_shown_carries_its_json_value(
    progress: CityProgress, funding: FundingReport, aid: AidReport
) -> None:
    found = re.findall(
        r'data-metric="([^"]+)" data-value="(-?\d+)"(?: title="[^"]*")?>([^<]*)<', page(progress, funding, aid)
    )
    shown = {m: v for m, v, _ in found}
    assert int(shown["progress.enrolled"]) == progress.enrolled
    assert int(shown["progress.target"]) == 1330
    assert int(shown["progress.by_kelurahan.33.75.01.1002.registered"]) == 5
    assert int(shown["funding.by_donor_type.csr.received_rp"]) == 10_000_000
    assert int(shown["funding.funding_gap_rp"]) == 4_400_000
    assert int(shown["aid.gaps_to_chase.33.75.01.1002.gap_days"]) == 10
    assert (int(shown["aid.home_visits_flagged"]), int(shown["aid.home_visits_done"])) == (3, 1)
    texts = {m: t for m, _, t in found}
    assert texts["funding.funding_gap_rp"] == "Rp4,4 jt" and texts["progress.target"] == "1.330"
    assert 'data-value="4400000" title="Rp4.400.000">Rp4,4 jt<' in page(progress, funding, aid)


def test_the_page_is_phone_ready_self_refreshing_and_fetches_nothing(
    progress: CityProgress, funding: FundingReport, aid: AidReport
) -> None:
    html = page(progress, funding, aid)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<meta http-equiv="refresh" content="30">' in html
    assert "<script" not in html and "<link" not in html and "src=" not in html
    assert html.count("<svg") == 5  # progress bar, kecamatan, kelurahan, funding, deliveries per day
    assert "Capaian KRS" in html and "Kekurangan dana" in html and local_time(progress.as_of, WIB) in html


def test_deliveries_per_day_fill_empty_days_and_show_the_last_sixty(aid: AidReport) -> None:
    points = daily_points(aid)  # 9 Jan and 8 Feb
    assert len(points) == 31 and points[0] == ("2025-01-09", 1) and points[-1] == ("2025-02-08", 1)
    assert {n for _, n in points[1:-1]} == {0}
    spread = aid.model_copy(
        update={
            "deliveries_by_day": [
                DayDeliveries(date=date(2025, 1, 1), deliveries=1, delivered_rp=1, days_covered=1),
                DayDeliveries(date=date(2025, 4, 1), deliveries=3, delivered_rp=1, days_covered=1),
            ]
        }
    )
    points = daily_points(spread)
    assert len(points) == 60 and points[0] == ("2025-02-01", 0) and points[-1] == ("2025-04-01", 3)
    short = aid.model_copy(
        update={
            "deliveries_by_day": [
                DayDeliveries(date=date(2025, 1, 1), deliveries=2, delivered_rp=1, days_covered=1),
                DayDeliveries(date=date(2025, 1, 3), deliveries=1, delivered_rp=1, days_covered=1),
            ]
        }
    )
    assert daily_points(short) == [("2025-01-01", 2), ("2025-01-02", 0), ("2025-01-03", 1)]
    assert daily_points(aid.model_copy(update={"deliveries_by_day": []})) == []


def test_numbers_are_written_the_indonesian_way() -> None:
    assert number(1330) == "1.330" and number(0) == "0"
    assert rupiah(2_700_000) == "Rp2.700.000" and rupiah(-5) == "-Rp5"
    assert rupiah_short(1_250_000_000) == "Rp1,2 M" and rupiah_short(2_700_000) == "Rp2,7 jt"
    assert rupiah_short(3_000_000) == "Rp3 jt" and rupiah_short(999) == "Rp999"
    assert percent(665, 1330) == "50%" and percent(1, 3) == "33,3%" and percent(1, 0) == "0%"


def test_the_time_shown_is_the_citys_with_its_zones_abbreviation(
    progress: CityProgress, funding: FundingReport, aid: AidReport
) -> None:
    assert local_time(progress.as_of, WIB) == "1 Mar 2025 09:30:00 WIB"  # 02:30 UTC
    eastern = render(progress, funding, aid, city="Kota Jayapura", refresh_seconds=30, zone=ZoneInfo("Asia/Jayapura"))
    assert "data per 1 Mar 2025 11:30:00 WIT" in eastern and "WIB" not in eastern


def test_names_from_events_are_escaped_never_markup(
    progress: CityProgress, funding: FundingReport, aid: AidReport
) -> None:
    hostile = '<script>alert("x")</script> & "quoted"'
    rows = [progress.by_kelurahan[0].model_copy(update={"kelurahan": hostile}), *progress.by_kelurahan[1:]]
    html = render(
        progress.model_copy(update={"by_kelurahan": rows}),
        funding,
        aid,
        city=hostile,
        refresh_seconds=30,
        zone=WIB,
    )
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quoted&#34;" in html
