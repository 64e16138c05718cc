"""Composition root of aid: settings, the clock, repositories, reactions, routers, the clock step."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from fastapi import FastAPI

from services.aid import api, home_visit_api, queries
from services.aid.clock import CityClock, clock_tasks
from services.aid.home_visits import GrowthWatch, HomeVisitRepository
from services.aid.private import Sealer
from services.aid.reactions import FamilyDecisions, FundingReactions, RegistryReactions
from services.aid.replay import MIGRATIONS
from services.aid.repository import PlanRepository, SessionRepository
from services.aid.settings import AidSettings, load_settings
from shared.contracts.aid import CATALOG
from shared.projection import Projection
from shared.service import ServiceSpec, build_app
from shared.settings import Settings

DESCRIPTION = (
    "Six-month food plans for sponsored families at risk of stunting: plans open by themselves from "
    "registry and funding events; deliveries, the lurah's confirmations, coverage gaps, education "
    "sessions, interventions, and home visits for children who gained no weight in two months."
)


def create_app(settings: AidSettings | None = None) -> FastAPI:
    settings = settings or load_settings()
    sealer = Sealer(settings.data_key_bytes())
    plans = PlanRepository(sealer)
    visits = HomeVisitRepository(sealer)
    app: FastAPI

    def today() -> date:
        # Read at call time: tests swap `app.state.clock` for a fake one after the app is built.
        return app.state.clock()  # type: ignore[no-any-return]

    decisions = FamilyDecisions(plans, settings.policy(), today)

    def projections(_: Settings) -> Sequence[Projection]:
        return [RegistryReactions(decisions, GrowthWatch(visits)), FundingReactions(decisions)]

    spec = ServiceSpec(
        name="aid",
        title="Genting aid",
        description=DESCRIPTION,
        migrations=MIGRATIONS,
        routers=[api.router, queries.router, home_visit_api.router],
        publishes=CATALOG,
        projections=projections,
        extra_tasks=clock_tasks,
    )
    app = build_app(spec, settings)
    app.state.clock = CityClock(settings.zone())
    app.state.plans = plans
    app.state.sessions = SessionRepository(sealer)
    app.state.visits = visits
    return app
