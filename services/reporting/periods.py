"""Calendar arithmetic behind the reports: the weeks (from their Mondays) and months since the
programme began, and the uncovered stretches of a plan between its deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weeks(start: date, today: date) -> list[date]:
    """The Mondays from the week the programme started to this week (none before it started)."""
    first, last = monday(start), monday(today)
    return [first + timedelta(weeks=i) for i in range(max(0, (last - first).days // 7 + 1))]


def months(start: date, today: date) -> list[date]:
    """The first days of the months from the programme's start month to this month."""
    out, month = [], start.replace(day=1)
    while month <= today:
        out.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return out


def holes(start: date, horizon: date | None, covered: Sequence[tuple[date, date]]) -> list[tuple[date, date]]:
    """The uncovered stretches from `start` to `horizon` (inclusive) between the covered periods
    (which never overlap): aid's gaps, derived the same way."""
    if horizon is None:
        return []
    out, day = [], start
    for first, last in sorted(covered):
        if first > day:
            out.append((day, min(first - timedelta(days=1), horizon)))
        day = max(day, last + timedelta(days=1))
        if day > horizon:
            break
    if day <= horizon:
        out.append((day, horizon))
    return [h for h in out if h[0] <= h[1]]
