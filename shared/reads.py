"""The read side's common steps: one page of a read view, as every listing route answers it
(`{items, total, limit, offset}`, in a stable order, `total` counting every row that matches), and
a row as JSON."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias
from uuid import UUID

import asyncpg

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool


@dataclass(frozen=True)
class Page:
    rows: list[asyncpg.Record]
    total: int
    limit: int
    offset: int

    def answer(self, items: list[Any]) -> dict[str, Any]:
        """The listing's answer, with the page's rows rendered as `items`."""
        return {"items": items, "total": self.total, "limit": self.limit, "offset": self.offset}


async def page(
    db: Db,
    source: str,
    filters: Mapping[str, object],
    *,
    order_by: str,
    limit: int,
    offset: int,
    columns: str = "*",
) -> Page:
    """`filters` maps a condition with one `$` for its value (`"status = $"`, `"$ = any(family_ids)"`)
    to that value; a None value filters nothing. `order_by` must end with a unique column, so that
    pages neither repeat nor skip a row."""
    given = [(condition, value) for condition, value in filters.items() if value is not None]
    where = " and ".join(condition.replace("$", f"${i}") for i, (condition, _) in enumerate(given, 1)) or "true"
    args = [value for _, value in given]
    sql = f"from {source} where {where}"
    total = await db.fetchval(f"select count(*) {sql}", *args)
    n = len(args)
    rows = await db.fetch(
        f"select {columns} {sql} order by {order_by} limit ${n + 1} offset ${n + 2}", *args, limit, offset
    )
    return Page(list(rows), int(total), limit, offset)


def json_row(row: asyncpg.Record) -> dict[str, Any]:
    """The row's columns as JSON values, in the view's order: ids as text, days and times in ISO 8601."""
    return {
        k: (str(v) if isinstance(v, UUID) else v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in dict(row).items()
    }


@dataclass(frozen=True)
class Listing:
    """A read view listed page by page, filtered by equality on its columns, each row rendered."""

    source: str
    order_by: str
    render: Callable[[asyncpg.Record], dict[str, Any]] = json_row

    async def __call__(self, db: Db, *, limit: int, offset: int, **equal: object) -> dict[str, Any]:
        """The page's answer; `equal` names a column and the value it must have (None: any)."""
        filters = {f"{column} = $": value for column, value in equal.items()}
        found = await page(db, self.source, filters, order_by=self.order_by, limit=limit, offset=offset)
        return found.answer([self.render(r) for r in found.rows])
