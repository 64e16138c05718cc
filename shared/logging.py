"""structlog logging with correlation ids and personal fields redacted before rendering: readable
lines on a terminal, JSON lines anywhere else (a file, a pipe, a log collector).

`GENTING_LOG_FORMAT` (`console` or `json`) decides when set: `genting up` sets it to `console` for
the services it runs when its own output is a terminal (theirs is a pipe to it).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

# Keys whose values are personal data (UU 27/2022) wherever they appear in a log event, compared
# case-insensitively: `NIK`, `Nama` and `nik` alike. Indonesian names too, as agencies' files use them.
PERSONAL_KEYS = frozenset(
    {
        "nik",
        "kk_number",
        "kk",
        "no_kk",
        "nomor_kk",
        "name",
        "nama",
        "head_name",
        "nama_kepala_keluarga",
        "address",
        "alamat",
        "birth_date",
        "tanggal_lahir",
        "tgl_lahir",
        "expected_delivery_date",
        "personal",
        "note",
        "notes",
        "description",
        "facilitator",
        "photo_ref",
        "phone",
        "phone_number",
        "no_hp",
        "hp",
        "telepon",
        "no_telp",
        "email",
        "contact",
        "contact_name",
        "mother_name",
        "father_name",
        "nama_ibu",
        "nama_ayah",
        "guardian_name",
        "child_name",
        "member_name",
        "donor_name",
        "members",
        # pydantic puts the value it refused here (ValidationError text and errors()): it is
        # whatever the client sent, a NIK or an address as likely as anything.
        "input_value",
        "input",
    }
)
# Keys that spell personal data with a suffix: `ibu_nama`, `wali_alamat`, `kontak_hp`, ...
_PERSONAL_SUFFIXES = ("_nik", "_nama", "_name_full", "_alamat", "_address", "_phone", "_hp", "_birth_date")
REDACTED = "[redacted]"

# In free text (an exception message, a repr, a stdlib log line): a 16-digit NIK or KK number,
# written together or in groups split by spaces, dots or dashes ("3375 0152 0399 0002",
# "33.7501.520399.0002"); an Indonesian mobile number; and `key=value` / `'key': value` pairs whose
# key is personal, however the value is written.
_ID_NUMBER = re.compile(r"(?<!\d)(?<!\d[ .\-])\d(?:[ .\-]?\d){15}(?![ .\-]?\d)")
_PHONE = re.compile(r"(?<![\d+])(?:\+62|62|0)[ \-]?8\d(?:[ .\-]?\d){6,10}(?![ .\-]?\d)")
_KEYS = "|".join(sorted(PERSONAL_KEYS, key=len, reverse=True))
_PAIR = re.compile(
    r"""(?ix)
    (?P<key>['"]?\b(?:KEYS)\b['"]?)           # a personal key, maybe quoted
    (?P<sep>\s*[=:]\s*)
    (?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"  # a quoted value
      |[\w.]+\([^)]*\)                           # datetime.date(1999, 3, 12)
      |\[[^\]]*\]                                # a list
      |(?:(?!\s+['"]?\w+['"]?\s*[=:])[^;)}\]\n])+  # bare words: all of them (a whole address or
    )                                             # name), up to the next key=, bracket or line end
    """.replace("KEYS", _KEYS)
)


def scrub_text(text: str) -> str:
    """Personal values out of free text: identity numbers, and values of personal keys in reprs."""
    text = _PAIR.sub(lambda m: f"{m['key']}{m['sep']}{REDACTED}", text)
    return _PHONE.sub(REDACTED, _ID_NUMBER.sub(REDACTED, text))


def _personal(key: object) -> bool:
    if not isinstance(key, str):
        return False
    lowered = key.lower()
    return lowered in PERSONAL_KEYS or lowered.endswith(_PERSONAL_SUFFIXES)


def _scrub(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: (REDACTED if _personal(k) else _scrub(v)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return scrub_text(repr(value))  # an object would be rendered by its repr: scrub that


def redact_personal(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: no personal field reaches a log line, however deeply nested, whatever the
    case of its key, and not inside an exception message, a traceback or a repr either."""
    return {
        # `_record` and `_from_structlog` are ProcessorFormatter's own: left as they are.
        k: v if k.startswith("_") else REDACTED if _personal(k) else _scrub(v)
        for k, v in event_dict.items()
    }


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
    return [structlog.processors.JSONRenderer()]


def configure_logging(service: str, level: str = "info") -> None:
    """Lines on stdout (console or JSON, see above); stdlib loggers (uvicorn, asyncpg) routed through
    the same pipeline, redaction included."""
    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # Tracebacks become text before redaction, so an exception's message is scrubbed like the rest.
        structlog.processors.format_exc_info,
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
