"""The fact reporting publishes: the city's progress against its target, as the dashboard shows it.

De-identified by construction: counts of families per kelurahan and kecamatan, never an id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import Event, EventCatalog

Count = Annotated[int, Field(ge=0)]

# The snapshot stream's id in reporting's event store: fixed, so every replica appends to one
# stream with consecutive versions (optimistic concurrency keeps two replicas from both publishing).
CITY_PROGRESS_STREAM_ID: UUID = uuid5(UUID("6f1d1c3e-8a52-4c55-9d2b-5d0c1f0e2a77"), "progress/city")


class ProgressCounts(BaseModel):
    """Families counted at each stage of the programme (the meaning of each is documented on
    reporting's GET /progress)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    registered: Count = 0  # ever registered (any later outcome)
    enrolled: Count = 0  # ever enrolled after the lurah's verification
    sponsored: Count = 0  # with at least one sponsorship, counted once
    aid_active: Count = 0  # with an aid plan opened and not yet completed or closed
    completed: Count = 0  # with an aid plan whose six months were fully covered
    exited: Count = 0  # that left the programme
    rejected: Count = 0  # the lurah found they do not belong in the programme


class KelurahanProgress(ProgressCounts):
    """One kelurahan's counts, named as in the city's reference table."""

    kelurahan_code: str
    kelurahan: str
    kecamatan_code: str
    kecamatan: str


class KecamatanProgress(ProgressCounts):
    """One kecamatan's counts: the sum of its kelurahan."""

    kecamatan_code: str
    kecamatan: str


class CityProgress(ProgressCounts):
    """The city's progress against its target (the body of GET /progress)."""

    target: Count
    as_of: datetime
    by_kecamatan: list[KecamatanProgress] = Field(default_factory=list)
    by_kelurahan: list[KelurahanProgress] = Field(default_factory=list)


class ProgressSnapshot(Event, CityProgress):
    """The city's progress changed: its counts per kelurahan and kecamatan as of `as_of`
    (published at most once a second; `scope` is always `city`)."""

    context: ClassVar[str] = "reporting"
    aggregate: ClassVar[str] = "progress"
    event_type: ClassVar[str] = "ProgressSnapshot"
    id_field: ClassVar[str] = "scope"

    # The subject's id slot: the literal `city` (CONTRACT.md), not a uuid. A later per-kecamatan
    # snapshot could use another scope without changing the subject's shape.
    scope: Literal["city"] = "city"

    def aggregate_id(self) -> UUID:
        return CITY_PROGRESS_STREAM_ID

    def subject(self) -> str:
        return f"genting.{self.context}.{self.aggregate}.{self.scope}.{self.event_type}"


CATALOG = EventCatalog("reporting", [ProgressSnapshot])

__all__ = [
    "CATALOG",
    "CITY_PROGRESS_STREAM_ID",
    "CityProgress",
    "KecamatanProgress",
    "KelurahanProgress",
    "ProgressCounts",
    "ProgressSnapshot",
]
