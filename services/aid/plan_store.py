"""The plan streams' repository: the kernel's, with one tolerant reading for events recorded
before issue 11. Those `DeliveryConfirmed` events carry the proof photo's reference in their
public data (`photo_ref`); the event class no longer has the field, so it would be dropped and a
replay would lose the reference from the view. Read it as the private part it now is
(`ConfirmationNote`), so the view keeps it. Erasure strips it from the stored data
(`FamilyKeyCipher.destroy`), so an erased family's old reference cannot come back on replay."""

from __future__ import annotations

from services.aid.domain import ConfirmationNote, Plan
from shared.contracts.aid import DeliveryConfirmed
from shared.eventstore import StoredEvent
from shared.repository import Fact, Repository, StreamCipher

LEGACY_PHOTO_REF = "photo_ref"


class PlanRepository(Repository[Plan]):
    def fact(self, stored: StoredEvent, cipher: StreamCipher | None = None) -> Fact:
        found = super().fact(stored, cipher)
        legacy = stored.data.get(LEGACY_PHOTO_REF) if stored.event_type == DeliveryConfirmed.event_type else None
        if found.private is None and isinstance(legacy, str) and legacy:
            return Fact(found.event, ConfirmationNote(photo_ref=legacy))
        return found
