"""Reporting's read models on real JetStream and PostgreSQL: duplicates, cross-stream and
out-of-order arrival, unknown and malformed events, and a replay that equals the live model."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import httpx
import pytest
from nats.js import JetStreamContext
from reporting_support import publish, wait_caught_up, without_times

from services.reporting import replay
from services.reporting.app import create_app
from services.reporting.projections import PROJECTIONS
from services.reporting.settings import ReportingSettings
from shared.messaging import dlq_stream_name
from shared.testing import reporting_scenarios as S
from shared.testing import wait_until
from shared.testing.apps import serving
from shared.testing.reporting_examples import Programme

pytestmark = pytest.mark.integration


def pool_of(client: httpx.AsyncClient) -> asyncpg.Pool:
    pool: asyncpg.Pool = client.app.state.pool  # type: ignore[attr-defined]
    return pool


async def reports(client: httpx.AsyncClient) -> dict[str, Any]:
    out = {}
    for path in ("/progress", "/funding", "/aid", "/outcomes"):
        response = await client.get(path, headers={"Authorization": "Bearer " + admin_jwt()})
        assert response.status_code == 200, response.text
        out[path] = without_times(response.json())
    return out


def admin_jwt() -> str:
    from shared.auth import issue_token
    from shared.testing import TEST_SIGNING_KEY

    return issue_token(TEST_SIGNING_KEY, role="admin", sub="admin-test")


async def tables(pool: asyncpg.Pool) -> dict[str, list[str]]:
    """Every read-model row (and the version gate), as sorted JSON lines."""
    out = {}
    for table in [t for p in PROJECTIONS for t in p.tables] + ["projection_versions"]:
        rows = await pool.fetch(f"select * from {table}")
        out[table] = sorted(json.dumps(dict(r), default=str, sort_keys=True) for r in rows)
    return out


def progress_counts(body: dict[str, Any]) -> dict[str, int]:
    return {c: body[c] for c in S.SCRIPTED_PROGRESS}


class TestArrival:
    async def test_republished_events_change_nothing(self, reporting: httpx.AsyncClient, js: JetStreamContext) -> None:
        programme = S.scripted()
        await publish(js, programme.published)
        await wait_caught_up(js)
        before = await reports(reporting)
        # A relay that lost its marks republishes after the duplicate window: new message ids.
        for item in programme.published[::3]:
            await publish(js, [item], msg_id=f"again-{item.envelope.event_id}")
        await wait_caught_up(js)
        assert await reports(reporting) == before
        assert progress_counts(before["/progress"]) == S.SCRIPTED_PROGRESS

    async def test_money_and_plans_seen_before_the_family_registered_land_in_its_kelurahan(
        self, reporting: httpx.AsyncClient, js: JetStreamContext
    ) -> None:
        programme = S.scripted()
        by_stream = {
            s: [p for p in programme.published if p.stream == s]
            for s in ("GENTING_FUNDING", "GENTING_AID", "GENTING_REGISTRY")
        }
        await publish(js, by_stream["GENTING_FUNDING"] + by_stream["GENTING_AID"])
        await wait_caught_up(js)
        early = (await reporting.get("/progress")).json()
        assert early["registered"] == 0 and early["sponsored"] == 5 and early["aid_active"] == 2
        medono = next(k for k in early["by_kelurahan"] if k["kelurahan_code"] == S.MEDONO)
        assert medono["sponsored"] == 2
        await publish(js, by_stream["GENTING_REGISTRY"])
        await wait_caught_up(js)
        assert progress_counts((await reporting.get("/progress")).json()) == S.SCRIPTED_PROGRESS

    async def test_a_version_that_arrives_before_its_predecessor_waits_for_it(
        self, reporting: httpx.AsyncClient, js: JetStreamContext
    ) -> None:
        p = Programme(seed=11)
        family = p.register(S.KAUMAN)
        p.enroll(family)  # v2 verified, v3 enrolled
        p.exit(family, on=9)  # v4
        registered, verified, enrolled, exited = p.published
        await publish(js, [enrolled, exited, registered])
        await wait_until(lambda: _gaps_seen(reporting), 10, message="the runner met the gap")
        await publish(js, [verified])
        await wait_caught_up(js)
        body = (await reporting.get("/progress")).json()
        assert (body["registered"], body["enrolled"], body["exited"]) == (1, 1, 1)

    async def test_unknown_event_types_are_skipped_and_later_versions_still_apply(
        self, reporting: httpx.AsyncClient, js: JetStreamContext
    ) -> None:
        p = Programme(seed=12)
        family = p.register(S.MEDONO)
        p.emit(("registry", "FamilyRelocated", family, {"family_id": str(family), "note": "from a newer registry"}))
        p.enroll(family)
        await publish(js, p.published)
        await wait_caught_up(js)
        body = (await reporting.get("/progress")).json()
        assert (body["registered"], body["enrolled"]) == (1, 1)


def _gaps_seen(client: httpx.AsyncClient) -> bool:
    runners = client.app.state.runners  # type: ignore[attr-defined]
    return any(r.stats.gaps > 0 for r in runners)


async def test_a_malformed_growth_measurement_is_dead_lettered_and_the_rest_goes_on(
    settings: ReportingSettings, js: JetStreamContext
) -> None:
    app = create_app(settings.model_copy(update={"projection_max_deliver": 2}))
    p = Programme(seed=13)
    family = p.register(S.MEDONO)
    p.emit(("registry", "GrowthMeasured", family, {"family_id": str(family), "measured_on": "2025-02-01"}))
    member = p.new_id()
    p.measure(family, member, on=40, haz=-2.4)
    async with serving(app, "reporting") as client:
        client.app = app  # type: ignore[attr-defined]
        await publish(js, p.published[:2])

        async def dead_lettered() -> int:
            try:
                return (await js.stream_info(dlq_stream_name("reporting"))).state.messages
            except Exception:
                return 0

        assert await wait_until(dead_lettered, 15, message="the malformed event in the DLQ") == 1
        # Its version never applied, so the family's next event waits behind it (and would end
        # in the DLQ too): reporting never applies a stream out of order.
        await publish(js, p.published[2:])
        await wait_until(lambda: _gaps_seen(client), 10, message="the next version held back")
        outcomes = (await client.get("/outcomes", headers={"Authorization": f"Bearer {admin_jwt()}"})).json()
        assert outcomes["children_measured"] == 0
        assert (await client.get("/progress")).json()["registered"] == 1


class TestReplay:
    async def test_the_rebuilt_model_equals_the_live_one_and_live_consumption_goes_on_after_it(
        self, reporting: httpx.AsyncClient, js: JetStreamContext
    ) -> None:
        programme = S.scripted()
        await publish(js, programme.published)
        for item in programme.published[::5]:  # duplicates in the streams, as after a relay crash
            await publish(js, [item], msg_id=f"again-{item.envelope.event_id}")
        await wait_caught_up(js)
        pool = pool_of(reporting)
        live_reports, live_tables = await reports(reporting), await tables(pool)

        stats = await replay.rebuild(pool, js)

        assert stats.gaps == 0 and stats.applied == len(programme.published)
        assert stats.duplicates == len(programme.published[::5])
        assert await tables(pool) == live_tables
        assert await reports(reporting) == live_reports
        # The live consumers resume on the rebuilt gate: new facts count once, old ones not again.
        more = Programme(seed=21)
        family = more.register(S.BANYURIP)
        more.enroll(family)
        await publish(js, more.published)
        await wait_caught_up(js)
        body = (await reporting.get("/progress")).json()
        assert (body["registered"], body["enrolled"]) == (9, 7)

    async def test_a_replay_while_events_keep_arriving_loses_and_doubles_nothing(
        self, reporting: httpx.AsyncClient, js: JetStreamContext
    ) -> None:
        programme = S.scripted()
        half = len(programme.published) // 2
        await publish(js, programme.published[:half])
        await wait_caught_up(js)
        await asyncio.gather(replay.rebuild(pool_of(reporting), js), publish(js, programme.published[half:]))
        await wait_caught_up(js)
        live = await reports(reporting)
        assert progress_counts(live["/progress"]) == S.SCRIPTED_PROGRESS
        assert live["/funding"]["funding_gap_rp"] == S.SCRIPTED_FUNDING_GAP_RP
        await replay.rebuild(pool_of(reporting), js)
        assert await reports(reporting) == live

    async def test_genting_replay_reporting_rebuilds_from_the_environment(
        self,
        reporting: httpx.AsyncClient,
        js: JetStreamContext,
        settings: ReportingSettings,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        await publish(js, S.scripted().published)
        await wait_caught_up(js)
        before = await tables(pool_of(reporting))
        for name, value in (
            ("DATABASE_URL", settings.database_url),
            ("NATS_URL", settings.nats_url),
            ("JWKS_FILE", settings.jwks_file or ""),
        ):
            monkeypatch.setenv(f"GENTING_{name}", value)
        assert await replay.main() == 0
        assert f"{len(S.scripted().published)} applied" in capsys.readouterr().out
        assert await tables(pool_of(reporting)) == before

    async def test_genting_replay_reporting_refuses_a_database_it_was_never_migrated_into(
        self,
        database_url: str,
        js: JetStreamContext,
        settings: ReportingSettings,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        for name, value in (
            ("DATABASE_URL", database_url),
            ("NATS_URL", settings.nats_url),
            ("JWKS_FILE", settings.jwks_file or ""),
        ):
            monkeypatch.setenv(f"GENTING_{name}", value)
        assert await replay.main() == 1
        assert "families_view" in capsys.readouterr().err
        conn = await asyncpg.connect(database_url)
        try:  # replay migrates nothing: the schema is still the service's to create
            assert await conn.fetchval("select to_regclass('schema_migrations')") is None
        finally:
            await conn.close()
