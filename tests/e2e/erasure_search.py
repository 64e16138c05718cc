"""Where the erasure test looks for what must be gone: every table of a database, every message
of every stream, any text. A needle is looked for case-insensitively, as itself and as the hex
of its UTF-8 (how PostgreSQL prints bytea inside a row's text); bytea columns are also read raw
(the "escape" form), so a needle stored as plain bytes is found too. Sealed blobs never match:
they do not contain the plaintext."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import nats
from nats.js.errors import NotFoundError

from shared.testing.bus import stream_names


def hits(where: str, text: str, needles: Iterable[str]) -> list[str]:
    """`where: needle` for every needle found in `text`."""
    lowered = text.lower()
    return [f"{where}: {needle}" for needle in needles if needle.lower() in lowered or needle.encode().hex() in lowered]


def database_url(server_url: str, database: str) -> str:
    """The server's admin URL, pointed at another database on that server."""
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def database_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


async def search_database(server_url: str, database: str, needles: list[str]) -> tuple[list[str], int]:
    """Every table in every schema of `database`, read as the server's admin: the needles found
    (`db.schema.table: needle`), and how many rows were read (so an empty search shows)."""
    conn = await asyncpg.connect(database_url(server_url, database), timeout=10)
    found: list[str] = []
    rows_read = 0
    try:
        tables = await conn.fetch(
            "select table_schema, table_name from information_schema.tables"
            " where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')"
        )
        for t in tables:
            schema, name = t["table_schema"], t["table_name"]
            where = f"{database}.{schema}.{name}"
            bytea = [
                r["column_name"]
                for r in await conn.fetch(
                    "select column_name from information_schema.columns"
                    " where table_schema = $1 and table_name = $2 and data_type = 'bytea'",
                    schema,
                    name,
                )
            ]
            raw = ", ".join(f'"{c}"' for c in bytea)
            query = f'select t::text as row{", " + raw if raw else ""} from "{schema}"."{name}" t'
            for row in await conn.fetch(query):
                rows_read += 1
                found += hits(where, row["row"], needles)
                for column in bytea:
                    if row[column] is not None:
                        found += hits(f"{where}.{column}", bytes(row[column]).decode("utf-8", "replace"), needles)
    finally:
        await conn.close()
    return sorted(set(found)), rows_read


async def stream_texts(admin_url: str) -> dict[str, list[str]]:
    """Every message of every stream on the server (GENTING_*, dead letters, anything else), as
    text: subject, headers and body."""
    nc = await nats.connect(admin_url)
    try:
        js = nc.jetstream()
        texts: dict[str, list[str]] = {}
        for name in await stream_names(js):
            state = (await js.stream_info(name)).state
            texts[name] = []
            for seq in range(state.first_seq, state.last_seq + 1) if state.messages else ():
                try:
                    msg = await js.get_msg(name, seq)
                except NotFoundError:  # deleted from the middle of the stream
                    continue
                headers = " ".join(f"{k}={v}" for k, v in (msg.headers or {}).items())
                body = (msg.data or b"").decode("utf-8", "replace")
                texts[name].append(f"{msg.subject} {headers} {body}")
        return texts
    finally:
        await nc.close()


async def family_keys(server_url: str, database: str) -> set[str] | None:
    """The families a service holds a key for (`family_keys`), or None if it keeps none."""
    conn = await asyncpg.connect(database_url(server_url, database), timeout=10)
    try:
        if not await conn.fetchval("select to_regclass('public.family_keys') is not null"):
            return None
        return {str(r["family_id"]) for r in await conn.fetch("select family_id from family_keys")}
    finally:
        await conn.close()
