"""Composition root of the registry: settings, the clock, the family repository (per-family key
wrapping, lookup hashes, inline views), the handlers and the routers — all wired here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from services.registry import api, import_api
from services.registry.domain import PERSONAL_PARTS, Family, evolve
from services.registry.handlers import Handlers
from services.registry.lookup import LookupHash
from services.registry.projections import Claims, Erasure, FamiliesView
from services.registry.settings import load_settings
from shared.contracts.registry import CATALOG
from shared.crypto import WrappedKeyCipher
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
    "never leaves this service and is erasable (crypto-shredding)."
)


@dataclass(frozen=True)
class Registry:
    """The registry's write side: its one repository and the keys its views and queries use."""

    families: Repository[Family]
    keys: WrappedKeyCipher
    lookup: LookupHash
    view: FamiliesView


def registry(settings: Settings) -> Registry:
    root = settings.data_key_bytes()
    keys = WrappedKeyCipher(root, KEY_WRAPPING_PURPOSE, "family_keys", "family_id")
    lookup = LookupHash(root)
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
    )
    app = build_app(spec, settings)
    app.state.clock = settings.clock()  # the one "today"; tests swap it
    app.state.registry = parts
    app.state.handlers = Handlers(parts.families)
    return app
