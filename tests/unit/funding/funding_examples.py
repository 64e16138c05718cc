"""The fixed ids and dates funding's domain tests share (fixed, so a failure repeats exactly)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

TODAY = date(2025, 6, 2)
MEDONO = "33.75.01.1002"
DONOR = UUID("00000000-0000-0000-0000-0000000d0001")
FAMILY = UUID("00000000-0000-0000-0000-0000000f0001")
S1 = UUID("00000000-0000-0000-0000-0000000a0001")
S2 = UUID("00000000-0000-0000-0000-0000000a0002")
S3 = UUID("00000000-0000-0000-0000-0000000a0003")
