"""A property: whatever personal values a family has, none of them reaches a log line, by any path a
service logs through — structlog events (flat and nested, keys in any case), exceptions with their
tracebacks, pydantic's ValidationError (its text carries `input_value`), stdlib loggers, and the
repr of an object that holds them. The pipeline is the real one (configure_logging), JSON and
console renderings both."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError

from shared.logging import configure_logging

# Names and street names carry "xq" so that a value cannot happen to equal a word the log line
# has anyway ("info", "registry"): a hit is a leak, never a coincidence.
WORD = st.from_regex(r"[A-Z][a-z]{1,5}xq[a-z]{1,4}", fullmatch=True)
NAME = st.lists(WORD, min_size=1, max_size=3).map(" ".join)
SEPARATOR = st.sampled_from(["", " ", ".", "-"])


@st.composite
def nik(draw: st.DrawFn) -> str:
    """A 16-digit NIK (or KK number), together or in groups split the ways people write them."""
    digits = draw(st.from_regex(r"[1-9][0-9]{15}", fullmatch=True))
    sep = draw(SEPARATOR)
    groups = draw(st.sampled_from([(4, 4, 4, 4), (2, 4, 6, 4), (6, 6, 4), (16,)]))
    parts, at = [], 0
    for size in groups:
        parts.append(digits[at : at + size])
        at += size
    return sep.join(parts)


ADDRESS = st.builds(
    lambda street, number, rt, rw, place: f"Jl. {street} No. {number} RT {rt:02d}/RW {rw:02d} {place}",
    WORD,
    st.integers(1, 300),
    st.integers(1, 20),
    st.integers(1, 20),
    WORD,
)
PHONE = st.builds(
    lambda prefix, digits, sep: prefix + sep.join([digits[:3], digits[3:7], digits[7:]]),
    st.sampled_from(["08", "+628", "628"]),
    st.from_regex(r"[1-9][0-9]{8,9}", fullmatch=True),
    SEPARATOR,
)


@dataclass(frozen=True)
class Family:
    head_name: str
    mother_name: str
    nik: str
    kk_number: str
    address: str
    no_hp: str

    def values(self) -> list[str]:
        return [self.head_name, self.mother_name, self.nik, self.kk_number, self.address, self.no_hp]


FAMILIES = st.builds(Family, NAME, NAME, nik(), nik(), ADDRESS, PHONE)


class MemberIn(BaseModel):
    """Like a registry command body: refuses what does not fit, and says what it got."""

    nik: str = Field(pattern=r"^\d{16}$")
    birth_date: int


@contextlib.contextmanager
def captured(console: bool, monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    out = io.StringIO()
    monkeypatch.setenv("GENTING_LOG_FORMAT", "console" if console else "json")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    with contextlib.redirect_stdout(out):
        configure_logging("registry")
        try:
            yield out
        finally:
            root.handlers[:], root.level = handlers, level
            structlog.reset_defaults()
            structlog.contextvars.clear_contextvars()


def log_everywhere(family: Family) -> None:
    log = structlog.get_logger("test")
    # Structlog events: flat, nested, keys as people spell them.
    log.info("family_registered", **{"Nama": family.head_name, "mother_name": family.mother_name})
    log.info("row", row={"NIK": family.nik, "alamat": family.address, "No_HP": family.no_hp}, line=3)
    log.info("members", members=[{"nama": family.mother_name}], kk=family.kk_number)
    # Free text: an exception message with key=value pairs and bare numbers, with its traceback.
    try:
        raise ValueError(
            f"nama={family.head_name} alamat={family.address} phone={family.no_hp} "
            f"NIK {family.nik} does not match KK {family.kk_number}"
        )
    except ValueError:
        log.exception("import_failed")
    # pydantic: the refused value comes back as input_value, in str() and in errors().
    try:
        MemberIn.model_validate({"nik": family.address, "birth_date": family.head_name})
    except ValidationError as exc:
        log.warning("invalid_body", error=str(exc), errors=exc.errors())
        log.exception("invalid_body_raised")
    try:
        MemberIn.model_validate({"nik": family.nik + "0", "birth_date": family.no_hp})
    except ValidationError as exc:
        logging.getLogger("uvicorn.error").exception("validation: %s", exc)
    # A repr: an object that holds the family, logged as it is.
    log.info("loaded", family=family)
    logging.getLogger("asyncpg").warning("duplicate key %r", family)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(family=FAMILIES, console=st.booleans())
def test_no_personal_value_reaches_any_log_line(family: Family, console: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    with captured(console, monkeypatch) as out:
        log_everywhere(family)
    text = out.getvalue()
    assert "import_failed" in text and "invalid_body" in text and "Traceback" in text  # the paths ran
    for value in family.values():
        assert value not in text, f"{value!r} leaked:\n{text}"
    # Nor any part of a name or an address (not only the first word).
    for word in (*family.head_name.split(), *family.mother_name.split(), *family.address.split()):
        if "xq" in word:
            assert word not in text, f"{word!r} leaked:\n{text}"
