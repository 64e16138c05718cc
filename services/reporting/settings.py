"""Reporting's settings: the kernel's, plus the programme's target and the snapshot pace."""

from __future__ import annotations

from pydantic import Field

from shared.settings import Settings


class ReportingSettings(Settings):
    """GENTING_TARGET_FAMILIES, GENTING_FAMILY_MINIMUM_RP, ... (DOMAIN.md: Kota Pekalongan, 2025)."""

    service: str = "reporting"
    database_url: str = "postgresql://postgres@127.0.0.1:15432/genting_reporting"
    target_families: int = Field(default=1330, ge=1)
    # 180 days x Rp15,000: what each enrolled family must be sponsored with (the funding gap's unit).
    family_minimum_rp: int = Field(default=2_700_000, ge=0)
    # ProgressSnapshot: at most one per interval, and only when progress changed.
    snapshot_interval_seconds: float = Field(default=1.0, gt=0)
    dashboard_refresh_seconds: int = Field(default=30, ge=5)
    city_name: str = "Kota Pekalongan"
