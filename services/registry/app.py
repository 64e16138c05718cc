"""Composition root of the registry: settings, the clock, the family repository (per-family key
wrapping, lookup hashes, inline views), the handlers and the routers — all wired here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from services.registry import api, import_api
from services.registry.domain import PERSONAL_PARTS, Family, evolve
from services.registry.handlers import Handlers
from services.registry.import_ledger import ImportLedger
from services.registry.lookup_hashes import LookupHash, lookup_key
from services.registry.reference import Rules
from services.registry.schedule import clock_tasks
from services.registry.settings import RegistrySettings, load_settings
from services.registry.views import Claims, Erasure, FamiliesView
from shared.contracts.registry import CATALOG
from shared.crypto import WrappedKeyCipher
from shared.programme import Programme
from shared.repository import Repository
from shared.service import ServiceSpec, build_app
from shared.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"
# Each family's personal data is sealed with its own key, stored in `family_keys` wrapped under a
# key derived from GENTING_DATA_KEY for this purpose. The purpose string and the AAD (the family
# id) are part of the key: changing either would make every family recorded so far unreadable.
KEY_WRAPPING_PURPOSE = b"genting-registry-key-wrapping"

DESCRIPTION = (
    "Families at risk of stunting (KRS): registration (also imported from other agencies' exports), "
    "lurah verification, enrolment, children's growth (WHO z-scores), exits and personal data, which "
    "never leaves this service and is erasable (crypto-shredding).\n\n"
    "Effective dates: every command that records something takes the day it happened "
    "(`registered_on`, `added_on`, `decided_on`, `exited_on`, `born_on`, `measured_on`), default today "
    "in the city; not in the future, not before the programme's start, not before the registration "
    "(an exit not before the enrolment, a measurement not before the child's birth): else 422 naming "
    "the field. Ages and the baduta rule are computed at that date. Kelurahan are the deployment's "
    "city's (GENTING_CITY): another city's code is refused with 422 naming `kelurahan_code`.\n\n"
    "Eligibility is checked again at the verification's `decided_on`: approval is refused with 409 when "
    "no member is a target any more (a baduta 24 months or older, a pregnancy more than 14 days past its "
    "expected delivery with no birth recorded). Members change as time passes: a recorded birth "
    "(`POST /families/{id}/births`) makes the mother a breastfeeding mother and adds the baby as a "
    "baduta; a baduta ages out (role `other`, event `ChildAgedOut`) on the day it turns 24 months. An "
    "active aid plan continues to its end either way.\n\n"
    "Risk factors with age rules (`mother_too_young`, `mother_too_old`, `births_too_close`) claimed "
    "against the members' dates are refused with 422 naming `risk_factors[i]`; the registry adds the "
    "age-rule factors the dates imply (GENTING_RISK_RULES configures the limits).\n\n"
    "Roles: admin everything; lurah/kader in their kelurahan; census registers and imports (in its "
    "kelurahan when its token names one) and reads the families it registered; auditor and agency read "
    "de-identified families only (no personal fields)."
)


@dataclass(frozen=True)
class Registry:
    """The registry's write side: its one repository and the keys its views and queries use."""

    families: Repository[Family]
    keys: WrappedKeyCipher
    lookup: LookupHash
    view: FamiliesView


def registry(settings: Settings) -> Registry:
    # The current root and any being rotated out (their key ids tell which wrapped which key).
    keys = WrappedKeyCipher(settings.data_keyring(), KEY_WRAPPING_PURPOSE, "family_keys", "family_id")
    lookup = LookupHash(lookup_key(settings))
    view = FamiliesView(keys)
    families = Repository(
        "family",
        CATALOG,
        Family,
        evolve,
        PERSONAL_PARTS,
        keys,
        # In this order: a KK/NIK clash rolls back before anything else; the key goes last.
        views=[Claims(lookup), view, Erasure(keys)],
    )
    return Registry(families, keys, lookup, view)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    parts = registry(settings)
    spec = ServiceSpec(
        name="registry",
        title="Genting registry",
        description=DESCRIPTION,
        migrations=MIGRATIONS,
        routers=[api.router, import_api.router],
        publishes=CATALOG,
        extra_tasks=clock_tasks,
    )
    app = build_app(spec, settings)
    app.state.clock = settings.clock()  # the one "today"; tests swap it
    app.state.registry = parts
    app.state.programme = Programme.from_settings(settings)
    rules = (
        Rules(risk=settings.risk_rules, plan_until_child_months=settings.plan_until_child_months)
        if isinstance(settings, RegistrySettings)
        else Rules()
    )
    ledger = ImportLedger(parts.lookup, parts.families)
    app.state.handlers = Handlers(parts.families, ledger, rules, app.state.programme)
    return app
