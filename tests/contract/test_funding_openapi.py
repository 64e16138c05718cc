"""Funding's OpenAPI tells the truth: schemathesis drives every route of a running funding process
(as an admin, then as an auditor and as a donor, whose answers differ) and finds no server error,
no undocumented status or content type and no body that breaks its schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from schemathesis_support import run_schemathesis

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("role", ["admin", "auditor", "donor"])
async def test_funding_answers_as_its_openapi_says(service_process: Any, tmp_path: Path, role: str) -> None:
    funding = await service_process("funding")
    claims = {"donor_id": str(uuid4())} if role == "donor" else {}
    run_schemathesis(funding.url, tmp_path / "schemathesis", role=role, **claims)
