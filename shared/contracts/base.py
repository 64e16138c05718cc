"""The base of every published event and the per-producer catalog that parses them back."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class Event(BaseModel):
    """A fact one context publishes. Subclasses declare their wire names; never derived from code paths."""

    # A tolerant reader: producers add fields with defaults (never rename), so a consumer running
    # older code must ignore fields it does not know rather than dead-letter the event.
    model_config = ConfigDict(frozen=True, extra="ignore")

    context: ClassVar[str]  # "registry" | "funding" | "aid" | "reporting"
    aggregate: ClassVar[str]  # "family", "donor", ...
    event_type: ClassVar[str]  # "FamilyRegistered" — past tense, no suffix
    schema_version: ClassVar[int] = 1
    id_field: ClassVar[str]  # the field holding the aggregate id

    def aggregate_id(self) -> UUID:
        value = getattr(self, self.id_field)
        assert isinstance(value, UUID)
        return value

    def subject(self) -> str:
        """`genting.<context>.<aggregate>.<aggregate_id>.<EventType>` (CONTRACT.md)."""
        return f"genting.{self.context}.{self.aggregate}.{self.aggregate_id()}.{self.event_type}"


class EventCatalog:
    """The event classes of one producer, with upcasters for older schema versions."""

    def __init__(self, context: str, classes: Iterable[type[Event]]) -> None:
        self.context = context
        self.classes: dict[str, type[Event]] = {c.event_type: c for c in classes}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register a function turning `from_version` data into `from_version + 1` data."""

        def register(fn: Upcaster) -> Upcaster:
            self._upcasters[(event_type, from_version)] = fn
            return fn

        return register

    def parse(self, event_type: str, schema_version: int, data: dict[str, Any]) -> Event:
        cls = self.classes[event_type]
        version = schema_version
        while version < cls.schema_version:
            data = self._upcasters[(event_type, version)](data)
            version += 1
        return cls.model_validate(data)
