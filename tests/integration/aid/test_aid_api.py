"""Aid over HTTP against a real PostgreSQL and nats-server: deliveries and their refusals,
coverage gaps, completion, the clock's end of a window, confirmations, and who may do what."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from aid_support import KAUMAN, MEDONO, MINIMUM, TODAY, Aid, aid_events, delivery, token, wait_events, wait_plan

from services.aid.schedule import run_step
from shared.testing import wait_until

pytestmark = pytest.mark.integration

KADER = token("kader", MEDONO)


async def open_plan(aid: Aid, budget: int = MINIMUM, kelurahan: str = MEDONO) -> dict[str, Any]:
    family = uuid4()
    await aid.upstream.enrol(family, kelurahan)
    await aid.upstream.sponsor(family, budget, kelurahan=kelurahan)
    return await wait_plan(aid.http, family)


async def deliver(
    aid: Aid, plan: dict[str, Any], body: dict[str, Any], headers: dict[str, str] = KADER, **kw: Any
) -> Any:
    return await aid.http.post(f"/plans/{plan['plan_id']}/deliveries", json=body, headers=headers, **kw)


async def stored(aid: Aid) -> tuple[int, int]:
    """(events, deliveries_view rows): a refused command changes neither."""
    return (
        int(await aid.pool.fetchval("select count(*) from events")),
        int(await aid.pool.fetchval("select count(*) from deliveries_view")),
    )


def day(n: int) -> Any:
    """The plan's n-th day (plans in these tests start TODAY)."""
    return TODAY + timedelta(days=n - 1)


async def deliver_on_their_days(aid: Aid, plan: dict[str, Any], first: int, last: int) -> Any:
    """Deliveries covering the plan's days `first`..`last` at the minimum, at most 14 days each
    (the delivery horizon), each handed over on its first day with the clock moved there: a
    programme entered as it happens. Returns the last answer."""
    response = None
    for start in range(first, last + 1, 14):
        days = min(14, last - start + 1)
        aid.clock.today = day(start)
        response = await deliver(aid, plan, delivery(day(start), days, delivered_on=day(start)))
        assert response.status_code == 201, response.text
    return response


