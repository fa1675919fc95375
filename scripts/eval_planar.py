#!/usr/bin/env python3
"""Residual distributions of the 3-D check (device/liveness/planar.py) on real head movements
and on planar prints, at the camera's 640x480 and 15 fps.

- real: every labelled turn and nod of the footage (tests/data/footage_labels.json), and the
  puppet's head-movement cuts (device/liveness/puppet.py), as the probe sees them: texture
  tracked from the event's first frame, residual at the frame where the movement peaks;
- prints: a flat photo (a resting frame of each footage person) turned from 0 to +-15..60
  degrees of yaw or pitch over 0.8 s (12 frames), camera noise 2 grey levels, flash off and on
  (the paper lit evenly by one screen colour: the flash phase ends before the actions), share
  at the largest angle.

    .venv/bin/python scripts/eval_planar.py [--out reports/planar.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from device.liveness.footage import load_labels  # noqa: E402
from device.liveness.planar import PlanarCheck, plane_view  # noqa: E402
from device.liveness.puppet import SUBJECTS, Footage, Subject  # noqa: E402
from device.vision.analyzer import FaceAnalyzer  # noqa: E402
from device.vision.settings import VisionSettings  # noqa: E402

PALETTE = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [40, 40, 40]])


def residual(analyzer: FaceAnalyzer, frames: list[np.ndarray]) -> float | None:
    """The check's residual from the first frame to the last (treated as the peak)."""
    check = PlanarCheck()
    for index, rgb in enumerate(frames):
        faces = analyzer.analyze(rgb, with_iris=True, max_faces=2)
        mesh = faces[0].mesh.points if len(faces) == 1 and faces[0].mesh is not None else None
        level = 2.0 if index == len(frames) - 1 else 0.0
        check.observe(0, True, level, rgb, mesh)
    check.finish()
    return check.residuals[0] if check.residuals else None


def real_cuts(analyzer: FaceAnalyzer, footage: Path) -> list[dict[str, object]]:
    clips = load_labels(ROOT / "tests" / "data" / "footage_labels.json")
    rows = []
    for subject in SUBJECTS[:1]:
        frames = Footage(subject, footage, analyzer)
        step = clips[subject.clip].fps / 15.0
        for cut in subject.cuts:
            if cut.action == "blink":
                continue
            sign = 1 if cut.last >= cut.first else -1
            count = int(abs(cut.last - cut.first) / step)
            seq = [frames.frame(round(cut.first + sign * i * step)) for i in range(count + 1)]
            rows.append({"what": f"puppet {cut.action} {cut.first}->{cut.last}",
                         "residual": residual(analyzer, seq)})  # fmt: skip
        labels = clips[subject.clip]
        for event in labels.events:
            if event.action in ("turn_left", "turn_right", "nod"):
                count = int((event.end - event.start) / step)
                seq = [frames.frame(round(event.start + i * step)) for i in range(count + 1)]
                rows.append({"what": f"labelled {event.action} {event.start}-{event.end}",
                             "residual": residual(analyzer, seq)})  # fmt: skip
    return rows


def prints(analyzer: FaceAnalyzer, footage: Path) -> list[dict[str, object]]:
    rng = np.random.default_rng(5)
    man = Subject("man", "single_face.mp4", (3, 16), 10, ())
    photos = {"woman": Footage(SUBJECTS[0], footage, analyzer).frame(270),
              "man": Footage(man, footage, analyzer).frame(10)}  # fmt: skip
    rows = []
    for name, photo in photos.items():
        room = np.full_like(photo, 110)
        for axis in ("yaw", "pitch"):
            for angle in (15, 30, 45, 60, -15, -30, -45, -60):
                for flash in (False, True):
                    colour = PALETTE[rng.integers(len(PALETTE))]
                    seq = []
                    for i in range(13):
                        a = angle * i / 12
                        rgb = plane_view(photo, a if axis == "yaw" else 0, a if axis == "pitch"
                                         else 0, background=room).astype(np.float32)  # fmt: skip
                        if flash:
                            rgb *= 1 + 0.12 * colour / 255.0
                        rgb += rng.normal(0, 2.0, rgb.shape)
                        seq.append(np.clip(rgb, 0, 255).astype(np.uint8))
                    rows.append({"what": f"print {name} {axis} {angle:+d} flash {flash}",
                                 "residual": residual(analyzer, seq)})  # fmt: skip
    return rows


def spread(rows: list[dict[str, object]]) -> dict[str, float | int]:
    values = sorted(float(str(r["residual"])) for r in rows if r["residual"] is not None)
    middle = values[len(values) // 2]
    return {"n": len(values), "min": round(values[0], 4), "median": round(middle, 4),
            "max": round(values[-1], 4),
            "unmeasured": sum(r["residual"] is None for r in rows)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--footage", default=str(ROOT / ".cache" / "footage"))
    parser.add_argument("--models", default=str(ROOT / "models"))
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    analyzer = FaceAnalyzer.load(VisionSettings(models_dir=args.models, num_threads=1))
    real = real_cuts(analyzer, Path(args.footage))
    flat = prints(analyzer, Path(args.footage))
    report = {"real": {"spread": spread(real), "rows": real},
              "prints": {"spread": spread(flat), "rows": flat}}  # fmt: skip
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2), encoding="utf-8")
    for row in real + flat:
        value = row["residual"]
        print(f"{row['what']:<40} {'-' if value is None else f'{value:.4f}'}")
    print(json.dumps({"real": report["real"]["spread"], "prints": report["prints"]["spread"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
