"""Per-attempt capture state: the best frames so far, landmark history and a quality summary.

The window keeps at most `size` usable frames, ranked by the quality score of
device.vision.quality.frame_score (sharpness, frontalness, size); only their aligned 112x112
crops are kept (never the frames), and only in memory.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from device.vision.types import Image, Points

SUMMARY_METRICS = ("blurred", "luma", "head_turned", "head_pitched", "head_tilted", "too_close")


@dataclass(frozen=True, slots=True)
class Candidate:
    score: float
    crop: Image = field(repr=False)
    metrics: Mapping[str, float] = field(default_factory=dict)


class CaptureWindow:
    """Best-frame selection over one attempt, plus counters for the decision record."""

    def __init__(self, size: int, motion_frames: int) -> None:
        self._size = max(1, size)
        self._best: list[Candidate] = []
        self.history: collections.deque[Points] = collections.deque(maxlen=motion_frames)
        self.frames = 0
        self.good = 0
        self.issues: collections.Counter[str] = collections.Counter()

    def reset(self) -> None:
        self._best.clear()
        self.history.clear()
        self.frames = 0
        self.good = 0
        self.issues.clear()

    def track(self, points: Points | None) -> list[Points]:
        """Add this frame's five points (None: face lost, history restarts); the history."""
        if points is None:
            self.history.clear()
        else:
            self.history.append(points)
        return list(self.history)

    def note(self, issues: tuple[str, ...]) -> None:
        self.frames += 1
        if issues:
            self.issues[issues[0]] += 1
        else:
            self.good += 1

    def offer(self, candidate: Candidate) -> None:
        self._best.append(candidate)
        self._best.sort(key=lambda c: c.score, reverse=True)
        del self._best[self._size :]

    def best(self) -> list[Candidate]:
        return list(self._best)

    def best_score(self) -> float | None:
        """The best frame's score scaled to 0..1 (frame_score lies in 0..3)."""
        return round(self._best[0].score / 3.0, 4) if self._best else None

    def summary(self) -> dict[str, Any]:
        """Counts and the best frame's measurements, for the record's `quality` field."""
        best = self._best[0].metrics if self._best else {}
        return {
            "frames": self.frames,
            "usable_frames": self.good,
            "issues": dict(self.issues.most_common()),
            "best": {k: round(float(best[k]), 2) for k in SUMMARY_METRICS if k in best},
        }