class TestDeliveries:
    async def test_a_kader_records_a_delivery_and_it_reaches_the_bus(self, aid: Aid) -> None:
        plan = await open_plan(aid)
        response = await deliver(aid, plan, delivery(day(1), 7))
        assert response.status_code == 201, response.text
        body = response.json()
        UUID(body["delivery_id"])
        assert (body["days_covered"], body["delivered_rp"], body["plan_status"]) == (7, 105_000, "active")
        [event] = await wait_events(aid.js, "AidDelivered")
        assert event["subject"] == f"genting.aid.plan.{plan['plan_id']}.AidDelivered"
        assert event["data"]["delivery_id"] == body["delivery_id"] and event["data"]["days"] == 7
        assert event["data"]["items"][1] == {"code": "BERAS", "name": "beras", "quantity": 2.5, "unit": "kg"}
        assert "kader-test" not in str(event)  # who recorded it stays in aid
        detail = (await aid.http.get(f"/plans/{plan['plan_id']}", headers=token("auditor"))).json()
        assert [d["delivery_id"] for d in detail["deliveries"]] == [body["delivery_id"]]
        assert detail["deliveries"][0]["recorded_by"] == "kader-test"

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"value_rp": 104_999}, "value_rp"),  # Rp15,000 × 7 days is Rp105,000
            ({"period_to": day(0).isoformat()}, "period_to"),  # ends before it starts
            ({"period_from": day(0).isoformat()}, "period_from"),  # the day before the plan
            ({"period_to": day(181).isoformat()}, "period_to"),  # after its last day
            ({"value_rp": 105_000.0}, "value_rp"),  # money is an integer
            ({"value_rp": "105000"}, "value_rp"),
            ({"items": []}, "items"),
            ({"delivered_on": day(2).isoformat()}, "delivered_on"),  # tomorrow
        ],
    )
    async def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
        self, aid: Aid, change: dict[str, Any], field: str
    ) -> None:
        plan = await open_plan(aid)
        before = await stored(aid)
        response = await deliver(aid, plan, delivery(day(1), 7) | change)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]]
        assert await stored(aid) == before

    async def test_a_delivery_covers_at_most_fourteen_days_past_its_handing_over_by_default(self, aid: Aid) -> None:
        # The service runs with GENTING_DELIVERY_MAX_AHEAD_DAYS unset: the default is the rule.
        plan = await open_plan(aid)
        before = await stored(aid)
        too_far = await deliver(aid, plan, delivery(day(1), 16, delivered_on=day(1)))
        assert too_far.status_code == 422, too_far.text
        assert [e["field"] for e in too_far.json()["errors"]] == ["period_to"]
        assert await stored(aid) == before
        fourteen_ahead = await deliver(aid, plan, delivery(day(1), 15, delivered_on=day(1)))
        assert fourteen_ahead.status_code == 201, fourteen_ahead.text
        assert fourteen_ahead.json()["days_covered"] == 15

    async def test_a_delivery_overlapping_covered_days_is_a_conflict(self, aid: Aid) -> None:
        plan = await open_plan(aid)
        assert (await deliver(aid, plan, delivery(day(1), 7))).status_code == 201
        before = await stored(aid)
        response = await deliver(aid, plan, delivery(day(7), 7))
        assert response.status_code == 409
        assert day(7).isoformat() in response.json()["detail"] or day(1).isoformat() in response.json()["detail"]
        assert await stored(aid) == before

    async def test_a_delivery_beyond_the_remaining_budget_is_a_conflict(self, aid: Aid) -> None:
        plan = await open_plan(aid)
        # A week paid generously (the value is at least the minimum, never at most): Rp100,000 left.
        assert (await deliver(aid, plan, delivery(day(1), 7, value_rp=2_600_000))).status_code == 201
        response = await deliver(aid, plan, delivery(day(8), 7))  # Rp105,000; Rp100,000 left
        assert response.status_code == 409 and "budget" in response.json()["detail"]

    async def test_a_delivery_after_uncovered_days_is_accepted_and_the_gap_recorded(self, aid: Aid) -> None:
        plan = await open_plan(aid)
        assert (await deliver(aid, plan, delivery(day(1), 7))).status_code == 201
        aid.clock.today = day(11)  # handed over on day 11: within the 14-day horizon
        assert (await deliver(aid, plan, delivery(day(11), 7, delivered_on=day(11)))).status_code == 201
        current = await wait_plan(aid.http, UUID(plan["family_id"]))
        assert current["gaps"] == [{"from": day(8).isoformat(), "to": day(10).isoformat()}]
        assert current["days_covered"] == 14
        [gap] = await wait_events(aid.js, "CoverageGapDetected")
        assert (gap["data"]["gap_from"], gap["data"]["days"]) == (day(8).isoformat(), 3)

    async def test_covering_every_day_completes_and_closes_the_plan(self, aid: Aid) -> None:
        plan = await open_plan(aid, budget=MINIMUM + 100_000)
        before_last = await deliver_on_their_days(aid, plan, 1, 168)
        assert before_last.json()["plan_status"] == "active"
        response = await deliver_on_their_days(aid, plan, 169, 180)
        assert response.json()["plan_status"] == "completed"
        current = await wait_plan(aid.http, UUID(plan["family_id"]))
        assert (current["status"], current["days_covered"], current["unspent_rp"]) == ("completed", 180, 100_000)
        [closed] = await wait_events(aid.js, "AidPlanClosed")
        assert (closed["data"]["outcome"], closed["data"]["unspent_rp"]) == ("completed", 100_000)
        assert [e["event_type"] for e in await aid_events(aid.js)][-2:] == ["AidPlanCompleted", "AidPlanClosed"]
        assert (await deliver(aid, plan, delivery(day(1), 1))).status_code == 409  # not active any more

    async def test_a_retry_with_the_same_idempotency_key_records_one_delivery(self, aid: Aid) -> None:
        plan = await open_plan(aid)
        headers = KADER | {"Idempotency-Key": "delivery-2026-03-02-a"}
        first = await deliver(aid, plan, delivery(day(1), 7), headers=headers)
        again = await deliver(aid, plan, delivery(day(1), 7), headers=headers)
        assert again.status_code == 201 and again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert await aid.pool.fetchval("select count(*) from deliveries_view") == 1


