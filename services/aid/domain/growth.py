"""The no-weight-gain rule (DOMAIN.md: a home visit when a child gains no weight for two months).
Pure: a child's measurements in, the measurement days that call for a visit out.

The posyandu rule ("2T", tidak naik dua kali berturut-turut): the child is weighed monthly, and
two consecutive monthly weighings without gain (the same weight, or less) call for a visit,
whatever the exact number of days between them (1 Jan / 1 Feb / 1 Mar is 59 days, and counts).
A month is represented by its last weighing; a month without one breaks the run, since the
posyandu can then no longer say "two months in a row".
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Measurement:
    """A child's weight on a day, as aid knows it from the registry's GrowthMeasured."""

    measured_on: date
    weight_kg: float


@dataclass(frozen=True)
class NoGain:
    """The child weighed `weight_now_kg` on `flagged_on`, no more than the month before, which was
    no more than `weight_then_kg` on `since` (the month before that)."""

    flagged_on: date
    weight_now_kg: float
    since: date
    weight_then_kg: float


def _month(d: date) -> int:
    return d.year * 12 + d.month - 1


def monthly(history: Sequence[Measurement]) -> dict[int, Measurement]:
    """Each calendar month's weighing: its latest day; of several that day, the last recorded."""
    by_month: dict[int, tuple[date, int, Measurement]] = {}
    for i, m in enumerate(history):
        key = _month(m.measured_on)
        if key not in by_month or (m.measured_on, i) >= by_month[key][:2]:
            by_month[key] = (m.measured_on, i, m)
    return {k: v[2] for k, v in by_month.items()}


def no_gain(months: dict[int, Measurement], month: int) -> NoGain | None:
    """No gain in the two months up to `month`: its weighing is not heavier than the month
    before's, which is not heavier than the month before that's."""
    now, before, then = months.get(month), months.get(month - 1), months.get(month - 2)
    if now is None or before is None or then is None:
        return None
    if now.weight_kg > before.weight_kg or before.weight_kg > then.weight_kg:
        return None
    return NoGain(
        flagged_on=now.measured_on, weight_now_kg=now.weight_kg, since=then.measured_on, weight_then_kg=then.weight_kg
    )


def flags_due(history: Sequence[Measurement], arrived: Measurement, flagged: Collection[date]) -> list[NoGain]:
    """What a newly arrived measurement calls for. `history` is the child's measurements in the
    order recorded, `arrived` among them; `flagged` the days already flagged (one flag per child
    and day). The arrival's month is judged, and so is every later month: a late paper record of
    an earlier weighing may complete the run of a later one."""
    months = monthly(history)
    due: list[NoGain] = []
    for month in sorted(k for k in months if k >= _month(arrived.measured_on)):
        found = no_gain(months, month)
        if found is not None and found.flagged_on not in flagged:
            due.append(found)
    return due
