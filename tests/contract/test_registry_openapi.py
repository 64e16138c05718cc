"""The registry's OpenAPI document tells the truth: schemathesis against the registry as a real
process, with an admin's token (every route open to it), finds no server error and no status,
content type or response body the document does not declare."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from schemathesis_support import run_schemathesis

pytestmark = pytest.mark.e2e


async def test_the_registry_answers_as_its_openapi_document_says(service_process: Any, tmp_path: Path) -> None:
    registry = await service_process("registry")
    run_schemathesis(registry.url, tmp_path / "schemathesis")
