"""structlog logging with correlation ids and personal fields redacted before rendering: readable
lines on a terminal, JSON lines anywhere else (a file, a pipe, a log collector).

`GENTING_LOG_FORMAT` (`console` or `json`) decides when set: `genting up` sets it to `console` for
the services it runs when its own output is a terminal (theirs is a pipe to it).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

# Keys whose values are personal data (UU 27/2022) wherever they appear in a log event.
PERSONAL_KEYS = frozenset(
    {
        "nik",
        "kk_number",
        "kk",
        "name",
        "head_name",
        "address",
        "birth_date",
        "expected_delivery_date",
        "personal",
        "note",
        "phone",
        "contact",
        "members",
    }
)
REDACTED = "[redacted]"


def _scrub(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: (REDACTED if k in PERSONAL_KEYS else _scrub(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact_personal(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: no personal field reaches a log line, however deeply nested."""
    return {k: (REDACTED if k in PERSONAL_KEYS else _scrub(v)) for k, v in event_dict.items()}


def console_wanted() -> bool:
    """Readable lines rather than JSON: GENTING_LOG_FORMAT when set, else whether stdout is a terminal."""
    chosen = os.environ.get("GENTING_LOG_FORMAT", "").strip().lower()
    if chosen in ("console", "json"):
        return chosen == "console"
    return sys.stdout.isatty()


def _rendering() -> list[Any]:
    """The last processors: how an event (already redacted) becomes a line."""
    if console_wanted():
        # Plain tracebacks: a pretty one (rich) would print every frame's locals, personal data included.
        return [
            structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty(), exception_formatter=structlog.dev.plain_traceback)
        ]
    return [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]


def configure_logging(service: str, level: str = "info") -> None:
    """Lines on stdout (console or JSON, see above); stdlib loggers (uvicorn, asyncpg) routed through
    the same pipeline, redaction included."""
    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_personal,
    ]
    structlog.configure(
        processors=[*shared_processors, *_rendering()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *_rendering()],
            foreign_pre_chain=[*shared_processors, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn installs its own plain-text handlers; send its lines through the same pipeline too.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Our RequestContext middleware writes the access line (without query strings); not twice.
    logging.getLogger("uvicorn.access").handlers[:] = []
    logging.getLogger("uvicorn.access").propagate = False
