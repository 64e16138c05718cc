"""The dashboard at `/`: what a Dinsos P2KB officer opens every morning, as one HTML page.

Server-rendered from the same reports as the JSON endpoints, by the autoescaped Jinja2 template
`templates/dashboard.html`; every number shown carries `data-metric` (its path in the JSON) and
`data-value` (the raw integer), and every line of a chart over time its raw values
(`data-values`), so a test can hold the page to the API. Nothing fetched from elsewhere (works
offline): charts are inline SVG, the icon a data URL; a few lines of inline script fetch the page
again every `refresh_seconds` and swap its content in (no meta refresh: it is an accessibility
fault, and a reload loses the reader's place); a visible link refreshes by hand. Here: the
labels, what each chart draws, and the moment shown in the city's time zone.

The route lives here with the page it builds: `get_dashboard` reads every figure in one snapshot
(`queries.ReportQueries.dashboard`, queries.py) and `render` fills `templates/dashboard.html` with them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from services.reporting import queries
from services.reporting.charts import Row, Series, columns, hbars, lines, progress_bar
from services.reporting.formatting import MONTHS, local_time, number, rupiah_short
from services.reporting.rendering import render as render_template
from services.reporting.reports import AidReport, FundingReport, MonthOutcomes, ProgressWeek
from services.reporting.settings import ReportingSettings
from shared.contracts.reporting import CityProgress, KelurahanProgress, ProgressCounts
from shared.deps import today

router = APIRouter(tags=["reporting"])


@router.get(
    "/",
    response_class=HTMLResponse,
    summary="The dashboard (public HTML page)",
    responses={
        200: {
            "description": "One HTML page, charts as inline SVG; a small inline script refreshes its data",
            "content": {"text/html": {}},
        }
    },
)
async def get_dashboard(request: Request) -> HTMLResponse:
    settings: ReportingSettings = request.app.state.settings
    reports = queries.ReportQueries(settings, request.app.state.areas, today(request))
    async with queries.consistent_read(request.app.state.pool) as conn:
        figures = await reports.dashboard(conn)
    html = render(
        figures.progress,
        figures.funding,
        figures.aid,
        history=figures.history,
        outcomes_by_month=figures.outcomes.by_month,
        grievances=figures.grievances,
        city=request.app.state.programme.city_name,
        refresh_seconds=settings.dashboard_refresh_seconds,
        zone=settings.zone(),
    )
    # The page refreshes itself every few seconds: a cached copy would show old figures.
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


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
    "house_repair": "Rumah layak huni",
}
GRIEVANCE_CATEGORIES = {
    "missed_delivery": "Kiriman terlewat",
    "food_quality": "Mutu makanan",
    "eligibility": "Kelayakan",
    "conduct": "Perilaku petugas",
    "other": "Lainnya",
}
GRIEVANCE_STATUSES = {"open": "Terbuka", "escalated": "Dieskalasi", "resolved": "Selesai"}
LAYERS = (Series("Masuk program", "l1"), Series("Punya orang tua asuh", "l2"), Series("Tuntas 6 bulan", "l3"))
MONEY = (Series("Diterima", "l1"), Series("Dialokasikan", "l2"), Series("Tersalurkan", "l3"))
HISTORY_ROWS = 12
# The burn-up: (ProgressWeek field, label), drawn in this order.
BURN_UP = (
    ("registered", Series("Terdaftar", "b1")),
    ("enrolled", Series("Masuk program", "b2")),
    ("sponsored", Series("Punya orang tua asuh", "b3")),
    ("aid_active", Series("Menerima bantuan", "b4")),
    ("completed", Series("Tuntas 6 bulan", "b5")),
)
FUNDING_FIELDS = ("donors", "pledged_rp", "received_rp", "allocated_rp", "drawn_rp")


# The per-kelurahan chart draws every kelurahan of a city that has this many or fewer (Kota
# Pekalongan's 27: a zero shows where nothing has happened yet). A bigger city (Kota Semarang
# has 177) would draw a chart too long to read on a phone: there it ranks the kelurahan with
# families, most enrolled first, and stops at this many; the table below still lists them all.
KELURAHAN_CHART_ROWS = 30


def charted_kelurahan(progress: CityProgress) -> list[KelurahanProgress]:
    """The kelurahan the per-kelurahan chart draws, in the order it draws them."""
    rows = progress.by_kelurahan
    if len(rows) <= KELURAHAN_CHART_ROWS:
        return list(rows)
    active = [k for k in rows if k.registered or k.enrolled]
    return sorted(active, key=lambda k: (-k.enrolled, -k.registered, k.kelurahan_code))[:KELURAHAN_CHART_ROWS]


def kecamatan_label(name: str, names: Sequence[str]) -> str:
    """A kecamatan's name without the prefix every kecamatan of the city shares ("Pekalongan
    Barat" -> "Barat" in Pekalongan, where all four are "Pekalongan ..."): a shared word says
    nothing and squeezes the bars. Where names differ (Semarang's "Tembalang"), they stay whole."""
    first, *_ = name.split(" ", 1)
    prefix = f"{first} "
    if len(names) > 1 and all(n.startswith(prefix) for n in names):
        return name.removeprefix(prefix)
    return name


def _layers(c: ProgressCounts) -> tuple[int, ...]:
    return (c.enrolled, c.sponsored, c.completed)


def stunting_permille(m: MonthOutcomes) -> int:
    """The stunted share of the children measured in a month, in tenths of a percent (0 when none)."""
    return round(1000 * m.stunted / m.children_measured) if m.children_measured else 0


def _permille(v: int) -> str:
    return f"{v / 10:.1f}%".replace(".", ",")


def _month(day: str) -> str:
    d = date.fromisoformat(day)
    return f"{MONTHS[d.month - 1]} {d.year % 100:02d}"


def charts(
    progress: CityProgress,
    funding: FundingReport,
    aid: AidReport,
    history: Sequence[ProgressWeek] = (),
    by_month: Sequence[MonthOutcomes] = (),
) -> dict[str, Markup]:
    """The page's charts, drawn (SVG markup, escaped by the chart template)."""
    kecamatan_names = [k.kecamatan for k in progress.by_kecamatan]
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
            [Row(kecamatan_label(k.kecamatan, kecamatan_names), _layers(k)) for k in progress.by_kecamatan],
            LAYERS,
            number,
        ),
        "kelurahan": hbars(
            "Masuk program per kelurahan",
            [Row(k.kelurahan, _layers(k)) for k in charted_kelurahan(progress)],
            LAYERS,
            number,
        ),
        "funding": hbars("Dana per jenis donatur", money_rows, MONEY, rupiah_short),
        "burn_up": lines(
            f"Capaian per minggu menuju target {progress.target}",
            [str(w.period_start) for w in history],
            [(series, [getattr(w, field) for w in history]) for field, series in BURN_UP],
            target=progress.target,
            fmt=number,
        ),
        "weeks": columns(
            "Pengiriman per minggu", [(str(w.week_start), w.deliveries) for w in aid.deliveries_by_week], number
        ),
        "stunting": columns(
            "Persentase anak stunting per bulan",
            [(str(m.month), stunting_permille(m)) for m in by_month],
            _permille,
            tick=_month,
        ),
    }


