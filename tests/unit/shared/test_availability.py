"""Which errors are the database being away (answered 503 + Retry-After) and which are bugs (500)."""

from __future__ import annotations

import asyncpg

from shared.availability import is_outage


def test_a_refused_reset_or_closed_connection_is_an_outage() -> None:
    assert is_outage(ConnectionRefusedError(111, "Connection refused"))
    assert is_outage(ConnectionResetError())
    assert is_outage(asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"))
    assert is_outage(asyncpg.CannotConnectNowError("the database system is starting up"))
    assert is_outage(asyncpg.AdminShutdownError("terminating connection due to administrator command"))
    assert is_outage(asyncpg.InterfaceError("connection is closed"))


def test_an_outage_wrapped_in_another_error_is_still_one() -> None:
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError as cause:
            raise RuntimeError("while loading the aggregate") from cause
    except RuntimeError as wrapped:
        assert is_outage(wrapped)


def test_a_bug_or_a_query_error_is_not_an_outage() -> None:
    assert not is_outage(KeyError("family_id"))
    assert not is_outage(asyncpg.UndefinedColumnError("column x does not exist"))
    assert not is_outage(asyncpg.InterfaceError("cannot perform operation: another operation is in progress"))
