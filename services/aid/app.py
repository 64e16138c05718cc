"""Composition root of aid: settings, the clock, the repositories (cipher, inline views, row
locks), the handlers, the policies, the routers and the clock step — all wired here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fastapi import FastAPI

from services.aid import api, grievance_api, home_visit_api, photo_api, session_api, views
from services.aid.domain import PRIVATE_PARTS, HomeVisit, Plan, Session, grievance, home_visit, plan, session
from services.aid.domain.grievance import Grievance
from services.aid.family_keys import FamilyKeyCipher
from services.aid.grievance_keys import GrievanceCipher
from services.aid.grievances import Grievances, grievance_clock_tasks, grievance_view
from services.aid.handlers import Handlers
from services.aid.plan_store import PlanRepository
from services.aid.policies import Families, FundingPolicy, RegistryPolicy
from services.aid.schedule import clock_tasks
from services.aid.settings import AidSettings, load_settings
from shared.contracts.aid import CATALOG
from shared.crypto import DerivedKeyCipher
from shared.programme import Programme
from shared.projection import Projection
from shared.repository import Repository
from shared.service import ServiceSpec, build_app
from shared.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"
# The service-wide key of aid's private parts: session facilitators, and plan and home-visit
# notes sealed before per-family keys (family_keys.py) existed. Derived from GENTING_DATA_KEY;
# the purpose string is part of the key: changing it would make those parts unreadable.
PRIVATE_KEY_PURPOSE = b"genting-aid-private-v1"

DESCRIPTION = (
    "Six-month food plans for sponsored families at risk of stunting: plans open by themselves from "
    "registry and funding events; deliveries, the lurah's confirmations, coverage gaps, education "
    "sessions, interventions, and home visits for children who gained no weight in two months."
)


@dataclass(frozen=True)
class Repositories:
    plans: Repository[Plan]
    sessions: Repository[Session]
    visits: Repository[HomeVisit]
    family_keys: FamilyKeyCipher
    grievances: Repository[Grievance]


def repositories(settings: Settings) -> Repositories:
    """Aid's three aggregates' streams, each with its inline view; writers of one plan (commands,
    policies, the clock) and of one home visit queue on its view row."""
    keyring = settings.data_keyring()  # the current root and any being rotated out
    cipher = DerivedKeyCipher(keyring, PRIVATE_KEY_PURPOSE)
    family_cipher = FamilyKeyCipher(keyring, cipher)
    return Repositories(
        plans=PlanRepository(
            "plan",
            CATALOG,
            Plan,
            plan.evolve,
            PRIVATE_PARTS,
            family_cipher,
            views=[views.plan_view],
            lock_sql="select 1 from plans_view where plan_id = $1 for update",
        ),
        sessions=Repository("session", CATALOG, Session, session.evolve, PRIVATE_PARTS, cipher, [views.session_view]),
        visits=Repository(
            "homevisit",
            CATALOG,
            HomeVisit,
            home_visit.evolve,
            PRIVATE_PARTS,
            family_cipher,
            views=[views.home_visit_view],
            lock_sql="select 1 from home_visits_view where flag_id = $1 for update",
        ),
        family_keys=family_cipher,
        grievances=Repository(
            "grievance",
            CATALOG,
            Grievance,
            grievance.evolve,
            PRIVATE_PARTS,
            GrievanceCipher(keyring, family_cipher),
            views=[grievance_view],
            lock_sql="select 1 from grievances_view where grievance_id = $1 for update",
        ),
    )


def create_app(settings: AidSettings | None = None) -> FastAPI:
    settings = settings or load_settings()
    repos = repositories(settings)
    photos = settings.photo_store()
    handlers = Handlers(repos.plans, repos.sessions, repos.visits, repos.family_keys, settings.plan_rules(), photos)
    app: FastAPI

    def today() -> date:
        # Read at call time: tests swap `app.state.clock` for a fake one after the app is built.
        return app.state.clock()  # type: ignore[no-any-return]

    families = Families(handlers, settings.plan_rules(), today)

    def policies(_: Settings) -> Sequence[Projection]:
        return [RegistryPolicy(families), FundingPolicy(families)]

    spec = ServiceSpec(
        name="aid",
        title="Genting aid",
        description=DESCRIPTION,
        migrations=MIGRATIONS,
        routers=[api.router, session_api.router, home_visit_api.router, grievance_api.router, photo_api.router],
        publishes=CATALOG,
        projections=policies,
        extra_tasks=lambda app: [*clock_tasks(app), *grievance_clock_tasks(app)],
    )
    app = build_app(spec, settings)
    app.state.clock = settings.clock()
    app.state.handlers = handlers
    app.state.photo_store = photos
    app.state.grievances = Grievances(repos.grievances, settings.grievance_sla_days, settings.programme_start)
    app.state.grievance_bucket = grievance_api.TokenBucket(settings.grievance_burst, settings.grievance_per_hour)
    app.state.trusted_proxies = settings.trusted_proxy_networks()
    app.state.programme = Programme.from_settings(settings)
    return app
