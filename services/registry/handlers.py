"""The registry's service layer: one method per command, the only code that runs `decide` and saves
its facts. Routes and the agency import's rows both come here.

Each method works in the caller's transaction: the repository loads the family (its personal parts
opened: the rules need NIKs and birth dates), the caller's permission is checked on it, the pure
`decide` runs, and the facts are appended with the expected version, their personal parts sealed
under the family's key, with the outbox and the inline views (claims, families_view, erasure)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from services.registry.domain import (
    AddMember,
    Command,
    ErasePersonalData,
    ExitFamily,
    Fact,
    Family,
    RecordGrowth,
    RegisterFamily,
    VerifyFamily,
    decide,
)
from shared.auth import Principal
from shared.contracts.registry import GrowthMeasured
from shared.errors import Forbidden, NotFound
from shared.eventstore import Metadata
from shared.repository import Aggregate, Repository

STAFF = ("admin", "lurah", "kader")


def require_acts_in(actor: Principal, kelurahan_code: str, *roles: str) -> None:
    """The actor has one of `roles` and acts in this kelurahan (an admin anywhere)."""
    actor.require(*roles)
    if not actor.acts_in(kelurahan_code):
        raise Forbidden(f"a {actor.role} acts only in kelurahan {actor.kelurahan}")


@dataclass
class Handlers:
    families: Repository[Family]

    async def register_family(
        self, conn: asyncpg.Connection, command: RegisterFamily, actor: Principal, meta: Metadata
    ) -> Family:
        require_acts_in(actor, command.kelurahan_code, *STAFF)
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

    async def add_member(
        self, conn: asyncpg.Connection, command: AddMember, actor: Principal, meta: Metadata
    ) -> Family:
        family, _ = await self._on_family(conn, command, actor, STAFF, meta)
        return family

    async def verify_family(
        self, conn: asyncpg.Connection, command: VerifyFamily, actor: Principal, meta: Metadata
    ) -> Family:
        family, _ = await self._on_family(conn, command, actor, ("admin", "lurah"), meta)
        return family

    async def exit_family(
        self, conn: asyncpg.Connection, command: ExitFamily, actor: Principal, meta: Metadata
    ) -> Family:
        family, _ = await self._on_family(conn, command, actor, STAFF, meta)
        return family

    async def record_growth(
        self, conn: asyncpg.Connection, command: RecordGrowth, actor: Principal, meta: Metadata
    ) -> tuple[Family, GrowthMeasured]:
        family, facts = await self._on_family(conn, command, actor, STAFF, meta)
        measured = facts[0].event
        assert isinstance(measured, GrowthMeasured)
        return family, measured

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
        after = await self.families.save(conn, fresh, decide(fresh.state, command), meta)
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
            return [] if skip(state) else decide(state, command)

        after, facts = await self.families.execute(conn, command.family_id, decide_on, meta, private=True)
        return after.state, facts