def render(
    progress: CityProgress,
    funding: FundingReport,
    aid: AidReport,
    *,
    history: Sequence[ProgressWeek] = (),
    outcomes_by_month: Sequence[MonthOutcomes] = (),
    grievances: Mapping[str, Any] | None = None,
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
        charts=charts(progress, funding, aid, history, outcomes_by_month),
        kelurahan_charted=len(charted_kelurahan(progress)),
        burn_up=[series for _, series in BURN_UP],
        history=history,
        # The table shows the latest weeks, newest first (the chart and the JSON have them all):
        # a page that stays light on a phone.
        history_rows=list(reversed(history))[:HISTORY_ROWS],
        by_month=outcomes_by_month,
        stunting_permille=stunting_permille,
        stages=STAGES,
        layers=LAYERS,
        money_series=MONEY,
        funding_fields=FUNDING_FIELDS,
        donor_types=DONOR_TYPES,
        topics=TOPICS,
        kinds=KINDS,
        # GET /grievances/summary's figures (queries.grievance_summary), none before it is asked
        grievances=grievances,
        grievance_categories=GRIEVANCE_CATEGORIES,
        grievance_statuses=GRIEVANCE_STATUSES,
        kelurahan_names={k.kelurahan_code: k.kelurahan for k in progress.by_kelurahan},
    )
