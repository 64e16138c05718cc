"""shared/logging.py as a process would use it: JSON when stdout is a pipe, readable lines on a
terminal (a real pseudo-terminal here) or when GENTING_LOG_FORMAT says so; personal fields are
redacted in both."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys

import pytest

SCRIPT = """
import logging
from shared.logging import configure_logging
import structlog
configure_logging("registry")
structlog.get_logger().info("family_registered", family_id="f-1", nik="3375011234567890", head_name="Budi Santoso")
logging.getLogger("uvicorn.error").warning("shutting down %s", "now")
"""
NIK = "3375011234567890"


def run(env: dict[str, str], *, terminal: bool = False) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "GENTING_LOG_FORMAT"} | env
    if not terminal:
        done = subprocess.run([sys.executable, "-c", SCRIPT], env=environ, capture_output=True, timeout=60, check=True)
        return done.stdout.decode()
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-c", SCRIPT], env=environ, stdout=follower, stderr=subprocess.PIPE)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed: the process is done writing
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=60) == 0
    finally:
        os.close(leader)
    return re.sub(r"\x1b\[[0-9;]*m", "", b"".join(chunks).decode(errors="replace"))  # colours off


def test_a_pipe_gets_json_lines_with_personal_fields_redacted() -> None:
    lines = [json.loads(line) for line in run({}).splitlines()]
    assert [line["event"] for line in lines] == ["family_registered", "shutting down now"]
    assert lines[0]["nik"] == "[redacted]" and lines[0]["head_name"] == "[redacted]"
    assert lines[0]["family_id"] == "f-1" and lines[0]["service"] == "registry"


@pytest.mark.parametrize("terminal", [True, False], ids=["on a terminal", "GENTING_LOG_FORMAT=console"])
def test_a_terminal_gets_readable_lines_still_redacted(terminal: bool) -> None:
    out = run({} if terminal else {"GENTING_LOG_FORMAT": "console"}, terminal=terminal)
    assert "family_registered" in out and "shutting down now" in out
    assert not out.lstrip().startswith("{")  # not JSON
    assert "[info" in out and "[warning" in out
    assert NIK not in out and "Budi" not in out
    assert "[redacted]" in out


def test_genting_log_format_json_wins_over_a_terminal() -> None:
    out = run({"GENTING_LOG_FORMAT": "json"}, terminal=True)
    first = json.loads(out.splitlines()[0])
    assert first["event"] == "family_registered" and first["nik"] == "[redacted]"
