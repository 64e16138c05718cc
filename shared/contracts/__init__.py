"""Published event contracts: the base class here, one module per producing context."""

from shared.contracts.base import Event, EventCatalog

__all__ = ["Event", "EventCatalog"]
