"""LFW-style verification benchmark: pairs.txt, the project's own detection and alignment, one
embedding per image, n-fold accuracy, TAR at fixed FAR and the operating threshold.

pairs.txt: a header `FOLDS N`, then per fold N genuine lines `name i j` and N impostor lines
`name1 i name2 j`; images live at images/<name>/<name>_<iiii>.jpg.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from device.errors import FacetermError
from device.eval import metrics
from device.eval.crops import CropMaker, read_rgb
from device.vision.types import Vector

log = logging.getLogger(__name__)
OPERATING_FAR = 1e-3
REPORT_FARS = (1e-2, 1e-3)
# The ceiling of the decision threshold: FAR 1e-6 cannot be measured on 1,500 impostor pairs,
# so the ceiling is where genuine acceptance on lfw-dev would fall below 90 %.
CEILING_TAR = 0.9


@dataclass(frozen=True, slots=True)
class Pair:
    first: Path
    second: Path
    same: bool
    fold: int


def image_path(data_dir: Path, name: str, number: str) -> Path:
    return data_dir / "images" / name / f"{name}_{int(number):04d}.jpg"


def read_pairs(data_dir: Path, limit: int | None = None) -> list[Pair]:
    """Every pair of pairs.txt; with `limit`, about limit pairs kept evenly over folds and over
    genuine/impostor (the first ones of each block), so every fold still has both kinds."""
    path = data_dir / "pairs.txt"
    try:
        lines = [line.split() for line in path.read_text(encoding="utf-8").splitlines()]
    except OSError as exc:
        raise FacetermError(f"{path}: cannot read pairs list: {exc.strerror}") from exc
    lines = [tokens for tokens in lines if tokens]
    try:
        folds, per_class = int(lines[0][0]), int(lines[0][1])
    except (IndexError, ValueError) as exc:
        raise FacetermError(f"{path}: first line must be 'FOLDS PAIRS_PER_CLASS'") from exc
    if len(lines) - 1 != folds * per_class * 2:
        raise FacetermError(f"{path}: expected {folds * per_class * 2} pairs, got {len(lines) - 1}")
    keep = per_class if limit is None else max(1, math.ceil(limit / (2 * folds)))
    pairs: list[Pair] = []
    for index, tokens in enumerate(lines[1:]):
        fold, offset = divmod(index, 2 * per_class)
        if offset % per_class >= keep:
            continue
        pairs.append(_pair(data_dir, tokens, fold, f"{path}:{index + 2}"))
    return pairs


def _pair(data_dir: Path, tokens: list[str], fold: int, where: str) -> Pair:
    if len(tokens) == 3:
        name, i, j = tokens
        return Pair(image_path(data_dir, name, i), image_path(data_dir, name, j), True, fold)
    if len(tokens) == 4:
        first, i, second, j = tokens
        return Pair(image_path(data_dir, first, i), image_path(data_dir, second, j), False, fold)
    raise FacetermError(f"{where}: a pair line has 3 or 4 fields, got {len(tokens)}")


class EmbeddingCache:
    """Each image is read, aligned and embedded once; pictures without a face are counted."""

    def __init__(self, crops: CropMaker, embed: Callable[[npt.NDArray[np.uint8]], Vector]) -> None:
        self._crops = crops
        self._embed = embed
        self._vectors: dict[Path, Vector] = {}
        self.not_found: list[str] = []
        self.embed_ms: list[float] = []

    def __call__(self, path: Path) -> Vector:
        vector = self._vectors.get(path)
        if vector is None:
            crop = self._crops.crop(read_rgb(path))
            if not crop.found:
                self.not_found.append(path.name)
            started = time.perf_counter()
            vector = self._embed(crop.crop)
            self.embed_ms.append((time.perf_counter() - started) * 1000.0)
            self._vectors[path] = vector
        return vector

    def __len__(self) -> int:
        return len(self._vectors)


def score_pairs(
    pairs: list[Pair], cache: EmbeddingCache, progress: bool = True
) -> npt.NDArray[np.float64]:
    """Cosine score of every pair (embeddings are L2-normalised: a dot product)."""
    from tqdm import tqdm

    scores = np.empty(len(pairs), dtype=np.float64)
    for index, pair in enumerate(tqdm(pairs, desc="pairs", unit="pair", disable=not progress)):
        scores[index] = float(np.dot(cache(pair.first), cache(pair.second)))
    return scores


def summarise(scores: npt.NDArray[np.float64], pairs: list[Pair]) -> dict[str, Any]:
    """Accuracy (n-fold), TAR at each reporting FAR and the operating threshold at FAR 1e-3."""
    same = np.array([p.same for p in pairs], dtype=bool)
    folds = np.array([p.fold for p in pairs], dtype=int)
    fold_acc = metrics.kfold_accuracy(scores, same, folds)
    points = {far: metrics.threshold_at_far(scores, same, far) for far in REPORT_FARS}
    operating = points[OPERATING_FAR]
    report: dict[str, Any] = {
        "pairs": len(pairs),
        "genuine_pairs": int(same.sum()),
        "impostor_pairs": int((~same).sum()),
        "folds": len(np.unique(folds)),
        "accuracy": round(fold_acc.mean, 6),
        "accuracy_std": round(fold_acc.std, 6),
        "fold_thresholds": [round(t, 6) for t in fold_acc.thresholds],
        "threshold": round(operating.threshold, 6),
        "far_at_threshold": round(operating.far, 6),
        "tar_at_threshold": round(operating.tar, 6),
        "operating_far": OPERATING_FAR,
    }
    ceiling = metrics.threshold_at_tar(scores, same, CEILING_TAR)
    report["threshold_ceiling"] = round(ceiling.threshold, 6)
    report["ceiling_tar"] = CEILING_TAR
    report["far_at_ceiling"] = round(ceiling.far, 6)
    for far, point in points.items():
        report[f"tar_at_far_{far:.0e}".replace("e-0", "e-")] = round(point.tar, 6)
        report[f"threshold_at_far_{far:.0e}".replace("e-0", "e-")] = round(point.threshold, 6)
    return report


@dataclass(frozen=True, slots=True)
class LfwRun:
    """What `run` needs: data, model choice and where to write the report and plot."""

    data_dir: Path
    models_dir: Path
    variant: str
    out_dir: Path
    limit: int | None = None
    num_threads: int = 2
    progress: bool = True


def run(job: LfwRun) -> dict[str, Any]:
    """Evaluate one embedding variant; writes report.json and roc.png into job.out_dir."""
    from device.eval.plot import plot_roc_det
    from device.vision.embed import Embedder
    from device.vision.models import Manifest

    pairs = read_pairs(job.data_dir, job.limit)
    manifest = Manifest.load(job.models_dir)
    embedder = Embedder.from_manifest(manifest, job.variant, job.num_threads)
    cache = EmbeddingCache(CropMaker.load(job.models_dir, job.num_threads), embedder.embed)
    started = time.perf_counter()
    scores = score_pairs(pairs, cache, job.progress)
    report = summarise(scores, pairs)
    report.update(
        {
            "variant": job.variant,
            "model": embedder.model_id,
            "images": len(cache),
            "failures_to_enrol": len(cache.not_found),
            "failures_to_enrol_rate": round(len(cache.not_found) / max(1, len(cache)), 6),
            "failures_to_enrol_files": sorted(cache.not_found),
            "embed_ms_median": round(float(np.median(cache.embed_ms)), 3),
            "alignment": "device.vision.analyzer BlazeFace + face mesh, five-point ArcFace",
            "elapsed_s": round(time.perf_counter() - started, 1),
        }
    )
    job.out_dir.mkdir(parents=True, exist_ok=True)
    same = np.array([p.same for p in pairs], dtype=bool)
    plot_roc_det(scores, same, job.out_dir / "roc.png", f"{job.variant} on {job.data_dir.name}")
    (job.out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    log.info("lfw %s: accuracy %.4f, TAR@1e-3 %.4f", job.variant, report["accuracy"],
             report["tar_at_far_1e-3"])  # fmt: skip
    return report
