"""Aid's HTTP for the proof photos of deliveries (CONTRACT.md, Aid: Photos): the kader uploads
the photo taken at the hand-over, the lurah sees it when confirming. The bytes go to the object
store (photo_store.py); only `photo_id` ever leaves aid in an event (the confirmation's)."""

from __future__ import annotations

import hashlib
from typing import Annotated
from uuid import UUID, uuid5

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from services.aid.handlers import STAFF
from services.aid.photo_store import MAX_PHOTO_BYTES, PhotoStore, sniff
from shared.auth import require_acts_in
from shared.deps import Caller
from shared.errors import Conflict, FieldError, InvalidCommand, NotFound
from shared.http import IDEMPOTENCY_HEADER, problem_responses

router = APIRouter(tags=["photos"])
# A photo uploaded again with the same Idempotency-Key gets the same id (below).
_PHOTO_IDS = UUID("8a0f3f52-59a4-4c3e-9d0b-3c1f4d6a2b71")


class PhotoStored(BaseModel):
    photo_id: UUID
    delivery_id: UUID
    content_type: str
    size_bytes: int


class PhotoNotFound(NotFound):
    def __init__(self, photo_id: UUID) -> None:
        super().__init__(f"no photo {photo_id}")


def store(request: Request) -> PhotoStore:
    found: PhotoStore = request.app.state.photo_store
    return found


@router.post(
    "/deliveries/{delivery_id}/photo",
    status_code=201,
    summary="Store the proof photo of a delivery (JPEG, PNG or WebP, at most 5 MiB)",
    response_model=PhotoStored,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
)
async def upload_photo(
    delivery_id: UUID,
    request: Request,
    principal: Caller,
    photo: Annotated[UploadFile, File(description="the photo, shrunk by the phone; its bytes decide its type")],
) -> JSONResponse:
    principal.require(*STAFF)
    data = await photo.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise InvalidCommand([FieldError("photo", f"may be at most {MAX_PHOTO_BYTES} bytes")])
    content_type = sniff(data)
    if content_type is None:
        raise InvalidCommand([FieldError("photo", "must be a JPEG, PNG or WebP image")])
    pool = request.app.state.pool
    delivery = await pool.fetchrow(
        "select family_id, kelurahan_code from deliveries_view where delivery_id = $1", delivery_id
    )
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id}")
    require_acts_in(principal, delivery["kelurahan_code"])
    if await pool.fetchval("select exists (select 1 from erased_families where family_id = $1)", delivery["family_id"]):
        raise Conflict("the family's personal data was erased: no photo is kept for it")
    # Idempotency here is by the photo's id, not the stored-response table run_command uses: a
    # browser builds a new multipart boundary on every retry, so the same photo never arrives as
    # the same body. The id is derived from the caller, the delivery and the key; the bytes'
    # hash tells a true retry from a key reused for another photo.
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not 1 <= len(key) <= 200:
        raise InvalidCommand([FieldError(f"header.{IDEMPOTENCY_HEADER}", "must be 1 to 200 characters")])
    digest = hashlib.sha256(data).hexdigest()
    seed = f"{principal.sub}\n{delivery_id}\n{key}" if key else f"{delivery_id}\n{digest}"
    photo_id = uuid5(_PHOTO_IDS, seed)
    existing = await pool.fetchrow("select sha256, content_type from delivery_photos where photo_id = $1", photo_id)
    if existing is not None and existing["sha256"] != digest:
        raise InvalidCommand([FieldError(f"header.{IDEMPOTENCY_HEADER}", "was already used for another photo")])
    answer = {
        "photo_id": str(photo_id),
        "delivery_id": str(delivery_id),
        "content_type": content_type,
        "size_bytes": len(data),
    }
    if existing is not None:
        return JSONResponse(answer, status_code=201, headers={"Idempotent-Replayed": "true"})
    # The bytes first, then the row: a row always has its photo. A crash in between leaves an
    # object nobody references, never a reference to nothing.
    await store(request).put(photo_id, data, content_type)
    await pool.execute(
        "insert into delivery_photos (photo_id, delivery_id, family_id, kelurahan_code, content_type, size_bytes,"
        " sha256, uploaded_by) values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (photo_id) do nothing",
        photo_id,
        delivery_id,
        delivery["family_id"],
        delivery["kelurahan_code"],
        content_type,
        len(data),
        digest,
        principal.sub,
    )
    return JSONResponse(answer, status_code=201)


@router.get(
    "/photos/{photo_id}",
    summary="A delivery's proof photo: admin and the kelurahan's own lurah and kader only",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
        **problem_responses(401, 403, 404),
    },
)
async def get_photo(photo_id: UUID, request: Request, principal: Caller) -> Response:
    principal.require(*STAFF)
    row = await request.app.state.pool.fetchrow(
        "select kelurahan_code, content_type from delivery_photos where photo_id = $1", photo_id
    )
    if row is None:
        raise PhotoNotFound(photo_id)
    require_acts_in(principal, row["kelurahan_code"])
    data = await store(request).get(photo_id)
    if data is None:
        raise PhotoNotFound(photo_id)
    # A family's photo: never kept by a shared cache, and gone from the browser's with the session.
    return Response(data, media_type=row["content_type"], headers={"Cache-Control": "private, no-store"})
