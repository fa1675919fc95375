"""The range a decision threshold may take for the embed model in use, and who may leave it.

Floor: the model's calibrated threshold from models/manifest.json (its operating point at FAR
1e-3 on lfw-dev): below it, more impostors pass than GB/T 38671-2020 allows. Ceiling: the
manifest's `threshold_ceiling` (FAR 1e-6 cannot be measured on 1,500 impostor pairs, so
scripts/build_models.py records the highest threshold at which genuine acceptance on lfw-dev
is still 90 %): above it, matching refuses so many genuine people that it is switched off in
effect. A manifest entry without a ceiling gets floor + MISSING_CEILING_SPAN, the largest
`session.match_margin` the configuration accepts. Outside the range only with an explicit
override (`session.match_threshold_override = true`, set through `thresholds.set` only by an
admin), which every decision record and the telemetry carry as `decided_with.override`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from device.errors import ConfigError

MISSING_CEILING_SPAN = 0.2


@dataclass(frozen=True, slots=True)
class ThresholdRange:
    model: str
    floor: float
    ceiling: float

    def contains(self, value: float) -> bool:
        return self.floor <= value <= self.ceiling

    def describe(self) -> str:
        return f"[{self.floor:.6g}, {self.ceiling:.6g}] of {self.model}"


@dataclass(frozen=True, slots=True)
class DecidedWith:
    """What every decision record says it was decided with."""

    model: str
    threshold: float
    override: bool

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "threshold": round(self.threshold, 6),
                "override": self.override}


def manifest_range(model: str, raw: dict[str, Any]) -> ThresholdRange | None:
    """The range from one manifest entry (None when the entry has no calibrated threshold)."""
    floor = raw.get("threshold")
    if not isinstance(floor, int | float):
        return None
    ceiling = raw.get("threshold_ceiling")
    value = ceiling.get("value") if isinstance(ceiling, dict) else None
    top = float(value) if isinstance(value, int | float) else float(floor) + MISSING_CEILING_SPAN
    return ThresholdRange(model, float(floor), max(float(floor), top))


def check_threshold(
    value: float, bounds: ThresholdRange | None, override: bool, model: str
) -> DecidedWith:
    """DecidedWith for a threshold; ConfigError when it leaves the range without override."""
    if bounds is None:
        if not override:
            raise ConfigError(
                f"session.match_threshold: {model} has no calibrated threshold in its manifest;"
                " a threshold needs session.match_threshold_override = true")
        return DecidedWith(model, value, True)
    if bounds.contains(value):
        return DecidedWith(model, value, False)
    if not override:
        raise ConfigError(
            f"session.match_threshold: {value:.6g} is outside {bounds.describe()} "
            "(an admin may set it with override)")
    return DecidedWith(model, value, True)
