"""Wall-clock latency of one inference call: warm-up, then median and 90th percentile."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Latency:
    median_ms: float
    p90_ms: float
    runs: int

    def as_dict(self) -> dict[str, float | int]:
        return {"median": round(self.median_ms, 2), "p90": round(self.p90_ms, 2), "runs": self.runs}


def measure(
    call: Callable[[Any], object], inputs: Sequence[Any], runs: int = 50, warmup: int = 5
) -> Latency:
    """Time `call` over `inputs` (cycled) `runs` times after `warmup` untimed calls."""
    if not inputs:
        raise ValueError("no inputs to time")
    if runs < 1:
        raise ValueError("runs must be >= 1")
    for index in range(warmup):
        call(inputs[index % len(inputs)])
    times = np.empty(runs, dtype=np.float64)
    for index in range(runs):
        started = time.perf_counter()
        call(inputs[index % len(inputs)])
        times[index] = (time.perf_counter() - started) * 1000.0
    return Latency(float(np.median(times)), float(np.percentile(times, 90)), runs)


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
