"""The services `genting up` can run: where each one's ASGI factory lives, its port and database."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Service:
    name: str
    factory: str  # "module:callable", for `uvicorn --factory`
    port: int  # CONTRACT.md default
    database: str

    @property
    def module(self) -> str:
        return self.factory.partition(":")[0]


SERVICES: tuple[Service, ...] = (
    Service("registry", "services.registry.app:create_app", 8001, "genting_registry"),
    Service("aid", "services.aid.app:create_app", 8002, "genting_aid"),
    Service("funding", "services.funding.app:create_app", 8003, "genting_funding"),
    Service("reporting", "services.reporting.app:create_app", 8004, "genting_reporting"),
)


def get(name: str) -> Service:
    for service in SERVICES:
        if service.name == name:
            return service
    raise KeyError(name)


def is_available(service: Service) -> bool:
    """Whether the service's code exists yet (services arrive one issue at a time)."""
    try:
        return importlib.util.find_spec(service.module) is not None
    except ModuleNotFoundError:  # the parent package itself is missing
        return False


def available() -> list[Service]:
    return [service for service in SERVICES if is_available(service)]


def migrations(service: Service) -> Path:
    """The service's own SQL migrations (the kernel's come first; shared.db.migrate adds them)."""
    spec = importlib.util.find_spec(f"services.{service.name}")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "migrations"
