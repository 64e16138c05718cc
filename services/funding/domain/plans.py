"""What follows for a family's money from what funding knows of its plans (aid's AidPlanOpened and
AidPlanClosed, kept in `funding_plans` as `open` or `closed`), and who gets what back on a release.
Pure: the handlers read the rows and append the events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from uuid import UUID

from services.funding.domain.commands import ReturnFunds


def plan_ended(statuses: Collection[str]) -> bool:
    """The family had a plan and none is open any more (it completed, ended incomplete or was
    closed): a new sponsorship comes too late (409)."""
    return "closed" in statuses and "open" not in statuses


def has_open_plan(statuses: Collection[str]) -> bool:
    """With a plan open, an exit releases nothing at once: aid closes the plan on the exit, and its
    closing releases the rest after the last deliveries are paid."""
    return "open" in statuses


def returns_by_donor(returns: Iterable[ReturnFunds]) -> list[tuple[UUID, list[ReturnFunds]]]:
    """A release's returns grouped per donor, in donor-id order: each donor's are appended in one
    decision, and two releases sharing donors lock them in the same order (no deadlock)."""
    grouped: dict[UUID, list[ReturnFunds]] = defaultdict(list)
    for r in returns:
        grouped[r.donor_id].append(r)
    return [(donor_id, grouped[donor_id]) for donor_id in sorted(grouped)]
