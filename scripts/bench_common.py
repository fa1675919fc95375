"""Helpers shared by the benchmark scripts. Standard library and numpy only: the baseline runs in
its own venv (.venv-bench) and must not import `device`."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

# A decision record of the session's schema and personal data, for signing and outbox benchmarks.
RECORD = {
    "schema": "faceterm.decision/1", "decision": "pass", "reasons": [],
    "scores": {"match": 0.71, "liveness": 0.93, "quality": 0.88},
    "models": {"detect": "blazeface@0123456789ab", "embed": "sface@0123456789ab"},
    "timings_ms": {"total": 2310}, "attempt": 1, "device_id": "bench-1",
    "time_utc": "2026-11-25T19:00:00Z", "subject": "9f86d081884c7d65",
}
PERSONAL = {"id_number": "11010519491231002X", "name": "张三"}


def timed(step: Callable[[], object], repeats: int, warmup: int = 3) -> list[float]:
    """Wall times in ms of `repeats` runs of step, after `warmup` untimed runs."""
    for _ in range(warmup):
        step()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        step()
        samples.append((time.perf_counter() - started) * 1000.0)
    return samples


def stats(samples: list[float]) -> dict[str, float]:
    """Median, p90 and min in ms, and the sample count."""
    values = np.asarray(samples, dtype=np.float64)
    return {
        "median_ms": round(float(np.median(values)), 2),
        "p90_ms": round(float(np.percentile(values, 90)), 2),
        "min_ms": round(float(values.min()), 2),
        "n": int(values.size),
    }
