"""genting/client.py against a real HTTP server on a free port (http.server in a thread): what the
demo, `genting import` and `genting simulate` do when a service restarts, is slow to hear of an
event, or refuses a command."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from genting.client import Client, Problem, RetryPolicy, problem
from shared.testing import free_port, wait_until
from shared.testing.http_stub import LocalServer, QuietHandler

QUICK = RetryPolicy(total=10.0, initial=0.01, longest=0.05)

Answer = tuple[int, str, dict[str, Any] | str]  # status, content type, body
PROBLEM = "application/problem+json"


class Server(LocalServer):
    """Answers from a script, one per request (the last one from then on), and remembers each
    request's method, path and Idempotency-Key."""

    def __init__(self, answers: list[Answer], port: int | None = None) -> None:
        self.answers = answers
        self.seen: list[tuple[str, str, str | None]] = []
        server = self

        class Handler(QuietHandler):
            def _answer(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.seen.append((self.command, self.path, self.headers.get("Idempotency-Key")))
                status, content_type, body = server.answers[min(len(server.seen), len(server.answers)) - 1]
                payload = (json.dumps(body) if isinstance(body, dict) else body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

        super().__init__(Handler, port or free_port())


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(answers: list[Answer], port: int | None = None) -> Server:
        started.append(Server(answers, port))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def unavailable(status: int = 503) -> Answer:
    return status, PROBLEM, {"type": "about:blank", "title": "Service Unavailable", "status": status}


CREATED: Answer = (201, "application/json", {"family_id": "f-1"})


async def test_a_post_answered_503_twice_is_sent_again_with_the_same_key_until_it_succeeds(serve: Any) -> None:
    server = serve([unavailable(), unavailable(502), CREATED])
    async with Client(base_url=server.url, policy=QUICK) as client:
        response = await client.post("/families", json={"kk_number": "1"})
        assert response.status_code == 201
        assert response.json() == {"family_id": "f-1"}
        assert client.counts.retries == 2
    keys = {key for _, _, key in server.seen}
    assert len(server.seen) == 3 and len(keys) == 1 and None not in keys  # one key, made up by the client


async def test_the_callers_idempotency_key_is_the_one_sent_every_time(serve: Any) -> None:
    server = serve([unavailable(504), CREATED])
    async with Client(base_url=server.url, policy=QUICK) as client:
        await client.post("/donors", json={}, idempotency_key="demo:2025:donor:ind000")
    assert [key for _, _, key in server.seen] == ["demo:2025:donor:ind000"] * 2


async def test_a_service_that_is_down_is_waited_for_until_it_is_back(serve: Any) -> None:
    port = free_port()  # nothing listens yet: connection refused
    async with Client(base_url=f"http://127.0.0.1:{port}", policy=QUICK) as client:
        sending = asyncio.create_task(client.post("/families", json={}, idempotency_key="k"))
        await wait_until(lambda: client.counts.retries >= 2, timeout=5, message="the client retried")
        server = serve([CREATED], port=port)  # the restart
        response = await asyncio.wait_for(sending, timeout=10)
    assert response.status_code == 201
    assert server.seen == [("POST", "/families", "k")]
    assert "ConnectError" in client.counts.retried_because


async def test_a_service_that_stays_down_is_given_up_on_after_the_policys_total_time() -> None:
    policy = RetryPolicy(total=0.4, initial=0.01, longest=0.05)
    async with Client(base_url=f"http://127.0.0.1:{free_port()}", policy=policy) as client:
        started = time.monotonic()
        with pytest.raises(httpx.ConnectError):
            await client.get("/progress")
        took = time.monotonic() - started
    assert 0.3 < took < 5.0
    assert client.counts.retries >= 2


async def test_a_503_that_lasts_is_given_up_on_and_returned_as_a_problem(serve: Any) -> None:
    server = serve([unavailable()])
    async with Client(base_url=server.url, policy=RetryPolicy(total=0.3, initial=0.01, longest=0.05)) as client:
        response = await client.post("/families", json={})
    assert response.status_code == 503
    assert problem(response).reason == "503 Service Unavailable"
    assert len(server.seen) > 1


async def test_an_invalid_command_is_not_sent_again_and_its_problem_names_the_field(serve: Any) -> None:
    body = {
        "type": "https://genting.example/problems/validation",
        "title": "Invalid input",
        "status": 422,
        "detail": "1 field is invalid",
        "errors": [{"field": "members[0].nik", "message": "must be exactly 16 digits"}],
    }
    server = serve([(422, PROBLEM, body), CREATED])
    async with Client(base_url=server.url, policy=QUICK) as client:
        response = await client.post("/families", json={})
    assert len(server.seen) == 1
    found = problem(response)
    assert found.kind == "validation"
    assert found.reason == "422 Invalid input (validation)"
    assert found.explanation == "members[0].nik: must be exactly 16 digits"
    assert str(found) == "HTTP 422 Invalid input: 1 field is invalid\n  members[0].nik: must be exactly 16 digits"


async def test_a_concurrency_conflict_is_sent_again_and_another_conflict_is_not(serve: Any) -> None:
    def conflict(kind: str) -> Answer:
        return 409, PROBLEM, {"type": f"https://genting.example/problems/{kind}", "title": "Conflict", "status": 409}

    racing = serve([conflict("ConcurrencyConflict"), CREATED])
    refused = serve([conflict("FamilyNotSponsorable"), CREATED])
    async with Client(policy=QUICK) as client:
        assert (await client.post(f"{racing.url}/sponsorships", json={})).status_code == 201
        response = await client.post(f"{refused.url}/sponsorships", json={})
    assert response.status_code == 409 and problem(response).kind == "FamilyNotSponsorable"
    assert (len(racing.seen), len(refused.seen)) == (2, 1)


async def test_an_answer_that_is_no_problem_document_is_still_read(serve: Any) -> None:
    server = serve([(404, "text/html", "<h1>Not Found</h1>")])
    async with Client(base_url=server.url, policy=QUICK) as client:
        found = problem(await client.post("/nowhere", json={}))
    assert found == Problem(404, detail="<h1>Not Found</h1>")
    assert found.reason == "404" and found.explanation == "<h1>Not Found</h1>"


async def test_a_get_is_sent_again_too_and_carries_no_idempotency_key(serve: Any) -> None:
    server = serve([unavailable(), (200, "application/json", {"items": []})])
    async with Client(base_url=server.url, policy=QUICK) as client:
        assert await client.get("/plans", params={"family_id": "f-1"}) == {"items": []}
    assert server.seen == [("GET", "/plans?family_id=f-1", None)] * 2


async def test_poll_until_waits_for_the_precondition_and_says_when_it_never_came(serve: Any) -> None:
    plans: list[Answer] = [(404, PROBLEM, {"title": "Not Found", "status": 404})] * 3
    server = serve([*plans, (200, "application/json", {"status": "enrolled"})])
    async with Client(base_url=server.url, policy=QUICK) as client:

        async def status() -> str | None:
            response = await client.request("GET", "/families/f-1/funding")
            return str(response.json()["status"]) if response.status_code == 200 else None

        assert await client.poll_until(status, lambda s: s == "enrolled", timeout=10) == ("enrolled", True)
        assert len(server.seen) == 4 and client.counts.waits == 3

        never = serve([(404, PROBLEM, {"title": "Not Found", "status": 404})])
        client.http.base_url = httpx.URL(never.url)
        assert await client.poll_until(status, lambda s: s == "enrolled", timeout=0.2) == (None, False)
