"""The import ledger (import_ledger.py) and the import's one handler call per row
(`Handlers.import_row`), against a real PostgreSQL: what a row is known by, what the ledger
remembers, and who may import which rows, whichever path calls the handler."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from registry_support import KAUMAN, MEDONO, TODAY, token

from services.registry.bodies import RegisterFamilyIn
from services.registry.handlers import Handlers, RowImported
from services.registry.import_ledger import ImportLedger
from services.registry.importing import MAX_BYTES, ParsedRow, parse_batch
from shared.auth import Principal
from shared.errors import FieldError, Forbidden
from shared.eventstore import Metadata
from shared.testing.registry_examples import family_body, import_csv

pytestmark = pytest.mark.integration

CSV = {"Content-Type": "text/csv"}


def parts(client: httpx.AsyncClient) -> tuple[asyncpg.Pool, Handlers]:
    app = client.app  # type: ignore[attr-defined]
    handlers: Handlers = app.state.handlers
    return app.state.pool, handlers


def row_of(body: dict[str, Any]) -> ParsedRow:
    [row] = parse_batch(import_csv([body]).encode(), "csv").rows
    assert row.body is not None and not row.errors
    return row


def body_of(body: dict[str, Any]) -> RegisterFamilyIn:
    """The registration body an import row of this content parses to."""
    parsed = row_of(body).body
    assert parsed is not None
    return parsed


def stamp() -> Metadata:
    return Metadata(occurred_at=datetime.now(UTC), correlation_id=uuid4(), causation_id=uuid4())


async def count(pool: asyncpg.Pool, table: str) -> int:
    return int(await pool.fetchval(f"select count(*) from {table}"))


@dataclass(frozen=True)
class WatchedLedger(ImportLedger):
    """The real ledger, noting each read of it, and the statements the import's connection runs
    from its first batch read on (the route's connection, real PostgreSQL)."""

    reads: list[str] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)

    async def family_of(self, conn: asyncpg.Connection, row_hash: bytes) -> UUID | None:
        self.reads.append("family_of")
        return await super().family_of(conn, row_hash)

    async def families_of(self, conn: asyncpg.Connection, row_hashes: Sequence[bytes]) -> dict[bytes, UUID]:
        self.reads.append(f"families_of:{len(row_hashes)}")
        if not self.statements:
            conn.add_query_logger(lambda record: self.statements.append(record.query))
        return await super().families_of(conn, row_hashes)


def watch_ledger(client: httpx.AsyncClient) -> WatchedLedger:
    _, handlers = parts(client)
    watched = WatchedLedger(handlers.ledger.lookup, handlers.ledger.families)
    handlers.ledger = watched
    return watched


class TestLedger:
    async def test_a_row_is_known_by_its_content_however_it_is_spelt(self, registry: httpx.AsyncClient) -> None:
        _, handlers = parts(registry)
        ledger: ImportLedger = handlers.ledger
        body = family_body(1, TODAY)
        respelt = {
            **body,
            "head_name": "  " + body["head_name"].upper().replace(" ", "   "),
            "members": list(reversed(body["members"])),
        }
        other = family_body(2, TODAY)
        assert ledger.row_hash(body_of(body)) == ledger.row_hash(body_of(respelt))
        assert ledger.row_hash(body_of(body)) != ledger.row_hash(body_of(other))

    async def test_a_recorded_row_is_found_once_and_a_second_record_is_refused(
        self, registry: httpx.AsyncClient
    ) -> None:
        pool, handlers = parts(registry)
        ledger = handlers.ledger
        digest, first, second = ledger.row_hash(body_of(family_body(3, TODAY))), uuid4(), uuid4()
        async with pool.acquire() as conn:
            assert await ledger.family_of(conn, digest) is None
            await ledger.record(conn, digest, first, "census-a")
            assert await ledger.family_of(conn, digest) == first
            with pytest.raises(asyncpg.UniqueViolationError):
                await ledger.record(conn, digest, second, "census-b")
            await ledger.remember(conn, digest, second, "census-b")  # remembering keeps the first
            assert await ledger.family_of(conn, digest) == first
        assert await count(pool, "import_rows") == 1

    async def test_a_batch_of_rows_is_answered_in_one_query(self, registry: httpx.AsyncClient) -> None:
        pool, handlers = parts(registry)
        ledger = handlers.ledger
        one, two, new = (ledger.row_hash(body_of(family_body(n, TODAY))) for n in (30, 31, 32))
        first, second = uuid4(), uuid4()
        statements: list[str] = []
        async with pool.acquire() as conn:
            await ledger.record(conn, one, first, "census-a")
            await ledger.record(conn, two, second, "census-a")
            conn.add_query_logger(lambda record: statements.append(record.query))
            assert await ledger.families_of(conn, [one, new, two, one]) == {one: first, two: second}
            assert await ledger.families_of(conn, []) == {}
        [read] = [q for q in statements if "import_rows" in q]  # asyncpg may also look up the array type
        assert "any(" in read

    async def test_the_same_family_is_the_active_holder_of_the_kk_with_the_rows_content(
        self, registry: httpx.AsyncClient
    ) -> None:
        pool, handlers = parts(registry)
        by_hand = (await registry.post("/families", json=family_body(4, TODAY), headers=token("admin"))).json()
        changed = {**family_body(5, TODAY), "kk_number": family_body(4, TODAY)["kk_number"]}
        async with pool.acquire() as conn:
            same = await handlers.ledger.same_family(conn, body_of(family_body(4, TODAY)))
            assert str(same) == by_hand["family_id"]
            assert await handlers.ledger.same_family(conn, body_of(changed)) is None
            assert await handlers.ledger.same_family(conn, body_of(family_body(6, TODAY))) is None


