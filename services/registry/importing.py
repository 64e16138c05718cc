"""Reading another agency's family census export (CSV or JSON lines) into registration bodies, one
per row, each with the line it came from.

CSV: one row per family, a header line first. Columns (case-insensitive; unknown columns are
ignored and reported):

    kk_number, head_name, address, kelurahan_code | kelurahan, risk_factors, consent, registered_on,
    member<N>_name, member<N>_nik, member<N>_role, member<N>_birth_date, member<N>_sex,
    member<N>_expected_delivery_date          for N = 1, 2, ... (at most Rules.max_members)

`kelurahan_code` wins; without it `kelurahan` is matched by name or alias ("Kalibaros"), among the
deployment's kelurahan (GENTING_CITY). `registered_on` (optional, default today) is the day the
family was registered on paper: the effective-date rules apply (CONTRACT.md).
`risk_factors` are codes separated by `;` (or `|`). `consent`: true/false, yes/no, ya/tidak, 1/0.
Dates: YYYY-MM-DD, or DD/MM/YYYY and DD-MM-YYYY. Sex: M/F, or L/P (laki-laki/perempuan). Roles:
the codes, or ibu_hamil, ibu_menyusui, baduta, lainnya. A member whose cells are all empty is no
member; an empty `nik` is a pending NIK. The delimiter is `,` or `;` or a tab (the header's most
frequent). JSON lines: one POST /families body per line (`kelurahan` allowed for the code).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

from pydantic import ValidationError

from services.registry.bodies import RegisterFamilyIn
from services.registry.reference import DEFAULT_RULES, default_programme
from shared.errors import DomainError, FieldError, InvalidCommand
from shared.programme import Programme

Format = Literal["csv", "jsonl"]

MAX_ROWS = 10_000
# The service's BodyLimit refuses a larger import at the door (shared/service.py, "/import"); the
# parser keeps the same bound for a caller that hands it bytes some other way.
MAX_BYTES = 10 * 1024 * 1024
MEDIA_TYPES: dict[str, Format] = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/x-jsonlines": "jsonl",
    "application/jsonlines": "jsonl",
}

FAMILY_COLUMNS = (
    "kk_number",
    "head_name",
    "address",
    "kelurahan_code",
    "kelurahan",
    "risk_factors",
    "consent",
    "registered_on",
)
MEMBER_FIELDS = ("name", "nik", "role", "birth_date", "sex", "expected_delivery_date")
REQUIRED_MEMBER_FIELDS = ("name", "role", "birth_date", "sex")
_MEMBER_COLUMN = re.compile(r"^member(\d+)_(\w+)$")
_SPREADSHEET_NUMBER = re.compile(r"^\d+([.,]\d+)?[eE]\+?\d+$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$")
_SEXES = {"m": "M", "l": "M", "laki-laki": "M", "laki laki": "M", "f": "F", "p": "F", "perempuan": "F"}
_ROLES = {"ibu_hamil": "pregnant_mother", "ibu_menyusui": "breastfeeding_mother", "lainnya": "other"}
_TRUE = {"true", "yes", "ya", "y", "1"}
_FALSE = {"false", "no", "tidak", "n", "0"}
SPREADSHEET_HINT = " (it looks like a spreadsheet turned it into a rounded number: format the column as text)"


class ImportTooLarge(DomainError):
    """The batch is over the size or row limit; nothing was imported."""

    status = 413
    title = "Import too large"


class UnsupportedImportType(DomainError):
    """The batch is neither CSV nor JSON lines."""

    status = 415
    title = "Unsupported media type"


@dataclass(frozen=True)
class ParsedRow:
    """One row of the batch: its registration body when it parses, and what is wrong with it.
    A row is importable only when `errors` is empty."""

    line: int
    body: RegisterFamilyIn | None
    errors: tuple[FieldError, ...] = ()
    # CSV only: the member<N> slot of each entry of body.members, and cells a spreadsheet mangled.
    slots: tuple[int, ...] | None = None
    kelurahan_column: str = "kelurahan_code"
    hints: dict[str, str] = field(default_factory=dict)

    def column(self, path: str) -> str:
        """A field path of the body (`members[1].nik`) as the row's own column (`member3_nik`)."""
        if self.slots is None:
            return path
        if match := re.match(r"^members\[(\d+)\]\.(\w+)$", path):
            index = int(match.group(1))
            return f"member{self.slots[index]}_{match.group(2)}" if index < len(self.slots) else path
        if path.startswith("risk_factors["):
            return "risk_factors"
        if path == "kelurahan_code":
            return self.kelurahan_column
        return path

    def translate(self, errors: list[FieldError]) -> list[FieldError]:
        out = []
        for e in errors:
            column = self.column(e.field)
            out.append(FieldError(column, e.message + self.hints.get(column, "")))
        return out


@dataclass(frozen=True)
class ParsedBatch:
    rows: list[ParsedRow]
    ignored_columns: tuple[str, ...] = ()


def media_format(content_type: str) -> Format:
    """`text/csv; charset=utf-8` → "csv"; 415 for anything else."""
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        raise UnsupportedImportType(
            f"send text/csv or application/x-ndjson (JSON lines), not {media_type or 'no content type'}"
        )
    return MEDIA_TYPES[media_type]


