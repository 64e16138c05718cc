"""The error roots every service shares; the HTTP layer maps them to RFC 9457 problems."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID


@dataclass(frozen=True)
class FieldError:
    """One invalid input field: a JSON path such as `members[1].nik`, and why."""

    field: str
    message: str


class DomainError(Exception):
    """A business rule refused a command."""

    status: int = 400
    title: str = "Command refused"
    # Which input fields the refusal is about (RFC 9457 `errors`), when there are any.
    errors: list[FieldError] | None = None

    @property
    def detail(self) -> str:
        return str(self) or self.title


class InvalidCommand(DomainError):
    """The command's input breaks validation rules; nothing was changed."""

    status = 422
    title = "Invalid input"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors: list[FieldError] = errors


class NotFound(DomainError):
    """The addressed thing does not exist (or is not visible to the caller)."""

    status = 404
    title = "Not found"


class Conflict(DomainError):
    """The command conflicts with the current state."""

    status = 409
    title = "Conflict with the current state"


class Forbidden(DomainError):
    """The caller's role or scope does not allow this."""

    status = 403
    title = "Forbidden"


class AboutOne(DomainError):
    """A refusal about one thing named by its id. A subclass names its sentence as a class keyword,
    `{id}` where the id goes, and takes its HTTP kind from NotFound or Conflict:
    `class PlanNotFound(AboutOne, NotFound, template="Aid plan {id} does not exist."): ...`"""

    template: ClassVar[str] = "{id} was refused."

    def __init_subclass__(cls, template: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if template:
            cls.template = template

    def __init__(self, id: UUID) -> None:
        self.id = id
        super().__init__(self.template.format(**vars(self)))


class AboutOneInState(AboutOne):
    """A refusal because of the state the thing is in: the template may say `{state}` too."""

    def __init__(self, id: UUID, state: str) -> None:
        self.state = state  # `status` is the HTTP status code on DomainError
        super().__init__(id)


class ConcurrencyConflict(Conflict):
    """Another writer appended to the stream first (stale expected version)."""

    title = "Concurrent modification"

    def __init__(self, stream_id: object, expected_version: int) -> None:
        super().__init__(f"stream {stream_id} is no longer at version {expected_version}")
        self.stream_id = stream_id
        self.expected_version = expected_version
