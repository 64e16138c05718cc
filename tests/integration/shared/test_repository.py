"""The kernel's one repository on a real PostgreSQL: load/decide/save, expected versions, inline
views, and private parts sealed by the configured cipher (and unreadable once a key is destroyed)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from uuid import uuid4

import asyncpg
import pytest
from cryptography.exceptions import InvalidTag
from kernel_support import ThingHappened
from pydantic import BaseModel

from shared.contracts import EventCatalog
from shared.crypto import DerivedKeyCipher, WrappedKeyCipher
from shared.errors import ConcurrencyConflict
from shared.eventstore import Metadata
from shared.repository import Aggregate, Fact, Repository
from shared.testing import TEST_DATA_KEY

pytestmark = pytest.mark.integration

ROOT = base64.urlsafe_b64decode(TEST_DATA_KEY)
CATALOG = EventCatalog("registry", [ThingHappened])


class Secret(BaseModel):
    """The private part of a ThingHappened: written by staff, never published."""

    text: str


@dataclass(frozen=True)
class Thing:
    notes: tuple[str, ...] = ()
    secrets: tuple[str | None, ...] = ()


def evolve(state: Thing, fact: Fact) -> Thing:
    assert isinstance(fact.event, ThingHappened)
    secret = fact.private.text if isinstance(fact.private, Secret) else None
    return replace(state, notes=(*state.notes, fact.event.note), secrets=(*state.secrets, secret))


def decide(state: Thing, note: str, secret: str | None = None) -> list[Fact]:
    return [Fact(ThingHappened(thing_id=THING, note=note), Secret(text=secret) if secret else None)]


THING = uuid4()


def meta() -> Metadata:
    return Metadata(occurred_at=datetime.now(UTC), correlation_id=uuid4(), causation_id=uuid4())


def repository(cipher: DerivedKeyCipher | WrappedKeyCipher | None = None, **kw: object) -> Repository[Thing]:
    return Repository(
        "thing",
        CATALOG,
        Thing,
        evolve,
        private_parts={"ThingHappened": Secret},
        cipher=cipher,
        **kw,  # type: ignore[arg-type]
    )


async def test_execute_appends_with_the_expected_version_and_runs_the_inline_views(pool: asyncpg.Pool) -> None:
    seen: list[tuple[Thing, int]] = []

    async def view(conn: asyncpg.Connection, state: Thing, facts: object, envelopes: list[object]) -> None:
        seen.append((state, len(envelopes)))

    repo = repository(DerivedKeyCipher(ROOT, b"test"), views=[view])
    async with pool.acquire() as conn, conn.transaction():
        first, _ = await repo.execute(conn, THING, lambda s: decide(s, "one"), meta())
        second, facts = await repo.execute(conn, THING, lambda s: decide(s, "two"), meta())
    assert (first.version, second.version) == (1, 2)
    assert [f.event.note for f in facts] == ["two"]  # type: ignore[attr-defined]
    assert seen == [(Thing(("one",), (None,)), 1), (Thing(("one", "two"), (None, None)), 1)]
    async with pool.acquire() as conn:
        loaded = await repo.load(conn, THING)
    assert loaded == Aggregate(THING, Thing(("one", "two"), (None, None)), 2)


async def test_a_save_on_a_stale_version_is_refused_and_writes_nothing(pool: asyncpg.Pool) -> None:
    repo = repository(DerivedKeyCipher(ROOT, b"test"))
    async with pool.acquire() as conn:
        stale = await repo.load(conn, THING)
        async with conn.transaction():
            await repo.save(conn, stale, decide(stale.state, "first"), meta())
        with pytest.raises(ConcurrencyConflict):
            async with conn.transaction():
                await repo.save(conn, stale, decide(stale.state, "lost"), meta())
        assert (await repo.load(conn, THING)).state.notes == ("first",)
        assert await conn.fetchval("select count(*) from outbox") == 1


async def test_private_parts_are_sealed_at_rest_and_opened_on_load(pool: asyncpg.Pool) -> None:
    repo = repository(DerivedKeyCipher(ROOT, b"test"))
    async with pool.acquire() as conn, conn.transaction():
        await repo.execute(conn, THING, lambda s: decide(s, "visit", "Ibu Siti was not at home"), meta())
    async with pool.acquire() as conn:
        assert (await repo.load(conn, THING)).state.secrets == ("Ibu Siti was not at home",)
        assert (await repo.load(conn, THING, private=False)).state.secrets == (None,)
        raw = await conn.fetchrow("select data::text, sealed from events where stream_id = $1", THING)
        payload = await conn.fetchval("select convert_from(payload, 'UTF8') from outbox")
    assert "Siti" not in raw["data"] and b"Siti" not in raw["sealed"] and "Siti" not in payload


async def test_a_destroyed_stream_key_leaves_history_but_no_private_part(pool: asyncpg.Pool) -> None:
    await pool.execute("create table thing_keys (stream_id uuid primary key, wrapped_key bytea not null)")
    cipher = WrappedKeyCipher(ROOT, b"test-wrapping", "thing_keys")
    repo = repository(cipher)
    async with pool.acquire() as conn, conn.transaction():
        await repo.execute(conn, THING, lambda s: decide(s, "note", "the household's debts"), meta())
    async with pool.acquire() as conn:
        assert (await repo.load(conn, THING)).state.secrets == ("the household's debts",)
        await cipher.destroy(conn, THING)
        after = await repo.load(conn, THING)
    assert after.state == Thing(("note",), (None,)) and after.version == 1


async def test_another_root_key_cannot_open_a_stream_key(pool: asyncpg.Pool) -> None:
    await pool.execute("create table thing_keys (stream_id uuid primary key, wrapped_key bytea not null)")
    ours = WrappedKeyCipher(ROOT, b"test-wrapping", "thing_keys")
    async with pool.acquire() as conn:
        await ours.create(conn, THING)
        theirs = WrappedKeyCipher(bytes(32), b"test-wrapping", "thing_keys")
        with pytest.raises(InvalidTag):
            await theirs.key(conn, THING)


def test_private_parts_without_a_cipher_are_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="need a cipher"):
        repository(None)


async def test_replicas_each_see_the_others_writes_through_their_caches(pool: asyncpg.Pool) -> None:
    """A load reads only what is newer than the aggregate it cached: two replicas writing one
    stream in turn still decide on every fact."""
    thing, cipher = uuid4(), DerivedKeyCipher(ROOT, b"test")
    one, two = repository(cipher), repository(cipher)
    for n, repo in enumerate((one, two, one, one, two)):
        async with pool.acquire() as conn, conn.transaction():
            await repo.execute(conn, thing, partial(decide, note=f"n{n}"), meta())
    for repo in (one, two):
        async with pool.acquire() as conn:
            loaded = await repo.load(conn, thing, private=False)
        assert loaded == Aggregate(thing, Thing(("n0", "n1", "n2", "n3", "n4"), (None,) * 5), 5)


async def test_a_cache_that_saw_a_rolled_back_write_is_not_trusted(pool: asyncpg.Pool) -> None:
    """A second command in one transaction loads the first one's uncommitted fact; the transaction
    rolls back and another replica writes that version: the next load must not build on the lost fact."""
    thing, cipher = uuid4(), DerivedKeyCipher(ROOT, b"test")
    repo, other = repository(cipher), repository(cipher)
    with pytest.raises(RuntimeError):
        async with pool.acquire() as conn, conn.transaction():
            await repo.execute(conn, thing, lambda s: decide(s, "lost"), meta())
            await repo.execute(conn, thing, lambda s: decide(s, "lost too"), meta())  # loads (and caches) "lost"
            raise RuntimeError("the command fails after both saves: rolled back")
    async with pool.acquire() as conn, conn.transaction():
        await other.execute(conn, thing, lambda s: decide(s, "kept"), meta())
    async with pool.acquire() as conn, conn.transaction():
        after, _ = await repo.execute(conn, thing, lambda s: decide(s, "next"), meta())
    assert after == Aggregate(thing, Thing(("kept", "next"), (None, None)), 2)
