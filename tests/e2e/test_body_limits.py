"""Request bodies are bounded before they are read, parsed or authenticated (CONTRACT.md: 413 over
1 MiB, 10 MiB for an import), so an unauthenticated client cannot make a service hold a large body."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from shared.auth import issue_token
from shared.testing import TEST_SIGNING_KEY

pytestmark = pytest.mark.e2e

MiB = 1 << 20
JSON = {"Content-Type": "application/json"}


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


async def test_a_body_over_1_mib_gets_413_before_authentication(service_process) -> None:  # type: ignore[no-untyped-def]
    registry = await service_process("registry")
    async with httpx.AsyncClient(base_url=registry.url, timeout=30) as client:
        small = await client.post("/families", content=b"{}", headers={"Content-Type": "application/json"})
        assert small.status_code == 401  # under the limit: authentication decides
        big = await client.post("/families", content=b" " * (MiB + 1), headers={"Content-Type": "application/json"})
        assert big.status_code == 413
        assert big.headers["content-type"].startswith("application/problem+json")
        assert big.json()["status"] == 413
        # No Content-Length (chunked): counted as it streams in, refused once past the limit.
        streamed = await client.post("/families", content=chunks(2 * MiB), headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413


async def test_any_method_with_a_body_over_the_limit_gets_413_chunked_or_not(service_process) -> None:  # type: ignore[no-untyped-def]
    registry = await service_process("registry")
    async with httpx.AsyncClient(base_url=registry.url, timeout=30) as client:
        for method in ("GET", "DELETE", "OPTIONS", "PUT", "PATCH", "POST"):
            for chunked in (True, False):
                body = chunks(4 * MiB) if chunked else b" " * (4 * MiB)
                big = await client.request(
                    method, "/families", content=body, headers={"Content-Type": "application/json"}
                )
                assert big.status_code == 413, (method, chunked, big.status_code)
                assert big.json()["status"] == 413
            # Without a body, the same request is decided by authentication (or routing) as before.
            assert (await client.request(method, "/families")).status_code in (401, 405), method


async def test_an_import_may_carry_up_to_10_mib(service_process) -> None:  # type: ignore[no-untyped-def]
    registry = await service_process("registry")
    admin = {"Authorization": f"Bearer {issue_token(TEST_SIGNING_KEY, role='admin', sub='limits-admin')}"}
    async with httpx.AsyncClient(base_url=registry.url, timeout=60) as client:
        csv = {"Content-Type": "text/csv"}
        five = await client.post("/families/import", content=b" " * (5 * MiB), headers=csv)
        assert five.status_code == 401  # within the import's limit: authentication decides
        eleven = await client.post("/families/import", content=b" " * (11 * MiB), headers={**csv, **admin})
        assert eleven.status_code == 413
        # The service still answers normally afterwards.
        assert (await client.get("/families", headers=admin)).status_code == 200
