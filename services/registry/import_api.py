"""POST /families/import: another agency's family census export, registered row by row.

The route parses the file (importing.py) and hands each row to the handler (`Handlers.import_row`),
each in its own transaction, so a row is either fully registered or not at all, and one bad row
does not hold back the others: the report says what happened to each, and the agency fixes the
bad rows and sends the same file again. That is safe because a row is known by its content (the
import ledger, import_ledger.py): a row seen before is `already_registered`, in whatever file,
chunk or line it comes back. A row whose KK number an active family with the same content already
holds (registered by hand, say) is `already_registered` too; with different content it is rejected
as a conflict. The body's size is bounded by the service's BodyLimit (413 over MAX_BYTES).

The rows the ledger already knows are found first, in one read for the whole request
(`Handlers.known_rows`, only among rows the caller may import), so a file sent again costs one
query rather than a transaction per row; every other row still looks the ledger up in its own
transaction, which keeps two concurrent imports of a file from registering a row twice.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.registry import importing
from services.registry.api import handlers
from services.registry.handlers import RowImported
from services.registry.importing import MAX_BYTES, MAX_ROWS, media_format, parse_batch
from shared.deps import Caller, meta, today
from shared.http import ProblemField, problem_responses, run_batch
from shared.outbox import wake_relay

router = APIRouter(tags=["registry"])
MAX_LINE_OFFSET = 1_000_000_000  # a file sent in chunks: far more lines than any census export

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
        "beyond); an empty file is 422 naming `file`. A role that may not import is refused (403) before "
        "the file is read. Each row registers on its own; a re-imported row is `already_registered`. Rows "
        "of another kelurahan are rejected for a lurah, a kader or a census officer with a kelurahan, "
        "whether or not they were imported before. "
        "`line_offset` is added to every line number, for a file sent in chunks; with an `Idempotency-Key` "
        "a retry gets the first report.\n\n" + (importing.__doc__ or "")
    ),
    openapi_extra=_BODY_DOC,
    response_model=ImportReport,
    responses=problem_responses(401, 403, 413, 415, 422),
)
async def import_families(
    request: Request, principal: Caller, line_offset: Annotated[int, Query(ge=0, le=MAX_LINE_OFFSET)] = 0
) -> JSONResponse:
    service = handlers(request)
    service.authorize_import(principal)
    fmt = media_format(request.headers.get("content-type", ""))
    content = await request.body()
    day, programme = today(request), request.app.state.programme

    async def execute(pool: asyncpg.Pool) -> dict[str, Any]:
        batch = parse_batch(content, fmt, line_offset, programme)
        results = []
        async with pool.acquire() as conn:
            known = await service.known_rows(conn, batch.rows, principal)
            for row, imported in zip(batch.rows, known, strict=True):
                if imported is None:
                    async with conn.transaction():
                        imported = await service.import_row(conn, row, principal, day, meta(request))
                results.append(_result(row.line, imported))
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
        return body

    return await run_batch(request, principal, execute)


def _result(line: int, imported: RowImported) -> dict[str, Any]:
    result: dict[str, Any] = {"line": line, "status": imported.status}
    if imported.family_id is not None:
        result["family_id"] = str(imported.family_id)
    if imported.status == "rejected":
        result["errors"] = [{"field": e.field, "message": e.message} for e in imported.errors]
    return result
