"""Composition root of reporting: settings, the three projections, the snapshot publisher, routes.

Reporting has no commands and no aggregates of its own: it projects the registry's, funding's and
aid's events into read tables (projections.py), answers from them (queries.py, api.py,
dashboard.py) and publishes ProgressSnapshot from its one stream of its own (snapshots.py).
"""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware

from services.reporting import api, dashboard, transparency
from services.reporting.areas import Areas
from services.reporting.projections import PROJECTIONS
from services.reporting.settings import ReportingSettings
from services.reporting.snapshots import SnapshotPublisher
from shared.contracts.reporting import CATALOG
from shared.programme import Programme
from shared.service import ServiceSpec, build_app

MIGRATIONS = Path(__file__).parent / "migrations"
DESCRIPTION = (
    "The programme's read models, built only from the registry's, funding's and aid's events: "
    "progress against the target by kelurahan and kecamatan, funding by donor type and the funding "
    "gap, aid delivered, education, interventions and outcomes; the dashboard at `/`, CSV exports, "
    "and ProgressSnapshot events. De-identified by construction. Reports count by the events' "
    "effective dates (a record entered late takes its place in the past). `/`, `/progress`, "
    "`/progress/history`, `/funding`, `/aid` and `/export/*.csv` are public city-wide aggregates; "
    "`/outcomes`, `/aid/gaps` and `/aid/underfunded` need a bearer token (admin, auditor, agency: every "
    "kelurahan; a lurah or kader: the city and their own kelurahan; a donor: the city totals of "
    "/outcomes; census and treasurer: 403). `allocated_rp` is net of releases, as in funding's "
    "/donors; the funding gap's unit is plan days x daily minimum; gaps are aid's current gaps."
)


def create_app(settings: ReportingSettings | None = None) -> FastAPI:
    config = settings if settings is not None else ReportingSettings.from_env(service="reporting")
    programme = Programme.from_settings(config)
    areas = Areas(programme)  # every report lists this city's kelurahan, and only them

    def background(app: FastAPI) -> Sequence[Coroutine[Any, Any, None]]:
        # The snapshot publisher: looks at the progress once per interval (every replica does;
        # the snapshot stream's expected version lets only one of them publish a given change).
        app.state.snapshots = SnapshotPublisher(
            app.state.pool,
            target=config.target_families,
            areas=areas,
            interval_seconds=config.snapshot_interval_seconds,
        )
        return [app.state.snapshots.run()]

    spec = ServiceSpec(
        name="reporting",
        title="Genting reporting",
        description=DESCRIPTION,
        migrations=MIGRATIONS,
        routers=[api.router, dashboard.router, transparency.router],
        publishes=CATALOG,
        projections=lambda _: PROJECTIONS,
        extra_tasks=background,
    )
    app = build_app(spec, config)
    # The dashboard is ~100 KB of HTML and inline SVG; compressed it is a tenth of that on a phone.
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.state.programme = programme
    app.state.areas = areas
    app.state.clock = config.clock()  # the city's "today" (history, weekly and monthly series); tests swap it
    return app
