"""The one backoff: doubling, capped, jittered in [delay/2, delay], safe after any number of
failures (the MQTT link retries for ever)."""

from __future__ import annotations

import random

from device.backoff import Backoff, capped_delay


def test_capped_delay_doubles_to_the_cap_with_jitter() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(0, 0.1), (1, 0.1), (2, 0.2), (3, 0.4), (6, 3.2), (7, 5.0)]:
        delay = capped_delay(0.1, 5.0, attempt, rng)
        assert ceiling / 2 <= delay <= ceiling


def test_a_counter_that_failed_for_days_stays_at_the_cap() -> None:
    backoff = Backoff(0.5, 10.0, random.Random(1))
    delays = [backoff.next() for _ in range(5000)]
    assert 5.0 <= delays[-1] <= 10.0 and max(delays) <= 10.0
    assert capped_delay(1.0, 60.0, 10**6, random.Random(2)) <= 60.0