class TestFoodCatalogue:
    async def test_any_signed_in_role_reads_the_catalogue(self, aid: Aid) -> None:
        answer = await aid.http.get("/food-catalogue", headers=token("auditor"))
        assert answer.status_code == 200
        assert {"code": "TELUR", "name": "telur ayam", "unit": "butir", "aliases": ["telur", "eggs", "egg"]} in (
            answer.json()["foods"]
        )
        assert (await aid.http.get("/food-catalogue")).status_code == 401

    async def test_a_name_not_in_the_catalogue_is_refused_and_typed_text_never_reaches_the_bus(self, aid: Aid) -> None:
        plan = await open_plan(aid)
        body = delivery(day(1), 7)
        body["items"][1]["name"] = "beras untuk Ibu Siti"
        refused = await deliver(aid, plan, body)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "items[1].name"
        body["items"][1]["name"] = "BERAS "
        assert (await deliver(aid, plan, body)).status_code == 201
        [event] = await wait_events(aid.js, "AidDelivered")
        assert [i["code"] for i in event["data"]["items"]] == ["TELUR", "BERAS"]
        assert "BERAS " not in str(event) and "Siti" not in str(event)


class TestClock:
    async def test_the_clock_ends_a_passed_plan_with_uncovered_days_as_incomplete(self, aid: Aid) -> None:
        plan = await open_plan(aid)
        await deliver_on_their_days(aid, plan, 1, 100)
        aid.clock.today = day(180)
        assert await run_step(aid.app) == 0  # its last day is today: not over yet
        aid.clock.advance(1)
        # The clock alone is not enough (README, "Plans in time"): no record is dated after the
        # plan's last day yet, as when a past programme is being entered in order.
        assert await run_step(aid.app) == 0
        # A record dated after the window (a weighing of the family's child on day 181) moves
        # the records past the plan's last day: now its days are over.
        await aid.upstream.measure(UUID(plan["family_id"]), uuid4(), day(181), 8.0)
        await wait_until(
            lambda: aid.pool.fetchval("select 1 from aid_growth where measured_on = $1", day(181)),
            10.0,
            message="the weighing of day 181 in aid_growth",
        )
        assert await run_step(aid.app) == 1
        assert await run_step(aid.app) == 0  # once
        current = await wait_plan(aid.http, UUID(plan["family_id"]))
        assert current["status"] == "incomplete" and current["outcome"] == "incomplete"
        assert current["gaps"] == [{"from": day(101).isoformat(), "to": day(180).isoformat()}]
        assert current["unspent_rp"] == MINIMUM - 1_500_000
        [closed] = await wait_events(aid.js, "AidPlanClosed")
        assert closed["data"]["outcome"] == "incomplete" and closed["data"]["closed_on"] == day(181).isoformat()
        assert (await deliver(aid, plan, delivery(day(101), 1, delivered_on=day(101)))).status_code == 409

    async def test_entered_in_any_order_a_later_dated_record_does_not_end_a_plan_before_its_late_deliveries(
        self, aid: Aid
    ) -> None:
        # Given a deployment whose records come in any order within the entry bound (the default,
        # GENTING_ENTERED_IN_DATE_ORDER off) and a plan delivered up to day 170;
        settings = aid.app.state.settings
        aid.app.state.settings = settings.model_copy(update={"entered_in_date_order": False})
        try:
            plan = await open_plan(aid)
            await deliver_on_their_days(aid, plan, 1, 169)
            # when a record dated after the plan's last day comes in first (a weighing of day 181),
            aid.clock.today = day(185)
            await aid.upstream.measure(UUID(plan["family_id"]), uuid4(), day(181), 8.0)
            await wait_until(
                lambda: aid.pool.fetchval("select 1 from aid_growth where measured_on = $1", day(181)),
                10.0,
                message="the weighing of day 181 in aid_growth",
            )
            # then the plan still waits for the records before it: the delivery of day 170,
            # entered 15 days late, is taken and completes the plan, as it did on its day.
            assert await run_step(aid.app) == 0
            late = await deliver(aid, plan, delivery(day(170), 11, delivered_on=day(170)))
            assert late.status_code == 201, late.text
            await wait_plan(aid.http, UUID(plan["family_id"]), status="completed")
        finally:
            aid.app.state.settings = settings

    async def test_a_plan_whose_city_stopped_entering_records_ends_once_the_entry_delay_passed(self, aid: Aid) -> None:
        # Given a plan with deliveries for its first 14 days and then no record at all;
        plan = await open_plan(aid)
        await deliver_on_their_days(aid, plan, 1, 14)
        # when the clock is 30 days past its last day (GENTING_MAX_ENTRY_DELAY_DAYS, default 30),
        # a late record may still come: the plan waits;
        aid.clock.today = day(180 + 30)
        assert await run_step(aid.app) == 0
        # one day more and the clock alone decides: it ends incomplete, its money comes back.
        aid.clock.advance(1)
        assert await run_step(aid.app) == 1
        current = await wait_plan(aid.http, UUID(plan["family_id"]))
        assert current["status"] == "incomplete" and current["unspent_rp"] == MINIMUM - 14 * 15_000
        [closed] = await wait_events(aid.js, "AidPlanClosed")
        assert closed["data"]["closed_on"] == day(181).isoformat()


