"""The agency import's reading: CSV and JSON-lines rows into registration bodies, with the line
each came from, kelurahan names through their aliases, and errors named by the row's own columns."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any
from uuid import uuid4

import pytest

from services.registry import importing
from services.registry.bodies import RegisterFamilyIn, registration
from services.registry.domain import Family, decide, fold
from services.registry.import_identity import family_content, row_content
from services.registry.importing import ImportTooLarge, ParsedBatch, UnsupportedImportType, media_format, parse_batch
from shared.errors import FieldError, InvalidCommand
from shared.testing.registry_examples import family_body, import_csv

TODAY = date(2026, 11, 28)
KALI_BAROS = "33.75.02.1012"


def csv_batch(text: str, line_offset: int = 0) -> ParsedBatch:
    return parse_batch(text.encode(), "csv", line_offset)


def jsonl_batch(lines: list[Any]) -> ParsedBatch:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    return parse_batch(text.encode(), "jsonl")


def errors_of(batch: ParsedBatch, index: int = 0) -> dict[str, str]:
    return {e.field: e.message for e in batch.rows[index].errors}


def with_cells(text: str, **cells: str) -> str:
    """The CSV with the first data row's named cells replaced (columns appended when new)."""
    header, row, *rest = text.splitlines()
    columns, values = next(csv.reader([header])), next(csv.reader([row]))
    for column, value in cells.items():
        if column in columns:
            values[columns.index(column)] = value
        else:
            columns.append(column)
            values.append(value)
    return import_csv_lines(columns, [values, *(next(csv.reader([r])) for r in rest)])