class TestImportRow:
    async def test_a_row_registers_once_then_is_already_registered(self, registry: httpx.AsyncClient) -> None:
        pool, handlers = parts(registry)
        census = Principal("census-a", "census")
        row = row_of(family_body(10, TODAY))
        async with pool.acquire() as conn:
            first = await handlers.import_row(conn, row, census, TODAY, stamp())
            again = await handlers.import_row(conn, row, census, TODAY, stamp())
        assert first.status == "registered" and again.status == "already_registered"
        assert again.family_id == first.family_id
        assert await count(pool, "import_rows") == 1 and await count(pool, "families_view") == 1

    async def test_staff_and_census_of_a_kelurahan_import_only_its_rows(self, registry: httpx.AsyncClient) -> None:
        pool, handlers = parts(registry)
        row = row_of(family_body(11, TODAY, KAUMAN))
        for actor in (
            Principal("kader-m", "kader", MEDONO),
            Principal("lurah-m", "lurah", MEDONO),
            Principal("census-m", "census", MEDONO),
        ):
            async with pool.acquire() as conn:
                refused = await handlers.import_row(conn, row, actor, TODAY, stamp())
            assert refused.status == "rejected", actor
            assert [e.field for e in refused.errors] == ["kelurahan_code"]
            assert MEDONO in refused.errors[0].message
        assert await count(pool, "events") == 0 and await count(pool, "import_rows") == 0
        async with pool.acquire() as conn:
            assert (
                await handlers.import_row(conn, row, Principal("kader-k", "kader", KAUMAN), TODAY, stamp())
            ).status == ("registered")

    async def test_a_role_that_may_not_import_is_refused_whatever_the_row(self, registry: httpx.AsyncClient) -> None:
        pool, handlers = parts(registry)
        broken = parse_batch(
            b"kk_number,head_name,address,kelurahan_code,risk_factors,consent,member1_name,"
            b"member1_role,member1_birth_date,member1_sex\n1,,,,,,,,,\n",
            "csv",
        ).rows[0]
        for role in ("auditor", "agency", "donor", "treasurer"):
            actor = Principal(f"{role}-1", role, MEDONO)
            with pytest.raises(Forbidden):
                handlers.authorize_import(actor)
            async with pool.acquire() as conn:
                for row in (row_of(family_body(12, TODAY)), broken):
                    with pytest.raises(Forbidden):
                        await handlers.import_row(conn, row, actor, TODAY, stamp())
        assert await count(pool, "events") == 0

    async def test_known_rows_are_only_rows_the_caller_may_import(self, registry: httpx.AsyncClient) -> None:
        pool, handlers = parts(registry)
        kauman, broken = row_of(family_body(13, TODAY, KAUMAN)), row_of(family_body(14, TODAY, KAUMAN))
        broken = ParsedRow(broken.line, broken.body, (FieldError("member1_sex", "must be L or P"),))
        async with pool.acquire() as conn:
            registered = await handlers.import_row(conn, kauman, Principal("kader-k", "kader", KAUMAN), TODAY, stamp())
            await handlers.import_row(
                conn, row_of(family_body(14, TODAY, KAUMAN)), Principal("c", "census"), TODAY, stamp()
            )
            mine = await handlers.known_rows(conn, [kauman, broken], Principal("kader-k2", "kader", KAUMAN))
            theirs = await handlers.known_rows(conn, [kauman, broken], Principal("kader-m", "kader", MEDONO))
            with pytest.raises(Forbidden):
                await handlers.known_rows(conn, [kauman], Principal("auditor-1", "auditor"))
        assert mine == [RowImported("already_registered", registered.family_id), None]
        assert theirs == [None, None]

    async def test_a_refused_caller_learns_nothing_about_its_file(self, registry: httpx.AsyncClient) -> None:
        broken = await registry.post(
            "/families/import", content="kk_number;nama\n1;2\n", headers={**CSV, **token("auditor")}
        )
        assert broken.status_code == 403
        empty = await registry.post("/families/import", content="", headers={**CSV, **token("agency")})
        assert empty.status_code == 403


