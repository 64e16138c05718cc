"""The four services as Genting's own tools call them (the demo loader, `genting simulate`): over
one `Client` (client.py: retries, problems, waits), with a token per role and kelurahan, the
commands tallied, and the waits for an event a command depends on."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from genting.client import RIDE_OUT_SECONDS, Client, Counts, RetryPolicy, problem

T = TypeVar("T")

# Services accept tokens that live at most 12 h (GENTING_JWT_MAX_LIFETIME_HOURS): mint anew hourly.
TOKEN_REFRESH_SECONDS = 3600.0

DEFAULT_URLS = {
    "registry": "http://127.0.0.1:8001",
    "aid": "http://127.0.0.1:8002",
    "funding": "http://127.0.0.1:8003",
    "reporting": "http://127.0.0.1:8004",
}


@dataclass
class Tally:
    """What happened to the commands sent: accepted, replayed (a stored response), refused."""

    sent: int = 0
    accepted: int = 0
    replayed: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def refuse(self, response: httpx.Response, what: str) -> str:
        found = problem(response)
        self.refused[found.reason] += 1
        if len(self.examples) < 5:
            self.examples.append(f"{what}: {found.reason}: {found.explanation}")
        return found.reason


class Services:
    """Registry, aid, funding and reporting over one `Client`: a token per (role, kelurahan) signed
    with the stack's secret, at most `concurrency` requests in flight, commands tallied, and the
    waits for events a command depends on."""

    def __init__(
        self,
        urls: dict[str, str],
        secret: str,
        *,
        concurrency: int = 8,
        sub: str = "genting",
        policy: RetryPolicy | None = None,
    ) -> None:
        self.urls = {name: url.rstrip("/") for name, url in urls.items()}
        self.secret = secret
        self.sub = sub
        self.client = Client(concurrency=concurrency, policy=policy)
        self.tokens: dict[tuple[str, str | None], tuple[float, str]] = {}
        self.tally = Tally()

    @property
    def counts(self) -> Counts:
        return self.client.counts

    async def close(self) -> None:
        await self.client.close()

    def headers(self, role: str, kelurahan: str | None = None) -> dict[str, str]:
        # Services accept tokens that live at most 12 h: a long run mints a fresh one every hour.
        minted, token = self.tokens.get((role, kelurahan), (0.0, ""))
        if time.monotonic() - minted > TOKEN_REFRESH_SECONDS or not token:
            from shared.auth import issue_token

            sub = f"{self.sub}-{role}" + (f"-{kelurahan}" if kelurahan else "")
            token = issue_token(self.secret, role=role, sub=sub, kelurahan=kelurahan, ttl_seconds=2 * 3600)
            self.tokens[role, kelurahan] = (time.monotonic(), token)
        return {"Authorization": f"Bearer {token}"}

    async def send(
        self,
        method: str,
        service: str,
        path: str,
        *,
        role: str = "admin",
        kelurahan: str | None = None,
        key: str | None = None,
        body: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        return await self.client.request(
            method,
            self.urls[service] + path,
            json=body,
            params=params,
            headers=self.headers(role, kelurahan),
            idempotency_key=key,
        )

    async def command(
        self,
        service: str,
        path: str,
        body: Any,
        *,
        role: str,
        key: str,
        kelurahan: str | None = None,
        expect: tuple[int, ...] = (200, 201),
    ) -> httpx.Response:
        """POST with the caller's Idempotency-Key and count the outcome; the caller tallies a refusal
        (it knows what the command was)."""
        response = await self.send("POST", service, path, role=role, kelurahan=kelurahan, key=key, body=body)
        self.tally.sent += 1
        if response.status_code in expect:
            self.tally.accepted += 1
            if response.headers.get("Idempotent-Replayed") == "true":
                self.tally.replayed += 1
        return response

    async def get(
        self,
        service: str,
        path: str,
        *,
        role: str = "admin",
        kelurahan: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        response = await self.send("GET", service, path, role=role, kelurahan=kelurahan, params=params)
        response.raise_for_status()
        return response.json()

    async def poll_until(
        self, read: Callable[[], Awaitable[T]], done: Callable[[T], bool], *, timeout: float = RIDE_OUT_SECONDS
    ) -> tuple[T, bool]:
        return await self.client.poll_until(read, done, timeout=timeout)

    # What a command waits for: an event that has to reach the service first.

    async def sponsorable(self, family_id: str, timeout: float = RIDE_OUT_SECONDS) -> bool:
        """Once funding has read the registry's enrolment of the family (or its exit: then the
        sponsorship is refused for a reason of its own). False when the deadline passes first."""

        async def status() -> str | None:
            response = await self.send("GET", "funding", f"/families/{family_id}/funding")
            return str(response.json().get("status")) if response.status_code == 200 else None

        _, done = await self.poll_until(status, lambda s: s in ("enrolled", "exited"), timeout=timeout)
        return done

    async def wait_for_plan(self, family_id: str, timeout: float = RIDE_OUT_SECONDS) -> dict[str, Any] | None:
        """Aid's plan for the family, once aid has read the enrolment and the sponsorships."""
        items, done = await self.poll_until(lambda: self._items("aid", "/plans", family_id), bool, timeout=timeout)
        return items[0] if done else None

    async def wait_for_home_visit(self, family_id: str, timeout: float = RIDE_OUT_SECONDS) -> dict[str, Any] | None:
        """Aid's home-visit flag for the family, once aid has read the registry's growth measurements."""
        items, done = await self.poll_until(
            lambda: self._items("aid", "/home-visits", family_id), bool, timeout=timeout
        )
        return items[0] if done else None

    async def _items(self, service: str, path: str, family_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = (await self.get(service, path, params={"family_id": family_id}))["items"]
        return items
