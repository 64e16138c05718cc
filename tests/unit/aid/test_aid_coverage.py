"""Calendar arithmetic: merged periods and the holes between them, checked against day sets."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.aid.domain.coverage import Period, day_count, extend, holes, merge

D0 = date(2025, 1, 1)


def d(n: int) -> date:
    return D0 + timedelta(days=n)


def days_of(periods: tuple[Period, ...]) -> set[date]:
    return {p.first + timedelta(days=i) for p in periods for i in range(p.days)}


periods = st.lists(
    st.tuples(st.integers(0, 60), st.integers(0, 10)).map(lambda t: Period(d(t[0]), d(t[0] + t[1]))),
    max_size=8,
)


def test_touching_periods_merge_into_one() -> None:
    assert merge([Period(d(6), d(9)), Period(d(1), d(5))]) == (Period(d(1), d(9)),)


def test_holes_are_the_uncovered_days_of_the_span() -> None:
    covered = (Period(d(3), d(4)), Period(d(8), d(9)))
    assert holes(covered, Period(d(1), d(10))) == (Period(d(1), d(2)), Period(d(5), d(7)), Period(d(10), d(10)))


@given(periods)
def test_merging_keeps_exactly_the_same_days_in_disjoint_sorted_runs(ps: list[Period]) -> None:
    merged = merge(ps)
    assert days_of(merged) == days_of(tuple(ps))
    assert day_count(merged) == len(days_of(merged))
    assert all(a.last + timedelta(days=1) < b.first for a, b in itertools.pairwise(merged))


@given(periods, st.integers(0, 40), st.integers(0, 40))
def test_holes_and_covered_days_partition_the_span(ps: list[Period], a: int, length: int) -> None:
    span = Period(d(a), d(a + length))
    gaps = holes(merge(ps), span)
    span_days = days_of((span,))
    assert days_of(gaps) == span_days - days_of(tuple(ps))
    assert all(g.within(span) for g in gaps)


@given(periods, st.integers(0, 70), st.integers(0, 10))
def test_extending_merged_periods_equals_merging_them_all(ps: list[Period], a: int, length: int) -> None:
    period = Period(d(a), d(a + length))
    assert extend(merge(ps), period) == merge([*ps, period])