def import_csv_lines(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


class TestCsvRows:
    def test_each_row_becomes_the_body_post_families_would_take(self) -> None:
        bodies = [family_body(1, TODAY), family_body(2, TODAY, with_baduta=False), family_body(3, TODAY, KALI_BAROS)]
        batch = csv_batch(import_csv(bodies))
        assert [r.errors for r in batch.rows] == [(), (), ()]
        assert [r.body for r in batch.rows] == [RegisterFamilyIn.model_validate(b) for b in bodies]

    def test_line_numbers_count_the_header_blank_lines_and_quoted_line_breaks(self) -> None:
        header, first, second = import_csv([family_body(1, TODAY), family_body(2, TODAY)]).splitlines()
        multi_line = first.replace('"Jl. Contoh No. 1, Pekalongan"', '"Jl. Contoh No. 1\nRT 02 / RW 05, Pekalongan"')
        batch = csv_batch("\n".join([header, "", multi_line, second, ""]))
        assert [r.line for r in batch.rows] == [3, 5]
        assert batch.rows[0].body is not None and "RT 02" in batch.rows[0].body.address
        assert [r.line for r in csv_batch("\n".join([header, first, second]), line_offset=500).rows] == [502, 503]

    def test_a_semicolon_delimited_export_is_read_too(self) -> None:
        batch = csv_batch(import_csv([family_body(1, TODAY)], delimiter=";"))
        assert batch.rows[0].errors == () and batch.rows[0].body is not None

    def test_spreadsheet_spellings_are_normalised(self) -> None:
        body = family_body(4, TODAY)
        mother, baby = body["members"]
        text = with_cells(
            import_csv([body]),
            member1_sex="P",
            member1_role="Ibu Menyusui",
            member1_nik="'" + mother["nik"],
            member1_birth_date=date.fromisoformat(mother["birth_date"]).strftime("%d/%m/%Y"),
            member2_sex="l" if baby["sex"] == "M" else "p",
            member2_birth_date=date.fromisoformat(baby["birth_date"]).strftime("%d-%m-%Y"),
            risk_factors=" Poor ; no_proper_latrine ",
            consent="Ya",
        )
        [row] = csv_batch(text).rows
        assert row.errors == ()
        assert row.body == RegisterFamilyIn.model_validate({**body, "members": [{**mother, "sex": "F"}, baby]})

    def test_empty_member_slots_are_no_members_and_errors_name_the_slot_used(self) -> None:
        body = family_body(5, TODAY)
        mother, baby = body["members"]
        header = import_csv([body], slots=3).splitlines()[0].split(",")
        family = [body["kk_number"], body["head_name"], body["address"], body["kelurahan_code"], "poor", "true"]
        cells = [mother[p] or "" for p in ("name", "nik", "role", "birth_date", "sex")] + [""]
        baby_cells = [baby["name"], "", "baduta", "2026-02-30", baby["sex"], ""]  # 30 February
        [row] = csv_batch(import_csv_lines(header, [family + [""] * 6 + cells + baby_cells])).rows
        assert row.body is None and [e.field for e in row.errors] == ["member3_birth_date"]
        assert row.translate([FieldError("members[0].nik", "does not match birth_date")]) == [
            FieldError("member2_nik", "does not match birth_date")
        ]

    def test_a_missing_required_cell_is_named_by_its_column(self) -> None:
        batch = csv_batch(with_cells(import_csv([family_body(6, TODAY)]), member1_name="", head_name="", consent=""))
        assert set(errors_of(batch)) == {"member1_name", "head_name", "consent"}

    def test_a_nik_a_spreadsheet_rounded_says_so(self) -> None:
        [row] = csv_batch(with_cells(import_csv([family_body(7, TODAY)]), member1_nik="3.37501E+15")).rows
        [error] = row.translate([FieldError("members[0].nik", "must be exactly 16 digits")])
        assert error.field == "member1_nik" and "format the column as text" in error.message

    def test_a_row_with_too_many_cells_is_rejected_on_its_line(self) -> None:
        header, row = import_csv([family_body(8, TODAY)]).splitlines()
        batch = csv_batch(f"{header}\n{row},extra\n")
        assert batch.rows[0].line == 2 and "row" in errors_of(batch)


class TestKelurahan:
    @pytest.mark.parametrize(
        "name", ["Kali Baros", "Kalibaros", "KALI BAROS", "Kel. Kalibaros", "kelurahan kali-baros"]
    )
    def test_a_kelurahan_name_is_matched_through_its_aliases(self, name: str) -> None:
        text = with_cells(import_csv([family_body(9, TODAY)]), kelurahan_code="", kelurahan=name)
        [row] = csv_batch(text).rows
        assert row.errors == () and row.body is not None and row.body.kelurahan_code == KALI_BAROS

    def test_the_code_wins_and_may_come_without_dots(self) -> None:
        [row] = csv_batch(with_cells(import_csv([family_body(10, TODAY)]), kelurahan_code="3375021012")).rows
        assert row.body is not None and row.body.kelurahan_code == KALI_BAROS

    def test_a_name_that_contradicts_the_code_is_an_error(self) -> None:
        text = with_cells(import_csv([family_body(11, TODAY)]), kelurahan="Kalibaros")  # the code is Medono's
        assert "Medono" in errors_of(csv_batch(text))["kelurahan"]

    def test_an_unknown_name_is_one_error_on_the_kelurahan_column(self) -> None:
        text = with_cells(import_csv([family_body(12, TODAY)]), kelurahan_code="", kelurahan="Atlantis")
        assert list(errors_of(csv_batch(text))) == ["kelurahan"]

    def test_a_json_line_may_name_its_kelurahan_too(self) -> None:
        body = {k: v for k, v in family_body(13, TODAY).items() if k != "kelurahan_code"}
        [row] = jsonl_batch([{**body, "kelurahan": "Kalibaros"}]).rows
        assert row.errors == () and row.body is not None and row.body.kelurahan_code == KALI_BAROS


class TestHeader:
    def test_a_header_without_required_columns_refuses_the_file(self) -> None:
        with pytest.raises(InvalidCommand) as refused:
            csv_batch("kk_number,head_name,member1_name\n")
        fields = {e.field for e in refused.value.errors}
        assert {"address", "kelurahan_code", "risk_factors", "consent", "member1_role", "member1_sex"} <= fields

    def test_a_misspelt_member_column_refuses_the_file(self) -> None:
        text = import_csv([family_body(14, TODAY)]).replace("member1_birth_date", "member1_birthdate", 1)
        with pytest.raises(InvalidCommand) as refused:
            csv_batch(text)
        assert {e.field for e in refused.value.errors} == {"member1_birthdate", "member1_birth_date"}

    def test_other_columns_are_ignored_and_reported(self) -> None:
        batch = csv_batch(with_cells(import_csv([family_body(15, TODAY)]), **{"No Urut": "1"}))
        assert batch.ignored_columns == ("no_urut",) and batch.rows[0].errors == ()

    def test_a_byte_order_mark_is_not_part_of_the_first_column(self) -> None:
        batch = parse_batch(b"\xef\xbb\xbf" + import_csv([family_body(16, TODAY)]).encode(), "csv")
        assert batch.rows[0].errors == ()

    def test_a_file_that_is_not_utf8_is_refused(self) -> None:
        with pytest.raises(InvalidCommand):
            parse_batch("kk_number,head_name\nJalan Kenari \xe9\n".encode("latin-1"), "csv")


class TestJsonLines:
    def test_each_line_is_a_post_families_body_and_blank_lines_are_skipped(self) -> None:
        bad_nik = family_body(18, TODAY)
        bad_nik["members"][0]["nik"] = 3375014201960002  # a number, not a string
        batch = jsonl_batch([family_body(17, TODAY), "", "{not json", "[1, 2]", bad_nik])
        assert [r.line for r in batch.rows] == [1, 3, 4, 5]
        assert batch.rows[0].errors == () and batch.rows[0].body is not None
        assert list(errors_of(batch, 1)) == ["row"] and "not valid JSON" in errors_of(batch, 1)["row"]
        assert errors_of(batch, 2) == {"row": "is not a JSON object"}
        assert list(errors_of(batch, 3)) == ["members[0].nik"]

    def test_unknown_fields_are_refused_as_post_families_refuses_them(self) -> None:
        batch = jsonl_batch([{**family_body(19, TODAY), "agency_ref": "X-1"}])
        assert list(errors_of(batch)) == ["agency_ref"]


class TestLimits:
    def test_more_rows_than_allowed_is_too_large(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(importing, "MAX_ROWS", 2)
        with pytest.raises(ImportTooLarge):
            csv_batch(import_csv([family_body(n, TODAY) for n in range(3)]))

    def test_more_bytes_than_allowed_is_too_large(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(importing, "MAX_BYTES", 100)
        with pytest.raises(ImportTooLarge):
            csv_batch(import_csv([family_body(1, TODAY)]))

    @pytest.mark.parametrize(
        ("content_type", "fmt"),
        [
            ("text/csv", "csv"),
            ("text/csv; charset=utf-8", "csv"),
            ("application/x-ndjson", "jsonl"),
            ("application/jsonl", "jsonl"),
        ],
    )
    def test_csv_and_json_lines_are_the_formats(self, content_type: str, fmt: str) -> None:
        assert media_format(content_type) == fmt

    def test_anything_else_is_unsupported(self) -> None:
        with pytest.raises(UnsupportedImportType):
            media_format("application/json")


class TestRowIdentity:
    def test_spacing_case_and_member_order_do_not_make_another_row(self) -> None:
        body = family_body(20, TODAY)
        same = {
            **body,
            "head_name": "  BAPAK   contoh 20 ",
            "members": body["members"][::-1],
            "risk_factors": body["risk_factors"][::-1],
        }
        assert row_content(RegisterFamilyIn.model_validate(same)) == row_content(RegisterFamilyIn.model_validate(body))

    def test_another_birth_date_makes_another_row(self) -> None:
        body = family_body(21, TODAY)
        other = {**body, "members": [body["members"][0], {**body["members"][1], "birth_date": "2026-09-01"}]}
        assert row_content(RegisterFamilyIn.model_validate(other)) != row_content(RegisterFamilyIn.model_validate(body))

    def test_a_registered_family_has_the_content_of_the_row_it_came_from(self) -> None:
        body = RegisterFamilyIn.model_validate(family_body(22, TODAY))
        state = fold(decide(Family(), registration(body, uuid4(), TODAY, "agency")))
        assert family_content(state) == row_content(body)
