"""The projection's version gate, decided without a database (issue 13 #11: the rule itself, not only
its integration): apply the next version, drop duplicates, hold what is beyond a gap."""

from __future__ import annotations

from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from shared.projection import Outcome, decide_versions, gap_delay, retry_delay

A, B = uuid4(), uuid4()
APPLY, DUPLICATE, GAP = Outcome.APPLY, Outcome.DUPLICATE, Outcome.GAP


def test_the_next_version_applies_and_advances_the_stream() -> None:
    assert decide_versions({A: 2}, [(A, 3)]) == ([APPLY], {A: 3})


def test_a_stream_never_seen_starts_at_version_one() -> None:
    assert decide_versions({}, [(A, 1), (A, 2)]) == ([APPLY, APPLY], {A: 2})


def test_a_version_already_applied_is_a_duplicate() -> None:
    assert decide_versions({A: 3}, [(A, 2), (A, 3)]) == ([DUPLICATE, DUPLICATE], {A: 3})


def test_a_version_beyond_a_missing_one_waits() -> None:
    assert decide_versions({A: 1}, [(A, 3)]) == ([GAP], {A: 1})


def test_a_later_version_that_arrived_first_applies_once_its_gap_fills_in_the_same_batch() -> None:
    assert decide_versions({A: 1}, [(A, 3), (A, 2)]) == ([APPLY, APPLY], {A: 3})


def test_the_same_version_twice_in_one_batch_applies_once() -> None:
    assert decide_versions({A: 0}, [(A, 1), (A, 1)]) == ([APPLY, DUPLICATE], {A: 1})


def test_streams_are_gated_independently() -> None:
    assert decide_versions({A: 1, B: 5}, [(B, 7), (A, 2), (B, 6)]) == ([APPLY, APPLY, APPLY], {A: 2, B: 7})
    assert decide_versions({A: 1, B: 5}, [(B, 7), (A, 2)]) == ([GAP, APPLY], {A: 2, B: 5})


versions = st.lists(st.tuples(st.sampled_from([A, B]), st.integers(1, 8)), max_size=30)


@given(applied=st.fixed_dictionaries({A: st.integers(0, 4), B: st.integers(0, 4)}), batch=versions)
def test_what_applies_is_exactly_the_run_of_next_versions_each_once(applied: dict[UUID, int], batch: list) -> None:  # type: ignore[type-arg]
    outcomes, advanced = decide_versions(applied, batch)
    after = {stream: advanced.get(stream, applied[stream]) for stream in (A, B)}
    for stream in (A, B):
        applied_here = [v for (sid, v), o in zip(batch, outcomes, strict=True) if sid == stream and o is APPLY]
        # Each applied version once, exactly the consecutive run after the stream's applied version.
        assert sorted(applied_here) == list(range(applied[stream] + 1, after[stream] + 1))
        for (sid, v), o in zip(batch, outcomes, strict=True):
            if sid == stream and o is DUPLICATE:
                assert v <= applied[stream] or v in applied_here
            if sid == stream and o is GAP:
                assert v > after[stream] + 1  # held: the version before it is still missing


# -- order-free events (an erasure): applied at once, even beyond a gap ----------------------------


def test_an_order_free_event_beyond_a_missing_version_applies_at_once() -> None:
    # given v1 applied, when v3 (an erasure) arrives while v2 is missing, then it applies now
    assert decide_versions({A: 1}, [(A, 3)], order_free=[True]) == ([Outcome.AHEAD], {A: 1})


def test_an_ordinary_event_beyond_the_same_gap_still_waits() -> None:
    assert decide_versions({A: 1}, [(A, 3), (A, 4)], order_free=[True, False]) == ([Outcome.AHEAD, GAP], {A: 1})


def test_when_the_gap_fills_the_version_applied_ahead_counts_as_present() -> None:
    # given v3 applied ahead of v2, when v2 and v4 arrive, then both apply and the stream is at v4
    assert decide_versions({A: 1}, [(A, 2), (A, 4)], ahead={A: {3}}) == ([APPLY, APPLY], {A: 4})


def test_a_version_applied_ahead_that_comes_again_is_a_duplicate() -> None:
    assert decide_versions({A: 1}, [(A, 3)], order_free=[True], ahead={A: {3}}) == ([DUPLICATE], {A: 1})


def test_an_order_free_event_that_is_next_applies_in_order() -> None:
    assert decide_versions({A: 1}, [(A, 2)], order_free=[True]) == ([APPLY], {A: 2})


def test_a_gap_waits_longer_than_a_lost_predecessor_takes_to_come_back() -> None:
    """A predecessor held by a consumer that lost its database comes back only after ack_wait (30 s):
    the event waiting behind it must still be waiting then, not in the dead letters. Over its
    eight deliveries (seven naks) a gap waits more than twice ack_wait; a failure's retries stay
    quick."""
    ack_wait, max_deliver = 30.0, 8
    waited = sum(gap_delay(n, ack_wait) for n in range(1, max_deliver))
    assert waited > 2 * ack_wait
    assert [gap_delay(n, ack_wait) for n in (1, 2, 3)] == [0.25, 0.5, 1.0]  # the usual case: a moment behind
    assert sum(retry_delay(n) for n in range(1, max_deliver)) < ack_wait + 2  # failures are not slowed
