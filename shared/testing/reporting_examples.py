"""Example upstream events ("controls") for tests, the benchmark and demos: the envelopes the
registry, funding and aid would publish, with consecutive versions per stream.

Deterministic for a given seed, so runs repeat. Nothing here talks to NATS: callers publish.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid5

from nats.js import JetStreamContext

from shared.clock import now
from shared.contracts import Event
from shared.contracts import aid as A
from shared.contracts import funding as F
from shared.contracts import registry as R
from shared.messaging import MSG_ID_HEADER, Envelope, stream_name

DAILY_RP = 15_000
PLAN_DAYS = 180
MINIMUM_RP = DAILY_RP * PLAN_DAYS


@dataclass(frozen=True)
class Published:
    """One envelope, where it goes."""

    stream: str  # GENTING_REGISTRY, ...
    subject: str
    envelope: Envelope


async def publish(
    js: JetStreamContext,
    items: Sequence[Published],
    *,
    window: int = 500,
    timeout: float = 10.0,
    msg_id: str | None = None,
) -> None:
    """Publishes the items in order, `window` in flight at a time, with Nats-Msg-Id = the event id
    (as the owners' relays publish; `msg_id` instead to send one id for all, a duplicate)."""
    for start in range(0, len(items), window):
        acks = await asyncio.gather(
            *(
                js.publish(
                    p.subject,
                    p.envelope.to_bytes(),
                    stream=p.stream,
                    timeout=timeout,
                    headers={MSG_ID_HEADER: msg_id or str(p.envelope.event_id)},
                )
                for p in items[start : start + window]
            )
        )
        assert len(acks) == len(items[start : start + window])


@dataclass
class Programme:
    """Builds upstream facts in order; `published` is what the three producers would have sent."""

    start: date = date(2025, 1, 6)
    seed: int = 1
    published: list[Published] = field(default_factory=list)
    kelurahan_of: dict[UUID, str] = field(default_factory=dict)
    donor_type_of: dict[UUID, F.DonorType] = field(default_factory=dict)
    family_of_plan: dict[UUID, UUID] = field(default_factory=dict)
    _versions: dict[UUID, int] = field(default_factory=lambda: defaultdict(int))

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def new_id(self) -> UUID:
        return UUID(int=self._random.getrandbits(128), version=4)

    def emit(
        self,
        event: Event | tuple[str, str, UUID, dict[str, Any]],
        stream_id: UUID | None = None,
        aggregate: str = "family",
    ) -> Envelope:
        """A contract event, or (context, event_type, stream id, data): a fact with no class here
        (of a family unless `aggregate` says otherwise)."""
        if isinstance(event, Event):
            context, event_type, data = event.context, event.event_type, event.model_dump(mode="json")
            sid, subject = stream_id or event.aggregate_id(), event.subject()
        else:
            context, event_type, sid, data = event
            subject = f"genting.{context}.{aggregate}.{sid}.{event_type}"
        self._versions[sid] += 1
        env = Envelope(
            event_id=self.new_id(),
            event_type=event_type,
            schema_version=1,
            stream_id=sid,
            stream_version=self._versions[sid],
            occurred_at=now(),
            data=data,
        )
        self.published.append(Published(stream_name(context), subject, env))
        return env

    def day(self, offset: int) -> date:
        return self.start + timedelta(days=offset)

    # -- registry ---------------------------------------------------------------------------------

    def register(self, kelurahan: str, on: int = 0) -> UUID:
        family = self.new_id()
        self.kelurahan_of[family] = kelurahan
        member = R.MemberSummary(member_id=self.new_id(), role="baduta", sex="F", age_months=7)
        counts: R.MemberCounts = {"pregnant_mother": 0, "breastfeeding_mother": 1, "baduta": 1, "other": 0}
        self.emit(
            R.FamilyRegistered(
                family_id=family,
                kelurahan_code=kelurahan,
                kecamatan_code=kelurahan[:8],
                members=[member],
                member_counts=counts,
                risk_factors=["poor"],
                registered_on=self.day(on),
                registered_by="kader",
            )
        )
        return family

    def enroll(self, family: UUID, on: int = 1, plan_until: date | None = None) -> None:
        k = self.kelurahan_of[family]
        self.emit(R.FamilyVerified(family_id=family, kelurahan_code=k, verified_on=self.day(on), verified_by="lurah"))
        self.emit(
            R.FamilyEnrolled(
                family_id=family,
                kelurahan_code=k,
                kecamatan_code=k[:8],
                risk_factors=["poor"],
                enrolled_on=self.day(on),
                member_counts={"pregnant_mother": 0, "breastfeeding_mother": 1, "baduta": 1, "other": 0},
                plan_until=plan_until,
            )
        )

    def reject(self, family: UUID, on: int = 1) -> None:
        k = self.kelurahan_of[family]
        self.emit(R.FamilyRejected(family_id=family, kelurahan_code=k, rejected_on=self.day(on), rejected_by="lurah"))

    def exit(self, family: UUID, on: int, reason: R.ExitReason = "moved_away") -> None:
        self.emit(
            R.FamilyExited(
                family_id=family,
                kelurahan_code=self.kelurahan_of[family],
                reason=reason,
                exited_on=self.day(on),
                previous_status="enrolled",
                exited_by="admin",
            )
        )

    def measure(self, family: UUID, member: UUID, on: int, haz: float, weight_kg: float | None = None) -> None:
        # The measurement id derives from the child and the day: the programme's random ids stay as they were.
        self.emit(
            R.GrowthMeasured(
                family_id=family,
                measurement_id=uuid5(member, f"growth:{on}"),
                member_id=member,
                kelurahan_code=self.kelurahan_of[family],
                measured_on=self.day(on),
                age_months=7 + on // 30,
                weight_kg=weight_kg if weight_kg is not None else 7.0 + on / 100,
                length_cm=66.0 + on / 30,
                position="recumbent",
                haz=haz,
                stunted=haz < -2,
                severely_stunted=haz < -3,
                measured_by="kader",
            )
        )

    # -- funding ----------------------------------------------------------------------------------

    def donor(self, donor_type: F.DonorType, received_rp: int = 0, pledged_rp: int = 0, on: int = 0) -> UUID:
        donor = self.new_id()
        self.donor_type_of[donor] = donor_type
        self.emit(F.DonorRegistered(donor_id=donor, donor_type=donor_type, registered_on=self.day(on)))
        if pledged_rp:
            self.emit(
                F.PledgeMade(
                    **self.whose(donor), pledge_id=self.new_id(), amount_rp=pledged_rp, pledged_on=self.day(on)
                )
            )
        if received_rp:
            self.emit(
                F.ContributionReceived(
                    **self.whose(donor),
                    contribution_id=self.new_id(),
                    amount_rp=received_rp,
                    received_on=self.day(on),
                    method="transfer",
                )
            )
        return donor

    def whose(self, donor: UUID, **ids: UUID) -> dict[str, Any]:
        """Whose money a funding event names: the donor, its type, and the `ids` given (sponsorship, family)."""
        return {"donor_id": donor, "donor_type": self.donor_type_of[donor], **ids}

    def sponsor(self, donor: UUID, family: UUID, amount_rp: int = MINIMUM_RP, on: int = 2) -> UUID:
        sponsorship = self.new_id()
        self.emit(
            F.FamilySponsored(
                **self.whose(donor, sponsorship_id=sponsorship, family_id=family),
                amount_rp=amount_rp,
                start_date=self.day(on),
                kelurahan_code=self.kelurahan_of[family],
                sponsored_on=self.day(on),
            )
        )
        return sponsorship

    def draw(
        self,
        sponsorship: UUID,
        donor: UUID,
        family: UUID,
        plan: UUID,
        delivery: UUID,
        amount_rp: int,
        remaining_rp: int,
        on: int,
        distribution_rp: int = 0,
    ) -> None:
        self.emit(
            F.SponsorshipDrawn(
                **self.whose(donor, sponsorship_id=sponsorship, family_id=family),
                amount_rp=amount_rp,
                delivery_id=delivery,
                plan_id=plan,
                drawn_on=self.day(on),
                remaining_rp=remaining_rp,
                distribution_rp=distribution_rp,
            )
        )

    def release(
        self,
        sponsorship: UUID,
        donor: UUID,
        family: UUID,
        amount_rp: int,
        on: int,
        plan: UUID | None = None,
        reason: F.ReleaseReason | None = None,
    ) -> None:
        self.emit(
            F.SponsorshipReleased(
                **self.whose(donor, sponsorship_id=sponsorship, family_id=family),
                amount_rp=amount_rp,
                reason=reason or ("plan_closed" if plan else "family_exited"),
                plan_id=plan,
                released_on=self.day(on),
            )
        )

    def unfunded(
        self, plan: UUID, delivery: UUID, value_rp: int, drawn_rp: int, on: int, distribution_rp: int = 0
    ) -> None:
        """Funding's record of what no sponsorship could pay of a delivery (food first, so the
        distribution is unpaid first)."""
        unfunded = value_rp + distribution_rp - drawn_rp
        self.emit(
            F.DeliveryUnfunded(
                **self._plan_fields(plan),
                delivery_id=delivery,
                value_rp=value_rp,
                drawn_rp=drawn_rp,
                unfunded_rp=unfunded,
                delivered_on=self.day(on),
                distribution_rp=distribution_rp,
                unfunded_distribution_rp=min(unfunded, distribution_rp),
            )
        )

    # -- aid ----------------------------------------------------------------------------------------

    def _plan_fields(self, plan: UUID) -> dict[str, Any]:
        family = self.family_of_plan[plan]
        return {"plan_id": plan, "family_id": family, "kelurahan_code": self.kelurahan_of[family]}

    def open_plan(self, family: UUID, budget_rp: int = MINIMUM_RP, on: int = 3, distribution_daily_rp: int = 0) -> UUID:
        plan = self.new_id()
        self.family_of_plan[plan] = family
        self.emit(
            A.AidPlanOpened(
                **self._plan_fields(plan),
                start_date=self.day(on),
                end_date=self.day(on + PLAN_DAYS - 1),
                days=PLAN_DAYS,
                daily_minimum_rp=DAILY_RP,
                budget_rp=budget_rp,
                opened_on=self.day(on),
                distribution_daily_rp=distribution_daily_rp,
            )
        )
        return plan

    def deliver(
        self, plan: UUID, first_day: int, days: int, on: int, per_day_rp: int = DAILY_RP, distribution_rp: int = 0
    ) -> UUID:
        delivery = self.new_id()
        self.emit(
            A.AidDelivered(
                **self._plan_fields(plan),
                delivery_id=delivery,
                period_from=self.day(first_day),
                period_to=self.day(first_day + days - 1),
                days=days,
                value_rp=days * per_day_rp,
                delivered_on=self.day(on),
                items=[A.DeliveredItem(name="telur", quantity=days, unit="butir")],
                distribution_rp=distribution_rp,
            )
        )
        return delivery

    def confirm(self, plan: UUID, delivery: UUID, on: int) -> None:
        self.emit(
            A.DeliveryConfirmed(
                **self._plan_fields(plan), delivery_id=delivery, confirmed_on=self.day(on), confirmed_by="lurah"
            )
        )

    def gap(self, plan: UUID, first_day: int, days: int) -> None:
        self.emit(
            A.CoverageGapDetected(
                **self._plan_fields(plan),
                gap_from=self.day(first_day),
                gap_to=self.day(first_day + days - 1),
                days=days,
            )
        )

    def complete(self, plan: UUID, on: int, delivered_rp: int = MINIMUM_RP) -> None:
        self.emit(
            A.AidPlanCompleted(
                **self._plan_fields(plan), completed_on=self.day(on), delivered_rp=delivered_rp, days_covered=PLAN_DAYS
            )
        )
        self.emit(
            A.AidPlanClosed(
                **self._plan_fields(plan),
                outcome="completed",
                closed_on=self.day(on),
                delivered_rp=delivered_rp,
                unspent_rp=0,
                days_covered=PLAN_DAYS,
            )
        )

    def close(
        self, plan: UUID, on: int, outcome: A.PlanOutcome, delivered_rp: int, days_covered: int, unspent_rp: int = 0
    ) -> None:
        self.emit(
            A.AidPlanClosed(
                **self._plan_fields(plan),
                outcome=outcome,
                closed_on=self.day(on),
                delivered_rp=delivered_rp,
                unspent_rp=unspent_rp,
                days_covered=days_covered,
            )
        )

    def underfunded(self, plan: UUID, shortfall_rp: int, uncovered_days: int, remaining_rp: int, on: int) -> None:
        """AidPlanUnderfunded (wave 3): the plan's remaining budget cannot pay the daily minimum
        for its uncovered days left. As data, so it works before aid's catalog lists the type."""
        data: dict[str, object] = {k: str(v) for k, v in self._plan_fields(plan).items()}
        data |= {"shortfall_rp": shortfall_rp, "uncovered_days": uncovered_days, "remaining_rp": remaining_rp}
        self.emit(("aid", "AidPlanUnderfunded", plan, data | {"detected_on": str(self.day(on))}), aggregate="plan")

    def fully_funded(self, plan: UUID, on: int) -> None:
        data = {k: str(v) for k, v in self._plan_fields(plan).items()} | {"funded_on": str(self.day(on))}
        self.emit(("aid", "AidPlanFullyFunded", plan, data), aggregate="plan")

    def session(self, topic: A.EducationTopic, kelurahan: str, families: list[UUID], on: int) -> None:
        self.emit(
            A.EducationSessionHeld(
                session_id=self.new_id(),
                topic=topic,
                held_on=self.day(on),
                kelurahan_code=kelurahan,
                family_ids=families,
                families=len(families),
            )
        )

    def flag_home_visit(
        self,
        plan: UUID | None,
        family: UUID,
        member: UUID,
        on: int,
        since: int,
        weight_then_kg: float,
        weight_now_kg: float,
    ) -> A.HomeVisitFlagged:
        flagged = A.HomeVisitFlagged(
            flag_id=uuid5(member, f"home-visit:{on}"),
            plan_id=plan,
            family_id=family,
            kelurahan_code=self.kelurahan_of[family],
            member_id=member,
            flagged_on=self.day(on),
            since=self.day(since),
            weight_then_kg=weight_then_kg,
            weight_now_kg=weight_now_kg,
        )
        self.emit(flagged)
        return flagged

    def visit_home(self, flagged: A.HomeVisitFlagged, on: int) -> None:
        self.emit(
            A.HomeVisitDone(
                flag_id=flagged.flag_id,
                plan_id=flagged.plan_id,
                family_id=flagged.family_id,
                kelurahan_code=flagged.kelurahan_code,
                member_id=flagged.member_id,
                visited_on=self.day(on),
            )
        )

    def intervene(
        self,
        plan: UUID,
        kind: A.InterventionKind,
        value_rp: int,
        on: int,
        source_donor_id: UUID | None = None,
        source_organisation: str | None = None,
    ) -> None:
        self.emit(
            A.InterventionRecorded(
                **self._plan_fields(plan),
                intervention_id=self.new_id(),
                kind=kind,
                done_on=self.day(on),
                value_rp=value_rp,
                source_donor_id=source_donor_id,
                source_organisation=source_organisation,
            )
        )
