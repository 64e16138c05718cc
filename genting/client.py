"""The one HTTP client of Genting's own tools (the demo loader, `genting import`, `genting simulate`,
the benchmarks' setup), the transport: a retry policy, one reader of RFC 9457 problem responses, and one way to
wait for an event to reach the service that needs it.

Riding out a restart: a connection error, a timeout or a 502/503/504 is sent again with
exponential backoff (stamina) for up to `RIDE_OUT_SECONDS` in all, so a service or nats-server
that `genting up` restarts costs a pause, not refused work. A 409 `ConcurrencyConflict` (the
service's own retries lost a race) is sent again too: a refused command changes nothing. Every
POST carries an `Idempotency-Key` (one is made up when the caller names none), so a request that
reached the service before the connection broke has no second effect when sent again. While a
service does not answer (its database restarting answers 503 + Retry-After), a line on stderr
says what the client waits for, and another how long it waited once the service is back.

Waiting for a precondition: when a command needs an event to have travelled between services
(funding sponsors a family only once it has read the registry's enrolment; aid opens a plan only
once it has read the sponsorship), the caller polls the read side with `poll_until` before
sending, instead of sending and giving up on the refusal. Its deadline is as long as a restart's.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypedDict, TypeVar, Unpack

import httpx
import stamina

from shared.errors import FieldError  # the services' own: a problem's `errors` read back as they were made

RIDE_OUT_SECONDS = 120.0  # a nats-server or service restarted by `genting up` is back well within this
RETRY_STATUSES = frozenset({502, 503, 504})
RETRY_PROBLEMS = frozenset({"ConcurrencyConflict"})  # a refused command changes nothing: safe to send again

T = TypeVar("T")


# -- problems (RFC 9457) --------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """An answer other than success, read the same way everywhere. Not every failure is a problem
    document (a proxy's 502 page, say): then `title` is empty and `detail` is the start of the body."""

    status: int
    title: str = ""
    type: str = "about:blank"
    detail: str = ""
    errors: tuple[FieldError, ...] = ()

    @classmethod
    def of(cls, response: httpx.Response) -> Problem:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return cls(response.status_code, detail=response.text[:200])
        errors = tuple(
            FieldError(str(e.get("field", "")), str(e.get("message", "")))
            for e in body.get("errors") or []
            if isinstance(e, dict)
        )
        return cls(
            int(body.get("status") or response.status_code),
            str(body.get("title") or ""),
            str(body.get("type") or "about:blank"),
            str(body.get("detail") or ""),
            errors,
        )

    @property
    def kind(self) -> str:
        """The problem type's last segment (`.../problems/FamilyNotSponsorable` → `FamilyNotSponsorable`)."""
        return "" if self.type == "about:blank" else self.type.rsplit("/", 1)[-1]

    @property
    def reason(self) -> str:
        """`422 Invalid input (validation)`: what a tally counts refusals by."""
        text = f"{self.status} {self.title}".rstrip()
        return f"{text} ({self.kind})" if self.kind else text

    @property
    def explanation(self) -> str:
        """The field errors, or else the detail: what to fix."""
        return "; ".join(f"{e.field}: {e.message}" for e in self.errors) or self.detail

    def __str__(self) -> str:
        text = " ".join(part for part in (f"HTTP {self.status}", self.title) if part)
        text += f": {self.detail}" if self.detail else ""
        return text + "".join(f"\n  {e.field}: {e.message}" for e in self.errors)


def problem(response: httpx.Response) -> Problem:
    return Problem.of(response)


class RequestOptions(TypedDict, total=False):
    """What a request may carry besides its method and URL. A POST without an `idempotency_key`
    (or an Idempotency-Key header) gets a new one, kept for every time it is sent again."""

    json: Any
    content: bytes | None
    params: dict[str, Any] | None
    headers: dict[str, str] | None
    idempotency_key: str | None


# -- the retry policy -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff: `initial` seconds, doubling up to `longest`, with jitter, for at
    most `total` seconds altogether (then the last answer, or the last error, is the caller's)."""

    total: float = RIDE_OUT_SECONDS
    initial: float = 0.1
    longest: float = 5.0

    def attempts(self) -> Any:
        # The tools count what was sent again and say so in their summaries; stamina's own log line
        # per retry would go to stdout, which carries `genting import --json`.
        stamina.instrumentation.set_on_retry_hooks(())
        return stamina.retry_context(
            on=_Retry, attempts=None, timeout=self.total, wait_initial=self.initial, wait_max=self.longest
        )


class _Retry(Exception):
    """An answer worth sending again (a 502/503/504, a concurrency conflict); holds the response."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.request.method} {response.request.url.path}: {problem(response).reason}")
        self.response = response


def _worth_retrying(response: httpx.Response) -> bool:
    if response.status_code in RETRY_STATUSES:
        return True
    return response.status_code == 409 and problem(response).kind in RETRY_PROBLEMS


@dataclass
class Counts:
    """What the client did: requests answered, sent again (a restart ridden out), polls waited."""

    sent: int = 0
    retries: int = 0
    waits: int = 0
    retried_because: dict[str, int] = field(default_factory=dict)
    outages: int = 0  # times a service stopped answering (503, 502, 504, no connection) and came back
    longest_outage: float = 0.0  # seconds, the longest of them as this client saw it


class _Outages:
    """Says on stderr what the client waits for, once per outage rather than once per request
    (a simulation has dozens in flight): a line when a service stops answering, one when it is
    back. Stdout stays the tools' own (`genting import --json`)."""

    def __init__(self, counts: Counts, policy: RetryPolicy) -> None:
        self.counts = counts
        self.policy = policy
        self.since: dict[str, float] = {}

    def waiting(self, where: str, reason: str) -> None:
        if where not in self.since:
            self.since[where] = time.monotonic()
            print(
                f"genting: waiting for {where}: {reason}; sending again with the same Idempotency-Key "
                f"for up to {self.policy.total:g} s",
                file=sys.stderr,
                flush=True,
            )

    def answered(self, where: str) -> None:
        since = self.since.pop(where, None)
        if since is not None:
            waited = time.monotonic() - since
            self.counts.outages += 1
            self.counts.longest_outage = max(self.counts.longest_outage, waited)
            print(f"genting: {where} answered again after {waited:.1f} s", file=sys.stderr, flush=True)


class Client:
    """An httpx.AsyncClient with the retry policy: `request` returns the final response (success or
    a problem the caller reads with `problem`), or raises httpx.TransportError once the policy
    gives up on a service that cannot be reached."""

    def __init__(
        self,
        *,
        base_url: str = "",
        headers: dict[str, str] | None = None,
        timeout: float = 60.0,
        concurrency: int | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        limits = httpx.Limits(max_connections=4 * concurrency) if concurrency else httpx.Limits()
        self.http = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout, limits=limits)
        self.slots = asyncio.Semaphore(concurrency) if concurrency else None
        self.policy = policy or RetryPolicy()
        self.counts = Counts()
        self.outages = _Outages(self.counts, self.policy)

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.http.aclose()

    async def request(self, method: str, url: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        json, content, params = options.get("json"), options.get("content"), options.get("params")
        headers = dict(options.get("headers") or {})
        if method.upper() == "POST":
            headers["Idempotency-Key"] = (
                options.get("idempotency_key") or headers.get("Idempotency-Key") or uuid.uuid4().hex
            )
        target = self.http.base_url.join(url)
        where = f"{target.host}:{target.port}" if target.port else target.host
        # The common case first, without the retry machinery: an answer worth keeping at once
        # (stamina's context per request cost a twentieth of a demo load's client time).
        try:
            response = await self._send(method, url, json, content, params, headers)
        except httpx.TransportError as exc:
            self._because(type(exc).__name__, where)
        else:
            if not _worth_retrying(response):
                self.counts.sent += 1
                return response
            self._because(problem(response).reason, where, response.status_code)
        await asyncio.sleep(self.policy.initial)
        try:  # every attempt from here on is a request sent again
            async for attempt in self.policy.attempts():
                with attempt:
                    self.counts.retries += 1
                    try:
                        response = await self._send(method, url, json, content, params, headers)
                    except httpx.TransportError as exc:
                        self._because(type(exc).__name__, where)
                        raise _TransportRetry(exc) from exc
                    if _worth_retrying(response):
                        self._because(problem(response).reason, where, response.status_code)
                        raise _Retry(response)
                    self.counts.sent += 1
                    self.outages.answered(where)
                    return response
        except _TransportRetry as gave_up:
            print(f"genting: gave up on {where} after {self.policy.total:g} s", file=sys.stderr, flush=True)
            raise gave_up.error from None
        except _Retry as gave_up:
            self.counts.sent += 1
            return gave_up.response
        raise AssertionError("unreachable: stamina returns from the block or raises")

    async def _send(
        self,
        method: str,
        url: str,
        json: Any,
        content: bytes | None,
        params: dict[str, Any] | None,
        headers: dict[str, str],
    ) -> httpx.Response:
        if self.slots is None:
            return await self.http.request(method, url, json=json, content=content, params=params, headers=headers)
        async with self.slots:
            return await self.http.request(method, url, json=json, content=content, params=params, headers=headers)

    def _because(self, reason: str, where: str, status: int | None = None) -> None:
        self.counts.retried_because[reason] = self.counts.retried_because.get(reason, 0) + 1
        if status is None or status in RETRY_STATUSES:  # a lost race (409) is no outage to report
            self.outages.waiting(where, reason)

    async def get(
        self, url: str, *, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> Any:
        """The JSON of a successful GET; a problem raises httpx.HTTPStatusError."""
        response = await self.request("GET", url, params=params, headers=headers)
        response.raise_for_status()
        return response.json()

    async def post(self, url: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        return await self.request("POST", url, **options)

    async def poll_until(
        self, read: Callable[[], Awaitable[T]], done: Callable[[T], bool], *, timeout: float = RIDE_OUT_SECONDS
    ) -> tuple[T, bool]:
        """Ask `read()` until `done(value)` or the deadline: (the last value, whether it was done).
        The pause grows from 20 ms to half a second: quick when the event is close behind, light
        when a service is catching up after a restart. A read that fails to connect is retried by
        the policy inside it; one answered with an error status counts as not done yet."""
        deadline = time.monotonic() + timeout
        pause = 0.02
        while True:
            value = await read()
            if done(value):
                return value, True
            if time.monotonic() > deadline:
                return value, False
            self.counts.waits += 1
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.5)


class _TransportRetry(_Retry):
    """A connection that failed (refused, reset, timed out): sent again; raised as itself at the end."""

    def __init__(self, error: httpx.TransportError) -> None:
        Exception.__init__(self, f"{type(error).__name__}: {error}")
        self.error = error