def parse_batch(content: bytes, fmt: Format, line_offset: int = 0, programme: Programme | None = None) -> ParsedBatch:
    """Every row of the batch with its line number (plus `line_offset`, for a file sent in chunks).
    A problem with the file as a whole (encoding, header) is a 422; with a row, that row's errors."""
    if len(content) > MAX_BYTES:
        raise ImportTooLarge(f"at most {MAX_BYTES // (1024 * 1024)} MB per request; send the file in chunks")
    if not content.strip():
        raise InvalidCommand([FieldError("file", "is empty")])
    try:
        text = content.decode("utf-8-sig")  # Excel writes a byte-order mark
    except UnicodeDecodeError as exc:
        raise InvalidCommand([FieldError("file", f"is not UTF-8 text (byte {exc.start})")]) from None
    programme = programme or default_programme()
    batch = _parse_csv(text, line_offset, programme) if fmt == "csv" else _parse_jsonl(text, line_offset, programme)
    if len(batch.rows) > MAX_ROWS:
        raise ImportTooLarge(f"at most {MAX_ROWS} rows per request; this one has {len(batch.rows)}")
    return batch


# -- JSON lines ---------------------------------------------------------------------------


def _parse_jsonl(text: str, line_offset: int, programme: Programme) -> ParsedBatch:
    rows = []
    # Lines end at \n (or \r\n, \r) only: JSON strings may hold U+2028, which splitlines() would split at.
    for number, raw in enumerate(io.StringIO(text, newline="").readlines(), start=1):
        if not raw.strip():
            continue
        line = number + line_offset
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            rows.append(ParsedRow(line, None, (FieldError("row", f"is not valid JSON: {exc.msg}"),)))
            continue
        if not isinstance(value, dict):
            rows.append(ParsedRow(line, None, (FieldError("row", "is not a JSON object"),)))
            continue
        errors: list[FieldError] = []
        if "kelurahan" in value:
            name = value.pop("kelurahan")
            code = value.get("kelurahan_code")
            resolved = _kelurahan(
                programme, code if isinstance(code, str) else None, name if isinstance(name, str) else None, errors
            )
            if resolved is not None:
                value["kelurahan_code"] = resolved
        rows.append(_validated(line, value, errors))
    return ParsedBatch(rows)


# -- CSV ----------------------------------------------------------------------------------


def csv_delimiter(header_line: str) -> str:
    """The header's most frequent of `,`, `;` and tab (Excel in an Indonesian locale writes `;`)."""
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _parse_csv(text: str, line_offset: int, programme: Programme) -> ParsedBatch:
    if not text.strip():
        raise InvalidCommand([FieldError("file", "is empty; the first line must be the header")])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=csv_delimiter(text.split("\n", 1)[0]))
    try:
        header = [_column_name(h) for h in next(reader)]
        slots, ignored = _check_header(header)
        rows = []
        previous = reader.line_num
        for record in reader:
            first_line, previous = previous + 1, reader.line_num  # a quoted cell may span lines
            if not any(cell.strip() for cell in record):
                continue
            line = first_line + line_offset
            if len(record) != len(header):
                rows.append(
                    ParsedRow(
                        line, None, (FieldError("row", f"has {len(record)} cells, the header has {len(header)}"),), ()
                    )
                )
                continue
            rows.append(_csv_row(line, dict(zip(header, record, strict=True)), slots, programme))
    except csv.Error as exc:
        raise InvalidCommand([FieldError("file", f"line {reader.line_num + line_offset}: {exc}")]) from None
    return ParsedBatch(rows, ignored)


def _column_name(raw: str) -> str:
    return re.sub(r"[\s\-]+", "_", raw.strip().lower())


def _check_header(header: list[str]) -> tuple[list[int], tuple[str, ...]]:
    """The member slots the header has, and the columns it will ignore; 422 if it cannot work."""
    errors = [FieldError(c, "appears twice in the header") for c, n in Counter(header).items() if n > 1 and c]
    missing = [c for c in ("kk_number", "head_name", "address", "risk_factors", "consent") if c not in header]
    if "kelurahan_code" not in header and "kelurahan" not in header:
        missing.append("kelurahan_code")
    slots: dict[int, set[str]] = {}
    ignored = []
    for column in header:
        if match := _MEMBER_COLUMN.match(column):
            n, part = int(match.group(1)), match.group(2)
            if part not in MEMBER_FIELDS:
                errors.append(
                    FieldError(
                        column, f"is not a member column; one of member{n}_" + f", member{n}_".join(MEMBER_FIELDS)
                    )
                )
            elif not 1 <= n <= DEFAULT_RULES.max_members:
                errors.append(FieldError(column, f"members are numbered 1 to {DEFAULT_RULES.max_members}"))
            else:
                slots.setdefault(n, set()).add(part)
        elif column not in FAMILY_COLUMNS:
            ignored.append(column)
    if not slots:
        missing += [f"member1_{part}" for part in REQUIRED_MEMBER_FIELDS]
    for n, parts in sorted(slots.items()):
        missing += [f"member{n}_{part}" for part in REQUIRED_MEMBER_FIELDS if part not in parts]
    errors += [FieldError(c, "is a required column of the header") for c in missing]
    if errors:
        raise InvalidCommand(errors)
    return sorted(slots), tuple(c for c in ignored if c)


