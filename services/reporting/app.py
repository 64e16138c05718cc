"""Composition root of reporting: settings, the three projections, the snapshot publisher, routes."""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from typing import Any

from fastapi import FastAPI

from services.reporting.api import router
from services.reporting.projections import PROJECTIONS
from services.reporting.replay import MIGRATIONS
from services.reporting.settings import ReportingSettings
from services.reporting.snapshot import SnapshotPublisher
from shared.contracts.reporting import CATALOG
from shared.service import ServiceSpec, build_app

DESCRIPTION = (
    "The programme's read models, built only from the registry's, funding's and aid's events: "
    "progress against the target by kelurahan and kecamatan, funding by donor type and the funding "
    "gap, aid delivered, education, interventions and outcomes; the dashboard at `/`, CSV exports, "
    "and ProgressSnapshot events. De-identified by construction. `/`, `/progress`, `/funding`, "
    "`/aid` and `/export/*.csv` are public city-wide aggregates; `/outcomes` and `/aid/gaps` need a "
    "bearer token (a lurah or kader sees the city and their own kelurahan; a donor the city totals)."
)


def create_app(settings: ReportingSettings | None = None) -> FastAPI:
    if settings is None:
        loaded = ReportingSettings.from_env(service="reporting")
        assert isinstance(loaded, ReportingSettings)
        settings = loaded
    snapshot_settings = settings

    def extra_tasks(app: FastAPI) -> Sequence[Coroutine[Any, Any, None]]:
        app.state.snapshots = SnapshotPublisher(
            app.state.pool,
            target=snapshot_settings.target_families,
            interval_seconds=snapshot_settings.snapshot_interval_seconds,
        )
        return [app.state.snapshots.run()]

    spec = ServiceSpec(
        name="reporting",
        title="Genting reporting",
        description=DESCRIPTION,
        migrations=MIGRATIONS,
        routers=[router],
        publishes=CATALOG,
        projections=lambda _: PROJECTIONS,
        extra_tasks=extra_tasks,
    )
    return build_app(spec, settings)
