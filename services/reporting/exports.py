"""CSV exports of the reports: a header row, a stable column order, integer rupiah, UTF-8.

progress.csv and funding.csv are tables (one row per area or donor type, totals last);
aid.csv mixes totals, topics, kinds and days, so it is long: `section,item,value`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from services.reporting.reports import AidReport, FundingReport
from shared.contracts.reporting import CityProgress

PROGRESS_COUNTS = ("registered", "enrolled", "sponsored", "aid_active", "completed", "exited", "rejected")
PROGRESS_COLUMNS = ("level", "kecamatan_code", "kecamatan", "kelurahan_code", "kelurahan", *PROGRESS_COUNTS, "target")
FUNDING_AMOUNTS = ("donors", "pledged_rp", "received_rp", "allocated_rp", "drawn_rp", "released_rp", "available_rp")
FUNDING_COLUMNS = ("donor_type", *FUNDING_AMOUNTS, "funding_gap_rp")
AID_COLUMNS = ("section", "item", "value")
AID_TOTALS = (
    "delivered_rp",
    "deliveries",
    "confirmed_deliveries",
    "days_covered",
    "plans_opened",
    "plans_active",
    "plans_completed",
    "plans_incomplete",
    "plans_exited",
    "plans_with_gaps",
    "gap_days",
    "education_sessions",
    "education_families",
    "interventions",
    "interventions_rp",
    "home_visits_flagged",
    "home_visits_done",
    "drawn_rp",
    "unfunded_rp",
    # Bringing the food, apart from it (0 without GENTING_DISTRIBUTION_COST_RP): last, so the
    # rows before keep their place.
    "distribution_rp",
    "drawn_distribution_rp",
    "unfunded_distribution_rp",
)


def _csv(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180, what spreadsheets expect
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def progress_csv(p: CityProgress) -> str:
    """One row per kelurahan of the city (27 in Pekalongan), then per kecamatan, then the city with its target."""
    rows: list[list[object]] = []
    for k in p.by_kelurahan:
        rows.append(
            [
                "kelurahan",
                k.kecamatan_code,
                k.kecamatan,
                k.kelurahan_code,
                k.kelurahan,
                *(getattr(k, c) for c in PROGRESS_COUNTS),
                "",
            ]
        )
    for m in p.by_kecamatan:
        rows.append(["kecamatan", m.kecamatan_code, m.kecamatan, "", "", *(getattr(m, c) for c in PROGRESS_COUNTS), ""])
    rows.append(["city", "", "", "", "", *(getattr(p, c) for c in PROGRESS_COUNTS), p.target])
    return _csv(PROGRESS_COLUMNS, rows)


def funding_csv(f: FundingReport) -> str:
    """One row per donor type, then `total`, the only row with the funding gap."""
    rows: list[list[object]] = [[t.donor_type, *(getattr(t, c) for c in FUNDING_AMOUNTS), ""] for t in f.by_donor_type]
    rows.append(["total", *(getattr(f, c) for c in FUNDING_AMOUNTS), f.funding_gap_rp])
    return _csv(FUNDING_COLUMNS, rows)


def aid_csv(a: AidReport) -> str:
    rows: list[tuple[str, str, int]] = [("total", name, getattr(a, name)) for name in AID_TOTALS]
    for t in a.education_by_topic:
        rows += [("education_sessions", t.topic, t.sessions), ("education_families", t.topic, t.families)]
    for k in a.interventions_by_kind:
        rows += [("interventions", k.kind, k.interventions), ("interventions_rp", k.kind, k.value_rp)]
    for src in a.interventions_by_source:  # given in kind: item is `donor:<id>`, `organisation:<code>`, `unnamed`
        item = f"{src.source_type}:{src.source}" if src.source else src.source_type
        rows += [("interventions_rp_from", item, src.value_rp)]
    for d in a.deliveries_by_day:
        rows += [
            ("deliveries_on", str(d.date), d.deliveries),
            ("delivered_rp_on", str(d.date), d.delivered_rp),
            ("days_covered_on", str(d.date), d.days_covered),
        ]
        if d.distribution_rp:  # beside the food, only with a distribution cost
            rows += [("distribution_rp_on", str(d.date), d.distribution_rp)]
    for g in a.gaps_to_chase:
        rows += [
            ("plans_with_gaps_in", g.kelurahan_code, g.plans_with_gaps),
            ("gap_days_in", g.kelurahan_code, g.gap_days),
        ]
    return _csv(AID_COLUMNS, rows)
