"""Read-model changes: applying them one by one (live) or merged (replay) gives the same rows."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.reporting.tables import Change, MergedChanges, Table, change

T = Table(
    "t_view",
    ("id",),
    add=("n", "rp"),
    first=("kelurahan_code", "opened_on"),
    last=("budget_rp",),
    least=("earliest_on",),
    greatest=("horizon",),
)


def sequential(changes: list[Change]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """What PostgreSQL does with one upsert per change (T.upsert_sql), modelled in Python."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for c in changes:
        new = dict(zip(T.columns, T.params(c.key, c.values), strict=True))
        old = rows.get(c.key)
        if old is None:
            rows[c.key] = new
            continue
        for col in T.add:
            old[col] += new[col]
        for col in T.first:
            old[col] = old[col] if old[col] is not None else new[col]
        for col in T.last:
            old[col] = new[col] if new[col] is not None else old[col]
        # PostgreSQL's least/greatest skip nulls.
        for col in T.least:
            old[col] = min((v for v in (old[col], new[col]) if v is not None), default=None)
        for col in T.greatest:
            old[col] = max((v for v in (old[col], new[col]) if v is not None), default=None)
    return rows


def merged(changes: list[Change]) -> dict[tuple[Any, ...], dict[str, Any]]:
    m = MergedChanges()
    m.add(changes)
    return {k: dict(zip(T.columns, T.params(k, v), strict=True)) for k, v in m.rows.get(T, {}).items()}


values = st.fixed_dictionaries(
    {},
    optional={
        "n": st.integers(0, 3),
        "rp": st.integers(0, 10**9),
        "kelurahan_code": st.sampled_from(["a", "b"]),
        "opened_on": st.none() | st.sampled_from(["2025-01-01", "2025-02-01"]),
        "budget_rp": st.integers(1, 9),
        "earliest_on": st.none() | st.sampled_from(["2025-01-01", "2025-02-01", "2025-03-01"]),
        "horizon": st.none() | st.sampled_from(["2025-01-01", "2025-02-01", "2025-03-01"]),
    },
)


@given(st.lists(st.tuples(st.sampled_from([1, 2, 3]), values), max_size=30))
def test_merging_many_changes_equals_applying_them_one_by_one(items: list[tuple[int, dict[str, Any]]]) -> None:
    changes = [change(T, key, **vals) for key, vals in items]
    assert merged(changes) == sequential(changes)


def test_the_upsert_adds_counters_keeps_first_values_and_takes_latest_ones() -> None:
    assert T.upsert_sql == (
        "insert into t_view (id, n, rp, kelurahan_code, opened_on, budget_rp, earliest_on, horizon)"
        " values ($1, $2, $3, $4, $5, $6, $7, $8)"
        " on conflict (id) do update set n = t_view.n + excluded.n, rp = t_view.rp + excluded.rp,"
        " kelurahan_code = coalesce(t_view.kelurahan_code, excluded.kelurahan_code),"
        " opened_on = coalesce(t_view.opened_on, excluded.opened_on),"
        " budget_rp = coalesce(excluded.budget_rp, t_view.budget_rp),"
        " earliest_on = least(t_view.earliest_on, excluded.earliest_on),"
        " horizon = greatest(t_view.horizon, excluded.horizon)"
    )
    assert Table("x_view", ("id",)).upsert_sql.endswith("on conflict (id) do nothing")


def test_a_change_names_only_real_columns_and_leaves_out_what_an_event_does_not_know() -> None:
    with pytest.raises(ValueError, match="no column"):
        change(T, 1, colour="red")
    c = change(T, 1, n=1, opened_on=None)
    assert dict(c.values) == {"n": 1} and c.key == (1,)
    assert T.params(c.key, c.values) == (1, 1, 0, None, None, None, None, None)
