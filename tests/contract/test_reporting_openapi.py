"""Reporting's OpenAPI tells the truth: schemathesis (the four checks of issue 9) against reporting
running as a real process, with the scripted programme loaded so the reports are not empty, once
with an admin's token (every route answers) and once with a donor's (/aid/gaps refuses: 403)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from schemathesis_support import run_schemathesis

from shared.messaging import MSG_ID_HEADER
from shared.testing import reporting_scenarios as S
from shared.testing import wait_until
from shared.testing.bus import declare_streams

pytestmark = pytest.mark.e2e


@pytest.fixture
async def js(nc: Client) -> JetStreamContext:
    """The upstream streams, as their owners would have declared them."""
    return await declare_streams(nc.jetstream(), "registry", "funding", "aid")


async def test_every_answer_of_reporting_is_documented(
    service_process: Any, js: JetStreamContext, tmp_path: Path
) -> None:
    reporting = await service_process("reporting")
    scripted = S.scripted()
    await asyncio.gather(
        *(
            js.publish(
                p.subject, p.envelope.to_bytes(), stream=p.stream, headers={MSG_ID_HEADER: str(p.envelope.event_id)}
            )
            for p in scripted.published
        )
    )
    async with httpx.AsyncClient(base_url=reporting.url, timeout=10) as http:

        async def loaded() -> bool:
            return bool((await http.get("/progress")).json()["enrolled"] == S.SCRIPTED_PROGRESS["enrolled"])

        await wait_until(loaded, 30, interval=0.2, message="the scripted programme in reporting")

    print(await asyncio.to_thread(run_schemathesis, reporting.url, tmp_path / "admin", role="admin"))
    await asyncio.to_thread(run_schemathesis, reporting.url, tmp_path / "donor", role="donor", donor_id="d-1")
