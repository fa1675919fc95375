#!/usr/bin/env python3
"""faceterm's own compute per verification, beside the face_recognition baseline.

Runs inside .venv. On one interpreter thread, on the same pictures as scripts/bench_baseline.py
(the astronaut and the same lfw-dev timing pairs), times detect -> face mesh -> five-point align
-> SFace embed -> cosine, per picture and per pair. Then it reads faceterm's lfw-dev accuracy
from a `faceterm eval lfw` report (or computes it with the same code, device.eval.lfw, when the
report is missing), scores the baseline's pair distances with the same 5-fold protocol
(device.eval.metrics) and writes reports/baseline.json plus a markdown table, printed too.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/bench_faceterm_verify.py --data LFW \
        --baseline reports/baseline/face_recognition.json --report reports/baseline.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench_common import stats  # noqa: E402

from device.eval import metrics  # noqa: E402
from device.eval.crops import centre_crop, read_rgb  # noqa: E402
from device.eval.lfw import read_pairs  # noqa: E402
from device.vision.align import align_face, five_points  # noqa: E402
from device.vision.analyzer import FaceAnalyzer  # noqa: E402
from device.vision.embed import Embedder, cosine  # noqa: E402
from device.vision.settings import VisionSettings  # noqa: E402

Image = npt.NDArray[np.uint8]
STAGES = ("detect_ms", "landmarks_ms", "align_ms", "embed_ms", "encode_ms", "image_ms")
STAGES += ("image_cpu_ms",)
TARGET_RATIO = 4.0


class Pipeline:
    """The verification path of the kiosk, one thread: the best face of a picture, its mesh,
    the five-point ArcFace crop and the SFace embedding (centred crop when no face is found)."""

    def __init__(self, models_dir: Path) -> None:
        settings = VisionSettings(models_dir=str(models_dir), num_threads=1)
        self.settings = settings
        self.analyzer = FaceAnalyzer.load(settings)
        self.embedder = Embedder.from_settings(settings)

    def process(self, rgb: Image) -> dict[str, Any]:
        c0, t0 = time.thread_time(), time.perf_counter()
        faces = self.analyzer.analyze(rgb, max_faces=1)
        t1 = time.perf_counter()
        crop = align_face(rgb, five_points(faces[0])) if faces else centre_crop(rgb)
        t2 = time.perf_counter()
        vector = self.embedder.embed(crop)
        t3 = time.perf_counter()
        last = self.analyzer.status()["last_ms"]
        return {
            "vector": vector,
            "found": bool(faces),
            "detect_ms": last["detect"],
            "landmarks_ms": last["mesh"],
            "align_ms": (t2 - t1) * 1e3,
            "embed_ms": (t3 - t2) * 1e3,
            "encode_ms": (t3 - t0) * 1e3 - last["detect"],
            "image_ms": (t3 - t0) * 1e3,
            "image_cpu_ms": (time.thread_time() - c0) * 1e3,
        }


def time_astronaut(pipe: Pipeline, path: Path, repeats: int) -> dict[str, Any]:
    rgb = read_rgb(path)
    for _ in range(3):
        pipe.process(rgb)
    runs = [pipe.process(rgb) for _ in range(repeats)]
    return {key: stats([r[key] for r in runs]) for key in STAGES}


def time_pairs(pipe: Pipeline, data_dir: Path, limit: int, expected: Any) -> dict[str, Any]:
    """Each pair end to end (both pictures, then the cosine); JPEG decoding is not timed."""
    pairs = read_pairs(data_dir, limit)
    chosen = [
        [str(p.first.relative_to(data_dir)), str(p.second.relative_to(data_dir))] for p in pairs
    ]
    if expected is not None and chosen != expected:
        raise SystemExit("timing pairs differ from the baseline's: same --data and --pairs?")
    images = {p: read_rgb(p) for pair in pairs for p in (pair.first, pair.second)}
    pipe.process(images[pairs[0].first])  # warm-up
    per_image: dict[str, list[float]] = {key: [] for key in STAGES}
    pair_ms: list[float] = []
    pair_cpu_ms: list[float] = []
    not_found = 0
    for pair in pairs:
        cpu, started = time.thread_time(), time.perf_counter()
        a = pipe.process(images[pair.first])
        b = pipe.process(images[pair.second])
        cosine(a["vector"], b["vector"])
        pair_ms.append((time.perf_counter() - started) * 1e3)
        pair_cpu_ms.append((time.thread_time() - cpu) * 1e3)
        for run in (a, b):
            not_found += not run["found"]
            for key, values in per_image.items():
                values.append(run[key])
    out: dict[str, Any] = {key: stats(values) for key, values in per_image.items()}
    out.update(
        {
            "pair_ms": stats(pair_ms),
            "pair_cpu_ms": stats(pair_cpu_ms),
            "pairs": len(pairs),
            "images_not_found": not_found,
        }
    )
    return out


def faceterm_accuracy(report_path: Path, data_dir: Path, models_dir: Path) -> dict[str, Any]:
    """The `faceterm eval lfw` report, or the same evaluation run here when it is missing."""
    if not report_path.is_file():
        from device.eval.lfw import LfwRun, run

        print(f"{report_path}: missing, running device.eval.lfw (3,811 images)", file=sys.stderr)
        job = LfwRun(
            data_dir,
            models_dir,
            VisionSettings().embed_variant,
            report_path.parent,
            num_threads=1,
            progress=False,
        )
        run(job)
    report: dict[str, Any] = json.loads(report_path.read_text("utf-8"))
    keys = (
        "variant",
        "model",
        "pairs",
        "images",
        "accuracy",
        "accuracy_std",
        "tar_at_far_1e-3",
        "threshold",
        "failures_to_enrol",
        "alignment",
    )
    return {k: report.get(k) for k in keys} | {"source": str(report_path)}


def baseline_accuracy(lfw: dict[str, Any]) -> dict[str, Any]:
    """face_recognition's pair scores (negated distances) under device.eval.metrics."""
    scores = np.asarray(lfw["scores"], dtype=np.float64)
    same = np.asarray(lfw["same"], dtype=bool)
    folds = np.asarray(lfw["folds"], dtype=int)
    fold = metrics.kfold_accuracy(scores, same, folds)
    point = metrics.threshold_at_far(scores, same, 1e-3)
    return {
        "pairs": int(scores.size),
        "images": lfw["images"],
        "accuracy": round(fold.mean, 6),
        "accuracy_std": round(fold.std, 6),
        "fold_distance_thresholds": [round(-t, 4) for t in fold.thresholds],
        "accuracy_at_default_0.6": lfw["accuracy_at_default_0.6"],
        "accuracy_5fold_own_code": lfw["accuracy_5fold"],
        "tar_at_far_1e-3": round(point.tar, 6),
        "distance_at_far_1e-3": round(-point.threshold, 6),
        "failures_to_detect": lfw["failures_to_detect"],
        "failures_to_detect_files": lfw["failures_to_detect_files"],
    }


