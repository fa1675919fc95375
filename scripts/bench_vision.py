#!/usr/bin/env python3
"""Time the vision primitives on scikit-image's astronaut (median and p90, 1 and 2 threads), and
optionally compare the short- and full-range detectors on LFW development images.

    .venv/bin/python scripts/bench_vision.py [--repeats 50] [--lfw 500] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench_common import stats, timed  # noqa: E402

from device.vision.analyzer import FaceAnalyzer  # noqa: E402
from device.vision.settings import VisionSettings  # noqa: E402

Image = npt.NDArray[np.uint8]

LFW = REPO.parent / "shared" / "data" / "lfw-dev" / "images"


def timings(step: Callable[[], object], repeats: int) -> dict[str, float]:
    """Median and p90 wall time in ms over `repeats` runs, after 3 warm-up runs."""
    summary = stats(timed(step, repeats))
    return {"median_ms": summary["median_ms"], "p90_ms": summary["p90_ms"]}


def bench_threads(models_dir: Path, threads: int, repeats: int) -> dict[str, Any]:
    from skimage import data

    rgb = np.ascontiguousarray(data.astronaut())
    results: dict[str, Any] = {}
    for variant in ("short_range", "full_range"):
        settings = VisionSettings(models_dir=str(models_dir), num_threads=threads, detector=variant)
        analyzer = FaceAnalyzer.load(settings)
        results[f"detect_{variant}"] = timings(lambda a=analyzer: a.detector.detect(rgb), repeats)
        if variant == "short_range":
            results.update(bench_stages(analyzer, rgb, repeats))
    return results


def bench_stages(analyzer: FaceAnalyzer, rgb: Image, repeats: int) -> dict[str, Any]:
    """Mesh, iris and whole-frame timings with one analyzer."""
    detection = analyzer.detector.detect(rgb)[0]
    mesh = analyzer.landmarker.run(rgb, detection)
    return {
        "landmarks": timings(lambda: analyzer.landmarker.run(rgb, detection), repeats),
        "iris_both_eyes": timings(lambda: analyzer.iris.run(rgb, mesh.points), repeats),
        "analyze": timings(lambda: analyzer.analyze(rgb), repeats),
        "analyze_with_iris": timings(lambda: analyzer.analyze(rgb, with_iris=True), repeats),
    }


def compare_on_lfw(models_dir: Path, count: int) -> dict[str, Any]:
    """Share of LFW images (250x250, one centred face) where each detector finds the centre face
    with a mesh present."""
    every = sorted(LFW.glob("*/*.jpg"))
    files = every[:: max(1, len(every) // count)][:count]
    out: dict[str, Any] = {"images": len(files)}
    for variant in ("short_range", "full_range"):
        settings = VisionSettings(models_dir=str(models_dir), num_threads=2, detector=variant)
        analyzer = FaceAnalyzer.load(settings)
        found = 0
        for path in files:
            rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
            faces = analyzer.analyze(rgb, max_faces=3)
            found += any(_central(f.detection.box.center) and f.mesh for f in faces)
        out[variant] = round(found / max(1, len(files)), 4)
    return out


def _central(centre: tuple[float, float]) -> bool:
    return abs(centre[0] - 125.0) < 40.0 and abs(centre[1] - 125.0) < 40.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", type=Path, default=REPO / "models")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--lfw", type=int, default=0, help="compare detectors on N LFW images")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    report: dict[str, Any] = {
        f"threads_{n}": bench_threads(args.models_dir, n, args.repeats) for n in (1, 2)
    }
    if args.lfw and LFW.is_dir():
        report["lfw_detection_rate"] = compare_on_lfw(args.models_dir, args.lfw)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
