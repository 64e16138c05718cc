"""Idempotency records on a real PostgreSQL: per principal and route, keyed hashes, expiry."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import asyncpg
import pytest

from shared.idempotency import Idempotency, KeyReused

pytestmark = pytest.mark.integration

BODY = b'{"kk_number": "3375011203200001", "head_name": "Budi Santoso"}'
RECORDS = Idempotency(b"service-secret-for-idempotency-tests")


async def record(pool: asyncpg.Pool, records: Idempotency, path: str, body: bytes = BODY, status: int = 201) -> bool:
    async with pool.acquire() as conn, conn.transaction():
        return await records.record(
            conn, "kader-1", "POST", path, "k-1", records.fingerprint("POST", path, body), status, {"path": path}
        )


async def test_a_retry_on_the_same_route_finds_the_first_response(pool: asyncpg.Pool) -> None:
    assert await record(pool, RECORDS, "/families")
    stored = await RECORDS.stored(
        pool, "kader-1", "POST", "/families", "k-1", RECORDS.fingerprint("POST", "/families", BODY)
    )
    assert stored is not None and (stored.status, stored.body) == (201, {"path": "/families"})


@pytest.mark.parametrize("first, second", [("/families", "/donors"), ("/donors", "/families")])
async def test_the_same_key_on_another_route_is_another_request(pool: asyncpg.Pool, first: str, second: str) -> None:
    # Both orders, and both routes looked up: a lookup that ignored the route would find
    # whichever row the index returns first and answer the other route's response (or KeyReused).
    assert await record(pool, RECORDS, first)
    assert await record(pool, RECORDS, second)
    for path in (first, second):
        stored = await RECORDS.stored(pool, "kader-1", "POST", path, "k-1", RECORDS.fingerprint("POST", path, BODY))
        assert stored is not None and stored.body == {"path": path}
    fingerprint = RECORDS.fingerprint("POST", second, BODY)
    assert await RECORDS.stored(pool, "kader-2", "POST", second, "k-1", fingerprint) is None


async def test_the_same_key_with_another_body_is_refused(pool: asyncpg.Pool) -> None:
    assert await record(pool, RECORDS, "/families")
    with pytest.raises(KeyReused):
        await RECORDS.stored(
            pool, "kader-1", "POST", "/families", "k-1", RECORDS.fingerprint("POST", "/families", b"{}")
        )


async def test_a_second_live_record_for_the_same_key_is_not_written(pool: asyncpg.Pool) -> None:
    assert await record(pool, RECORDS, "/families")
    assert not await record(pool, RECORDS, "/families", status=409)
    assert await pool.fetchval("select status from idempotency_keys") == 201


async def test_the_stored_hash_is_keyed_not_a_plain_digest_of_the_body(pool: asyncpg.Pool) -> None:
    assert await record(pool, RECORDS, "/families")
    stored_hash = await pool.fetchval("select request_hash from idempotency_keys")
    plain = {hashlib.sha256(b"POST" + b"/families" + BODY).hexdigest(), hashlib.sha256(BODY).hexdigest()}
    assert stored_hash not in plain
    other_service = Idempotency(b"another-service-secret-entirely")
    assert stored_hash != other_service.fingerprint("POST", "/families", BODY)


async def test_records_expire_and_are_purged(pool: asyncpg.Pool) -> None:
    short = Idempotency(b"service-secret-for-idempotency-tests", ttl=timedelta(days=7))
    assert await record(pool, short, "/families")
    await pool.execute("update idempotency_keys set created_at = now() - interval '8 days'")
    fingerprint = short.fingerprint("POST", "/families", BODY)
    assert await short.stored(pool, "kader-1", "POST", "/families", "k-1", fingerprint) is None
    assert await record(pool, short, "/families", status=200)  # the expired record is replaced
    await pool.execute("update idempotency_keys set created_at = now() - interval '8 days'")
    assert await short.purge(pool) == 1
    assert await pool.fetchval("select count(*) from idempotency_keys") == 0


async def test_a_service_purges_expired_records_as_it_runs(pool: asyncpg.Pool) -> None:
    import asyncio
    from types import SimpleNamespace

    from shared.service import _purge_idempotency
    from shared.settings import Settings
    from shared.testing import TEST_DATA_KEY, TEST_JWKS_FILE, wait_until

    settings = Settings(jwks_file=TEST_JWKS_FILE, data_key=TEST_DATA_KEY)  # type: ignore[arg-type]
    app = SimpleNamespace(state=SimpleNamespace(settings=settings, pool=pool, idempotency=None))
    assert await record(pool, RECORDS, "/families")
    assert await record(pool, RECORDS, "/donors")
    await pool.execute("update idempotency_keys set created_at = now() - interval '8 days' where path = '/families'")
    task = asyncio.create_task(_purge_idempotency(app))  # type: ignore[arg-type]
    try:
        await wait_until(lambda: pool.fetchval("select count(*) = 1 from idempotency_keys"), 10)
    finally:
        task.cancel()
    assert await pool.fetchval("select path from idempotency_keys") == "/donors"
