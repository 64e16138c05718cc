"""`genting import families FILE`: send an agency's CSV or JSON-lines export to the registry in
chunks, with a progress bar on stderr and the summary on stdout.

Each chunk is a request of its own (the header line goes with every CSV chunk) carrying the line
offset, so the registry reports lines of the file itself. A chunk is sent again with the same
Idempotency-Key after a network failure or while the registry restarts (genting/client.py's retry
policy); running the command again on the same file is safe, because the registry knows rows by
their content (rows already in are `already_registered`).
Exit status: 0 every row is in, 1 some rows were rejected, 2 the import could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx

from genting.client import Client, problem
from genting.state import add_data_dir, load_secrets

DEFAULT_URL = "http://127.0.0.1:8001"
CHUNK_ROWS = 500
MEDIA_TYPES = {"csv": "text/csv", "jsonl": "application/x-ndjson"}


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """`genting import families ...` on the CLI's subcommands."""
    imp: argparse.ArgumentParser = commands.add_parser("import", help="import data from another agency's export")
    kinds = imp.add_subparsers(dest="what", required=True, metavar="WHAT")
    families = kinds.add_parser(
        "families",
        help="register families from a CSV or JSON-lines census export (POST /families/import)",
        description="CSV columns: kk_number, head_name, address, kelurahan_code (or kelurahan), "
        "risk_factors (';'-separated), consent, and member<N>_name, _nik, _role, _birth_date, _sex, "
        "_expected_delivery_date for N = 1, 2, ... JSON lines: one POST /families body per line. "
        "Exit status: 0 every row is in, 1 some rows were rejected, 2 the import could not run.",
    )
    families.add_argument("file", type=Path, metavar="FILE")
    families.add_argument(
        "--url",
        default=os.environ.get("GENTING_REGISTRY_URL", DEFAULT_URL),
        help=f"the registry (default {DEFAULT_URL}, or GENTING_REGISTRY_URL)",
    )
    families.add_argument(
        "--token",
        default=os.environ.get("GENTING_TOKEN"),
        help="a bearer token (default: an admin token signed with the data dir's key)",
    )
    families.add_argument("--format", choices=sorted(MEDIA_TYPES), help="default: from the file's extension")
    families.add_argument("--chunk-rows", type=int, default=CHUNK_ROWS, metavar="N", help="rows per request")
    families.add_argument("--json", action="store_true", help="print the whole report as JSON")
    add_data_dir(families)
    return imp


@dataclass(frozen=True)
class Chunk:
    content: bytes
    line_offset: int  # added by the registry to the chunk's own line numbers
    rows: int


@dataclass
class Report:
    rows: int = 0
    registered: int = 0
    already_registered: int = 0
    rejected: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def add(self, part: dict[str, Any]) -> None:
        for name in ("rows", "registered", "already_registered", "rejected"):
            setattr(self, name, getattr(self, name) + int(part[name]))
        self.results += part["results"]
        self.ignored_columns = self.ignored_columns or part.get("ignored_columns", [])


def run(args: argparse.Namespace) -> int:
    fmt = args.format or _format_of(args.file)
    if fmt is None:
        print("genting: say --format csv or --format jsonl (the extension does not tell)", file=sys.stderr)
        return 2
    if args.chunk_rows < 1:
        print("genting: --chunk-rows must be at least 1", file=sys.stderr)
        return 2
    try:
        text = args.file.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"genting: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    token = args.token or _admin_token(args.data_dir)
    try:
        chunks = list(csv_chunks(text, args.chunk_rows) if fmt == "csv" else jsonl_chunks(text, args.chunk_rows))
    except csv.Error as exc:
        print(f"genting: {args.file} is not readable CSV: {exc}", file=sys.stderr)
        return 2
    report = Report()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": MEDIA_TYPES[fmt]}
    failed = asyncio.run(_import(args.url.rstrip("/"), headers, chunks, report))
    if failed:
        print(f"genting: import stopped at the chunk from line {failed}", file=sys.stderr)
    _print_summary(report, args.json)
    return 2 if failed else 1 if report.rejected else 0


