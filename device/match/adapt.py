"""Reference adaptation: a reference that follows the person's ageing face, within a bound.

After a confident pass (match score well above the threshold, liveness live, capture quality
good) the adapted reference absorbs the session's embedding with a small weight. The original
enrolment is never changed; the adapted reference is kept within a cosine bound of it, so no
sequence of passes (an impostor who once got through included) can drag it further than that
from the person enrolled at the window. Pure functions over frozen data; the store and the
session decide when to call them.

Measured on lfw-dev by scripts/eval_adaptation.py (docs/privacy.md, README).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class AdaptPolicy:
    """weight: share of the new embedding in the adapted reference (0 disables adaptation);
    confident_margin: how far above the decision threshold the match score must be;
    min_cos_to_original: the adapted reference never falls below this cosine to the enrolment."""

    weight: float = 0.05
    confident_margin: float = 0.15
    min_cos_to_original: float = 0.95

    def __post_init__(self) -> None:
        if not 0.0 <= self.weight <= 0.5:
            raise ValueError("adaptation weight must lie in [0, 0.5]")
        if not 0.0 <= self.confident_margin <= 1.0:
            raise ValueError("confident_margin must lie in [0, 1]")
        if not 0.5 <= self.min_cos_to_original <= 1.0:
            raise ValueError("min_cos_to_original must lie in [0.5, 1]")


@dataclass(frozen=True, slots=True)
class PassEvidence:
    """What the session knew when it passed the person."""

    decision: str
    match_score: float
    original_score: float
    threshold: float
    live: bool
    quality_ok: bool


def eligible(evidence: PassEvidence, policy: AdaptPolicy) -> bool:
    """True only for a confident pass: pass, live, good quality, a score well above the
    threshold against the adapted reference AND a passing score against the original enrolment
    (so the reference only ever absorbs faces that still match the photo taken at the window)."""
    scores = (evidence.match_score, evidence.original_score)
    return (
        policy.weight > 0.0
        and evidence.decision == "pass"
        and evidence.live
        and evidence.quality_ok
        and all(math.isfinite(s) for s in scores)
        and evidence.match_score >= evidence.threshold + policy.confident_margin
        and evidence.original_score >= evidence.threshold
    )


def _unit(vector: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    norm = float(np.linalg.norm(vector))
    if norm == 0.0 or not math.isfinite(norm):
        raise ValueError("cannot normalise a zero or non-finite vector")
    return vector / norm


def _toward(origin: npt.NDArray[np.float64], target: npt.NDArray[np.float64],
            min_cos: float) -> npt.NDArray[np.float64]:
    """The point on the great circle from origin to target at cosine min_cos from origin."""
    angle_max = math.acos(min(1.0, max(-1.0, min_cos)))
    orthogonal = target - float(origin @ target) * origin
    if float(np.linalg.norm(orthogonal)) < 1e-12:
        return origin
    direction = _unit(orthogonal)
    return math.cos(angle_max) * origin + math.sin(angle_max) * direction


def adapt(original: Vector, current: Vector, probe: Vector, policy: AdaptPolicy) -> Vector:
    """The new adapted reference: current blended with the probe, then pulled back inside the
    bound around the original enrolment. All vectors are treated as directions (unit norm)."""
    origin = _unit(np.asarray(original, dtype=np.float64).reshape(-1))
    now = _unit(np.asarray(current, dtype=np.float64).reshape(-1))
    new = _unit(np.asarray(probe, dtype=np.float64).reshape(-1))
    blended = _unit((1.0 - policy.weight) * now + policy.weight * new)
    if float(origin @ blended) < policy.min_cos_to_original:
        blended = _toward(origin, blended, policy.min_cos_to_original)
    return np.asarray(blended, dtype=np.float32)


def drift(original: Vector, adapted: Vector) -> float:
    """Cosine between the enrolment and the adapted reference (1.0 = unchanged)."""
    a = _unit(np.asarray(original, dtype=np.float64).reshape(-1))
    b = _unit(np.asarray(adapted, dtype=np.float64).reshape(-1))
    return float(a @ b)
