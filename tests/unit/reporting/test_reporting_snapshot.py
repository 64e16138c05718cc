"""When a ProgressSnapshot is due: the first one, then only on a change, at most once per interval."""

from __future__ import annotations

from datetime import timedelta

from reporting_samples import AS_OF, city_progress

from services.reporting.snapshots import comparable, should_publish
from shared.contracts.reporting import ProgressSnapshot

SECOND = timedelta(seconds=1)


def test_the_first_snapshot_is_always_published() -> None:
    assert should_publish(city_progress(), None, None, AS_OF, SECOND)


def test_unchanged_progress_is_not_published_again_however_long_it_has_been() -> None:
    last = city_progress().model_dump(mode="json")
    later = city_progress().model_copy(update={"as_of": AS_OF + timedelta(hours=5)})
    assert not should_publish(later, last, AS_OF, AS_OF + timedelta(hours=5), SECOND)


def test_a_change_waits_until_the_interval_has_passed() -> None:
    last = city_progress(enrolled_in_medono=3).model_dump(mode="json")
    changed = city_progress(enrolled_in_medono=4)
    assert not should_publish(changed, last, AS_OF, AS_OF + timedelta(milliseconds=999), SECOND)
    assert should_publish(changed, last, AS_OF, AS_OF + SECOND, SECOND)


def test_a_change_in_one_kelurahan_only_is_a_change() -> None:
    a, b = city_progress(), city_progress()
    rows = list(b.by_kelurahan)
    rows[5] = rows[5].model_copy(update={"exited": 1})
    b = b.model_copy(update={"by_kelurahan": rows})
    assert comparable(a) != comparable(b)


def test_a_stored_snapshot_compares_equal_to_the_progress_it_was_made_from() -> None:
    progress = city_progress()
    stored = ProgressSnapshot(**progress.model_dump()).model_dump(mode="json")
    assert stored["scope"] == "city"
    assert comparable(stored) == comparable(progress.model_copy(update={"as_of": AS_OF + SECOND}))


def test_the_snapshot_goes_on_the_literal_city_subject() -> None:
    snapshot = ProgressSnapshot(**city_progress().model_dump())
    assert snapshot.subject() == "genting.reporting.progress.city.ProgressSnapshot"
