"""Action detectors measured on labelled real footage (`faceterm eval footage`).

Each clip is played at the camera's rate (15 fps, 640x480, letterboxed), analysed as the
session's liveness frames are (iris on, at most two faces, exactly one required), and every
challenge action's level (challenge.action_levels, 1.0 = its threshold) read against the
person's own neutral face just before: the median of the measures over `BASELINE_S` before the
stretch, leaving out frames labelled with the same action (and, for blinks, closed eyes).

- recall: labelled events whose peak level reaches 1.0 / labelled events;
- false fires: measured frames free of the action (no labelled event of it within `MARGIN_S`)
  whose level reaches 1.0 against the person's neutral face over the BASELINE_S before / such
  frames, and the onsets of such firing per minute of footage.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from device.liveness.challenge import Baseline, action_levels, baseline_of
from device.liveness.footage import ACTIONS, CHALLENGE_ACTION, ClipLabels, camera_frames
from device.liveness.measures import FaceMeasures, measure
from device.liveness.settings import LivenessSettings
from device.vision.analyzer import FaceAnalyzer
from device.vision.types import Points

FPS = 15.0
BASELINE_S = 1.2
MARGIN_S = 0.3
MIN_BASELINE = 3


@dataclass(frozen=True, slots=True)
class Sample:
    """One camera frame: its source frame, faces found, and the one face's measures and mesh."""

    source: int
    faces: int
    measures: FaceMeasures | None
    mesh: Points | None


def analyse(
    analyzer: FaceAnalyzer, path: Path, labels: ClipLabels, fps: float = FPS, eyes: bool = True
) -> list[Sample]:
    """The clip as the liveness loop sees it: the tracker (FaceAnalyzer.track) from the clip's
    first frame, exactly one face or none; `eyes`: as while a blink is asked (iris on, every
    crop from a detection), else as while any other action is (tracked, no iris)."""
    samples = []
    analyzer.reset_track()
    for source, rgb in camera_frames(path, labels, fps):
        faces = analyzer.track(rgb, with_iris=eyes)
        face = faces[0] if len(faces) == 1 else None
        measures = measure(rgb, face) if face is not None else None
        mesh = face.mesh.points if face is not None and face.mesh is not None else None
        samples.append(Sample(source, len(faces), measures, mesh))
    return samples


def _excluded(labels: ClipLabels, action: str, source: int, margin: int) -> bool:
    kinds = (action, "eyes_closed") if action == "blink" else (action,)
    return any(labels.labelled(source, kind, margin) for kind in kinds)


def _baseline(
    samples: Sequence[Sample], labels: ClipLabels, action: str, indices: Iterable[int]
) -> Baseline | None:
    neutral = [
        s.measures
        for i in indices
        if 0 <= i < len(samples)
        and (s := samples[i]).measures is not None
        and not _excluded(labels, action, s.source, 0)
    ]
    return baseline_of(neutral) if len(neutral) >= MIN_BASELINE else None


def _peak(samples: Sequence[Sample], base: Baseline, key: str, s: LivenessSettings,
          indices: Iterable[int]) -> float:  # fmt: skip
    levels = [
        action_levels(m, base, s)[key] for i in indices if (m := samples[i].measures) is not None
    ]
    return max(levels) if levels else float("nan")


def score_events(
    samples: Sequence[Sample], labels: ClipLabels, s: LivenessSettings, action: str
) -> list[dict[str, Any]]:
    """Peak level of every labelled event of `action` (nan when the face was not measured)."""
    key, n_base = CHALLENGE_ACTION.get(action, action), round(BASELINE_S * FPS)
    rows = []
    for event in labels.of(action):
        inside = [i for i, x in enumerate(samples) if event.covers(x.source)]
        if not inside:
            continue
        first, last = inside[0], inside[-1]
        base = _baseline(samples, labels, action, range(first - n_base, first))
        base = base or _baseline(samples, labels, action, range(last + 1, last + 1 + n_base))
        peak = _peak(samples, base, key, s, inside) if base else float("nan")
        level = None if np.isnan(peak) else round(peak, 3)
        rows.append({"clip": labels.name, "start": event.start, "end": event.end,
                     "peak": level, "detected": bool(peak >= 1.0)})  # fmt: skip
    return rows


