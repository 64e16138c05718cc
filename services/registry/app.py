"""Composition root of the registry: settings, the key vault, routers and the events it owns."""

from __future__ import annotations

from fastapi import FastAPI

from services.registry.api import router
from services.registry.import_api import router as import_router
from services.registry.replay import MIGRATIONS
from services.registry.repository import FamilyRepository
from services.registry.vault import KeyVault
from shared.contracts.registry import CATALOG
from shared.service import ServiceSpec, build_app
from shared.settings import Settings

DESCRIPTION = (
    "Families at risk of stunting (KRS): registration (also imported from other agencies' exports), "
    "lurah verification, enrolment, children's growth (WHO z-scores), exits and personal data, which "
    "never leaves this service and is erasable (crypto-shredding)."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env(service="registry")
    vault = KeyVault(settings.data_key_bytes())

    async def on_startup(app: FastAPI) -> None:
        app.state.repository = FamilyRepository(vault)

    spec = ServiceSpec(
        name="registry",
        title="Genting registry",
        description=DESCRIPTION,
        migrations=MIGRATIONS,
        routers=[router, import_router],
        publishes=CATALOG,
        on_startup=on_startup,
    )
    return build_app(spec, settings)
