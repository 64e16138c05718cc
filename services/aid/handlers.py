"""Aid's service layer: one method per command, the only code that runs a `decide` and saves its
facts. Routes, policies (reactions to registry and funding) and the clock step all come here.

Each method works in the caller's transaction: the repository loads the aggregate (locked on its
view row where it has one), the pure `decide` runs (domain/plan.py for a plan), and the facts are
appended with the expected version together with their sealed private parts, the outbox and the
inline views (views.py: `plan_view` for a plan)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID, uuid4, uuid5

import asyncpg

from services.aid.domain import (
    CloseForExit,
    ConfirmDelivery,
    DeliveryNotFound,
    EndWindow,
    FlagHomeVisit,
    HoldSession,
    HomeVisit,
    HomeVisitNotFound,
    Plan,
    PlanNotFound,
    PlanRules,
    RecordDelivery,
    RecordIntervention,
    RecordVisit,
    ReviewFunding,
    Session,
    home_visit,
    plan,
    session,
)
from services.aid.domain.commands import PlanCommand
from services.aid.family_keys import FamilyKeyCipher
from services.aid.photo_store import MAX_PHOTO_BYTES, PhotoStore, sniff
from shared.auth import Principal, require_acts_in
from shared.errors import Conflict, FieldError, InvalidCommand, NotFound
from shared.eventstore import Metadata
from shared.repository import Fact, Repository

# Who acts for the programme in a kelurahan: the only roles that record, each in its own kelurahan.
STAFF = ("admin", "lurah", "kader")
# A photo uploaded again with the same Idempotency-Key gets the same id (store_photo).
_PHOTO_IDS = UUID("8a0f3f52-59a4-4c3e-9d0b-3c1f4d6a2b71")
IDEMPOTENCY_KEY_FIELD = "header.Idempotency-Key"


@dataclass(frozen=True)
class StoredPhoto:
    photo_id: UUID
    content_type: str
    size_bytes: int
    replayed: bool  # the same photo, stored before under the same key (or with no key)


@dataclass
class Handlers:
    plans: Repository[Plan]
    sessions: Repository[Session]
    visits: Repository[HomeVisit]
    family_keys: FamilyKeyCipher
    rules: PlanRules
    photos: PhotoStore | None = None  # the proof photos' object store (photo_store.py)

    # -- staff commands (HTTP) ----------------------------------------------------------------

    async def record_on_plan(
        self, conn: asyncpg.Connection, command: RecordDelivery | RecordIntervention, actor: Principal, meta: Metadata
    ) -> Plan:
        """A delivery or an intervention, recorded by staff under the city's plan rules."""
        actor.require(*STAFF)
        command = replace(command, rules=self.rules)
        return await self._on_plan(conn, command.plan_id, command, actor, meta)

    async def confirm_delivery(
        self,
        conn: asyncpg.Connection,
        *,
        delivery_id: UUID,
        photo_ref: str | None,
        photo_id: UUID | None = None,
        confirmed_on: date,
        today: date,
        actor: Principal,
        meta: Metadata,
    ) -> ConfirmDelivery:
        """The delivery's plan comes from the view, in this transaction; returns the command run.
        A kader delivers; only the lurah (or an admin) confirms, with a photo stored for this very
        delivery when `photo_id` names one."""
        actor.require("admin", "lurah")
        if photo_id is not None and not await conn.fetchval(
            "select exists (select 1 from delivery_photos where photo_id = $1 and delivery_id = $2)",
            photo_id,
            delivery_id,
        ):
            raise InvalidCommand([FieldError("photo_id", "is not a photo stored for this delivery")])
        row = await conn.fetchrow(
            "select plan_id, recorded_by from deliveries_view where delivery_id = $1", delivery_id
        )
        if row is None:
            raise DeliveryNotFound(delivery_id)
        plan_id = row["plan_id"]
        command = ConfirmDelivery(
            plan_id=plan_id,
            delivery_id=delivery_id,
            confirmed_on=confirmed_on,
            today=today,
            confirmed_by=actor.sub,
            photo_ref=photo_ref,
            photo_id=photo_id or uuid4(),  # a stored photo's own id, else a fresh opaque one
            rules=self.rules,
            recorded_by=row["recorded_by"],
        )
        await self._on_plan(conn, plan_id, command, actor, meta)
        return command

    async def hold_session(
        self,
        conn: asyncpg.Connection,
        *,
        session_id: UUID,
        topic: str,
        held_on: date,
        kelurahan_code: str,
        family_ids: Sequence[UUID],
        facilitator: str,
        today: date,
        actor: Principal,
        meta: Metadata,
    ) -> Session:
        """The families must be enrolled there as aid knows from registry events (not a call)."""
        require_acts_in(actor, kelurahan_code, *STAFF)
        # Enrolled, and not exited, on the day the session was held (its effective date).
        rows = await conn.fetch(
            "select family_id from aid_families where kelurahan_code = $1 and enrolled_on <= $3"
            " and (exited_on is null or exited_on > $3) and family_id = any($2::uuid[])",
            kelurahan_code,
            list(family_ids),
            held_on,
        )
        command = HoldSession(
            session_id=session_id,
            topic=topic,
            held_on=held_on,
            kelurahan_code=kelurahan_code,
            family_ids=tuple(family_ids),
            facilitator=facilitator,
            today=today,
            recorded_by=actor.sub,
            enrolled_here=frozenset(r["family_id"] for r in rows),
            rules=self.rules,
        )
        after, _ = await self.sessions.execute(conn, session_id, lambda s: session.decide(s, command), meta)
        return after.state

    async def record_visit(
        self, conn: asyncpg.Connection, command: RecordVisit, actor: Principal, meta: Metadata
    ) -> HomeVisit:
        actor.require(*STAFF)
        command = replace(command, rules=self.rules)

        def decide(state: HomeVisit) -> list[Fact]:
            if state.status == "none":
                raise HomeVisitNotFound(command.flag_id)
            require_acts_in(actor, state.kelurahan_code)
            return home_visit.decide(state, command)

        after, _ = await self.visits.execute(conn, command.flag_id, decide, meta)
        return after.state

    async def store_photo(
        self, conn: asyncpg.Connection, delivery_id: UUID, data: bytes, key: str | None, actor: Principal
    ) -> StoredPhoto:
        """The proof photo of a delivery, from the staff of its kelurahan: the role is asked before
        the bytes or the delivery are looked at. Not in a transaction: the bytes go to the object
        store first, then the row, so a row always has its photo; a crash in between leaves an
        object nobody references, never a reference to nothing."""
        actor.require(*STAFF)
        if len(data) > MAX_PHOTO_BYTES:
            raise InvalidCommand([FieldError("photo", f"may be at most {MAX_PHOTO_BYTES} bytes")])
        content_type = sniff(data)
        if content_type is None:
            raise InvalidCommand([FieldError("photo", "must be a JPEG, PNG or WebP image")])
        delivery = await conn.fetchrow(
            "select family_id, kelurahan_code from deliveries_view where delivery_id = $1", delivery_id
        )
        if delivery is None:
            raise NotFound(f"no delivery {delivery_id}")
        require_acts_in(actor, delivery["kelurahan_code"])
        if await conn.fetchval(
            "select exists (select 1 from erased_families where family_id = $1)", delivery["family_id"]
        ):
            raise Conflict("the family's personal data was erased: no photo is kept for it")
        # Idempotency here is by the photo's id, not the stored-response table run_command uses: a
        # browser builds a new multipart boundary on every retry, so the same photo never arrives as
        # the same body. The id is derived from the caller, the delivery and the key; the bytes'
        # hash tells a true retry from a key reused for another photo.
        if key is not None and not 1 <= len(key) <= 200:
            raise InvalidCommand([FieldError(IDEMPOTENCY_KEY_FIELD, "must be 1 to 200 characters")])
        digest = hashlib.sha256(data).hexdigest()
        seed = f"{actor.sub}\n{delivery_id}\n{key}" if key else f"{delivery_id}\n{digest}"
        photo_id = uuid5(_PHOTO_IDS, seed)
        existing = await conn.fetchrow("select sha256 from delivery_photos where photo_id = $1", photo_id)
        if existing is not None and existing["sha256"] != digest:
            raise InvalidCommand([FieldError(IDEMPOTENCY_KEY_FIELD, "was already used for another photo")])
        if existing is not None:
            return StoredPhoto(photo_id, content_type, len(data), replayed=True)
        assert self.photos is not None, "the aid app always has a photo store (app.py)"
        await self.photos.put(photo_id, data, content_type)
        await conn.execute(
            "insert into delivery_photos (photo_id, delivery_id, family_id, kelurahan_code, content_type, size_bytes,"
            " sha256, uploaded_by) values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (photo_id) do nothing",
            photo_id,
            delivery_id,
            delivery["family_id"],
            delivery["kelurahan_code"],
            content_type,
            len(data),
            digest,
            actor.sub,
        )
        return StoredPhoto(photo_id, content_type, len(data), replayed=False)

    # -- the process manager's (policies) and the clock's ------------------------------------------

    async def _erase_photos(self, conn: asyncpg.Connection, family_id: UUID) -> None:
        """The family's proof photos go from the object store, then their rows. Deleted inside the
        consumer's transaction: if it rolls back, the rows stay and the redelivered event deletes
        again (deleting a missing object succeeds)."""
        photo_ids = await conn.fetch("select photo_id from delivery_photos where family_id = $1", family_id)
        if self.photos is not None:
            for row in photo_ids:
                await self.photos.delete(row["photo_id"])
        await conn.execute("delete from delivery_photos where family_id = $1", family_id)

    async def erase_family(self, conn: asyncpg.Connection, family_id: UUID) -> None:
        """PersonalDataErased: destroy the family's key, and clear the plaintext the
        read model keeps of its sealed parts; counts, dates and money stay."""
        await self.family_keys.destroy(conn, family_id)
        await self._erase_photos(conn, family_id)
        await conn.execute(
            "update deliveries_view set recorded_by = null, photo_ref = null where family_id = $1", family_id
        )
        await conn.execute(
            "update interventions_view set description = null, recorded_by = null where family_id = $1", family_id
        )
        await conn.execute("update home_visits_view set note = null, visited_by = null where family_id = $1", family_id)

    async def review_funding(self, conn: asyncpg.Connection, command: ReviewFunding, meta: Metadata) -> list[Fact]:
        return await self._plan(conn, command, meta)

    async def close_for_exit(self, conn: asyncpg.Connection, command: CloseForExit, meta: Metadata) -> list[Fact]:
        return await self._plan(conn, command, meta)

    async def end_window(self, conn: asyncpg.Connection, command: EndWindow, meta: Metadata) -> list[Fact]:
        return await self._plan(conn, command, meta)

    async def flag_home_visit(self, conn: asyncpg.Connection, command: FlagHomeVisit, meta: Metadata) -> list[Fact]:
        _, facts = await self.visits.execute(conn, command.flag_id, lambda s: home_visit.decide(s, command), meta)
        return facts

    # -- the plan's one path ----------------------------------------------------------------------

    async def _plan(self, conn: asyncpg.Connection, command: PlanCommand, meta: Metadata) -> list[Fact]:
        _, facts = await self.plans.execute(conn, command.plan_id, lambda s: plan.decide(s, command), meta)
        return facts

    async def _on_plan(
        self, conn: asyncpg.Connection, plan_id: UUID, command: PlanCommand, actor: Principal, meta: Metadata
    ) -> Plan:
        """A staff command: 404 before 403, so an unknown plan says so whoever asks."""

        def decide(state: Plan) -> list[Fact]:
            if state.status == "none":
                raise PlanNotFound(plan_id)
            require_acts_in(actor, state.kelurahan_code)
            return plan.decide(state, command)

        after, _ = await self.plans.execute(conn, plan_id, decide, meta)
        return after.state