def _format_of(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return "csv" if suffix == ".csv" else "jsonl" if suffix in (".jsonl", ".ndjson") else None


def _admin_token(data_dir: Path) -> str:
    from shared.auth import issue_token

    return issue_token(load_secrets(data_dir.resolve()).signing_key, role="admin", sub="genting-import")


class ImportFailed(Exception):
    """The registry refused a chunk, or could not be reached."""


async def _import(url: str, headers: dict[str, str], chunks: list[Chunk], report: Report) -> str | None:
    """Send the chunks in order, adding up the report; None when all went, else where and why it stopped."""
    bar = ProgressBar(sum(c.rows for c in chunks), sys.stderr)
    run_id = uuid.uuid4().hex  # a retry within this run replays; another run asks afresh
    async with Client(base_url=url, headers=headers, timeout=300.0) as client:
        for index, chunk in enumerate(chunks):
            try:
                part = await _send(client, chunk, f"import-{run_id}-{index}")
            except ImportFailed as exc:
                bar.finish()
                return f"{chunk.line_offset + 2}: {exc}"
            report.add(part)
            bar.update(report)
    bar.finish()
    return None


async def _send(client: Client, chunk: Chunk, key: str) -> dict[str, Any]:
    try:
        response = await client.post(
            "/families/import", params={"line_offset": chunk.line_offset}, content=chunk.content, idempotency_key=key
        )
    except httpx.TransportError as exc:  # the retry policy gave up: the registry stayed out of reach
        raise ImportFailed(f"{type(exc).__name__}: {exc}") from None
    if response.status_code != 200:
        raise ImportFailed(str(problem(response)))
    body: dict[str, Any] = response.json()
    return body


def csv_chunks(text: str, rows_per_chunk: int) -> Iterator[Chunk]:
    """The header and up to `rows_per_chunk` records at a time, cut at record boundaries (a quoted
    cell may span lines) so that each chunk's lines are the file's lines."""
    lines = io.StringIO(text, newline="").readlines()  # the lines csv counts: \n, \r\n or \r
    if not lines:
        return
    header = lines[0] if lines[0].endswith(("\n", "\r")) else lines[0] + "\n"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(lines[0]))
    next(reader, None)
    start, rows, previous = 1, 0, reader.line_num  # physical lines [start, previous) are pending
    for record in reader:
        if any(cell.strip() for cell in record):
            rows += 1
        previous = reader.line_num
        if rows == rows_per_chunk:
            yield Chunk((header + "".join(lines[start:previous])).encode(), start - 1, rows)
            start, rows = previous, 0
    if rows:
        yield Chunk((header + "".join(lines[start:])).encode(), start - 1, rows)


def _delimiter(header_line: str) -> str:
    # As the registry reads it (services/registry/importing.py): the header's most frequent one.
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def jsonl_chunks(text: str, rows_per_chunk: int) -> Iterator[Chunk]:
    lines = io.StringIO(text, newline="").readlines()
    start, rows = 0, 0
    for number, line in enumerate(lines, start=1):
        rows += bool(line.strip())
        if rows == rows_per_chunk:
            yield Chunk("".join(lines[start:number]).encode(), start, rows)
            start, rows = number, 0
    if rows:
        yield Chunk("".join(lines[start:]).encode(), start, rows)


class ProgressBar:
    """A plain text bar: redrawn in place on a terminal, one line per chunk otherwise (logs, CI)."""

    WIDTH = 30

    def __init__(self, total: int, out: TextIO) -> None:
        self.total = total
        self.out = out
        self.live = out.isatty()

    def update(self, report: Report) -> None:
        done = min(report.rows, self.total)
        filled = self.WIDTH * done // self.total if self.total else self.WIDTH
        line = (
            f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{self.total} rows "
            f"({report.registered} registered, {report.already_registered} already, "
            f"{report.rejected} rejected)"
        )
        self.out.write(f"\r{line}" if self.live else f"{line}\n")
        self.out.flush()

    def finish(self) -> None:
        if self.live:
            self.out.write("\n")
            self.out.flush()


def _print_summary(report: Report, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.__dict__, indent=2))
        return
    print(
        f"{report.rows} rows: {report.registered} registered, {report.already_registered} already registered, "
        f"{report.rejected} rejected"
    )
    if report.ignored_columns:
        print(f"ignored columns: {', '.join(report.ignored_columns)}")
    for result in report.results:
        if result["status"] == "rejected":
            reasons = "; ".join(f"{e['field']}: {e['message']}" for e in result["errors"])
            print(f"line {result['line']}: {reasons}")
