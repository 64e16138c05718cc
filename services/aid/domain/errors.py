"""Aid's refusals: they carry ids; `detail` renders the sentence (the HTTP status is the base class's)."""

from __future__ import annotations

from uuid import UUID

from services.aid.domain.coverage import Period
from shared.errors import AboutOne, AboutOneInState, Conflict, NotFound


class PlanNotFound(AboutOne, NotFound, template="Aid plan {id} does not exist."): ...


class DeliveryNotFound(AboutOne, NotFound, template="Delivery {id} does not exist."): ...


class PlanNotActive(AboutOneInState, Conflict, template="Aid plan {id} is {state}, not active."):
    """Deliveries go only to an active plan."""


class PlanEnded(AboutOne, Conflict, template="Aid plan {id} was closed when the family exited."):
    """The family exited, so its plan takes no more records."""


class DeliveryOverlaps(Conflict):
    """Some of the delivery's days are already covered by an earlier delivery."""

    def __init__(self, plan_id: UUID, covered: Period) -> None:
        self.plan_id = plan_id
        self.covered = covered
        super().__init__(f"Aid plan {plan_id} already covers {covered.first} to {covered.last}.")


class OverBudget(Conflict):
    """The delivery is worth more than what is left of the plan's budget."""

    def __init__(self, plan_id: UUID, value_rp: int, remaining_rp: int, distribution_rp: int = 0) -> None:
        self.plan_id = plan_id
        self.value_rp = value_rp
        self.remaining_rp = remaining_rp
        self.distribution_rp = distribution_rp
        # The budget pays the distribution too: say so, or the food's value alone looks affordable.
        cost = f"Rp{value_rp:,}" if not distribution_rp else f"Rp{value_rp:,} + Rp{distribution_rp:,} distribution"
        super().__init__(f"{cost} exceeds the Rp{remaining_rp:,} left in aid plan {plan_id}'s budget.")


class DeliveryAlreadyConfirmed(AboutOne, Conflict, template="Delivery {id} is already confirmed."): ...


class ConfirmerRecordedDelivery(
    AboutOne,
    Conflict,
    template="Delivery {id} was recorded by this account; another person (the kelurahan's lurah or an admin) "
    "must confirm it.",
):
    """Whoever recorded a delivery does not confirm it: the confirmation is a second person's word."""


class SessionAlreadyRecorded(AboutOne, Conflict, template="Education session {id} is already recorded."): ...


class HomeVisitNotFound(AboutOne, NotFound, template="Home visit {id} does not exist."):
    """No child was flagged for a home visit under this id."""


class HomeVisitAlreadyDone(AboutOne, Conflict, template="Home visit {id} is already recorded as done."): ...
