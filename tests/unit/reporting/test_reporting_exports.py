"""CSV rendering: a header row, stable columns, integer rupiah, one row per area or donor type."""

from __future__ import annotations

import csv
import io

from services.reporting.exports import (
    AID_COLUMNS,
    FUNDING_COLUMNS,
    PROGRESS_COLUMNS,
    aid_csv,
    funding_csv,
    progress_csv,
)
from services.reporting.reports import AidReport, FundingReport
from shared.contracts.reporting import CityProgress


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_progress_csv_has_every_kelurahan_then_kecamatan_then_the_city(progress: CityProgress) -> None:
    header, *body = rows(progress_csv(progress))
    assert tuple(header) == PROGRESS_COLUMNS
    assert [r[0] for r in body] == ["kelurahan"] * 27 + ["kecamatan"] * 4 + ["city"]
    medono = dict(zip(header, body[0], strict=True))
    assert medono["kelurahan"] == "Medono" and medono["registered"] == "5" and medono["target"] == ""
    city = dict(zip(header, body[-1], strict=True))
    assert int(city["enrolled"]) == progress.enrolled and city["target"] == "1330"


def test_funding_csv_has_integer_rupiah_and_the_gap_on_the_total_row(funding: FundingReport) -> None:
    header, *body = rows(funding_csv(funding))
    assert tuple(header) == FUNDING_COLUMNS
    table = {r[0]: dict(zip(header, r, strict=True)) for r in body}
    assert list(table) == ["individual", "csr", "total"]
    assert table["csr"]["received_rp"] == "10000000" and table["csr"]["funding_gap_rp"] == ""
    assert table["total"]["funding_gap_rp"] == "4400000"


def test_aid_csv_is_long_section_item_value(aid: AidReport) -> None:
    header, *body = rows(aid_csv(aid))
    assert tuple(header) == AID_COLUMNS
    values = {(s, i): int(v) for s, i, v in body}
    assert values[("total", "delivered_rp")] == 900_000
    assert values[("education_sessions", "nutrition")] == 1
    assert values[("interventions_rp", "clean_water")] == 500_000
    assert values[("deliveries_on", "2025-02-08")] == 1
    assert values[("plans_with_gaps_in", "33.75.01.1002")] == 1


def test_rows_end_with_crlf_and_names_with_commas_or_quotes_survive(progress: CityProgress) -> None:
    rows_ = list(progress.by_kelurahan)
    rows_[0] = rows_[0].model_copy(update={"kelurahan": 'Medono, "Kota"'})
    text = progress_csv(progress.model_copy(update={"by_kelurahan": rows_}))
    assert text.endswith("\r\n")
    assert rows(text)[1][4] == 'Medono, "Kota"'
