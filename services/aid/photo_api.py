"""Aid's HTTP for the proof photos of deliveries (CONTRACT.md, Aid: Photos): the kader uploads
the photo taken at the hand-over, the lurah sees it when confirming. The bytes go to the object
store (photo_store.py); only `photo_id` ever leaves aid in an event (the confirmation's)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from services.aid.api import handlers
from services.aid.handlers import STAFF
from services.aid.photo_store import MAX_PHOTO_BYTES, PhotoStore
from shared.auth import require_acts_in
from shared.deps import Caller
from shared.errors import NotFound
from shared.http import IDEMPOTENCY_HEADER, problem_responses

router = APIRouter(tags=["photos"])


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
    data = await photo.read(MAX_PHOTO_BYTES + 1)  # one byte more than allowed: the handler refuses it
    async with request.app.state.pool.acquire() as conn:
        stored = await handlers(request).store_photo(
            conn, delivery_id, data, request.headers.get(IDEMPOTENCY_HEADER), principal
        )
    answer = {
        "photo_id": str(stored.photo_id),
        "delivery_id": str(delivery_id),
        "content_type": stored.content_type,
        "size_bytes": stored.size_bytes,
    }
    return JSONResponse(answer, status_code=201, headers={"Idempotent-Replayed": "true"} if stored.replayed else None)


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
