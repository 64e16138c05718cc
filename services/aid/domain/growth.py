"""The no-weight-gain rule (DOMAIN.md: a home visit when a child gains no weight for two months).
Pure: a child's measurements in, the measurement days that call for a visit out."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# "Two months": the earlier weight is the latest one taken at least this many days before.
NO_GAIN_DAYS = 60


@dataclass(frozen=True)
class Measurement:
    """A child's weight on a day, as aid knows it from the registry's GrowthMeasured."""

    measured_on: date
    weight_kg: float


@dataclass(frozen=True)
class NoGain:
    """The child weighed `weight_now_kg` on `flagged_on`, no more than `weight_then_kg` on `since`."""

    flagged_on: date
    weight_now_kg: float
    since: date
    weight_then_kg: float


def reference(history: Sequence[Measurement], on: date) -> Measurement | None:
    """The latest measurement at or before `on` − NO_GAIN_DAYS; of several that day, the last recorded."""
    cutoff = on - timedelta(days=NO_GAIN_DAYS)
    earlier = [(m.measured_on, i) for i, m in enumerate(history) if m.measured_on <= cutoff]
    return history[max(earlier)[1]] if earlier else None


def no_gain(history: Sequence[Measurement], now: Measurement) -> NoGain | None:
    """No gain = the weight now is not greater than the reference weight."""
    then = reference(history, now.measured_on)
    if then is None or now.weight_kg > then.weight_kg:
        return None
    return NoGain(
        flagged_on=now.measured_on, weight_now_kg=now.weight_kg, since=then.measured_on, weight_then_kg=then.weight_kg
    )


def flags_due(history: Sequence[Measurement], arrived: Measurement, flagged: Collection[date]) -> list[NoGain]:
    """What a newly arrived measurement calls for. `history` is the child's measurements in the
    order recorded, `arrived` among them; `flagged` the days already flagged (one flag per child
    and day). The arrival is judged, and so is every measurement dated on or after it: a late
    paper record of an earlier weighing may be the two-months-earlier weight of a later one."""
    due: list[NoGain] = []
    seen = set(flagged)
    for m in history:
        if m.measured_on < arrived.measured_on or m.measured_on in seen:
            continue
        if (found := no_gain(history, m)) is not None:
            due.append(found)
            seen.add(m.measured_on)
    return sorted(due, key=lambda f: f.flagged_on)
