"""Aid's OpenAPI tells the truth: schemathesis against aid as a real process finds no server
error and no status code, content type or response body its document does not declare."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from schemathesis_support import run_schemathesis

pytestmark = pytest.mark.e2e


async def test_aid_answers_as_its_openapi_says(service_process: Any, tmp_path: Path) -> None:
    aid = await service_process("aid")
    run_schemathesis(aid.url, tmp_path / "report")
