"""The load generators: 8 clients posting families, over httpx or a minimal keep-alive socket
client that leaves the CPU to the server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
from figures import CLIENTS
from processes import (  # bench/processes.py: servers, services as processes, CPU accounting
    BenchFailure,
    Service,
)


def http_client(service: Service, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=service.url,
        timeout=30.0,
        headers={"authorization": f"Bearer {service.token}", "content-type": "application/json"},
        **kwargs,
    )


def refused(status: int, text: str) -> BenchFailure:
    return BenchFailure(f"POST /families answered {status}: {text[:2000]}")


async def _httpx_loop(service: Service, todo: Iterator[bytes]) -> None:
    async with http_client(service) as client:
        for body in todo:
            response = await client.post(service.path, content=body)
            if response.status_code != 201:
                raise refused(response.status_code, response.text)


async def _socket_loop(service: Service, todo: Iterator[bytes]) -> None:
    """A minimal HTTP/1.1 keep-alive client: what the server can do when the load generator is
    nearly free (httpx costs about a millisecond of CPU per request on this kind of machine)."""
    host, port = service.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = (
        f"POST {service.path} HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {service.token}\r\n"
        "content-type: application/json\r\ncontent-length: "
    ).encode()
    try:
        for body in todo:
            writer.write(head + str(len(body)).encode() + b"\r\n\r\n" + body)
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            text = await reader.readexactly(length)
            if status != 201:
                raise refused(status, text.decode(errors="replace"))
    finally:
        writer.close()


async def post_families(service: Service, bodies: list[bytes], client: str = "httpx") -> float:
    """8 clients, one request in flight each, until `bodies` are all answered 201; returns 201s/s."""
    todo = iter(bodies)
    loop = _httpx_loop if client == "httpx" else _socket_loop
    started = time.perf_counter()
    await asyncio.gather(*(loop(service, todo) for _ in range(CLIENTS)))
    return len(bodies) / (time.perf_counter() - started)
