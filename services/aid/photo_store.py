"""Where the proof photos of deliveries are kept: the deployment's object store. Files under a
directory on the embedded stack (GENTING_PHOTO_DIR), an S3-compatible bucket in production
(GENTING_PHOTO_S3_BUCKET and its endpoint and keys). Aid's database keeps only which photo
belongs to which delivery; the bytes live here, under the photo's opaque id."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

# The three formats a phone's camera or canvas produces, by their first bytes (the declared
# content type is the client's word; the bytes are what a browser would render).
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"WEBP", 8, "image/webp"),
)
MAX_PHOTO_BYTES = 5 << 20


def sniff(data: bytes) -> str | None:
    """The image type the bytes really are (JPEG, PNG or WebP), or None."""
    for signature, offset, content_type in _SIGNATURES:
        if data[offset : offset + len(signature)] == signature:
            if content_type == "image/webp" and not data.startswith(b"RIFF"):
                continue
            return content_type
    return None


class PhotoStore(Protocol):
    async def put(self, photo_id: UUID, data: bytes, content_type: str) -> None: ...

    async def get(self, photo_id: UUID) -> bytes | None: ...

    async def delete(self, photo_id: UUID) -> None: ...


class DirectoryPhotoStore:
    """One file per photo, named by its id; written to a temporary file and renamed, so a reader
    never sees half a photo."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, photo_id: UUID) -> Path:
        return self.root / f"{photo_id}.img"

    async def put(self, photo_id: UUID, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, photo_id, data)

    def _write(self, photo_id: UUID, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self._path(photo_id))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def get(self, photo_id: UUID) -> bytes | None:
        path = self._path(photo_id)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, photo_id: UUID) -> None:
        await asyncio.to_thread(self._path(photo_id).unlink, missing_ok=True)


class S3PhotoStore:
    """An S3-compatible bucket (MinIO in Compose, any S3 in Kubernetes). boto3 is synchronous:
    each call runs in a thread so the event loop keeps serving."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None,
        access_key: str | None,
        secret_key: str | None,
        region: str | None,
        prefix: str = "photos/",
    ) -> None:
        import boto3  # only a deployment with a bucket needs it

        self.bucket = bucket
        self.prefix = prefix
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
        )

    def _key(self, photo_id: UUID) -> str:
        return f"{self.prefix}{photo_id}"

    async def put(self, photo_id: UUID, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(
            self.client.put_object, Bucket=self.bucket, Key=self._key(photo_id), Body=data, ContentType=content_type
        )

    async def get(self, photo_id: UUID) -> bytes | None:
        def read() -> bytes | None:
            try:
                found = self.client.get_object(Bucket=self.bucket, Key=self._key(photo_id))
            except self.client.exceptions.NoSuchKey:
                return None
            body: bytes = found["Body"].read()
            return body

        return await asyncio.to_thread(read)

    async def delete(self, photo_id: UUID) -> None:
        # S3's delete of a missing key succeeds: an erasure run twice is harmless.
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=self._key(photo_id))
