"""The registry's service layer: one method per command, the only code that runs `decide` and saves
its facts. Routes and the agency import's rows both come here, and each method decides who may
do what: authorization lives here, the one layer every path goes through.

Each method works in the caller's transaction: the repository loads the family (its personal parts
opened: the rules need NIKs and birth dates), the caller's permission is checked on it, the pure
`decide` runs, and the facts are appended with the expected version, their personal parts sealed
under the family's key, with the outbox and the inline views (claims, families_view, erasure)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal
from uuid import UUID, uuid4

import asyncpg

from services.registry.bodies import registration
from services.registry.domain import (
    AddMember,
    AgeOutChildren,
    AlreadyActive,
    Command,
    ErasePersonalData,
    ExitFamily,
    Fact,
    Family,
    RecordBirth,
    RecordGrowth,
    RegisterFamily,
    VerifyFamily,
    decide,
)
from services.registry.domain.validation import registration_errors
from services.registry.import_ledger import ImportLedger
from services.registry.importing import ParsedRow
from services.registry.reference import DEFAULT_RULES, Rules, default_programme
from shared.auth import Principal, require_acts_in
from shared.contracts.registry import GrowthMeasured
from shared.errors import DomainError, FieldError, Forbidden, NotFound
from shared.eventstore import Metadata
from shared.programme import Programme
from shared.repository import Aggregate, Repository

STAFF = ("admin", "lurah", "kader")
REGISTRARS = (*STAFF, "census")
# census: the city's census office, in its kelurahan when its token has one, anywhere when not.
# agency is read-only (CONTRACT.md): it no longer imports.
IMPORTERS = REGISTRARS
# Who may change a registered family, by command (the family's kelurahan is checked too).
_MAY_CHANGE: dict[type, tuple[str, ...]] = {
    AddMember: STAFF,
    VerifyFamily: ("admin", "lurah"),
    ExitFamily: STAFF,
    RecordBirth: STAFF,
}


def registers_in(actor: Principal, kelurahan_code: str) -> bool:
    """Who may register (and import) a family of this kelurahan: an admin anywhere, a lurah or
    kader in their own, a census officer in theirs when the token names one and anywhere when not."""
    if actor.role == "census":
        return actor.kelurahan is None or actor.kelurahan == kelurahan_code
    return actor.role in STAFF and actor.acts_in(kelurahan_code)


@dataclass(frozen=True)
class RowImported:
    """What became of one row of an import: its family, or the row's errors by its own columns."""

    status: Literal["registered", "already_registered", "rejected"]
    family_id: UUID | None = None
    errors: tuple[FieldError, ...] = ()


