"""The match policy: cosine similarity of the best frames' embeddings to the reference, fused
over the top N frames, accepted at a threshold.

Threshold: `[session] match_threshold`, or by default the embed model's calibrated threshold
from models/manifest.json (its operating point at FAR 1e-3, which is the false-accept rate
GB/T 38671-2020 asks of remote face verification) plus `match_margin` (0.01): measured through
the session's own pipeline on lfw-dev, the manifest's threshold itself accepts 2 of 1,500
impostor pairs (0.13 %), manifest + 0.01 accepts 1 (0.067 %); see device/match/far_eval.py.

Fusion: the mean of the top-N cosines (default) rather than their maximum. The threshold is
calibrated on single image pairs; the max of N scores of one impostor is a maximum of N draws, so
its false-accept rate grows towards N times the calibrated one as the frames decorrelate, while
the mean of N correlated scores keeps the impostor distribution centred where it was calibrated
and narrows it (FAR at most the calibrated one). A genuine person loses little: the top-N
frames are the sharpest, most frontal ones, whose cosines lie close together. `max` stays
available for evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from device.errors import ConfigError
from device.vision.types import Vector

Fusion = Literal["mean", "max"]


@dataclass(frozen=True, slots=True)
class MatchResult:
    accepted: bool
    score: float
    threshold: float
    frames: int
    per_frame: tuple[float, ...]


def cosine(a: Vector, b: Vector) -> float:
    left = np.asarray(a, dtype=np.float64).reshape(-1)
    right = np.asarray(b, dtype=np.float64).reshape(-1)
    norm = float(np.linalg.norm(left) * np.linalg.norm(right))
    return float(left @ right) / norm if norm > 0.0 else 0.0


def resolve_threshold(
    configured: float | None, manifest_threshold: float | None, margin: float = 0.0
) -> float:
    """The configured threshold, else the model's calibrated one plus margin; ConfigError if
    there is neither."""
    if configured is not None:
        return configured
    if manifest_threshold is None:
        raise ConfigError(
            "session.match_threshold: not set and the embed model has no calibrated threshold"
        )
    return round(float(manifest_threshold) + margin, 6)


@dataclass(frozen=True, slots=True)
class Matcher:
    threshold: float
    top_n: int = 3
    fusion: Fusion = "mean"

    def fuse(self, scores: Sequence[float]) -> float:
        best = sorted(scores, reverse=True)[: self.top_n]
        if not best:
            return float("-inf")
        return float(np.mean(best)) if self.fusion == "mean" else best[0]

    def match(self, probes: Sequence[Vector], reference: Vector) -> MatchResult:
        """Compare each probe embedding (best frames, best first) to the reference."""
        per_frame = tuple(round(cosine(p, reference), 4) for p in probes)
        score = self.fuse(per_frame)
        used = min(len(per_frame), self.top_n)
        accepted = bool(per_frame) and score >= self.threshold
        return MatchResult(accepted, score, self.threshold, used, per_frame)
