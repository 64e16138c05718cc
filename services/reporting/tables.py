"""Read-model rows as mergeable changes: one upsert per table, usable one event at a time (live)
or merged over thousands of events and written with one executemany per table (replay).

Every column is one of five kinds, and applying changes one by one or merged gives the same row:
`add` (a counter: the deltas sum), `first` (set once: the first value wins), `last` (the
latest value wins), `least` and `greatest` (the smallest / largest value seen, whatever order
the events arrive in: an effective date entered late takes its place). Events only ever say
what they know, so counts are derived later with SQL GROUP BY, and nothing here reads a row
before writing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import asyncpg


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    add: tuple[str, ...] = ()
    first: tuple[str, ...] = ()
    last: tuple[str, ...] = ()
    least: tuple[str, ...] = ()
    greatest: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.key + self.add + self.first + self.last + self.least + self.greatest

    @property
    def _values(self) -> tuple[str, ...]:
        return self.first + self.last + self.least + self.greatest

    @cached_property
    def upsert_sql(self) -> str:
        sets = [f"{c} = {self.name}.{c} + excluded.{c}" for c in self.add]
        sets += [f"{c} = coalesce({self.name}.{c}, excluded.{c})" for c in self.first]
        sets += [f"{c} = coalesce(excluded.{c}, {self.name}.{c})" for c in self.last]
        # PostgreSQL's least/greatest ignore nulls: an absent value never wins.
        sets += [f"{c} = least({self.name}.{c}, excluded.{c})" for c in self.least]
        sets += [f"{c} = greatest({self.name}.{c}, excluded.{c})" for c in self.greatest]
        placeholders = ", ".join(f"${i}" for i in range(1, len(self.columns) + 1))
        conflict = f"do update set {', '.join(sets)}" if sets else "do nothing"
        return (
            f"insert into {self.name} ({', '.join(self.columns)}) values ({placeholders})"
            f" on conflict ({', '.join(self.key)}) {conflict}"
        )

    def params(self, key: tuple[Any, ...], values: Mapping[str, Any]) -> tuple[Any, ...]:
        """Neutral values for what a change does not mention: 0 for counters, null otherwise."""
        return (*key, *(values.get(c, 0) for c in self.add), *(values.get(c) for c in self._values))


@dataclass(frozen=True)
class Change:
    """What one event says about one row."""

    table: Table
    key: tuple[Any, ...]
    values: Mapping[str, Any]


def change(table: Table, key: Any, **values: Any) -> Change:
    unknown = set(values) - set(table.columns)
    if unknown:
        raise ValueError(f"{table.name} has no column(s) {sorted(unknown)}")
    # An absent fact is None: left out, so it never overwrites a value nor nulls a counter.
    present = {k: v for k, v in values.items() if v is not None}
    return Change(table, key if isinstance(key, tuple) else (key,), present)


async def execute(conn: asyncpg.Connection, changes: Iterable[Change]) -> None:
    """The live path: each change is one upsert, in the projection's batch transaction."""
    for c in changes:
        await conn.execute(c.table.upsert_sql, *c.table.params(c.key, c.values))


@dataclass
class MergedChanges:
    """Many events' changes folded per row in memory, written with one executemany per table."""

    rows: dict[Table, dict[tuple[Any, ...], dict[str, Any]]] = field(default_factory=dict)
    merged: int = 0

    def add(self, changes: Iterable[Change]) -> None:
        for c in changes:
            row = self.rows.setdefault(c.table, {}).setdefault(c.key, {})
            for column, value in c.values.items():
                if column in c.table.add:
                    row[column] = row.get(column, 0) + value
                elif column in c.table.first:
                    row.setdefault(column, value)
                elif column in c.table.least:
                    row[column] = min(row[column], value) if column in row else value
                elif column in c.table.greatest:
                    row[column] = max(row[column], value) if column in row else value
                else:
                    row[column] = value
            self.merged += 1

    async def flush(self, conn: asyncpg.Connection) -> None:
        for table, rows in self.rows.items():
            await conn.executemany(table.upsert_sql, [table.params(k, v) for k, v in rows.items()])
        self.rows.clear()
        self.merged = 0
