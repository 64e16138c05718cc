"""`genting up`'s restart backoff: 1 s doubling to 30 s, back to 1 s after a minute of running."""

from __future__ import annotations

from genting.supervisor import BACKOFF_MAX, HEALTHY_AFTER, Backoff


def test_a_process_that_keeps_dying_waits_longer_each_time_up_to_the_cap() -> None:
    backoff = Backoff()
    backoff.running_since(0.0)
    delays = []
    for attempt in range(8):
        now = attempt * 0.5  # dies half a second after each start
        delays.append(backoff.next(now))
        backoff.running_since(now)
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, BACKOFF_MAX, BACKOFF_MAX, BACKOFF_MAX]


def test_a_process_that_ran_a_minute_before_dying_restarts_after_one_second_again() -> None:
    backoff = Backoff()
    backoff.running_since(0.0)
    assert [backoff.next(1.0), backoff.next(2.0), backoff.next(3.0)] == [1.0, 2.0, 4.0]
    backoff.running_since(10.0)
    assert backoff.next(10.0 + HEALTHY_AFTER) == 1.0
