"""Calendar arithmetic for a plan's days: inclusive periods, merging, and the holes between them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import NamedTuple

ONE_DAY = timedelta(days=1)


class Period(NamedTuple):
    """An inclusive run of calendar days, `first`..`last`."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def overlaps(self, other: Period) -> bool:
        return self.first <= other.last and other.first <= self.last

    def within(self, outer: Period) -> bool:
        return outer.first <= self.first and self.last <= outer.last


def merge(periods: Iterable[Period]) -> tuple[Period, ...]:
    """Sorted, with overlapping or touching periods joined: 1–5 and 6–9 become 1–9."""
    merged: list[Period] = []
    for p in sorted(periods):
        if merged and p.first <= merged[-1].last + ONE_DAY:
            if p.last > merged[-1].last:
                merged[-1] = Period(merged[-1].first, p.last)
        else:
            merged.append(p)
    return tuple(merged)


def extend(covered: tuple[Period, ...], period: Period) -> tuple[Period, ...]:
    """`merge((*covered, period))` for merged `covered`; the common case, a period right after
    the last one, without re-sorting a plan's whole history on every delivery."""
    if covered and period.first > covered[-1].last:
        if period.first == covered[-1].last + ONE_DAY:
            return (*covered[:-1], Period(covered[-1].first, period.last))
        return (*covered, period)
    return merge((*covered, period))


def holes(covered: tuple[Period, ...], span: Period | None) -> tuple[Period, ...]:
    """The days of `span` that no period in `covered` (merged, sorted) covers."""
    if span is None:
        return ()
    out: list[Period] = []
    cursor = span.first
    for p in covered:
        if p.last < cursor:
            continue
        if p.first > span.last:
            break
        if p.first > cursor:
            out.append(Period(cursor, min(p.first - ONE_DAY, span.last)))
        cursor = max(cursor, p.last + ONE_DAY)
    if cursor <= span.last:
        out.append(Period(cursor, span.last))
    return tuple(out)


def day_count(periods: Iterable[Period]) -> int:
    return sum(p.days for p in periods)
