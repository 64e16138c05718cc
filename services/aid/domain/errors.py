"""Aid's refusals: they carry ids; `detail` renders the sentence (the HTTP status is the base class's)."""

from __future__ import annotations

from uuid import UUID

from services.aid.domain.coverage import Period
from shared.errors import Conflict, NotFound


class PlanNotFound(NotFound):
    """No aid plan has this id."""

    def __init__(self, plan_id: UUID) -> None:
        self.plan_id = plan_id
        super().__init__(f"Aid plan {plan_id} does not exist.")


class DeliveryNotFound(NotFound):
    """No delivery has this id."""

    def __init__(self, delivery_id: UUID) -> None:
        self.delivery_id = delivery_id
        super().__init__(f"Delivery {delivery_id} does not exist.")


class PlanNotActive(Conflict):
    """Deliveries go only to an active plan."""

    def __init__(self, plan_id: UUID, status: str) -> None:
        self.plan_id = plan_id
        self.plan_status = status  # `status` is the HTTP status code on DomainError
        super().__init__(f"Aid plan {plan_id} is {status}, not active.")


class PlanEnded(Conflict):
    """The family exited, so its plan takes no more records."""

    def __init__(self, plan_id: UUID) -> None:
        self.plan_id = plan_id
        super().__init__(f"Aid plan {plan_id} was closed when the family exited.")


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


class DeliveryAlreadyConfirmed(Conflict):
    """The lurah has already confirmed this delivery."""

    def __init__(self, delivery_id: UUID) -> None:
        self.delivery_id = delivery_id
        super().__init__(f"Delivery {delivery_id} is already confirmed.")


class ConfirmerRecordedDelivery(Conflict):
    """Whoever recorded a delivery does not confirm it: the confirmation is a second person's word."""

    def __init__(self, delivery_id: UUID) -> None:
        self.delivery_id = delivery_id
        super().__init__(
            f"Delivery {delivery_id} was recorded by this account; another person (the kelurahan's lurah "
            "or an admin) must confirm it."
        )


class SessionAlreadyRecorded(Conflict):
    """A session is already recorded under this id."""

    def __init__(self, session_id: UUID) -> None:
        self.session_id = session_id
        super().__init__(f"Education session {session_id} is already recorded.")


class HomeVisitNotFound(NotFound):
    """No child was flagged for a home visit under this id."""

    def __init__(self, flag_id: UUID) -> None:
        self.flag_id = flag_id
        super().__init__(f"Home visit {flag_id} does not exist.")


class HomeVisitAlreadyDone(Conflict):
    """The flagged child's home visit is already recorded."""

    def __init__(self, flag_id: UUID) -> None:
        self.flag_id = flag_id
        super().__init__(f"Home visit {flag_id} is already recorded as done.")
