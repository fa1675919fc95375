"""The liveness decision: a pure function from the evidence to live | spoof | inconclusive.

Spoof needs positive evidence of an attack (another identity, a flash that is not reflected, a
head movement that moved like a flat picture, a passive cue or the model). Live needs every
enabled check passed. Anything else is inconclusive ("could not complete"; the record says
`liveness_incomplete`) and the session may retry: a challenge not completed, whether timed out,
answered with the wrong or mirrored movement, or before the prompt, is confusion until
something else shows an attack. (Until issue 18, a wrong or premature action was a spoof.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from device.liveness.flash import FlashResult
from device.liveness.passive import PassiveSummary

SPOOF_CONTINUITY = frozenset({"identity_changed"})


@dataclass(frozen=True, slots=True)
class Evidence:
    """`challenge` passed | failed | timeout | running | skipped; `continuity` a reason code or
    None; `flash` None when the flash check is off; `antispoof_score` None without a model."""

    challenge: str
    challenge_reason: str | None
    continuity: str | None
    flash: FlashResult | None
    passive: PassiveSummary
    antispoof_score: float | None = None
    scores: dict[str, float] = field(default_factory=dict)
    # Homography residual of each head movement (device/liveness/planar.py); empty when off.
    planar_residuals: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class Thresholds:
    flash_min_correlation: float
    flash_min_gain: float
    flash_min_samples: int
    antispoof_threshold: float = 0.5
    planar_max_residual: float = 0.0


def decide(evidence: Evidence, t: Thresholds) -> tuple[str, tuple[str, ...]]:
    """(outcome, reason codes); reasons list every finding, attack findings first."""
    attack = _attack_reasons(evidence, t)
    if attack:
        return "spoof", tuple(attack)
    doubts = _doubts(evidence, t)
    if doubts:
        return "inconclusive", tuple(doubts)
    return "live", ("liveness_live", "challenge_passed")


def _attack_reasons(evidence: Evidence, t: Thresholds) -> list[str]:
    reasons: list[str] = []
    if evidence.continuity in SPOOF_CONTINUITY:
        reasons.append(evidence.continuity)
    flash = evidence.flash
    enough = flash is not None and flash.samples >= t.flash_min_samples
    if enough and flash is not None and not flash.passed(t.flash_min_correlation, t.flash_min_gain):
        reasons.append("flash_not_reflected")
    if any(r < t.planar_max_residual for r in evidence.planar_residuals):
        reasons.append("planar_motion")
    reasons.extend(evidence.passive.reasons)
    if evidence.antispoof_score is not None and evidence.antispoof_score < t.antispoof_threshold:
        reasons.append("antispoof_model")
    return reasons


def _doubts(evidence: Evidence, t: Thresholds) -> list[str]:
    doubts: list[str] = []
    if evidence.continuity is not None:
        doubts.append(evidence.continuity)
    if evidence.flash is not None and evidence.flash.samples < t.flash_min_samples:
        doubts.append("flash_insufficient")
    if evidence.challenge != "passed":
        doubts.append(evidence.challenge_reason or "challenge_timeout")
    return doubts
