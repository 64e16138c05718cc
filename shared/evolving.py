"""Events and an aggregate's state name the same facts alike: what evolve does with the event that
opens a stream (the empty state takes the event's facts, field by field, by name; the aggregate's
own fields, such as its status, come on top), and what decide puts on every later event of it (the
stream's ids, from the state)."""

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


def carried(state: object, base: type[BaseModel]) -> dict[str, Any]:
    """The values, from `state`, of the fields every event of a stream carries (those its base
    event class declares): `HomeVisitDone(**carried(state, HomeVisitEvent), visited_on=...)`."""
    return {name: getattr(state, name) for name in base.model_fields}
