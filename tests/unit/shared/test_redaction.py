"""No personal data in a log line (UU 27/2022): keys in any case, values inside exception messages,
tracebacks and reprs, as a real process writes them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from shared.logging import REDACTED, redact_personal, scrub_text

NIK = "3375015203990002"


@pytest.mark.parametrize("key", ["nik", "NIK", "Nik", "Nama", "ALAMAT", "head_name", "Tanggal_Lahir", "photo_ref"])
def test_a_personal_key_is_redacted_whatever_its_case(key: str) -> None:
    assert redact_personal(None, "info", {"event": "x", key: "Siti"})[key] == REDACTED


def test_nested_values_and_lists_are_redacted() -> None:
    out = redact_personal(None, "info", {"event": "x", "rows": [{"Nama": "Budi", "line": 3}], "family_id": "f-1"})
    assert out["rows"] == [{"Nama": REDACTED, "line": 3}] and out["family_id"] == "f-1"


def test_a_repr_of_a_personal_model_loses_its_values() -> None:
    text = "MemberPersonal(name='Siti Aminah', nik='3375015203990002', birth_date=datetime.date(1999, 3, 12))"
    scrubbed = scrub_text(text)
    assert "Siti" not in scrubbed and NIK not in scrubbed and "1999" not in scrubbed
    assert scrubbed.startswith("MemberPersonal(name=[redacted]")


def test_an_identity_number_in_a_database_error_is_redacted() -> None:
    assert NIK not in scrub_text(f"Key (nik)=({NIK}) already exists; KK 3375011203200001")
    assert "3375011203200001" not in scrub_text("KK 3375011203200001")


def test_ids_and_codes_that_are_not_personal_stay_readable() -> None:
    text = "family_id=0f9c3a kelurahan_code=33.75.01.1002 amount_rp=2700000"
    assert scrub_text(text) == text


def test_an_objects_repr_is_scrubbed_before_it_is_rendered() -> None:
    class Row:
        def __repr__(self) -> str:
            return f"Row(nama='Budi Santoso', nik={NIK})"

    out = redact_personal(None, "info", {"event": "x", "row": Row()})
    assert "Budi" not in out["row"] and NIK not in out["row"]


SCRIPT = f"""
import structlog
from shared.logging import configure_logging
configure_logging("registry")
log = structlog.get_logger()
try:
    raise ValueError("NIK {NIK} does not match the birth date of nama='Siti Aminah'")
except ValueError:
    log.exception("import_row_failed", Nama="Siti Aminah", line=3)
"""


def test_an_exception_logged_by_a_process_carries_no_personal_data() -> None:
    env = {k: v for k, v in os.environ.items() if k != "GENTING_LOG_FORMAT"} | {"GENTING_LOG_FORMAT": "json"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, timeout=60, check=True)
    out = done.stdout.decode()
    line = json.loads(out.splitlines()[0])
    assert line["event"] == "import_row_failed" and line["line"] == 3 and "ValueError" in line["exception"]
    assert NIK not in out and "Siti" not in out
