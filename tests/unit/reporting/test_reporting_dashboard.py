"""The dashboard page: the numbers of the reports it is given, Indonesian formatting, phone-ready."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from reporting_samples import AS_OF, progress_row, sample_history, sample_months

from services.reporting.dashboard import KELURAHAN_CHART_ROWS, render, stunting_permille
from services.reporting.formatting import local_time, number, percent, rupiah, rupiah_short
from services.reporting.queries import by_kecamatan
from services.reporting.reports import AidReport, FundingReport, KelurahanTopUps
from shared.contracts.reporting import CityProgress
from shared.testing.reporting_scenarios import SEMARANG, city_areas

WIB = ZoneInfo("Asia/Jakarta")


def page(progress: CityProgress, funding: FundingReport, aid: AidReport) -> str:
    return render(
        progress,
        funding,
        aid,
        history=sample_history(),
        outcomes_by_month=sample_months(),
        city="Kota Pekalongan",
        refresh_seconds=30,
        zone=WIB,
    )


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


def test_the_page_is_phone_ready_refreshes_without_a_meta_refresh_and_fetches_nothing_elsewhere(
    progress: CityProgress, funding: FundingReport, aid: AidReport
) -> None:
    html = page(progress, funding, aid)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    # Lighthouse: a meta refresh fails accessibility; no description fails SEO; a missing icon
    # (a 404 for /favicon.ico) fails best practices.
    assert 'http-equiv="refresh"' not in html
    assert re.search(r'<meta name="description" content="[^"]{50,}">', html)
    assert re.search(r'<link rel="icon" href="data:image/svg\+xml,', html)
    # One inline script (the refresh), nothing loaded from anywhere: works offline.
    assert html.count("<script") == 1 and "<script>" in html and "src=" not in html
    assert "setTimeout(refresh, every)" in html and "var every = 30000;" in html
    assert '<a class="refresh" href="/">' in html  # and by hand
    # progress bar, kecamatan, kelurahan, funding, burn-up, deliveries per week, stunting per month
    assert html.count("<svg") == 7
    assert "Capaian KRS" in html and "Kekurangan dana" in html and local_time(progress.as_of, WIB) in html


def test_the_burn_up_draws_each_weekly_count_against_the_target(
    progress: CityProgress, funding: FundingReport, aid: AidReport
) -> None:
    html = page(progress, funding, aid)
    lines = dict(re.findall(r'<polyline class="line (b\d)" data-series="b\d" data-values="([\d,]*)"', html))
    history = sample_history()
    assert lines == {
        "b1": ",".join(str(w.registered) for w in history),
        "b2": ",".join(str(w.enrolled) for w in history),
        "b3": ",".join(str(w.sponsored) for w in history),
        "b4": ",".join(str(w.aid_active) for w in history),
        "b5": ",".join(str(w.completed) for w in history),
    }
    assert '<line class="target"' in html.split('class="chart lines"')[1]
    assert 'data-metric="history.2025-01-20.enrolled" data-value="10"' in html


def test_deliveries_per_week_and_the_stunting_share_per_month_are_drawn(
    progress: CityProgress, funding: FundingReport, aid: AidReport
) -> None:
    html = page(progress, funding, aid)
    weekly = html.split('aria-label="Pengiriman per minggu"')[1].split("</svg>")[0]
    assert re.findall(r"<title>(2025-01-\d\d): (\d+)</title>", weekly) == [
        ("2025-01-06", "1"),
        ("2025-01-13", "0"),
        ("2025-01-20", "3"),
    ]
    assert [stunting_permille(m) for m in sample_months()] == [375, 0, 333]
    stunting = html.split('aria-label="Persentase anak stunting per bulan"')[1].split("</svg>")[0]
    assert re.findall(r"<title>2025-0\d-01: ([\d,]+%)</title>", stunting) == ["37,5%", "0,0%", "33,3%"]
    assert ">Jan 25<" in stunting
    assert 'data-metric="outcomes.by_month.2025-01-01.stunted" data-value="3"' in html


def test_underfunded_plans_and_the_top_up_needed_are_shown_beside_the_funding_gap(
    progress: CityProgress, funding: FundingReport, aid: AidReport
) -> None:
    short = funding.model_copy(
        update={
            "underfunded_plans": 2,
            "top_up_needed_rp": 90_000,
            "top_ups_by_kelurahan": [
                KelurahanTopUps(
                    kelurahan_code="33.75.01.1002",
                    kelurahan="Medono",
                    kecamatan="Pekalongan Barat",
                    plans=2,
                    top_up_rp=90_000,
                )
            ],
        }
    )
    html = page(progress, short, aid)
    assert 'data-metric="funding.top_up_needed_rp" data-value="90000"' in html
    assert 'data-metric="funding.underfunded_plans" data-value="2"' in html
    assert 'data-metric="funding.top_ups_by_kelurahan.33.75.01.1002.top_up_rp" data-value="90000"' in html


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
    assert html.count("<script") == 1  # the page's own refresh, not the name
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quoted&#34;" in html


def _kelurahan_chart(html: str) -> list[str]:
    chart = html.split('aria-label="Masuk program per kelurahan"')[1].split("</svg>")[0]
    return re.findall(r'<text class="label"[^>]*>([^<]*)</text>', chart)


def test_a_small_city_charts_every_kelurahan_and_drops_the_kecamatans_shared_prefix(
    progress: CityProgress, funding: FundingReport, aid: AidReport
) -> None:
    html = page(progress, funding, aid)
    assert _kelurahan_chart(html) == [k.kelurahan for k in progress.by_kelurahan]  # all 27, code order
    kecamatan = html.split('aria-label="Masuk program per kecamatan"')[1].split("</svg>")[0]
    assert re.findall(r'<text class="label"[^>]*>([^<]*)</text>', kecamatan) == ["Barat", "Timur", "Utara", "Selatan"]
    assert "kelurahan dengan keluarga terbanyak" not in html


def test_a_big_city_charts_the_kelurahan_furthest_along_and_tables_them_all(
    funding: FundingReport, aid: AidReport
) -> None:
    areas = city_areas(SEMARANG)
    # 40 kelurahan with families, the later ones (by code) with more enrolled
    rows = [
        progress_row(a, registered=i + 1 if i % 4 == 0 else 0, enrolled=i if i % 4 == 0 else 0)
        for i, a in enumerate(areas.kelurahan[:160])
    ]
    progress = CityProgress(
        target=1330,
        as_of=AS_OF,
        by_kelurahan=rows,
        by_kecamatan=by_kecamatan(rows, areas),
        registered=sum(r.registered for r in rows),
        enrolled=sum(r.enrolled for r in rows),
    )
    html = page(progress, funding, aid)
    charted = _kelurahan_chart(html)
    assert len(charted) == KELURAHAN_CHART_ROWS
    ranked = sorted((r for r in rows if r.registered), key=lambda r: -r.enrolled)
    assert charted == [r.kelurahan for r in ranked[:KELURAHAN_CHART_ROWS]]
    assert f"{KELURAHAN_CHART_ROWS} kelurahan dengan keluarga terbanyak" in html
    # The table still has every kelurahan, zeros included.
    for r in rows:
        assert f'data-metric="progress.by_kelurahan.{r.kelurahan_code}.registered"' in html
    kecamatan = html.split('aria-label="Masuk program per kecamatan"')[1].split("</svg>")[0]
    labels = re.findall(r'<text class="label"[^>]*>([^<]*)</text>', kecamatan)
    assert "Semarang Tengah" in labels and "Tembalang" in labels  # names differ: kept whole


def test_food_delivered_that_no_sponsorship_paid_is_shown_beside_the_top_up(
    progress: CityProgress, funding: FundingReport, aid: AidReport
) -> None:
    html = page(progress, funding.model_copy(update={"unfunded_rp": 150_000}), aid)
    assert 'data-metric="funding.unfunded_rp" data-value="150000"' in html