class TestConfirmation:
    async def delivered(self, aid: Aid, kelurahan: str = MEDONO) -> str:
        plan = await open_plan(aid, kelurahan=kelurahan)
        response = await deliver(aid, plan, delivery(day(1), 7), headers=token("kader", kelurahan))
        return str(response.json()["delivery_id"])

    async def test_the_lurah_of_the_familys_kelurahan_confirms_with_a_photo_reference(self, aid: Aid) -> None:
        delivery_id = await self.delivered(aid)
        response = await aid.http.post(
            f"/deliveries/{delivery_id}/confirmation",
            json={"photo_ref": "s3://genting-proof/2026/03/a.jpg"},
            headers=token("lurah", MEDONO, sub="lurah-medono"),
        )
        assert response.status_code == 200, response.text
        [confirmed] = await wait_events(aid.js, "DeliveryConfirmed")
        assert confirmed["data"]["confirmed_by"] == "lurah-medono"
        # The reference stays in aid; the bus gets an opaque id.
        assert "photo_ref" not in confirmed["data"] and confirmed["data"]["has_photo"] is True
        assert confirmed["data"]["photo_id"] == response.json()["photo_id"]
        again = await aid.http.post(f"/deliveries/{delivery_id}/confirmation", headers=token("lurah", MEDONO))
        assert again.status_code == 409

    @pytest.mark.parametrize(
        ("role", "kelurahan", "status"),
        [("kader", MEDONO, 403), ("lurah", KAUMAN, 403), ("auditor", None, 403), ("admin", None, 200)],
    )
    async def test_only_that_kelurahans_lurah_or_an_admin_confirms(
        self, aid: Aid, role: str, kelurahan: str | None, status: int
    ) -> None:
        delivery_id = await self.delivered(aid)
        response = await aid.http.post(
            f"/deliveries/{delivery_id}/confirmation", json={}, headers=token(role, kelurahan)
        )
        assert response.status_code == status, response.text

    async def test_the_lurah_who_recorded_a_delivery_does_not_confirm_it(self, aid: Aid) -> None:
        plan = await open_plan(aid)
        lurah = token("lurah", MEDONO, sub="lurah-medono")
        recorded = await deliver(aid, plan, delivery(day(1), 7), headers=lurah)
        assert recorded.status_code == 201, recorded.text
        url = f"/deliveries/{recorded.json()['delivery_id']}/confirmation"
        own = await aid.http.post(url, json={}, headers=lurah)
        assert own.status_code == 409 and "another person" in own.json()["detail"], own.text
        assert (await aid.http.post(url, json={}, headers=token("admin"))).status_code == 200

    async def test_a_photo_itself_or_an_unknown_delivery_is_refused(self, aid: Aid) -> None:
        delivery_id = await self.delivered(aid)
        inline = await aid.http.post(
            f"/deliveries/{delivery_id}/confirmation",
            json={"photo_ref": "data:image/jpeg;base64,/9j/4AAQ"},
            headers=token("lurah", MEDONO),
        )
        assert inline.status_code == 422 and inline.json()["errors"][0]["field"] == "photo_ref"
        unknown = await aid.http.post(f"/deliveries/{uuid4()}/confirmation", headers=token("lurah", MEDONO))
        assert unknown.status_code == 404


