"""Reporting's settings: the kernel's (the programme: city, target, start, plan days, daily
minimum), plus the snapshot pace and the dashboard's refresh."""

from __future__ import annotations

from pydantic import Field

from shared.settings import Settings


class ReportingSettings(Settings):
    """GENTING_SNAPSHOT_INTERVAL_SECONDS, GENTING_DASHBOARD_REFRESH_SECONDS; the programme's target
    and the funding gap's unit (plan days x daily minimum) come from the kernel settings."""

    service: str = "reporting"
    database_url: str = "postgresql://postgres@127.0.0.1:15432/genting_reporting"
    # ProgressSnapshot: at most one per interval, and only when progress changed.
    snapshot_interval_seconds: float = Field(default=1.0, gt=0)
    dashboard_refresh_seconds: int = Field(default=30, ge=5)
    # Where funding's public routes answer (receipt codes, consenting donors' names), linked from
    # the transparency page (GENTING_FUNDING_PUBLIC_URL); "" when a gateway serves both on one origin.
    funding_public_url: str = "http://127.0.0.1:8003"