ROWS = (
    ("astronaut", "detect_ms", "astronaut 512x512: detect"),
    ("astronaut", "encode_ms", "astronaut: landmarks + align + embed"),
    ("astronaut", "image_ms", "astronaut: detect + encode, one image"),
    ("astronaut", "image_cpu_ms", "astronaut: one image, CPU time of the thread"),
    ("pairs", "detect_ms", "lfw-dev 250x250: detect, per image"),
    ("pairs", "landmarks_ms", "  faceterm: face mesh"),
    ("pairs", "align_ms", "  faceterm: five-point align"),
    ("pairs", "embed_ms", "  faceterm: SFace embed"),
    ("pairs", "encode_ms", "lfw-dev: landmarks + align + embed, per image"),
    ("pairs", "image_ms", "lfw-dev: detect + encode, one image"),
    ("pairs", "image_cpu_ms", "lfw-dev: one image, CPU time of the thread"),
    ("pairs", "pair_ms", "lfw-dev: one verification (2 images + compare)"),
    ("pairs", "pair_cpu_ms", "lfw-dev: one verification, CPU time of the thread"),
)


def table(ours: dict[str, Any], theirs: dict[str, Any], acc: dict[str, Any]) -> str:
    lines = [
        "| stage | faceterm median / p90 ms | face_recognition median / p90 ms | ratio (median) |",
        "| --- | --- | --- | --- |",
    ]
    for group, key, label in ROWS:
        mine, base = ours[group].get(key), theirs[group].get(key)
        left = f"{mine['median_ms']:.1f} / {mine['p90_ms']:.1f}" if mine else "-"
        right = f"{base['median_ms']:.1f} / {base['p90_ms']:.1f}" if base else "(in encode)"
        ratio = f"{base['median_ms'] / mine['median_ms']:.1f}x" if mine and base else ""
        lines.append(f"| {label} | {left} | {right} | {ratio} |")
    ft, fr = acc["faceterm"], acc["face_recognition"]
    lines += [
        "",
        "| lfw-dev, 3,000 pairs, 5-fold | faceterm | face_recognition |",
        "| --- | --- | --- |",
        f"| accuracy (threshold from 4 folds) | {ft['accuracy']:.2%} ± {ft['accuracy_std']:.2%} "
        f"| {fr['accuracy']:.2%} ± {fr['accuracy_std']:.2%} |",
        f"| accuracy at library default | - | {fr['accuracy_at_default_0.6']:.2%} (distance 0.6) |",
        f"| TAR at FAR 1e-3 (1,500 impostors: 1 false accept allowed) | "
        f"{ft['tar_at_far_1e-3']:.2%} | {fr['tar_at_far_1e-3']:.2%} |",
        f"| failures to detect (of {ft['images']} / {fr['images']} images) | "
        f"{ft['failures_to_enrol']} | {fr['failures_to_detect']} |",
    ]
    return "\n".join(lines)


