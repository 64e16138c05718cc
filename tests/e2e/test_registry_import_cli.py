"""`genting import families` as an operator runs it: the CLI as a process, against the registry as a
real process, a file sent in chunks, and the same file sent again."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.auth import issue_token
from shared.testing import TEST_SIGNING_KEY
from shared.testing.registry_examples import family_body, import_csv

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


async def genting(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "genting.cli",
        *args,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_the_cli_imports_a_file_in_chunks_and_a_second_run_changes_nothing(
    service_process: Any, tmp_path: Path
) -> None:
    registry = await service_process("registry")
    today = datetime.now(ZoneInfo("Asia/Jakarta")).date()  # the registry's own clock
    bodies = [family_body(serial, today) for serial in range(100, 108)]
    bodies[4]["members"][0]["nik"] = "12345"
    bodies[6]["address"] = "Jl. Contoh No. 106\nRT 01 / RW 02"  # a quoted cell over two lines
    path = tmp_path / "sensus.csv"
    path.write_text(import_csv(bodies))  # the bad row is on line 6; the last one on line 10

    admin = issue_token(TEST_SIGNING_KEY, role="admin", sub="import-test")
    code, out, err = await genting(
        "import", "families", str(path), "--url", registry.url, "--token", admin, "--chunk-rows", "3"
    )
    assert code == 1, err  # one row rejected
    assert out.splitlines()[0] == "8 rows: 7 registered, 0 already registered, 1 rejected"
    assert "line 6: member1_nik: must be exactly 16 digits" in out
    bars = [line for line in err.splitlines() if line.startswith("[")]
    assert [bar.split("] ")[1].split(" rows")[0] for bar in bars] == ["3/8", "6/8", "8/8"]

    # No --token: an admin token signed with the key the data dir (here, the environment) holds.
    code, out, err = await genting(
        "import",
        "families",
        str(path),
        "--url",
        registry.url,
        "--json",
        "--data-dir",
        str(tmp_path / "cli"),
        env={"GENTING_SIGNING_KEY": TEST_SIGNING_KEY},
    )
    assert code == 1, err
    report = json.loads(out)
    assert (report["registered"], report["already_registered"], report["rejected"]) == (0, 7, 1)
    assert [r["line"] for r in report["results"]] == [2, 3, 4, 5, 6, 7, 8, 10]
