"""The NATS permission model (genting/nats_accounts.py) names every durable consumer a service may
use. A projection the model does not list would be refused by NATS in production and in `genting
up`; this test says so first. And the model lists no consumer nobody runs."""

from __future__ import annotations

import importlib

import pytest

from genting import nats_accounts
from shared.nats_setup import config_differs, durable_config
from shared.projection import ProjectionRunner
from shared.testing import TEST_DATA_KEY, TEST_JWKS_FILE


@pytest.mark.parametrize("service", nats_accounts.SERVICES)
def test_every_consumer_a_service_runs_is_the_one_its_nats_user_may_use(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENTING_JWKS_FILE", TEST_JWKS_FILE)
    monkeypatch.setenv("GENTING_DATA_KEY", TEST_DATA_KEY)
    monkeypatch.setenv("GENTING_SERVICE", service)
    app = importlib.import_module(f"services.{service}.app").create_app()
    spec, settings = app.state.spec, app.state.settings
    running = {(p.stream, p.name) for p in spec.projections(settings)}
    assert running == set(nats_accounts.durables(service)), (
        f"{service}'s projections and genting/nats_accounts.py CONSUMES disagree: add the consumer there "
        "(and run python deploy/nats/accounts.py)"
    )
    if spec.publishes is not None:
        assert spec.publishes.context == service  # it publishes on genting.<service>.> only
    # The migration step creates each durable (a service may not): with the runner's own settings,
    # so the runner finds nothing to change (shared/projection.py, _check_consumer).
    for projection in spec.projections(settings):
        runner = ProjectionRunner(
            None,
            None,  # type: ignore[arg-type]
            projection,
            service=service,
            batch=settings.projection_batch,
            max_deliver=settings.projection_max_deliver,
        )
        created = durable_config(projection.name, list(nats_accounts.CONSUMER_FILTERS[projection.name]))
        assert not config_differs(created, runner.consumer_config()), projection.name
