"""The registry's settings: the kernel's (database, NATS, secrets, the city's `time_zone` that
gives the one "today"). The registry has no settings of its own yet; its rule limits are
reference data (`reference.Rules`), its import limits are the contract's."""

from __future__ import annotations

from shared.settings import Settings


class RegistrySettings(Settings):
    service: str = "registry"
    database_url: str = "postgresql://postgres@127.0.0.1:15432/genting_registry"


def load_settings() -> RegistrySettings:
    return RegistrySettings.from_env(service="registry")