class TestImportRoute:
    async def test_a_body_over_the_import_limit_is_413_problem_json(self, registry: httpx.AsyncClient) -> None:
        header = import_csv([family_body(20, TODAY)]).encode()
        too_large = header + b" " * (MAX_BYTES - len(header) + 1)
        response = await registry.post("/families/import", content=too_large, headers={**CSV, **token("census")})
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        just_fits = header + b"\n" * (MAX_BYTES - len(header))
        assert (
            await registry.post("/families/import", content=just_fits, headers={**CSV, **token("census")})
        ).status_code == 200

    async def test_an_empty_file_is_a_422_naming_it(self, registry: httpx.AsyncClient) -> None:
        for content_type in ("text/csv", "application/x-ndjson"):
            response = await registry.post(
                "/families/import", content=" \n", headers={"Content-Type": content_type, **token("census")}
            )
            assert response.status_code == 422
            assert [e["field"] for e in response.json()["errors"]] == ["file"]

    async def test_a_key_reused_with_another_line_offset_is_refused(self, registry: httpx.AsyncClient) -> None:
        text = import_csv([family_body(21, TODAY)])
        headers = {**CSV, **token("census"), "Idempotency-Key": "chunk-7"}
        assert (await registry.post("/families/import", content=text, headers=headers)).status_code == 200
        shifted = await registry.post("/families/import", params={"line_offset": 100}, content=text, headers=headers)
        assert shifted.status_code == 422
        assert [e["field"] for e in shifted.json()["errors"]] == ["header.Idempotency-Key"]

    async def test_a_file_sent_again_reads_the_ledger_once_and_opens_no_transaction(
        self, registry: httpx.AsyncClient
    ) -> None:
        text = import_csv([family_body(40 + n, TODAY) for n in range(20)])
        headers = {**CSV, **token("census")}
        ledger = watch_ledger(registry)
        first = (await registry.post("/families/import", content=text, headers=headers)).json()
        assert first["registered"] == 20
        assert ledger.reads == ["families_of:20"] + ["family_of"] * 20  # new rows: each in its transaction
        ledger.reads.clear()
        ledger.statements.clear()
        again = (await registry.post("/families/import", content=text, headers=headers)).json()
        assert again["already_registered"] == 20
        assert [r["family_id"] for r in again["results"]] == [r["family_id"] for r in first["results"]]
        assert ledger.reads == ["families_of:20"]
        assert not [q for q in ledger.statements if q.strip().upper().startswith(("BEGIN", "SAVEPOINT"))]

    async def test_a_kader_of_another_kelurahan_learns_nothing_from_a_known_row(
        self, registry: httpx.AsyncClient
    ) -> None:
        known, unknown = family_body(60, TODAY, KAUMAN), family_body(61, TODAY, KAUMAN)
        registered = await registry.post(
            "/families/import", content=import_csv([known]), headers={**CSV, **token("kader", KAUMAN)}
        )
        assert registered.json()["registered"] == 1
        ledger = watch_ledger(registry)
        other = {**CSV, **token("kader", MEDONO)}
        answer = (await registry.post("/families/import", content=import_csv([known, unknown]), headers=other)).json()
        resent, never_seen = answer["results"]
        assert resent["status"] == never_seen["status"] == "rejected" and "family_id" not in resent
        assert {k: v for k, v in resent.items() if k != "line"} == {k: v for k, v in never_seen.items() if k != "line"}
        assert ledger.reads == ["families_of:0"]  # the ledger is not even asked about their rows

    async def test_two_imports_of_the_same_file_at_once_register_each_row_once(
        self, registry: httpx.AsyncClient
    ) -> None:
        pool, _ = parts(registry)
        bodies = [family_body(70 + n, TODAY) for n in range(10)]
        headers = {**CSV, **token("census")}
        # The second sends the rows the other way round, so the two usually meet halfway, both
        # having read the ledger before the other registered the rows they then race for.
        files = (import_csv(bodies), import_csv(bodies[::-1]))
        one, two = await asyncio.gather(*(registry.post("/families/import", content=f, headers=headers) for f in files))
        reports = [one.json(), two.json()]
        assert sum(r["registered"] for r in reports) == 10
        assert sum(r["already_registered"] for r in reports) == 10
        assert [r["family_id"] for r in reports[0]["results"]] == [r["family_id"] for r in reports[1]["results"]][::-1]
        assert await count(pool, "import_rows") == 10 and await count(pool, "families_view") == 10
