"""Helpers for tests: free ports, polling with a deadline, fixed test credentials."""

from __future__ import annotations

import asyncio
import base64
import inspect
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar, overload

T = TypeVar("T")

# The tests' token signing key (ES256, P-256): public, so never a secret of any deployment
# (shared/secrets.py refuses it). Services under test verify with TEST_JWKS_FILE, its public half.
TEST_SIGNING_KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgUieI1K780E2SMiVb
NIk8PuTkQY2jW+HqW6jhC606uRWhRANCAAToNZ4Fkl3j5iMXHB5fWEAjZCk1lgT7
AqXpw4PcRxFQtr2Yn/fs3QMWKm1v+3FKdfCQrkdY+qS/Quq0lUctvINL
-----END PRIVATE KEY-----
"""
# The JWKS publishing TEST_SIGNING_KEY's public key (GENTING_JWKS_FILE / Settings(jwks_file=...)).
TEST_JWKS_FILE = str(Path(__file__).with_name("test_jwks.json"))
# Only for tests of the HS256 development option. PyJWT warns (an error under our
# filterwarnings) about HMAC keys shorter than 32 bytes.
TEST_HS256_SECRET = "test-secret-for-genting-tests-only"
TEST_DATA_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()  # fixed, so runs repeat


def token_for(role: str = "admin", *, sub: str | None = None, **claims: Any) -> str:
    """A token the services under test accept: signed with TEST_SIGNING_KEY (claims as issue_token)."""
    from shared.auth import issue_token

    return issue_token(TEST_SIGNING_KEY, role=role, sub=sub or f"{role}-test", **claims)


def bearer(role: str = "admin", *, sub: str | None = None, **claims: Any) -> dict[str, str]:
    """An Authorization header carrying `token_for`'s token."""
    return {"Authorization": f"Bearer {token_for(role, sub=sub, **claims)}"}


def refused_fields(decision: Callable[[], object]) -> list[str]:
    """The fields the InvalidCommand raised by `decision()` names; AssertionError if it is not refused."""
    from shared.errors import InvalidCommand

    try:
        decision()
    except InvalidCommand as refused:
        return [e.field for e in refused.errors]
    raise AssertionError("the command was not refused")


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (another process could still take it; rare)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@overload
async def wait_until(
    predicate: Callable[[], Awaitable[T | None]], timeout: float = ..., *, interval: float = ..., message: str = ...
) -> T: ...
@overload
async def wait_until(
    predicate: Callable[[], T], timeout: float = ..., *, interval: float = ..., message: str = ...
) -> T: ...
async def wait_until(
    predicate: Callable[[], Any],
    timeout: float = 10.0,
    *,
    interval: float = 0.05,
    message: str = "condition",
) -> Any:
    """Poll `predicate` (sync or async) until it returns something truthy, and return that.

    Raises TimeoutError after `timeout` seconds. An exception from the predicate propagates at
    once, so a predicate can fail fast (e.g. when the process it waits for has died).
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{message} not met within {timeout:g} s")
        await asyncio.sleep(interval)
