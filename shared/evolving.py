"""What an aggregate's evolve does with the event that opens its stream: the empty state takes the
event's facts, field by field, by name (the aggregate's own fields, such as its status, come on top)."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

S = TypeVar("S", bound="DataclassInstance")


def opened(state: S, event: BaseModel, **more: Any) -> S:
    """`state` with each field it shares by name with `event` set from the event, then `more`
    (which wins where both name a field)."""
    taken = {f.name: getattr(event, f.name) for f in fields(state) if f.name in type(event).model_fields}
    return replace(state, **{**taken, **more})