def _csv_row(line: int, cells: dict[str, str], slots: list[int], programme: Programme) -> ParsedRow:
    def cell(column: str) -> str | None:
        value = cells.get(column, "").strip()
        return value or None

    errors: list[FieldError] = []
    hints: dict[str, str] = {}
    body: dict[str, Any] = {}
    for column in ("kk_number", "head_name", "address"):
        if (value := cell(column)) is not None:
            body[column] = _number(value, column, hints) if column == "kk_number" else value
    code, name = cell("kelurahan_code"), cell("kelurahan")
    kelurahan_column = "kelurahan_code" if code or not name else "kelurahan"
    if (resolved := _kelurahan(programme, code, name, errors)) is not None:
        body["kelurahan_code"] = resolved
    body["risk_factors"] = [r.strip().lower() for r in re.split(r"[;|]", cell("risk_factors") or "") if r.strip()]
    if (consent := cell("consent")) is not None:
        body["consent"] = _boolean(consent)
    if (registered_on := cell("registered_on")) is not None:
        body["registered_on"] = _iso_date(registered_on)
    members, used = [], []
    for n in slots:
        values = {part: cell(f"member{n}_{part}") for part in MEMBER_FIELDS}
        if all(v is None for v in values.values()):
            continue
        member: dict[str, str | None] = {
            part: _member_value(part, v, f"member{n}_{part}", hints) for part, v in values.items() if v is not None
        }
        member.setdefault("nik", None)
        members.append(member)
        used.append(n)
    body["members"] = members
    return _validated(line, body, errors, tuple(used), kelurahan_column, hints)


def _member_value(part: str, value: str, column: str, hints: dict[str, str]) -> str:
    match part:
        case "nik":
            return _number(value, column, hints)
        case "sex":
            return _SEXES.get(value.lower(), value)
        case "role":
            role = _column_name(value)
            return _ROLES.get(role, role)
        case "birth_date" | "expected_delivery_date":
            return _iso_date(value)
        case _:
            return value


def _number(value: str, column: str, hints: dict[str, str]) -> str:
    """A NIK or KK cell: spaces and Excel's leading apostrophe (its text marker) dropped."""
    value = value.lstrip("'").replace(" ", "")
    if _SPREADSHEET_NUMBER.match(value):
        hints[column] = SPREADSHEET_HINT
    return value


def _iso_date(value: str) -> str:
    if match := _DAY_FIRST.match(value):
        day, month, year = (int(g) for g in match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            return value  # reported by validation as not a valid date
    return value


def _boolean(value: str) -> bool | str:
    lowered = value.lower()
    return True if lowered in _TRUE else False if lowered in _FALSE else value


# -- both ---------------------------------------------------------------------------------


def _kelurahan(programme: Programme, code: str | None, name: str | None, errors: list[FieldError]) -> str | None:
    """The code wins (DOMAIN.md: match imports by code); a name is matched through the aliases."""
    if code:
        code = code.strip()
        if re.fullmatch(r"\d{10}", code):  # 3375011002, as spreadsheets keep it
            code = f"{code[:2]}.{code[2:4]}.{code[4:6]}.{code[6:]}"
        by_code, by_name = programme.kelurahan(code), programme.kelurahan_by_name(name) if name else None
        if by_code and by_name and by_code.code != by_name.code:
            errors.append(
                FieldError(
                    "kelurahan",
                    f"is {by_name.name} ({by_name.code}), but kelurahan_code {by_code.code} is {by_code.name}",
                )
            )
        return code
    if name:
        place = programme.kelurahan_by_name(name)
        if place is None:
            errors.append(FieldError("kelurahan", "is not a known kelurahan name; give its kelurahan_code"))
            return None
        return place.code
    return None


def _validated(
    line: int,
    body: dict[str, Any],
    errors: list[FieldError],
    slots: tuple[int, ...] | None = None,
    kelurahan_column: str = "kelurahan_code",
    hints: dict[str, str] | None = None,
) -> ParsedRow:
    """The row's body when it parses (even if `errors` already rejects the row: the caller may then
    add the domain's own findings, so a row's every problem is reported at once)."""
    model = None
    try:
        model = RegisterFamilyIn.model_validate(body)
    except ValidationError as exc:
        found = [FieldError(_path(e["loc"]), e["msg"]) for e in exc.errors()]
        if any(e.field == "kelurahan" for e in errors):  # the name did not match: one error is enough
            found = [e for e in found if e.field != "kelurahan_code"]
        errors = errors + found
    row = ParsedRow(line, model, (), slots, kelurahan_column, hints or {})
    return replace(row, errors=tuple(row.translate(errors)))


def _path(loc: tuple[Any, ...]) -> str:
    """`("members", 1, "nik")` → `members[1].nik`, as the 422 problems name fields."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "row"
