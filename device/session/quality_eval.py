"""Measure the quality gates on lfw-dev and degraded copies (python -m device.session.quality_eval).

For every sampled image: the raw measurement behind each gate, on the good image and on each
degradation of device/session/degrade.py, then percentiles and the share of images on which each
gate fires. The numbers quoted in device/vision/quality.py come from this script. It reads the
images from ../shared/data/lfw-dev and writes nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from device.session.degrade import DEGRADATIONS
from device.session.settings import QualitySettings
from device.vision import quality as q
from device.vision.align import align_face, five_points
from device.vision.analyzer import FaceAnalyzer
from device.vision.settings import VisionSettings
from device.vision.types import Image

DEFAULT_LFW = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "lfw-dev"


def raw_measures(aligned: Image) -> dict[str, float]:
    """The region statistics behind the occlusion gates."""
    y = q.luma(aligned)
    cheeks = max(q._mean(y, q.CHEEKS), 1.0)
    cheek_chroma = q._cheeks_chroma(aligned)
    return {
        "eye_darkness": q._mean(y, q.EYES) / cheeks,
        "eye_texture": float(np.mean([q._region(y, r).std() for r in q.EYES])),
        "mask_distance": float(np.linalg.norm(q._chroma(aligned, q.LOWER_FACE) - cheek_chroma)),
        "mask_luma": q._mean(y, [q.LOWER_FACE]) / cheeks,
        "hat_distance": float(np.linalg.norm(q._chroma(aligned, q.FOREHEAD) - cheek_chroma)),
        "hat_luma": q._mean(y, [q.FOREHEAD]) / cheeks,
    }


def measure(analyzer: FaceAnalyzer, rgb: Image, s: QualitySettings) -> dict[str, float] | None:
    faces = analyzer.analyze(rgb)
    if len(faces) != 1:
        return {"faces": float(len(faces))}
    aligned = align_face(rgb, five_points(faces[0]))
    report = q.assess(rgb, faces, aligned, [five_points(faces[0])], s)
    values = {**report.metrics, **raw_measures(aligned), "faces": 1.0}
    if faces[0].pose is not None:
        values.update(yaw=faces[0].pose.yaw_deg, pitch=faces[0].pose.pitch_deg)
    for code in report.issues:
        values[f"fires:{code}"] = 1.0
    return values


def images(root: Path, limit: int, stride: int) -> list[Path]:
    files = sorted((root / "images").glob("*/*.jpg"))
    return files[::stride][:limit]


def summarise(name: str, rows: list[dict[str, float]]) -> None:
    print(f"== {name}: {len(rows)} images")
    keys = sorted({k for r in rows for k in r if not k.startswith("fires:")})
    for key in keys:
        values = np.array([r[key] for r in rows if key in r], dtype=np.float64)
        pct = np.percentile(values, [1, 5, 50, 95, 99])
        print(f"  {key:>14}: " + " ".join(f"{v:8.3f}" for v in pct))
    fires: dict[str, int] = defaultdict(int)
    for row in rows:
        for key in row:
            if key.startswith("fires:"):
                fires[key[6:]] += 1
    print("  fires: " + ", ".join(f"{k} {100.0 * v / len(rows):.1f}%" for k, v in fires.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lfw", type=Path, default=DEFAULT_LFW)
    parser.add_argument("--limit", type=int, default=400)
    parser.add_argument("--stride", type=int, default=9)
    parser.add_argument("--only", default="", help="comma-separated degradations (and 'good')")
    args = parser.parse_args(argv)
    settings = QualitySettings()
    analyzer = FaceAnalyzer.load(VisionSettings())
    rows: dict[str, list[dict[str, float]]] = defaultdict(list)
    wanted = set(filter(None, args.only.split(","))) or {"good", *DEGRADATIONS}
    for path in images(args.lfw, args.limit, args.stride):
        rgb = np.asarray(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB), dtype=np.uint8)
        faces = analyzer.analyze(rgb)
        if len(faces) != 1:
            continue
        good = measure(analyzer, rgb, settings)
        if "good" in wanted and good is not None:
            rows["good"].append(good)
        for name, (degrade, _) in DEGRADATIONS.items():
            if name in wanted:
                result = measure(analyzer, degrade(rgb, faces[0]), settings)
                rows[name].append(result or {})
    for name, values in rows.items():
        summarise(name, values)
    return 0


if __name__ == "__main__":
    sys.exit(main())
