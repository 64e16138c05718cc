"""Funding's service layer: one method per command. Routes and policies call these, and nothing
else decides or appends. Each runs in the caller's transaction (run_command's for a route, the
projection runner's batch for a policy): load the aggregate, decide, append with the expected
version (and the inline view), plus the cross-aggregate rows of lookups.py in the same transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from uuid import UUID

import asyncpg
import structlog

from services.funding import lookups
from services.funding.domain import (
    ClosePlan,
    Donor,
    Limits,
    MakePledge,
    PayDelivery,
    ReceiveContribution,
    RecordEligibility,
    RecordEnrolment,
    RecordExit,
    RecordPlan,
    RegisterDonor,
    Release,
    ReleaseFamily,
    ReleaseUnplanned,
    ReturnFunds,
    SponsorFamily,
    Sponsorship,
    donor,
    pay_delivery,
    plans,
    sponsorship,
)
from services.funding.domain.private import with_private
from services.funding.donor_data import DonorData
from services.funding.family_notes import FamilyNoteCipher
from shared.auth import Principal
from shared.contracts.base import Event
from shared.contracts.funding import CATALOG, ReleaseReason, SponsorshipReleased
from shared.errors import FieldError, InvalidCommand, NotFound
from shared.eventstore import Metadata
from shared.repository import Aggregate, Fact, Repository

log = structlog.get_logger()


@dataclass
class LedgerStats:
    """Counted since the process started; the durable record is the funding_deliveries table."""

    deliveries: int = 0
    duplicate_deliveries: int = 0
    shortfalls: int = 0
    shortfall_rp: int = 0
    releases: int = 0


def facts(events: Iterable[Event]) -> list[Fact]:
    """Events without a private part (the ledger's); a command with private text uses `with_private`."""
    return [Fact(e) for e in events]


def _returning(returns: Sequence[ReturnFunds]) -> Callable[[Donor], list[Fact]]:
    """One decision for every sponsorship of a release that a donor gets money back from."""

    def decide(state: Donor) -> list[Fact]:
        return [f for r in returns for f in facts(donor.decide(state, r))]

    return decide


def own_donor(principal: Principal) -> UUID | None:
    """The donor a donor token speaks for (None for other roles, or a claim that is not an id)."""
    if principal.role != "donor":
        return None
    try:
        return UUID(principal.donor_id or "")
    except ValueError:
        return None


def delivery_repository() -> Repository[None]:
    """The delivery streams hold only DeliveryUnfunded: a record, with no state to decide on."""
    return Repository("delivery", CATALOG, lambda: None, lambda state, _fact: state)


@dataclass
class Handlers:
    """Funding's commands over the repositories and limits app.py configures. Each method takes the
    caller's connection (inside its transaction) and returns the aggregate(s) after the save, or
    for the ledger the rupiah it moved; a refusal is a raised DomainError."""

    donors: Repository[Donor]
    sponsorships: Repository[Sponsorship]
    limits: Limits
    # Donors' own personal data: reads, checks and erasure of the donor stream's private parts (donor_data.py).
    donor_data: DonorData
    # The sponsorship stream's cipher: a note is sealed under its family's key; destroyed on PersonalDataErased.
    family_keys: FamilyNoteCipher
    stats: LedgerStats = field(default_factory=LedgerStats)
    # What no sponsorship could pay of a delivery (DeliveryUnfunded), one stream per delivery.
    deliveries: Repository[None] = field(default_factory=lambda: delivery_repository())

    # -- donors -------------------------------------------------------------------------------

    async def register_donor(
        self,
        conn: asyncpg.Connection,
        cmd: RegisterDonor,
        actor: Principal,
        meta: Metadata,
        public_name_consent: bool = False,
    ) -> Aggregate[Donor]:
        actor.require("admin")
        await self.donor_data.require_keepable(conn, cmd.donor_id, "name")
        cmd = replace(cmd, public_name_consent=public_name_consent)
        after, _ = await self.donors.execute(
            conn, cmd.donor_id, lambda state: with_private(cmd, donor.decide(state, cmd, self.limits)), meta
        )
        return after

    async def erase_donor(self, conn: asyncpg.Connection, donor_id: UUID, actor: Principal) -> None:
        """The donor's personal data goes for good (admin only); its money stays accounted."""
        actor.require("admin")
        if not await conn.fetchval("select 1 from donors_view where donor_id = $1", donor_id):
            raise NotFound(f"Donor {donor_id} is not registered.")
        await self.donor_data.erase(conn, donor_id)

    async def make_pledge(
        self, conn: asyncpg.Connection, cmd: MakePledge, actor: Principal, meta: Metadata
    ) -> Aggregate[Donor]:
        """A donor pledges for itself; an admin for any donor."""
        if own_donor(actor) != cmd.donor_id:
            actor.require("admin")
        if cmd.note and cmd.note.strip():
            await self.donor_data.require_keepable(conn, cmd.donor_id, "note")
        after, _ = await self.donors.execute(
            conn, cmd.donor_id, lambda state: with_private(cmd, donor.decide(state, cmd, self.limits)), meta
        )
        return after

    async def receive_contribution(
        self, conn: asyncpg.Connection, cmd: ReceiveContribution, actor: Principal, meta: Metadata
    ) -> Aggregate[Donor]:
        actor.require("admin", "treasurer")
        await self.donor_data.require_keepable(conn, cmd.donor_id, "reference")
        after, _ = await self.donors.execute(
            conn, cmd.donor_id, lambda state: with_private(cmd, donor.decide(state, cmd, self.limits)), meta
        )
        await lookups.claim_reference(conn, cmd.donor_id, cmd.reference, cmd.contribution_id)
        await self.donor_data.keep_receipt_code(conn, cmd.donor_id, cmd.contribution_id)
        return after

    # -- sponsorships ---------------------------------------------------------------------------

    async def sponsor_family(
        self, conn: asyncpg.Connection, cmd: SponsorFamily, actor: Principal, meta: Metadata
    ) -> tuple[Aggregate[Donor], Aggregate[Sponsorship]]:
        """One decision over two aggregates. The family first (its lock orders this against an exit),
        then the donor: the allocation is appended at the donor's loaded version, so a concurrent
        sponsorship that spent the same money makes this append fail and the caller retry it.
        The family's status, kelurahan, enrolment date and whether its plan ended are replaced by
        what funding knows of them. Under the family's lock: a plan's ending handled before this is
        seen (409), one handled after it releases this sponsorship too. Admin only."""
        actor.require("admin")
        family = await lookups.lock_family(conn, cmd.family_id)
        if cmd.note and cmd.note.strip() and await lookups.family_erased(conn, cmd.family_id):
            # Its key is gone for good: a new one would make the family's free text readable again.
            raise InvalidCommand([FieldError("note", "the family's personal data was erased: no note can be kept")])
        cmd = replace(
            cmd,
            family_status=family["status"] if family else "unknown",
            kelurahan_code=family["kelurahan_code"] if family else None,
            enrolled_on=family["enrolled_on"] if family else None,
            plan_ended=plans.plan_ended(await lookups.plan_statuses(conn, cmd.family_id)),
            plan_last_day=await lookups.plan_last_day(conn, cmd.family_id),
            eligible=family["eligible"] if family else True,
            ineligible_since=family["eligibility_on"] if family else None,
        )
        if cmd.note and cmd.note.strip() and self.family_keys.keys is None:
            raise InvalidCommand([FieldError("note", "notes cannot be kept: no data key is configured")])
        loaded = await self.donors.load(conn, cmd.donor_id, private=False, lock=True)
        allocated, sponsored = sponsorship.sponsor(loaded.state, cmd, self.limits)
        after = await self.donors.save(conn, loaded, facts(allocated), meta)
        # Before the sponsorship's first event: its cipher finds the family (for the note's key) here.
        await lookups.add_family_sponsorship(conn, cmd.sponsorship_id, cmd.family_id, cmd.donor_id)
        new = await self.sponsorships.save(
            conn, Aggregate(cmd.sponsorship_id, Sponsorship()), with_private(cmd, sponsored), meta
        )
        return after, new

    async def erase_family(self, conn: asyncpg.Connection, family_id: UUID) -> None:
        """PersonalDataErased: destroy the family's key (crypto-shredding), drop what was sealed
        under it, and keep a tombstone so no key is ever made for the family again. The money's
        history stays: it names no one. Idempotent (redeliveries, a restore re-applying it)."""
        await self.family_keys.destroy(conn, family_id)
        await conn.execute("insert into erased_families (family_id) values ($1) on conflict do nothing", family_id)
        log.info("family_keys_destroyed", family_id=str(family_id))

    # -- the ledger (policies) ------------------------------------------------------------------

    async def record_enrolment(self, conn: asyncpg.Connection, cmd: RecordEnrolment) -> None:
        await lookups.family_enrolled(conn, cmd.family_id, cmd.kelurahan_code, cmd.enrolled_on, cmd.plan_until)

    async def record_eligibility(self, conn: asyncpg.Connection, cmd: RecordEligibility) -> None:
        """Sponsorships already made stay: a plan opened runs to its end, and money still waiting
        for a plan goes back by the hold rule (release_unplanned)."""
        await lookups.lock_or_create_family(conn, cmd.family_id)
        await lookups.family_eligibility(
            conn, cmd.family_id, cmd.kelurahan_code, cmd.eligible, cmd.effective_on, cmd.plan_until
        )

    async def record_exit(self, conn: asyncpg.Connection, cmd: RecordExit, meta: Metadata) -> int:
        # What funding's clock would have sent back before the exit (a hold that ended before it)
        # goes back first, as no_plan on the hold's end: entered late, the exit must find what the
        # family would have held on the day, not release it all as family_exited.
        released = await self.release_unplanned(
            conn, cmd.family_id, self.limits.sponsorship_hold_days, cmd.exited_on, meta
        )
        await lookups.family_exited(conn, cmd.family_id, cmd.kelurahan_code, cmd.exited_on)
        # With a plan open, aid closes it on the exit and ClosePlan releases the rest after the
        # last deliveries are paid; releasing now would leave those unpaid.
        if plans.has_open_plan(await lookups.plan_statuses(conn, cmd.family_id)):
            return released
        exit_release = ReleaseFamily(cmd.family_id, "family_exited", None, cmd.exited_on)
        return released + await self.release_family(conn, exit_release, meta)

    async def record_plan(self, conn: asyncpg.Connection, cmd: RecordPlan) -> None:
        await lookups.lock_or_create_family(conn, cmd.family_id)  # ordered against an exit of the same family
        await lookups.plan_opened(conn, cmd.plan_id, cmd.family_id, cmd.start_date, cmd.end_date)

    async def close_plan(self, conn: asyncpg.Connection, cmd: ClosePlan, meta: Metadata) -> int:
        await lookups.lock_or_create_family(conn, cmd.family_id)
        # Money the plan never took (its hold ended before the plan started) goes back as the clock
        # would have sent it, no_plan on the hold's end, before the plan's closing releases the rest:
        # whether the clock or the closing comes first, the donors get the same back.
        released = await self.release_unplanned(
            conn, cmd.family_id, self.limits.sponsorship_hold_days, cmd.closed_on, meta
        )
        await lookups.plan_closed(conn, cmd.plan_id, cmd.family_id, cmd.closed_on)
        return released + await self.release_family(
            conn, ReleaseFamily(cmd.family_id, "plan_closed", cmd.plan_id, cmd.closed_on), meta
        )

    async def pay_delivery(self, conn: asyncpg.Connection, cmd: PayDelivery, meta: Metadata) -> int:
        """Pay a delivery from the family's sponsorships, oldest first; returns the unfunded rest.

        Aid checks its budget before it records a delivery, so a shortfall means funding released or
        never held the money (e.g. the family's exit was handled before a delivery made earlier).
        Food already delivered cannot be refused: what can be drawn is drawn, and the rest is a
        published fact (DeliveryUnfunded on the delivery's own stream) that reporting counts as
        `unfunded_rp`, for the programme office to settle; funding_deliveries keeps it too.
        """
        await lookups.lock_or_create_family(conn, cmd.family_id)
        start, hold = await lookups.plan_start(conn, cmd.family_id), self.limits.sponsorship_hold_days
        open_ = [  # the plan's money: not what waited for it in vain (goes back no_plan)
            a
            for a in await lookups.family_sponsorships(conn, self.sponsorships, cmd.family_id)
            if a.state.is_open and a.state.taken_by_plan(start, hold)
        ]
        draws, unfunded = pay_delivery([(a.stream_id, a.state.remaining_rp) for a in open_], cmd)
        shortfall = sum(e.unfunded_rp for e in unfunded)
        # Recorded before anything is drawn: the same delivery again draws nothing.
        if not await lookups.claim_delivery(
            conn,
            cmd.delivery_id,
            cmd.plan_id,
            cmd.family_id,
            cmd.value_rp,
            shortfall,
            cmd.delivered_on,
            cmd.distribution_rp,
        ):
            self.stats.duplicate_deliveries += 1
            log.info("duplicate_ignored", delivery_id=str(cmd.delivery_id))
            return 0
        by_id = {a.stream_id: a for a in open_}
        for draw in draws:
            aggregate = by_id[draw.sponsorship_id]
            await self.sponsorships.save(conn, aggregate, facts(sponsorship.decide(aggregate.state, draw)), meta)
        self.stats.deliveries += 1
        if shortfall:
            # A new stream per delivery, appended once (claim_delivery above holds the duplicates).
            await self.deliveries.save(conn, Aggregate(cmd.delivery_id, None), facts(unfunded), meta)
            self.stats.shortfalls += 1
            self.stats.shortfall_rp += shortfall
            log.warning(
                "delivery_shortfall",
                delivery_id=str(cmd.delivery_id),
                plan_id=str(cmd.plan_id),
                family_id=str(cmd.family_id),
                value_rp=cmd.value_rp,
                distribution_rp=cmd.distribution_rp,
                shortfall_rp=shortfall,
            )
        return shortfall

    async def release_unplanned(
        self,
        conn: asyncpg.Connection,
        family_id: UUID,
        hold_days: int,
        known_through: date | None,
        meta: Metadata,
    ) -> int:
        """Funding's clock, for one family: each of its sponsorships still waiting for a plan past
        its hold goes back to its donor (reason no_plan). Under the family's lock, so an
        AidPlanOpened or a new sponsorship handled at the same time is ordered against it. The
        minimum is the family's own (its plan days from the registry's plan_until, if any); a
        family with no plan days left gets no plan, whatever it holds."""
        await lookups.lock_or_create_family(conn, family_id)
        terms = await lookups.plan_terms(conn, family_id)
        minimum_rp = self.limits.minimum_of(terms.enrolled_on, terms.plan_until)
        eligible = terms.eligible and self.limits.plan_days_of(terms.enrolled_on, terms.plan_until) > 0
        plan_known = bool(await lookups.plan_statuses(conn, family_id))
        plan_start = await lookups.plan_start(conn, family_id)
        held = [a for a in await lookups.family_sponsorships(conn, self.sponsorships, family_id) if a.state.is_open]
        family_held = sum(a.state.remaining_rp for a in held)
        family_money = tuple(a.state.held() for a in held)
        returned: list[ReturnFunds] = []
        for aggregate in held:
            state = aggregate.state
            assert state.donor_id is not None
            command = ReleaseUnplanned(
                aggregate.stream_id,
                hold_days,
                known_through,
                plan_known,
                family_held,
                minimum_rp,
                eligible,
                plan_start=plan_start,
                family_money=family_money,
                plan_until=terms.plan_until,
            )
            events = sponsorship.decide(state, command)
            if events:
                await self.sponsorships.save(conn, aggregate, facts(events), meta)
                released = events[0]
                assert isinstance(released, SponsorshipReleased)
                family_held -= released.amount_rp
                returned.append(
                    ReturnFunds(
                        state.donor_id, aggregate.stream_id, released.amount_rp, "no_plan", released.released_on
                    )
                )
        return await self._return(conn, returned, family_id, "no_plan", meta)

    async def release_family(self, conn: asyncpg.Connection, cmd: ReleaseFamily, meta: Metadata) -> int:
        """Release the unspent rest of every sponsorship of the family to its donor; returns the total.

        A sponsorship is released once: whichever of a plan's closing and the family's exit comes
        second finds nothing left. The donors' side (FundsReturned) is appended in donor-id order so
        that two releases sharing donors cannot deadlock.
        """
        await lookups.lock_or_create_family(conn, cmd.family_id)
        returned: list[ReturnFunds] = []
        for aggregate in await lookups.family_sponsorships(conn, self.sponsorships, cmd.family_id):
            state = aggregate.state
            assert state.donor_id is not None
            release = Release(aggregate.stream_id, cmd.reason, cmd.plan_id, cmd.on)
            events = sponsorship.decide(state, release)
            if events:
                await self.sponsorships.save(conn, aggregate, facts(events), meta)
                amount = events[0].amount_rp
                returned.append(ReturnFunds(state.donor_id, aggregate.stream_id, amount, cmd.reason, cmd.on))
        return await self._return(conn, returned, cmd.family_id, cmd.reason, meta)

    async def _return(
        self,
        conn: asyncpg.Connection,
        returned: list[ReturnFunds],
        family_id: UUID,
        reason: ReleaseReason,
        meta: Metadata,
    ) -> int:
        """The donors' side of a release (FundsReturned), in donor-id order; returns the total."""
        total = 0
        for donor_id, returns in plans.returns_by_donor(returned):
            await self.donors.execute(conn, donor_id, _returning(returns), meta)
            total += sum(r.amount_rp for r in returns)
        if total:
            self.stats.releases += 1
            log.info("sponsorships_released", family_id=str(family_id), reason=reason, amount_rp=total)
        return total
