"""The kernel's clock: the city's day in its own zone, the instant in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from shared.clock import CityClock, FixedClock, city_clock, now
from shared.eventstore import Metadata
from shared.messaging import Envelope


def test_now_is_an_aware_utc_instant() -> None:
    stamp = now()
    assert stamp.tzinfo is UTC


def test_a_city_clock_counts_the_day_in_its_zone_and_stamps_in_utc() -> None:
    jayapura = CityClock(ZoneInfo("Asia/Jayapura"))
    # Given a clock in WIT, when asked the day, then it is the day in Jayapura, not in UTC.
    assert jayapura() == datetime.now(ZoneInfo("Asia/Jayapura")).date()
    assert jayapura.now().tzinfo is UTC


def test_city_clock_takes_the_zone_of_the_province() -> None:
    assert city_clock("33.75").zone == ZoneInfo("Asia/Jakarta")  # Salatiga, Central Java
    assert city_clock("73.71").zone == ZoneInfo("Asia/Makassar")  # Makassar, South Sulawesi
    assert city_clock("91.71").zone == ZoneInfo("Asia/Jayapura")  # Jayapura, Papua


def test_a_fixed_clock_says_the_day_it_is_told_and_an_instant_on_that_day() -> None:
    clock = FixedClock(date(2025, 3, 1))
    clock.set(date(2025, 3, 2))
    assert clock() == date(2025, 3, 2)
    # Noon UTC is 19:00 WIB, 20:00 WITA and 21:00 WIT: still the same day in every zone.
    for zone in ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"):
        assert clock.now().astimezone(ZoneInfo(zone)).date() == date(2025, 3, 2)


def _envelope(correlation_id: object | None) -> Envelope:
    return Envelope.model_validate(
        {
            "event_id": "6f1c0f3e-3d1e-4a57-9d38-6c1f8f0a4a11",
            "event_type": "FamilyEnrolled",
            "schema_version": 1,
            "stream_id": "0b8f0b7e-1a36-4f0c-8f0e-0a6e0ad7f0a1",
            "stream_version": 2,
            "occurred_at": "2025-03-01T05:00:00+00:00",
            "correlation_id": correlation_id,
            "data": {},
        }
    )


def test_a_reaction_is_caused_by_the_event_and_keeps_its_correlation() -> None:
    envelope = _envelope("2d3c8a43-6f4e-4d7c-9d0e-5a1f2b3c4d5e")
    meta = Metadata.caused_by(envelope, datetime(2025, 3, 1, 6, tzinfo=UTC))
    assert meta.causation_id == envelope.event_id
    assert meta.correlation_id == envelope.correlation_id
    assert meta.occurred_at == datetime(2025, 3, 1, 6, tzinfo=UTC)


def test_an_event_without_correlation_starts_one_of_its_own() -> None:
    envelope = _envelope(None)
    meta = Metadata.caused_by(envelope)
    assert meta.correlation_id == envelope.event_id
    assert meta.occurred_at.tzinfo is UTC
