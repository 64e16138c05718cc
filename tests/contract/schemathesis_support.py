"""Runs schemathesis (from PyPI) against one service running as a real process: every route, the
four checks issue 9 names, zero failures expected. A failure prints schemathesis' own report,
with the curl line that reproduces each case."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shared.auth import issue_token
from shared.testing import TEST_SIGNING_KEY

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# Enough cases per route to find a NUL byte or an absurd offset; deterministic, so CI repeats a failure.
MAX_EXAMPLES = int(os.environ.get("GENTING_SCHEMATHESIS_EXAMPLES", "100"))
SEED = 20261202


def run_schemathesis(base_url: str, report_dir: Path, *, role: str = "admin", **claims: str) -> str:
    """Returns schemathesis' output; raises AssertionError with it when any check failed."""
    token = issue_token(TEST_SIGNING_KEY, role=role, sub=f"schemathesis-{role}", **claims)  # type: ignore[arg-type]
    args = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        CHECKS,
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--phases",
        "examples,coverage,fuzzing",
        "--generation-database",
        "none",
        "--request-timeout",
        "20",
        "--no-color",
        "--output-truncate",
        "true",
        "--report-dir",
        str(report_dir),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"schemathesis found failures against {base_url}:\n{output[-12000:]}"
    return output