def false_fires(
    samples: Sequence[Sample], labels: ClipLabels, s: LivenessSettings, action: str
) -> tuple[int, int, int]:
    """(frames that fired, onsets of firing, frames) over measured frames free of the action,
    each against the person's neutral face over the BASELINE_S before it."""
    key, n_base = CHALLENGE_ACTION.get(action, action), round(BASELINE_S * FPS)
    margin = round(MARGIN_S * labels.fps)
    fired = onsets = total = 0
    previous = False
    for index, sample in enumerate(samples):
        clean = not _excluded(labels, action, sample.source, margin)
        base = _baseline(samples, labels, action, range(index - n_base, index))
        if not clean or sample.measures is None or base is None:
            previous = False
            continue
        hit = action_levels(sample.measures, base, s)[key] >= 1.0
        total += 1
        fired += int(hit)
        onsets += int(hit and not previous)
        previous = hit
    return fired, onsets, total


def face_finding(samples: Sequence[Sample], labels: ClipLabels) -> dict[str, int]:
    """Frames labelled no_face where a face was detected or measured, and face frames missed."""
    empty = [x for x in samples if labels.labelled(x.source, "no_face")]
    present = [x for x in samples if not labels.labelled(x.source, "no_face")]
    return {
        "no_face_frames": len(empty),
        "no_face_detected": sum(x.faces > 0 for x in empty),
        "no_face_measured": sum(x.measures is not None for x in empty),
        "face_frames": len(present),
        "face_not_measured": sum(x.measures is None for x in present),
    }


def evaluate(
    analyzer: FaceAnalyzer, footage: Path, clips: dict[str, ClipLabels], s: LivenessSettings
) -> dict[str, Any]:
    """Per action: events, detected, recall, false-fire windows; per clip: face finding. Blinks
    are read from the clip analysed as while a blink is asked, the other actions from the clip
    analysed as while they are (LivenessProbe.needs_eyes)."""
    eyes = {name: analyse(analyzer, footage / name, labels) for name, labels in clips.items()}
    plain = {name: analyse(analyzer, footage / name, labels, eyes=False)
             for name, labels in clips.items()}  # fmt: skip
    table: dict[str, Any] = {}
    for action in ACTIONS:
        series = eyes if action == "blink" else plain
        events = [r for n, lab in clips.items() for r in score_events(series[n], lab, s, action)]
        counts = [false_fires(series[n], lab, s, action) for n, lab in clips.items()]
        fired, onsets, frames = (sum(c[i] for c in counts) for i in range(3))
        hits = sum(r["detected"] for r in events)
        table[action] = {
            "events": len(events),
            "detected": hits,
            "recall": round(hits / len(events), 3) if events else None,
            "clean_frames": frames,
            "false_fire_frames": fired,
            "false_fire_rate": round(fired / frames, 4) if frames else None,
            "false_fires_per_min": round(onsets / (frames / FPS / 60.0), 2) if frames else None,
            "per_event": events,
        }
    faces = {n: face_finding(plain[n], lab) for n, lab in clips.items()}
    return {"fps": FPS, "baseline_s": BASELINE_S, "margin_s": MARGIN_S, "actions": table,
            "faces": faces, "thresholds": _thresholds(s)}  # fmt: skip


def _thresholds(s: LivenessSettings) -> dict[str, float]:
    return {"blink_ear_drop_ratio": s.blink_ear_drop_ratio, "turn_yaw_deg": s.turn_yaw_deg,
            "nod_pitch_deg": s.nod_pitch_deg, "mouth_open_delta": s.mouth_open_delta}  # fmt: skip


def markdown(report: dict[str, Any]) -> str:
    """The per-action table."""
    lines = ["| action | events | detected | recall | false-fire frames | rate | fires/min |",
             "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for action, row in report["actions"].items():
        recall = "-" if row["recall"] is None else f"{100 * row['recall']:.0f} %"
        rate = "-" if row["false_fire_rate"] is None else f"{100 * row['false_fire_rate']:.1f} %"
        lines.append(f"| {action} | {row['events']} | {row['detected']} | {recall} | "
                     f"{row['false_fire_frames']} / {row['clean_frames']} | {rate} | "
                     f"{row['false_fires_per_min']} |")  # fmt: skip
    return "\n".join(lines)
