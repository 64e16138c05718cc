"""The dashboard at `/`: what a Dinsos P2KB officer opens every morning, as one HTML page.

Server-rendered from the same reports as the JSON endpoints, by the autoescaped Jinja2 template
`templates/dashboard.html`; every number shown carries `data-metric` (its path in the JSON) and
`data-value` (the raw integer), so a test can hold the page to the API. No script and nothing
fetched: it reloads itself with a meta refresh. Here: the labels, what each chart draws, and the
moment shown in the city's time zone.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup

from services.reporting.charts import Row, Series, columns, hbars, progress_bar
from services.reporting.formatting import local_time, number, rupiah_short
from services.reporting.rendering import render as render_template
from services.reporting.reports import AidReport, FundingReport
from shared.contracts.reporting import CityProgress, ProgressCounts

STAGES = (  # (field, Bahasa Indonesia, English)
    ("registered", "Terdaftar", "registered"),
    ("enrolled", "Masuk program", "enrolled"),
    ("sponsored", "Punya orang tua asuh", "sponsored"),
    ("aid_active", "Bantuan berjalan", "aid active"),
    ("completed", "Tuntas 6 bulan", "completed"),
    ("exited", "Keluar", "exited"),
)
DONOR_TYPES = {
    "individual": "Perorangan",
    "community": "Komunitas",
    "bumd": "BUMD",
    "bumn": "BUMN",
    "csr": "CSR",
    "university": "Perguruan tinggi",
    "media": "Media",
    "other": "Lainnya",
}
TOPICS = {
    "nutrition": "Gizi",
    "hygiene": "Kebersihan",
    "clean_water": "Air bersih",
    "early_marriage": "Cegah pernikahan dini",
    "parenting": "Pengasuhan",
    "breastfeeding": "Menyusui",
}
KINDS = {
    "clean_water": "Air bersih",
    "sanitation": "Jamban sehat",
    "early_marriage_prevention": "Cegah pernikahan dini",
    "health_referral": "Rujukan kesehatan",
}
LAYERS = (Series("Masuk program", "l1"), Series("Punya orang tua asuh", "l2"), Series("Tuntas 6 bulan", "l3"))
MONEY = (Series("Diterima", "l1"), Series("Dialokasikan", "l2"), Series("Tersalurkan", "l3"))
DAYS_SHOWN = 60
FUNDING_FIELDS = ("donors", "pledged_rp", "received_rp", "allocated_rp", "drawn_rp")


def _layers(c: ProgressCounts) -> tuple[int, ...]:
    return (c.enrolled, c.sponsored, c.completed)


def daily_points(a: AidReport, days: int = DAYS_SHOWN) -> list[tuple[str, int]]:
    """Deliveries per calendar day over the last `days` days up to the latest, empty days as 0."""
    if not a.deliveries_by_day:
        return []
    counts = {d.date: d.deliveries for d in a.deliveries_by_day}
    last = max(counts)
    first = max(min(counts), last - timedelta(days=days - 1))
    span = (last - first).days + 1
    return [(str(day), counts.get(day, 0)) for day in (first + timedelta(days=i) for i in range(span))]


def charts(progress: CityProgress, funding: FundingReport, aid: AidReport) -> dict[str, Markup]:
    """The page's five charts, drawn (SVG markup, escaped by the chart template)."""
    money_rows = [
        Row(DONOR_TYPES.get(t.donor_type, t.donor_type), (t.received_rp, t.allocated_rp, t.drawn_rp))
        for t in funding.by_donor_type
    ]
    return {
        "progress": progress_bar(
            f"{progress.enrolled} dari target {progress.target}",
            progress.target,
            list(zip(LAYERS, _layers(progress), strict=True)),
        ),
        "kecamatan": hbars(
            "Masuk program per kecamatan",
            [Row(k.kecamatan.removeprefix("Pekalongan "), _layers(k)) for k in progress.by_kecamatan],
            LAYERS,
            number,
        ),
        "kelurahan": hbars(
            "Masuk program per kelurahan", [Row(k.kelurahan, _layers(k)) for k in progress.by_kelurahan], LAYERS, number
        ),
        "funding": hbars("Dana per jenis donatur", money_rows, MONEY, rupiah_short),
        "days": columns("Pengiriman per hari", daily_points(aid), number),
    }


def render(
    progress: CityProgress,
    funding: FundingReport,
    aid: AidReport,
    *,
    city: str,
    refresh_seconds: int,
    zone: ZoneInfo,
) -> str:
    return render_template(
        "dashboard.html",
        progress=progress,
        funding=funding,
        aid=aid,
        city=city,
        refresh_seconds=refresh_seconds,
        as_of=local_time(progress.as_of, zone),
        charts=charts(progress, funding, aid),
        stages=STAGES,
        layers=LAYERS,
        money_series=MONEY,
        funding_fields=FUNDING_FIELDS,
        donor_types=DONOR_TYPES,
        topics=TOPICS,
        kinds=KINDS,
        days_shown=DAYS_SHOWN,
    )
