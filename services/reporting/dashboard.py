"""The dashboard at `/`: what a Dinsos P2KB officer opens every morning, as one HTML page.

Server-rendered from the same reports as the JSON endpoints; every number shown carries
`data-metric` (its path in the JSON) and `data-value` (the raw integer), so a test can hold the
page to the API. No script and nothing fetched: it reloads itself with a meta refresh.
"""

from __future__ import annotations

from datetime import timedelta
from html import escape

from services.reporting.charts import Row, Series, columns, hbars, progress_bar
from services.reporting.formatting import number, percent, rupiah, rupiah_short, wib
from services.reporting.reports import AidReport, FundingReport
from services.reporting.style import STYLE
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


def metric(path: str, value: int, text: str | None = None, tag: str = "span", css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    shown = text if text is not None else number(value)
    # A shortened amount (Rp1,1 M) keeps its exact value at hand: a tooltip, and data-value.
    exact = f' title="{escape(rupiah(value))}"' if shown != number(value) and shown != rupiah(value) else ""
    return f'<{tag}{cls} data-metric="{escape(path)}" data-value="{value}"{exact}>{escape(shown)}</{tag}>'


def money(path: str, value: int, tag: str = "td") -> str:
    return metric(path, value, rupiah_short(value), tag=tag)


def tile(path: str, value: int, label: str, english: str, is_money: bool = False) -> str:
    shown = rupiah_short(value) if is_money else number(value)
    return (
        f'<div class="tile">{metric(path, value, shown, css="n")}'
        f'<span class="l">{escape(label)} <small>{escape(english)}</small></span></div>'
    )


def legend(series: tuple[Series, ...]) -> str:
    items = "".join(f'<span><i class="{s.css}"></i>{escape(s.name)}</span>' for s in series)
    return f'<p class="legend">{items}</p>'


def _layers(c: ProgressCounts) -> tuple[int, ...]:
    return (c.enrolled, c.sponsored, c.completed)


def progress_section(p: CityProgress) -> str:
    layers = list(zip(LAYERS, _layers(p), strict=True))
    tiles = "".join(tile(f"progress.{f}", getattr(p, f), label, en) for f, label, en in STAGES)
    return f"""
<section class="hero">
  <h2>Capaian KRS <small>progress toward the target</small></h2>
  <p class="big">{metric("progress.enrolled", p.enrolled, css="big-n")}
    <span class="of">dari {metric("progress.target", p.target)} KRS masuk program</span>
    <span class="pct">{percent(p.enrolled, p.target)}</span></p>
  {progress_bar(f"{p.enrolled} dari target {p.target}", p.target, layers)}
  {legend(LAYERS)}
  <div class="tiles">{tiles}</div>
</section>"""


def areas_section(p: CityProgress) -> str:
    kec_rows = [Row(k.kecamatan.removeprefix("Pekalongan "), _layers(k)) for k in p.by_kecamatan]
    kel_rows = [Row(k.kelurahan, _layers(k)) for k in p.by_kelurahan]
    head = "".join(f"<th>{escape(label)}</th>" for _, label, _ in STAGES)
    table = "".join(
        f"<tr><td>{escape(k.kelurahan)}<small>{escape(k.kecamatan)}</small></td>"
        + "".join(
            metric(f"progress.by_kelurahan.{k.kelurahan_code}.{f}", getattr(k, f), tag="td") for f, _, _ in STAGES
        )
        + "</tr>"
        for k in p.by_kelurahan
    )
    return f"""
<section>
  <h2>Per kecamatan</h2>
  {hbars("Masuk program per kecamatan", kec_rows, LAYERS, number)}
  <h2>Per kelurahan <small>{len(p.by_kelurahan)} kelurahan</small></h2>
  {hbars("Masuk program per kelurahan", kel_rows, LAYERS, number)}
  {legend(LAYERS)}
  <details><summary>Rincian per kelurahan (table)</summary>
    <div class="scroll"><table><thead><tr><th>Kelurahan</th>{head}</tr></thead><tbody>{table}</tbody></table></div>
  </details>
</section>"""


def funding_section(f: FundingReport) -> str:
    rows = [
        Row(DONOR_TYPES.get(t.donor_type, t.donor_type), (t.received_rp, t.allocated_rp, t.drawn_rp))
        for t in f.by_donor_type
    ]
    fields = ("donors", "pledged_rp", "received_rp", "allocated_rp", "drawn_rp")

    def cell(path: str, key: str, value: int) -> str:
        return metric(path, value, tag="td") if key == "donors" else money(path, value)

    body = "".join(
        f"<tr><td>{escape(DONOR_TYPES.get(t.donor_type, t.donor_type))}</td>"
        + "".join(cell(f"funding.by_donor_type.{t.donor_type}.{k}", k, getattr(t, k)) for k in fields)
        + "</tr>"
        for t in f.by_donor_type
    )
    total = "".join(cell(f"funding.{k}", k, getattr(f, k)) for k in fields)
    return f"""
<section>
  <h2>Pendanaan orang tua asuh <small>funding by donor type</small></h2>
  <div class="tiles">
    {tile("funding.received_rp", f.received_rp, "Dana diterima", "received", is_money=True)}
    {tile("funding.allocated_rp", f.allocated_rp, "Dialokasikan ke keluarga", "allocated", is_money=True)}
    {tile("funding.drawn_rp", f.drawn_rp, "Tersalurkan (makanan)", "drawn", is_money=True)}
    <div class="tile warn">{metric("funding.funding_gap_rp", f.funding_gap_rp, rupiah_short(f.funding_gap_rp), css="n")}
      <span class="l">Kekurangan dana <small>funding gap: {metric("funding.families_short", f.families_short)}
      keluarga di bawah {escape(rupiah(f.family_minimum_rp))}</small></span></div>
  </div>
  {hbars("Dana per jenis donatur", rows, MONEY, rupiah_short)}
  {legend(MONEY)}
  <div class="scroll"><table><thead><tr><th>Jenis donatur</th><th>Donatur</th><th>Janji</th><th>Diterima</th>
    <th>Dialokasikan</th><th>Tersalurkan</th></tr></thead><tbody>{body}</tbody>
    <tfoot><tr><th>Total</th>{total}</tr></tfoot></table></div>
</section>"""


def daily_points(a: AidReport, days: int = DAYS_SHOWN) -> list[tuple[str, int]]:
    """Deliveries per calendar day over the last `days` days up to the latest, empty days as 0."""
    if not a.deliveries_by_day:
        return []
    counts = {d.date: d.deliveries for d in a.deliveries_by_day}
    last = max(counts)
    first = max(min(counts), last - timedelta(days=days - 1))
    span = (last - first).days + 1
    return [(str(day), counts.get(day, 0)) for day in (first + timedelta(days=i) for i in range(span))]


def aid_section(a: AidReport) -> str:
    gaps = (
        "".join(
            f"<tr><td>{escape(g.kelurahan)}<small>{escape(g.kecamatan)}</small></td>"
            f"{metric(f'aid.gaps_to_chase.{g.kelurahan_code}.plans_with_gaps', g.plans_with_gaps, tag='td')}"
            f"{metric(f'aid.gaps_to_chase.{g.kelurahan_code}.gap_days', g.gap_days, tag='td')}</tr>"
            for g in a.gaps_to_chase
        )
        or '<tr><td colspan="3">Tidak ada — semua rencana aktif tercakup. <small>no gaps</small></td></tr>'
    )
    topics = "".join(
        f"<tr><td>{escape(TOPICS.get(t.topic, t.topic))}</td>"
        f"{metric(f'aid.education_by_topic.{t.topic}.sessions', t.sessions, tag='td')}"
        f"{metric(f'aid.education_by_topic.{t.topic}.families', t.families, tag='td')}</tr>"
        for t in a.education_by_topic
    )
    kinds = "".join(
        f"<tr><td>{escape(KINDS.get(k.kind, k.kind))}</td>"
        f"{metric(f'aid.interventions_by_kind.{k.kind}.interventions', k.interventions, tag='td')}"
        f"<td>{escape(rupiah(k.value_rp))}</td></tr>"
        for k in a.interventions_by_kind
    )
    return f"""
<section>
  <h2>Bantuan gizi <small>aid delivered</small></h2>
  <div class="tiles">
    {tile("aid.delivered_rp", a.delivered_rp, "Nilai makanan tersalur", "delivered", is_money=True)}
    {tile("aid.deliveries", a.deliveries, "Pengiriman", "deliveries")}
    {tile("aid.confirmed_deliveries", a.confirmed_deliveries, "Dikonfirmasi lurah", "confirmed")}
    {tile("aid.days_covered", a.days_covered, "Hari makan tercakup", "days covered")}
    {tile("aid.plans_active", a.plans_active, "Rencana aktif", "active plans")}
    <div class="tile warn">{metric("aid.plans_with_gaps", a.plans_with_gaps, css="n")}
      <span class="l">Rencana dengan celah <small>plans with gaps</small></span></div>
    <div class="tile warn">{metric("aid.home_visits_flagged", a.home_visits_flagged, css="n")}
      <span class="l">Anak perlu kunjungan rumah <small>no weight gain in 2 months;
      {metric("aid.home_visits_done", a.home_visits_done)} sudah dikunjungi (visited)</small></span></div>
  </div>
  <h3>Pengiriman per hari <small>deliveries per day, last {DAYS_SHOWN} days</small></h3>
  {columns("Pengiriman per hari", daily_points(a), number)}
  <h3>Celah yang perlu dikejar <small>active plans with uncovered days, to chase</small></h3>
  <div class="scroll"><table><thead><tr><th>Kelurahan</th><th>Rencana</th><th>Hari tak tercakup</th></tr></thead>
    <tbody>{gaps}</tbody></table></div>
  <div class="two">
    <div><h3>Edukasi per topik <small>education sessions</small></h3><table><thead><tr><th>Topik</th>
      <th>Sesi</th><th>Keluarga</th></tr></thead><tbody>{topics}</tbody></table></div>
    <div><h3>Intervensi <small>interventions by kind</small></h3><table><thead><tr><th>Jenis</th>
      <th>Jumlah</th><th>Nilai</th></tr></thead><tbody>{kinds}</tbody></table></div>
  </div>
</section>"""


def render(progress: CityProgress, funding: FundingReport, aid: AidReport, *, city: str, refresh_seconds: int) -> str:
    links = " · ".join(f'<a href="/export/{n}.csv">{n}.csv</a>' for n in ("progress", "funding", "aid"))
    return f"""<!doctype html>
<html lang="id"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{refresh_seconds}">
<title>Genting {escape(city)} — {number(progress.enrolled)} dari {number(progress.target)} KRS</title>
<style>{STYLE}</style></head>
<body><header><h1>Genting <small>Gerakan Orang Tua Asuh Cegah Stunting</small></h1>
<p>{escape(city)} · Dinsos P2KB · <span class="asof">data per {escape(wib(progress.as_of))}</span></p></header>
<main>{progress_section(progress)}<div class="column">{areas_section(progress)}</div>
<div class="column">{funding_section(funding)}{aid_section(aid)}</div></main>
<footer><p>Angka agregat tanpa identitas (de-identified aggregates), diperbarui otomatis tiap
{refresh_seconds} detik. Unduh / download: {links} · <a href="/progress">JSON</a> · <a href="/docs">API</a></p>
</footer></body></html>
"""
