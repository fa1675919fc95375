"""Pilot captures scored in ISO/IEC 30107-3 terms: APCER per presentation attack instrument
species, BPCER on bona fide sessions, and a recommended threshold.

A session's score is the passive anti-spoofing model's mean live score over its frames with
exactly one face (the production detector and crop); a session with no such frame gets no score
and is counted as `no_face` (an attack that shows no face is refused by the session anyway).
The recommended threshold is the highest one at which BPCER stays within the target: the most
attacks refused at an acceptable cost to real pensioners.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from device.capture.store import BONA_FIDE, read_frames, sessions

Image = npt.NDArray[np.uint8]
Scorer = Callable[[Image], float | None]


@dataclass(frozen=True, slots=True)
class Scored:
    label: str
    score: float | None
    frames: int


def session_score(frames: Iterable[Image], scorer: Scorer) -> tuple[float | None, int]:
    values = [v for v in (scorer(rgb) for rgb in frames) if v is not None]
    return (float(np.mean(values)) if values else None), len(values)


def score_captures(folder: Path, key: bytes, scorer: Scorer) -> list[Scored]:
    results = []
    for meta in sessions(folder):
        score, used = session_score(read_frames(folder, key, meta), scorer)
        results.append(Scored(meta.label, score, used))
    return results


def _rate(errors: int, total: int) -> float | None:
    return round(100.0 * errors / total, 2) if total else None


def rates(results: list[Scored], threshold: float) -> dict[str, Any]:
    """APCER per instrument (attacks scored >= threshold) and BPCER (bona fide < threshold)."""
    bona = [r for r in results if r.label == BONA_FIDE and r.score is not None]
    apcer: dict[str, float | None] = {}
    for label in sorted({r.label for r in results} - {BONA_FIDE}):
        attacks = [r for r in results if r.label == label and r.score is not None]
        apcer[label] = _rate(sum(r.score >= threshold for r in attacks if r.score is not None),
                             len(attacks))
    worst = max((v for v in apcer.values() if v is not None), default=None)
    return {
        "threshold": round(threshold, 4),
        "bpcer": _rate(sum(r.score < threshold for r in bona if r.score is not None), len(bona)),
        "apcer": apcer,
        "apcer_max": worst,
    }


def recommend(results: list[Scored], bpcer_target: float) -> float:
    """The highest threshold whose BPCER is within the target (percent)."""
    bona = sorted(r.score for r in results if r.label == BONA_FIDE and r.score is not None)
    if not bona:
        return 0.5
    allowed = int(np.floor(len(bona) * bpcer_target / 100.0))
    return float(bona[allowed])


def report(results: list[Scored], current: float, bpcer_target: float) -> dict[str, Any]:
    counts: Mapping[str, int] = {}
    for r in results:
        counts = {**counts, r.label: counts.get(r.label, 0) + 1}
    best = recommend(results, bpcer_target)
    return {
        "terms": "ISO/IEC 30107-3: APCER per PAI species, BPCER, session level",
        "sessions": dict(counts),
        "no_face": sum(1 for r in results if r.score is None),
        "at_current_threshold": rates(results, current),
        "recommended": {**rates(results, best), "bpcer_target": bpcer_target,
                        "setting": "antispoof threshold in models/manifest.json"},
    }
