"""Retry delays: doubling from a base, capped, with jitter in [delay/2, delay] so that devices
that lost the same server do not come back in step. The one implementation for the MQTT
reconnect, the card reader's serial link and the camera restart."""

from __future__ import annotations

import random


def capped_delay(base_s: float, cap_s: float, attempt: int, rng: random.Random) -> float:
    """The jittered delay before retry number `attempt` (1 for the first retry)."""
    doubled = base_s * 2.0 ** min(max(attempt - 1, 0), 60)  # no float overflow after hours
    delay = min(max(cap_s, base_s), doubled)
    return rng.uniform(delay / 2, delay)


class Backoff:
    """The same delays as a counter: next() for each failure, reset() after a success."""

    def __init__(self, min_s: float, max_s: float, rng: random.Random | None = None) -> None:
        self.min_s, self.max_s = min_s, max(max_s, min_s)
        self._attempt = 0
        self._rng = rng or random.Random()

    def next(self) -> float:
        self._attempt += 1
        return capped_delay(self.min_s, self.max_s, self._attempt, self._rng)

    def reset(self) -> None:
        self._attempt = 0