class TestAccess:
    async def test_staff_of_another_kelurahan_may_not_record_a_delivery(self, aid: Aid) -> None:
        plan = await open_plan(aid)
        response = await deliver(aid, plan, delivery(day(1), 7), headers=token("kader", KAUMAN))
        assert response.status_code == 403 and await stored(aid) == (1, 0)

    async def test_readers_read_but_do_not_write_and_donors_see_no_plans(self, aid: Aid) -> None:
        plan = await open_plan(aid)
        assert (await deliver(aid, plan, delivery(day(1), 7), headers=token("auditor"))).status_code == 403
        for role in ("auditor", "agency", "lurah"):
            listing = await aid.http.get(
                "/plans",
                params={"family_id": plan["family_id"]},
                headers=token(role, KAUMAN if role == "lurah" else None),
            )
            assert listing.status_code == 200 and listing.json()["total"] == 1
        assert (await aid.http.get(f"/plans/{plan['plan_id']}", headers=token("donor"))).status_code == 403
        assert (await aid.http.get("/plans")).status_code == 401
        assert (await aid.http.get(f"/plans/{uuid4()}", headers=token("admin"))).status_code == 404
        assert (await deliver(aid, {"plan_id": uuid4()}, delivery(day(1), 7))).status_code == 404


class TestInterventionsAndSessions:
    async def test_an_intervention_is_recorded_and_its_description_stays_in_aid(self, aid: Aid) -> None:
        plan = await open_plan(aid)
        body = {
            "kind": "sanitation",
            "description": "Jamban sehat untuk keluarga Bu Sri",
            "done_on": TODAY.isoformat(),
            "value_rp": 1_500_000,
        }
        response = await aid.http.post(f"/plans/{plan['plan_id']}/interventions", json=body, headers=KADER)
        assert response.status_code == 201, response.text
        [event] = await wait_events(aid.js, "InterventionRecorded")
        assert event["data"]["kind"] == "sanitation" and "Jamban" not in str(event)
        own = (await aid.http.get(f"/plans/{plan['plan_id']}", headers=KADER)).json()
        assert own["interventions"][0]["description"] == body["description"]
        audited = (await aid.http.get(f"/plans/{plan['plan_id']}", headers=token("auditor"))).json()
        assert "description" not in audited["interventions"][0]
        bad = await aid.http.post(
            f"/plans/{plan['plan_id']}/interventions",
            json=body | {"kind": "house_paint", "value_rp": 1.5},
            headers=KADER,
        )
        assert bad.status_code == 422
        assert {e["field"] for e in bad.json()["errors"]} == {"kind", "value_rp"}

    async def test_an_intervention_is_given_in_kind_by_the_source_it_names(self, aid: Aid) -> None:
        plan = await open_plan(aid)
        url = f"/plans/{plan['plan_id']}/interventions"
        body = {
            "kind": "clean_water",
            "description": "Sambungan PDAM",
            "done_on": TODAY.isoformat(),
            "value_rp": 750_000,
        }
        for refused, field in (
            ({"source_organisation": "Pak Budi di Jl. Merdeka"}, "source_organisation"),
            ({"funded_by": "sponsorship"}, "funded_by"),
        ):
            bad = await aid.http.post(url, json=body | refused, headers=KADER)
            assert bad.status_code == 422, bad.text
            assert [e["field"] for e in bad.json()["errors"]] == [field]
        response = await aid.http.post(url, json=body | {"source_organisation": "pdam"}, headers=KADER)
        assert response.status_code == 201, response.text
        [event] = await wait_events(aid.js, "InterventionRecorded")  # the refusals recorded nothing
        assert (event["data"]["funded_by"], event["data"]["source_organisation"]) == ("in_kind", "pdam")
        [shown] = (await aid.http.get(f"/plans/{plan['plan_id']}", headers=KADER)).json()["interventions"]
        assert (shown["funded_by"], shown["source_organisation"], shown["source_donor_id"]) == ("in_kind", "pdam", None)

    async def test_a_session_for_enrolled_families_keeps_the_facilitator_in_aid(self, aid: Aid) -> None:
        plan = await open_plan(aid)
        body = {
            "topic": "nutrition",
            "held_on": TODAY.isoformat(),
            "kelurahan_code": MEDONO,
            "family_ids": [plan["family_id"]],
            "facilitator": "Bidan Ratna Sari",
        }
        response = await aid.http.post("/education-sessions", json=body, headers=KADER)
        assert response.status_code == 201, response.text
        [event] = await wait_events(aid.js, "EducationSessionHeld")
        assert event["subject"] == f"genting.aid.session.{response.json()['session_id']}.EducationSessionHeld"
        assert event["data"]["families"] == 1 and "Ratna" not in str(event)
        sessions = (await aid.http.get("/education-sessions", params={"kelurahan_code": MEDONO}, headers=KADER)).json()
        assert sessions["items"][0]["facilitator"] == "Bidan Ratna Sari"

    @pytest.mark.parametrize(
        ("change", "headers", "status", "field"),
        [
            ({"family_ids": ["NEW"]}, KADER, 422, "family_ids[0]"),  # not enrolled in Medono
            ({"topic": "astrology"}, KADER, 422, "topic"),
            ({}, token("kader", KAUMAN), 403, None),
        ],
    )
    async def test_a_session_is_refused_for_unknown_families_topics_or_another_kelurahans_staff(
        self, aid: Aid, change: dict[str, Any], headers: dict[str, str], status: int, field: str | None
    ) -> None:
        plan = await open_plan(aid)
        family_ids = [str(uuid4()) if f == "NEW" else f for f in change.get("family_ids", [plan["family_id"]])]
        body = (
            {
                "topic": "hygiene",
                "held_on": TODAY.isoformat(),
                "kelurahan_code": MEDONO,
                "facilitator": "Bidan Ratna Sari",
            }
            | change
            | {"family_ids": family_ids}
        )
        response = await aid.http.post("/education-sessions", json=body, headers=headers)
        assert response.status_code == status, response.text
        if field:
            assert field in [e["field"] for e in response.json()["errors"]]


async def test_the_asyncapi_document_lists_what_aid_publishes_and_consumes(aid: Aid) -> None:
    doc = (await aid.http.get("/asyncapi")).json()
    text = str(doc)
    for event_type in (
        "AidPlanOpened",
        "AidDelivered",
        "DeliveryConfirmed",
        "CoverageGapDetected",
        "AidPlanCompleted",
        "AidPlanClosed",
        "EducationSessionHeld",
        "InterventionRecorded",
    ):
        assert event_type in text
    assert "aid-registry" in text and "aid-funding" in text
