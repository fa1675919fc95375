#!/usr/bin/env python3
"""face_recognition baseline (dlib HOG detector + dlib ResNet 128-d encoder) on lfw-dev.

Runs inside the bench-only venv .venv-bench (scripts/bench_baseline.sh makes it); it must not
import `device`. Measures, on one thread:
  * per image: HOG detection (upsample=1) and encoding (5-point "small" landmarks, chip
    alignment and ResNet, num_jitters=1), on the timing pairs and on the astronaut image;
  * per pair: both images detected and encoded, then the Euclidean distance;
  * with --lfw: one encoding per image of all pairs (cached per image in OUT, resumable) and
    the face_recognition distance of every pair, 5-fold accuracy and accuracy at 0.6.
A picture in which HOG finds no face is encoded from the whole-image box and counted.

    OMP_NUM_THREADS=1 .venv-bench/bin/python scripts/bench_baseline.py --data LFW --out DIR [--lfw]

The 68-point predictor that face_recognition loads at import is never called here (model="small");
its iBUG 300-W training data forbids commercial use: this is a measurement, never shipped.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from bench_common import stats

DEFAULT_DISTANCE = 0.6  # face_recognition's own compare_faces tolerance
CHECKPOINT_EVERY = 100
STAGES = ("detect_ms", "encode_ms", "image_ms", "image_cpu_ms")


def read_pairs(data_dir: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """Pairs of pairs.txt as {first, second (paths relative to data_dir), same, fold}; with
    `limit`, the first ceil(limit / (2 * folds)) of each fold's genuine and impostor blocks (the
    same choice as device.eval.lfw.read_pairs)."""
    rows = [line.split() for line in (data_dir / "pairs.txt").read_text("utf-8").splitlines()]
    rows = [r for r in rows if r]
    folds, per_class = int(rows[0][0]), int(rows[0][1])
    keep = per_class if limit is None else max(1, math.ceil(limit / (2 * folds)))
    pairs = []
    for index, tokens in enumerate(rows[1:]):
        fold, offset = divmod(index, 2 * per_class)
        if offset % per_class >= keep:
            continue
        if len(tokens) == 3:
            a, i, b, j = tokens[0], tokens[1], tokens[0], tokens[2]
        else:
            a, i, b, j = tokens
        pairs.append(
            {"first": _rel(a, i), "second": _rel(b, j), "same": len(tokens) == 3, "fold": fold}
        )
    return pairs


def _rel(name: str, number: str) -> str:
    return f"images/{name}/{name}_{int(number):04d}.jpg"


class Baseline:
    """face_recognition's documented defaults: HOG, upsample 1, 5-point landmarks, 1 jitter."""

    def __init__(self, upsample: int = 1, jitters: int = 1, landmarks: str = "small") -> None:
        import face_recognition

        self.fr = face_recognition
        self.upsample, self.jitters, self.landmarks = upsample, jitters, landmarks

    def load(self, path: Path) -> np.ndarray:
        return np.ascontiguousarray(self.fr.load_image_file(str(path)))

    def detect(self, rgb: np.ndarray) -> tuple[tuple[int, int, int, int], bool, int]:
        """The (top, right, bottom, left) box nearest the centre; the whole image if none."""
        height, width = rgb.shape[:2]
        boxes = self.fr.face_locations(rgb, self.upsample, "hog")
        if not boxes:
            return (0, width - 1, height - 1, 0), False, 0

        def off_centre(box: tuple[int, int, int, int]) -> float:
            top, right, bottom, left = box
            return math.hypot((left + right - width) / 2.0, (top + bottom - height) / 2.0)

        return min(boxes, key=off_centre), True, len(boxes)

    def encode(self, rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        (vector,) = self.fr.face_encodings(rgb, [box], self.jitters, self.landmarks)
        return np.asarray(vector, dtype=np.float64)

    def process(self, rgb: np.ndarray) -> dict[str, Any]:
        """Detect and encode one picture, with the time of each stage in ms."""
        c0, t0 = time.thread_time(), time.perf_counter()
        box, found, faces = self.detect(rgb)
        t1 = time.perf_counter()
        vector = self.encode(rgb, box)
        t2 = time.perf_counter()
        return {
            "vector": vector,
            "found": found,
            "faces": faces,
            "detect_ms": (t1 - t0) * 1e3,
            "encode_ms": (t2 - t1) * 1e3,
            "image_ms": (t2 - t0) * 1e3,
            "image_cpu_ms": (time.thread_time() - c0) * 1e3,
        }


def time_astronaut(model: Baseline, path: Path, repeats: int) -> dict[str, Any]:
    rgb = model.load(path)
    for _ in range(2):
        model.process(rgb)
    runs = [model.process(rgb) for _ in range(repeats)]
    out = {key: stats([r[key] for r in runs]) for key in STAGES}
    out["faces_found"] = runs[0]["faces"]
    return out


def time_pairs(model: Baseline, data_dir: Path, pairs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each pair end to end (both pictures detected and encoded, then the distance); decoding
    the JPEG files is done before the clock starts."""
    images = {
        p: model.load(data_dir / p) for pair in pairs for p in (pair["first"], pair["second"])
    }
    model.process(images[pairs[0]["first"]])  # warm-up
    per_image: dict[str, list[float]] = {key: [] for key in STAGES}
    pair_ms: list[float] = []
    pair_cpu_ms: list[float] = []
    not_found = 0
    for pair in pairs:
        cpu, started = time.thread_time(), time.perf_counter()
        a = model.process(images[pair["first"]])
        b = model.process(images[pair["second"]])
        float(np.linalg.norm(a["vector"] - b["vector"]))
        pair_ms.append((time.perf_counter() - started) * 1e3)
        pair_cpu_ms.append((time.thread_time() - cpu) * 1e3)
        for run in (a, b):
            not_found += not run["found"]
            for key, values in per_image.items():
                values.append(run[key])
    out = {key: stats(values) for key, values in per_image.items()}
    out["pair_ms"] = stats(pair_ms)
    out["pair_cpu_ms"] = stats(pair_cpu_ms)
    out["pairs"] = len(pairs)
    out["images_not_found"] = not_found
    return out


def embed_all(model: Baseline, data_dir: Path, paths: list[str], cache: Path) -> dict[str, Any]:
    """One encoding per picture, checkpointed to `cache` (.npz) so that a run can resume."""
    done: dict[str, dict[str, Any]] = {}
    if cache.exists():
        with np.load(cache, allow_pickle=False) as data:
            for i, name in enumerate(data["paths"].tolist()):
                done[name] = {
                    "vector": data["vectors"][i],
                    "found": bool(data["found"][i]),
                    "detect_ms": float(data["detect_ms"][i]),
                    "encode_ms": float(data["encode_ms"][i]),
                }
    todo = [p for p in paths if p not in done]
    print(f"lfw: {len(done)} cached, {len(todo)} to encode", file=sys.stderr, flush=True)
    started = time.perf_counter()
    for count, path in enumerate(todo, 1):
        run = model.process(model.load(data_dir / path))
        done[path] = {k: run[k] for k in ("vector", "found", "detect_ms", "encode_ms")}
        if count % CHECKPOINT_EVERY == 0 or count == len(todo):
            _save(cache, done)
            rate = (time.perf_counter() - started) / count
            print(
                f"lfw: {count}/{len(todo)} ({rate:.2f} s/image, "
                f"~{rate * (len(todo) - count) / 60:.0f} min left)",
                file=sys.stderr,
                flush=True,
            )
    return done


def _save(cache: Path, done: dict[str, dict[str, Any]]) -> None:
    names = sorted(done)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        paths=np.array(names),
        vectors=np.stack([done[n]["vector"] for n in names]),
        found=np.array([done[n]["found"] for n in names]),
        detect_ms=np.array([done[n]["detect_ms"] for n in names]),
        encode_ms=np.array([done[n]["encode_ms"] for n in names]),
    )
    os.replace(tmp, cache)


def kfold(scores: np.ndarray, same: np.ndarray, folds: np.ndarray) -> tuple[float, list[float]]:
    """Mean accuracy with the best threshold of the other folds (accept when score >= t)."""
    accuracies, thresholds = [], []
    for fold in np.unique(folds):
        test = folds == fold
        train_scores, train_same = scores[~test], same[~test]
        candidates = np.unique(train_scores)
        correct = [np.mean((train_scores >= t) == train_same) for t in candidates]
        threshold = float(candidates[int(np.argmax(correct))])
        thresholds.append(threshold)
        accuracies.append(float(np.mean((scores[test] >= threshold) == same[test])))
    return float(np.mean(accuracies)), thresholds


def lfw_accuracy(model: Baseline, data_dir: Path, out: Path) -> dict[str, Any]:
    pairs = read_pairs(data_dir)
    paths = sorted({p for pair in pairs for p in (pair["first"], pair["second"])})
    done = embed_all(model, data_dir, paths, out / "face_recognition_lfw.npz")
    distances = np.array(
        [np.linalg.norm(done[p["first"]]["vector"] - done[p["second"]]["vector"]) for p in pairs]
    )
    same = np.array([p["same"] for p in pairs], dtype=bool)
    folds = np.array([p["fold"] for p in pairs])
    accuracy, thresholds = kfold(-distances, same, folds)
    not_found = sorted(p for p in paths if not done[p]["found"])
    return {
        "pairs": len(pairs),
        "images": len(paths),
        "score": "negated Euclidean distance (accept when -distance >= threshold)",
        "scores": [round(float(-d), 6) for d in distances],
        "same": same.tolist(),
        "folds": folds.tolist(),
        "accuracy_5fold": round(accuracy, 6),
        "fold_distance_thresholds": [round(-t, 6) for t in thresholds],
        "accuracy_at_default_0.6": round(
            float(np.mean((distances <= DEFAULT_DISTANCE) == same)), 6
        ),
        "failures_to_detect": len(not_found),
        "failures_to_detect_files": [Path(p).name for p in not_found],
        "detect_ms": stats([done[p]["detect_ms"] for p in paths]),
        "encode_ms": stats([done[p]["encode_ms"] for p in paths]),
    }


def versions() -> dict[str, str]:
    from importlib.metadata import version

    names = ("dlib-bin", "face_recognition", "face_recognition_models", "numpy", "pillow")
    return {name: version(name) for name in names} | {"python": platform.python_version()}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="lfw-dev folder (pairs.txt)")
    parser.add_argument("--out", type=Path, default=Path("reports/baseline"))
    parser.add_argument("--pairs", type=int, default=200, help="pairs to time end to end")
    parser.add_argument("--astronaut", type=Path, default=None, help="astronaut.png to time")
    parser.add_argument("--repeats", type=int, default=20, help="astronaut repetitions")
    parser.add_argument("--lfw", action="store_true", help="also the 3,000-pair accuracy")
    parser.add_argument("--lfw-only", action="store_true", help="only the accuracy run")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    model = Baseline()
    report: dict[str, Any] = {
        "library": "face_recognition",
        "settings": {
            "detector": "hog",
            "upsample": 1,
            "num_jitters": 1,
            "landmarks": "small (5-point)",
        },
        "versions": versions(),
        "threads": {k: os.environ.get(k, "") for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
        "loadavg_start": os.getloadavg(),
    }
    if not args.lfw_only:
        if args.astronaut:
            report["astronaut"] = time_astronaut(model, args.astronaut, args.repeats)
        timing_pairs = read_pairs(args.data, args.pairs)
        report["timing_pairs"] = [[p["first"], p["second"]] for p in timing_pairs]
        report["lfw_pairs_timed"] = time_pairs(model, args.data, timing_pairs)
    if args.lfw or args.lfw_only:
        report["lfw"] = lfw_accuracy(model, args.data, args.out)
    report["loadavg_end"] = os.getloadavg()
    name = "face_recognition_lfw.json" if args.lfw_only else "face_recognition.json"
    (args.out / name).write_text(json.dumps(report, indent=1) + "\n", "utf-8")
    brief = {k: v for k, v in report.get("lfw", {}).items() if not isinstance(v, list)}
    print(
        json.dumps(
            {
                "astronaut": report.get("astronaut"),
                "pairs": report.get("lfw_pairs_timed"),
                "lfw": brief,
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
