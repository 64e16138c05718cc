"""The fixed ids and dates aid's domain tests share (fixed, so a failure repeats exactly)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

MEDONO = "33.75.01.1002"
FAMILY = UUID("00000000-0000-0000-0000-00000000f001")
S1 = UUID("00000000-0000-0000-0000-0000000005a1")
S2 = UUID("00000000-0000-0000-0000-0000000005a2")
START = date(2025, 3, 1)  # a plan's first day
