"""POST /families/import: another agency's family census export, registered row by row.

Each row registers in its own transaction, so a row is either fully registered or not at all,
and one bad row does not hold back the others: the report says what happened to each, and the
agency fixes the bad rows and sends the same file again. That is safe because a row is known by
its content: a keyed hash of the normalised row is kept (`import_rows`) with the family it
became, so a row seen before is `already_registered`, in whatever file, chunk or line it comes
back. A row whose KK number an active family with the same content already holds (registered by
hand, say) is `already_registered` too; with different content it is rejected as a conflict.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.registry import importing
from services.registry.bodies import registration
from services.registry.domain import AlreadyActive
from services.registry.domain.validation import registration_errors
from services.registry.handlers import Handlers, registers_in
from services.registry.import_identity import content_key, row_content, same_family
from services.registry.importing import MAX_BYTES, MAX_ROWS, ImportTooLarge, ParsedRow, media_format, parse_batch
from services.registry.lookup_hashes import LookupHash
from shared.auth import Principal
from shared.errors import DomainError, FieldError, InvalidCommand
from shared.eventstore import Metadata
from shared.http import IDEMPOTENCY_HEADER, ProblemField, authenticate, correlation_id, idempotency, problem_responses
from shared.outbox import wake_relay

router = APIRouter(tags=["registry"])
Caller = Annotated[Principal, Depends(authenticate)]
MAX_LINE_OFFSET = 1_000_000_000  # a file sent in chunks: far more lines than any census export
# census: the city's census office, in its kelurahan when its token has one, anywhere when not.
# agency is read-only (CONTRACT.md): it no longer imports.
IMPORTERS = ("admin", "census", "lurah", "kader")

_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {
                "schema": {"type": "string"},
                "example": (
                    "kk_number,head_name,address,kelurahan,risk_factors,consent,member1_name,member1_nik,"
                    "member1_role,member1_birth_date,member1_sex\n3375011811240001,Bapak Contoh,Jl. Contoh 1,"
                    "Kalibaros,poor;no_proper_latrine,ya,Anak Contoh,,baduta,2026-08-01,L\n"
                ),
            },
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


class ImportedRow(BaseModel):
    line: int
    status: Literal["registered", "already_registered", "rejected"]
    family_id: UUID | None = None
    errors: list[ProblemField] | None = None


class ImportReport(BaseModel):
    rows: int
    registered: int
    already_registered: int
    rejected: int
    results: list[ImportedRow]
    ignored_columns: list[str] | None = None


@router.post(
    "/families/import",
    summary="Import families from another agency's CSV or JSON-lines export",
    description=(
        f"One row per family; at most {MAX_ROWS} rows and {MAX_BYTES // (1024 * 1024)} MB per request (413 "
        "beyond). Each row registers on its own; a re-imported row is `already_registered`. Rows of "
        "another kelurahan are rejected for a lurah or kader. `line_offset` is added to every line "
        "number, for a file sent in chunks.\n\n" + (importing.__doc__ or "")
    ),
    openapi_extra=_BODY_DOC,
    response_model=ImportReport,
    responses=problem_responses(401, 403, 413, 415, 422),
)
async def import_families(
    request: Request, principal: Caller, line_offset: Annotated[int, Query(ge=0, le=MAX_LINE_OFFSET)] = 0
) -> JSONResponse:
    principal.require(*IMPORTERS)
    fmt = media_format(request.headers.get("content-type", ""))
    content = await _bounded_body(request)
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not 1 <= len(key) <= 200:
        raise InvalidCommand([FieldError(f"header.{IDEMPOTENCY_HEADER}", "must be 1 to 200 characters")])
    records = idempotency(request)
    # The query is part of the fingerprint: line_offset changes the answer.
    fingerprint = records.fingerprint(request.method, f"{request.url.path}?{request.url.query}", content)
    method, path = request.method, request.url.path
    if key and (stored := await records.stored(request.app.state.pool, principal.sub, method, path, key, fingerprint)):
        return JSONResponse(stored.body, status_code=stored.status, headers={"Idempotent-Replayed": "true"})
    batch = parse_batch(content, fmt, line_offset, request.app.state.programme)
    importer = _RowImporter(request, principal)
    async with request.app.state.pool.acquire() as conn:
        await importer.load_ledger(conn, batch.rows)
        results = [await importer.import_row(conn, row) for row in batch.rows]
        await wake_relay(conn)
    statuses = [r["status"] for r in results]
    body: dict[str, Any] = {
        "rows": len(results),
        "registered": statuses.count("registered"),
        "already_registered": statuses.count("already_registered"),
        "rejected": statuses.count("rejected"),
        "results": results,
    }
    if batch.ignored_columns:
        body["ignored_columns"] = list(batch.ignored_columns)
    if key:
        # Rows commit one by one, so the report is recorded after them; a concurrent retry's rows were
        # each refused as already imported, and the first record written wins.
        async with request.app.state.pool.acquire() as conn:
            await records.record(conn, principal.sub, method, path, key, fingerprint, 200, body)
    return JSONResponse(body)


class _RowImporter:
    """One request's rows, each in its own transaction, with the ledger of rows seen before."""

    def __init__(self, request: Request, principal: Principal) -> None:
        self.request = request
        self.principal = principal
        self.handlers: Handlers = request.app.state.handlers
        self.lookup: LookupHash = request.app.state.registry.lookup
        self.today: date = request.app.state.clock()
        self.ledger: dict[bytes, UUID] = {}

    def _hash(self, row: ParsedRow) -> bytes:
        assert row.body is not None
        return self.lookup("import-row", content_key(row_content(row.body)))

    async def load_ledger(self, conn: asyncpg.Connection, rows: list[ParsedRow]) -> None:
        hashes = [self._hash(r) for r in rows if r.body is not None and not r.errors]
        found = await conn.fetch(
            "select row_hash, family_id from import_rows where row_hash = any($1::bytea[])", hashes
        )
        self.ledger = {r["row_hash"]: r["family_id"] for r in found}

    async def import_row(self, conn: asyncpg.Connection, row: ParsedRow) -> dict[str, Any]:
        if row.body is None or row.errors:
            return _rejected(row, list(row.errors) + self._more_errors(row))
        body = row.body
        if not registers_in(self.principal, body.kelurahan_code):
            message = f"a {self.principal.role} imports only rows of kelurahan {self.principal.kelurahan}"
            return _rejected(row, row.translate([FieldError("kelurahan_code", message)]))
        digest = self._hash(row)
        if digest in self.ledger:
            return _already(row, self.ledger[digest])
        command = registration(body, uuid4(), self.today, self.principal.sub)
        meta = Metadata(
            occurred_at=datetime.now(UTC), correlation_id=correlation_id(self.request), causation_id=uuid4()
        )
        try:
            async with conn.transaction():
                await self.handlers.import_family(conn, command, digest, meta)
        except AlreadyActive as exc:
            errors = exc.errors or []
            holder = await self._same_family(conn, row) if errors[0].field == "kk_number" else None
            if holder is None:
                return _rejected(row, row.translate(errors))
            await self._remember(conn, digest, holder)
            return _already(row, holder)
        except asyncpg.UniqueViolationError:  # the same row, committed a moment ago by another import
            family_id = await conn.fetchval("select family_id from import_rows where row_hash = $1", digest)
            if family_id is None:
                raise
            self.ledger[digest] = family_id
            return _already(row, family_id)
        except DomainError as exc:
            return _rejected(row, row.translate(exc.errors or [FieldError("row", exc.detail)]))
        self.ledger[digest] = command.family_id
        return {"line": row.line, "status": "registered", "family_id": str(command.family_id)}

    def _more_errors(self, row: ParsedRow) -> list[FieldError]:
        """The domain's findings on a row already rejected while parsing, so all come at once."""
        if row.body is None:
            return []
        command = registration(row.body, uuid4(), self.today, self.principal.sub)
        reported = {e.field for e in row.errors}
        found = row.translate(registration_errors(command, self.handlers.rules, programme=self.handlers.programme))
        return [e for e in found if e.field not in reported]

    async def _same_family(self, conn: asyncpg.Connection, row: ParsedRow) -> UUID | None:
        """The active family holding the row's KK number, if its content is the row's."""
        assert row.body is not None
        family_id = await conn.fetchval(
            "select family_id from active_kk where kk_hash = $1",
            self.lookup("kk", row.body.kk_number),
        )
        if family_id is None:
            return None
        family = await self.handlers.families.load(conn, family_id)
        return family_id if same_family(family.state, row.body) else None

    async def _remember(self, conn: asyncpg.Connection, digest: bytes, family_id: UUID) -> None:
        await conn.execute(
            "insert into import_rows (row_hash, family_id, imported_by) values ($1, $2, $3) on conflict do nothing",
            digest,
            family_id,
            self.principal.sub,
        )
        self.ledger[digest] = family_id


def _rejected(row: ParsedRow, errors: list[FieldError]) -> dict[str, Any]:
    return {
        "line": row.line,
        "status": "rejected",
        "errors": [{"field": e.field, "message": e.message} for e in errors],
    }


def _already(row: ParsedRow, family_id: UUID) -> dict[str, Any]:
    return {"line": row.line, "status": "already_registered", "family_id": str(family_id)}


async def _bounded_body(request: Request) -> bytes:
    """The body, refused with 413 as soon as it is known to be too large (before reading it all)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BYTES:
        raise ImportTooLarge(f"at most {MAX_BYTES // (1024 * 1024)} MB per request; send the file in chunks")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            raise ImportTooLarge(f"at most {MAX_BYTES // (1024 * 1024)} MB per request; send the file in chunks")
        chunks.append(chunk)
    content = b"".join(chunks)
    if not content.strip():
        raise InvalidCommand([FieldError("file", "is empty")])
    return content
