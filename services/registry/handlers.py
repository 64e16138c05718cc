"""The registry's service layer: one method per command, the only code that runs `decide` and saves
its facts. Routes and the agency import's rows both come here.

Each method works in the caller's transaction: the repository loads the family (its personal parts
opened: the rules need NIKs and birth dates), the caller's permission is checked on it, the pure
`decide` runs, and the facts are appended with the expected version, their personal parts sealed
under the family's key, with the outbox and the inline views (claims, families_view, erasure)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg

from services.registry.domain import (
    AddMember,
    AgeOutChildren,
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
from services.registry.reference import DEFAULT_RULES, Rules, default_programme
from shared.auth import Principal, require_acts_in
from shared.contracts.registry import GrowthMeasured
from shared.errors import Forbidden, NotFound
from shared.eventstore import Metadata
from shared.programme import Programme
from shared.repository import Aggregate, Repository

STAFF = ("admin", "lurah", "kader")
REGISTRARS = (*STAFF, "census")
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


@dataclass
class Handlers:
    families: Repository[Family]
    rules: Rules = DEFAULT_RULES
    programme: Programme = field(default_factory=default_programme)

    async def register_family(
        self, conn: asyncpg.Connection, command: RegisterFamily, actor: Principal, meta: Metadata
    ) -> Family:
        actor.require(*REGISTRARS)
        if not registers_in(actor, command.kelurahan_code):
            raise Forbidden(f"a {actor.role} registers only in kelurahan {actor.kelurahan}")
        return await self._register(conn, command, meta)

    async def import_family(
        self, conn: asyncpg.Connection, command: RegisterFamily, row_hash: bytes, meta: Metadata
    ) -> Family:
        """A row of an agency's export (the import checked who may import which rows), registered
        together with the ledger's record of the row, so the same row never registers twice."""
        family = await self._register(conn, command, meta)
        await conn.execute(
            "insert into import_rows (row_hash, family_id, imported_by) values ($1, $2, $3)",
            row_hash,
            command.family_id,
            command.registered_by,
        )
        return family

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