@dataclass
class Handlers:
    families: Repository[Family]
    ledger: ImportLedger
    rules: Rules = DEFAULT_RULES
    programme: Programme = field(default_factory=default_programme)

    async def register_family(
        self, conn: asyncpg.Connection, command: RegisterFamily, actor: Principal, meta: Metadata
    ) -> Family:
        actor.require(*REGISTRARS)
        if not registers_in(actor, command.kelurahan_code):
            raise Forbidden(f"a {actor.role} registers only in kelurahan {actor.kelurahan}")
        return await self._register(conn, command, meta)

    def authorize_import(self, actor: Principal) -> None:
        """Who may import at all (which rows, each row says: `registers_in`). Asked before a file is
        read, so a caller refused learns nothing about it."""
        actor.require(*IMPORTERS)

    async def import_row(
        self, conn: asyncpg.Connection, row: ParsedRow, actor: Principal, today: date, meta: Metadata
    ) -> RowImported:
        """One row of an agency's export, in the caller's transaction: registered through the same
        path as POST /families, together with the ledger's record of it; or already registered (the
        ledger knows the row, or an active family with its KK number has its content); or rejected,
        with every problem at once by the row's own columns. Only a role that may not import at
        all raises (Forbidden); a row of another kelurahan is a rejected row."""
        self.authorize_import(actor)
        if row.body is None or row.errors:
            return RowImported("rejected", errors=row.errors + tuple(self._more_errors(row, actor, today)))
        body = row.body
        if not registers_in(actor, body.kelurahan_code):
            message = f"a {actor.role} imports only rows of kelurahan {actor.kelurahan}"
            return RowImported("rejected", errors=tuple(row.translate([FieldError("kelurahan_code", message)])))
        row_hash = self.ledger.row_hash(body)
        if (known := await self.ledger.family_of(conn, row_hash)) is not None:
            return RowImported("already_registered", known)
        command = registration(body, uuid4(), today, actor.sub)
        try:
            # A savepoint: a registration refused halfway (a claim taken) leaves the row's
            # transaction usable for the look at who holds the KK number.
            async with conn.transaction():
                await self._register(conn, command, meta)
                await self.ledger.record(conn, row_hash, command.family_id, actor.sub)
        except AlreadyActive as exc:
            errors = exc.errors or []
            holder = await self.ledger.same_family(conn, body) if errors[0].field == "kk_number" else None
            if holder is None:
                return RowImported("rejected", errors=tuple(row.translate(errors)))
            await self.ledger.remember(conn, row_hash, holder, actor.sub)
            return RowImported("already_registered", holder)
        except asyncpg.UniqueViolationError:  # the same row, committed a moment ago by another import
            if (known := await self.ledger.family_of(conn, row_hash)) is None:
                raise
            return RowImported("already_registered", known)
        except DomainError as exc:
            return RowImported("rejected", errors=tuple(row.translate(exc.errors or [FieldError("row", exc.detail)])))
        return RowImported("registered", command.family_id)

    async def known_rows(
        self, conn: asyncpg.Connection, rows: Sequence[ParsedRow], actor: Principal
    ) -> list[RowImported | None]:
        """The rows of a batch the ledger already knows, answered `already_registered` by one read of
        it (None for the others, which go through `import_row`). Only a row `import_row` would have
        looked up counts: one parsed clean, of a kelurahan the caller imports, so a caller learns
        nothing here that a row-by-row import would not tell it. A row answered here registers
        nothing; a row not known yet is looked up again in its own transaction by `import_row`,
        which keeps two imports of the same file from registering it twice."""
        self.authorize_import(actor)
        hashes = [self._ledger_key(row, actor) for row in rows]
        known = await self.ledger.families_of(conn, [h for h in hashes if h is not None])
        return [RowImported("already_registered", known[h]) if h is not None and h in known else None for h in hashes]

    def _ledger_key(self, row: ParsedRow, actor: Principal) -> bytes | None:
        """The row's ledger hash, if `import_row` would get as far as the ledger with it."""
        if row.body is None or row.errors or not registers_in(actor, row.body.kelurahan_code):
            return None
        return self.ledger.row_hash(row.body)

    def _more_errors(self, row: ParsedRow, actor: Principal, today: date) -> list[FieldError]:
        """The domain's findings on a row already rejected while parsing, so all come at once."""
        if row.body is None:
            return []
        command = registration(row.body, uuid4(), today, actor.sub)
        reported = {e.field for e in row.errors}
        found = row.translate(registration_errors(command, self.rules, programme=self.programme))
        return [e for e in found if e.field not in reported]

    async def change_family(
        self,
        conn: asyncpg.Connection,
        command: AddMember | VerifyFamily | ExitFamily | RecordBirth,
        actor: Principal,
        meta: Metadata,
    ) -> Family:
        """A member added, the lurah's verification, an exit or a birth: the family after it."""
        family, _ = await self._on_family(conn, command, actor, _MAY_CHANGE[type(command)], meta)
        return family

    async def record_growth(
        self, conn: asyncpg.Connection, command: RecordGrowth, actor: Principal, meta: Metadata
    ) -> tuple[Family, GrowthMeasured]:
        family, facts = await self._on_family(conn, command, actor, STAFF, meta)
        measured = facts[0].event
        assert isinstance(measured, GrowthMeasured)
        return family, measured

    async def age_out_children(self, conn: asyncpg.Connection, command: AgeOutChildren, meta: Metadata) -> list[Fact]:
        """The clock's step on one family (no actor: the registry itself records it)."""
        _, facts = await self.families.execute(
            conn,
            command.family_id,
            lambda state: decide(state, command, self.rules, self.programme),
            meta,
            private=True,
        )
        return facts

    async def erase_personal_data(
        self, conn: asyncpg.Connection, command: ErasePersonalData, actor: Principal, meta: Metadata
    ) -> Family:
        """Idempotent, as DELETE is: a family already erased is answered as it is."""
        actor.require("admin")
        family, _ = await self._on_family(conn, command, actor, ("admin",), meta, skip=lambda s: s.erased)
        return family

    # -- the one path ---------------------------------------------------------------------------

    async def _register(self, conn: asyncpg.Connection, command: RegisterFamily, meta: Metadata) -> Family:
        fresh: Aggregate[Family] = Aggregate(command.family_id, Family())  # a new id: nothing to load
        after = await self.families.save(conn, fresh, decide(fresh.state, command, self.rules, self.programme), meta)
        return after.state

    async def _on_family(
        self,
        conn: asyncpg.Connection,
        command: Command,
        actor: Principal,
        roles: tuple[str, ...],
        meta: Metadata,
        *,
        skip: Callable[[Family], bool] = lambda _: False,
    ) -> tuple[Family, list[Fact]]:
        def decide_on(state: Family) -> list[Fact]:
            if state.status == "none":
                raise NotFound(f"family {command.family_id} is not registered")
            require_acts_in(actor, state.kelurahan_code, *roles)
            return [] if skip(state) else decide(state, command, self.rules, self.programme)

        after, facts = await self.families.execute(conn, command.family_id, decide_on, meta, private=True)
        return after.state, facts
