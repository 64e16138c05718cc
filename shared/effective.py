"""The effective-date rule (CONTRACT.md, "Effective dates and late entry"), pure: what the domains
and `shared.programme.Programme` all apply, so that it is written once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import TypedDict, Unpack

from shared.errors import FieldError


class DependsOn(TypedDict, total=False):
    """The record an effective date may not precede (a verification follows the registration):
    its date, and its name for the message."""

    not_before: date | None
    not_before_field: str | None


def effective_date_errors(
    field: str, value: date, today: date, programme_start: date, **depends: Unpack[DependsOn]
) -> list[FieldError]:
    """At most one error naming `field`: the date is in the future, before the programme's start, or
    before the record it depends on (`not_before`, named `not_before_field` in the message). Equal
    dates are fine: things happen on the same day."""
    not_before = depends.get("not_before")
    if value > today:
        return [FieldError(field, f"{value.isoformat()} is in the future (today is {today.isoformat()})")]
    if value < programme_start:
        start = programme_start.isoformat()
        return [FieldError(field, f"{value.isoformat()} is before the programme's start, {start}")]
    if not_before is not None and value < not_before:
        what = depends.get("not_before_field") or "the record it depends on"
        return [FieldError(field, f"{value.isoformat()} is before {what} ({not_before.isoformat()})")]
    return []


def known_through(
    today: date, recorded_through: date | None, max_entry_delay_days: int | None, entered_through: date | None
) -> date | None:
    """The last day up to which a service may take its records as complete: the latest effective
    date among them, the operator's "entered through DATE", or — records being entered at most
    `max_entry_delay_days` late — today minus that bound, whichever is latest. The bound is what
    ends a wait when a city stops entering records: after it, the clock alone decides (aid's plan
    windows, funding's hold for a plan)."""
    candidates = [d for d in (recorded_through, entered_through) if d is not None]
    if max_entry_delay_days is not None:
        candidates.append(today - timedelta(days=max_entry_delay_days))
    return max(candidates) if candidates else None


def latest_date_sql(columns: Mapping[str, Sequence[str]]) -> str:
    """The query for the latest date in these tables' date columns (`{table: (column, ...)}`): a
    service's latest effective date among its records, `known_through`'s `recorded_through`."""
    maxima = ", ".join(f"(select max({c}) from {table})" for table, cs in columns.items() for c in cs)
    return f"select greatest({maxima})"