def verdict(ours: dict[str, Any], theirs: dict[str, Any], acc: dict[str, Any]) -> dict[str, Any]:
    ratio = theirs["pairs"]["pair_ms"]["median_ms"] / ours["pairs"]["pair_ms"]["median_ms"]
    higher = acc["faceterm"]["accuracy"] > acc["face_recognition"]["accuracy"]
    return {
        "compute_ratio_per_verification": round(ratio, 2),
        "compute_target_met": ratio >= TARGET_RATIO,
        "accuracy_higher": higher,
        "target_met": ratio >= TARGET_RATIO and higher,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="lfw-dev folder (pairs.txt)")
    parser.add_argument("--models", type=Path, default=REPO / "models")
    parser.add_argument("--pairs", type=int, default=200, help="pairs to time end to end")
    parser.add_argument("--astronaut", type=Path, required=True, help="astronaut.png")
    parser.add_argument("--repeats", type=int, default=20, help="astronaut repetitions")
    parser.add_argument("--out", type=Path, default=Path("reports/baseline"))
    parser.add_argument("--baseline", type=Path, required=True, help="face_recognition.json")
    parser.add_argument("--faceterm-lfw", type=Path, default=Path("reports/lfw/report.json"))
    parser.add_argument("--report", type=Path, default=Path("reports/baseline.json"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    baseline = json.loads(args.baseline.read_text("utf-8"))
    pipe = Pipeline(args.models)
    load_start = os.getloadavg()
    ours = {
        "astronaut": time_astronaut(pipe, args.astronaut, args.repeats),
        "pairs": time_pairs(pipe, args.data, args.pairs, baseline.get("timing_pairs")),
    }
    theirs = {"astronaut": baseline["astronaut"], "pairs": baseline["lfw_pairs_timed"]}
    acc = {
        "faceterm": faceterm_accuracy(args.faceterm_lfw, args.data, args.models),
        "face_recognition": baseline_accuracy(baseline["lfw"]),
    }
    markdown = table(ours, theirs, acc)
    report = {
        "schema": "faceterm.bench_baseline/1",
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "loadavg_faceterm_run": [round(x, 2) for x in load_start],
            "loadavg_baseline_run": baseline.get("loadavg_start"),
        },
        "threads": 1,
        "faceterm": {
            "timing": ours,
            "models": pipe.analyzer.model_ids | {"embed": pipe.embedder.model_id},
            "settings": pipe.settings.model_dump(),
        },
        "face_recognition": {
            "timing": theirs,
            "settings": baseline["settings"],
            "versions": baseline["versions"],
        },
        "accuracy": acc,
        "target": verdict(ours, theirs, acc),
        "table_markdown": markdown,
    }
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=1) + "\n", "utf-8")
    args.report.with_suffix(".md").write_text(markdown + "\n", "utf-8")
    print(markdown)
    print(json.dumps(report["target"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
