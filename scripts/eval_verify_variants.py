#!/usr/bin/env python3
"""Which alignment and which embedding (plain or flip-averaged, fp16 or int8) verify best on
lfw-dev, measured all at once so that every variant tried is reported beside the others.

Stage 1 (cached in .cache/accuracy/landmarks.npz): every lfw-dev image once through the
project's own analyzer (BlazeFace + face mesh, the central face as in device.eval.crops), keeping
the six BlazeFace keypoints and the mesh's x, y.
Stage 2 (cached per alignment and model): for each alignment, the aligned 112x112 crop and its
mirror image embedded by each model.
Stage 3: per variant, the 5-fold accuracy and TAR at FAR 1e-3 on the 3,000 pairs of pairs.txt
(device.eval.metrics, as `faceterm eval lfw`), and the FAR 1e-3 / 1e-4 / 1e-5 thresholds over
every cross-identity pair (scripts/far_thresholds.py), without the bootstrap.

Alignments: `mesh` (five points from the mesh, today's default), `keypoints` (five points from the
BlazeFace keypoints alone, mouth corners estimated: no mesh needed), `mesh_contour` (eye centres
as the mean of each eye's 16 mesh contour points).

    nice python scripts/eval_verify_variants.py --data ../shared/data/lfw-dev [--models int8]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from far_thresholds import impostor_genuine, threshold_at  # noqa: E402

from device.eval import metrics  # noqa: E402
from device.eval.crops import MAX_FACES, central_face, centre_crop, read_rgb  # noqa: E402
from device.eval.lfw import read_pairs  # noqa: E402
from device.vision import align  # noqa: E402
from device.vision.analyzer import FaceAnalyzer  # noqa: E402
from device.vision.embed import Embedder, l2_normalise  # noqa: E402
from device.vision.models import Manifest  # noqa: E402
from device.vision.settings import VisionSettings  # noqa: E402

CACHE = REPO / ".cache" / "accuracy"
TARGETS = (1e-3, 1e-4, 1e-5)
# The 16 contour points of each eye in the face mesh (person's right eye first), the ones the
# iris model refines (MediaPipe's left/right eye contour index lists).
EYE_CONTOURS = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173),
    (263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398),
)


def landmarks(data_dir: Path, models: Path) -> dict[str, Any]:
    """Keypoints and mesh of the central face of every image (NaN where none), cached."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / "landmarks.npz"
    if path.is_file():
        with np.load(path) as data:
            return {k: data[k] for k in data.files}
    analyzer = FaceAnalyzer.load(VisionSettings(models_dir=str(models), num_threads=1))
    files = sorted((data_dir / "images").glob("*/*.jpg"))
    keypoints = np.full((len(files), 6, 2), np.nan, np.float32)
    mesh = np.full((len(files), 468, 2), np.nan, np.float32)
    for i, file in enumerate(files):
        rgb = read_rgb(file)
        faces = analyzer.analyze(rgb, max_faces=MAX_FACES)
        if faces:
            face = central_face(faces, rgb.shape[1], rgb.shape[0])
            keypoints[i] = face.detection.keypoints
            if face.mesh is not None:
                mesh[i] = face.mesh.points[:, :2]
    names = np.array([str(f.relative_to(data_dir)) for f in files])
    np.savez(path, paths=names, keypoints=keypoints, mesh=mesh)
    return {"paths": names, "keypoints": keypoints, "mesh": mesh}


def points_keypoints(kp: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    right_eye, left_eye, nose, mouth = kp[0], kp[1], kp[2], kp[3]
    half = (left_eye - right_eye) * (align.MOUTH_TO_EYE_RATIO / 2.0)
    return np.stack([right_eye, left_eye, nose, mouth - half, mouth + half]).astype(np.float32)


def points_mesh(kp: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    if np.isnan(mesh).any():
        return points_keypoints(kp, mesh)
    eyes = [mesh[list(idx)].mean(axis=0) for idx in align.MESH_EYES]
    mouth = [mesh[i] for i in align.MESH_MOUTH_CORNERS]
    return np.stack([*eyes, mesh[align.MESH_NOSE_TIP], *mouth]).astype(np.float32)


def points_mesh_contour(kp: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    if np.isnan(mesh).any():
        return points_keypoints(kp, mesh)
    eyes = [mesh[list(idx)].mean(axis=0) for idx in EYE_CONTOURS]
    mouth = [mesh[i] for i in align.MESH_MOUTH_CORNERS]
    return np.stack([*eyes, mesh[align.MESH_NOSE_TIP], *mouth]).astype(np.float32)


ALIGNMENTS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "mesh": points_mesh,
    "keypoints": points_keypoints,
    "mesh_contour": points_mesh_contour,
}


def raw_embed(embedder: Embedder, crop: np.ndarray) -> np.ndarray:
    """The model's output before normalisation (flip averaging adds these)."""
    (raw,) = embedder._model.invoke(crop.astype(np.float32)[np.newaxis])
    return np.asarray(raw, dtype=np.float32).reshape(-1)


def embeddings(data_dir: Path, models: Path, marks: dict[str, Any], alignment: str,
               variant: str) -> dict[str, np.ndarray]:
    """Raw embeddings of each image's aligned crop and of its mirror image, cached."""
    path = CACHE / f"emb_{alignment}_{variant}.npz"
    if path.is_file():
        with np.load(path) as data:
            return {k: data[k] for k in data.files}
    embedder = Embedder.from_manifest(Manifest.load(models), variant, 1)
    plain = np.zeros((len(marks["paths"]), 128), np.float32)
    flip = np.zeros_like(plain)
    started = time.perf_counter()
    for i, name in enumerate(marks["paths"]):
        rgb = read_rgb(data_dir / str(name))
        if np.isnan(marks["keypoints"][i]).any():
            crop = centre_crop(rgb)
        else:
            crop = align.align_face(rgb, ALIGNMENTS[alignment](marks["keypoints"][i],
                                                               marks["mesh"][i]))
        plain[i] = raw_embed(embedder, crop)
        flip[i] = raw_embed(embedder, np.ascontiguousarray(crop[:, ::-1]))
        if (i + 1) % 500 == 0:
            rate = (time.perf_counter() - started) / (i + 1)
            print(f"{alignment}/{variant}: {i + 1}/{len(plain)} ({rate * 1e3:.0f} ms/image)",
                  file=sys.stderr, flush=True)
    np.savez(path, plain=plain, flip=flip)
    return {"plain": plain, "flip": flip}


def normalise_rows(rows: np.ndarray) -> np.ndarray:
    return np.stack([l2_normalise(r) for r in rows])


def score(probe: np.ndarray, reference: np.ndarray, index: dict[str, int],
          data_dir: Path) -> dict[str, Any]:
    """Pair scores: the first picture of a pair as the probe, the second as the reference."""
    pairs = read_pairs(data_dir)
    first = np.array([index[str(p.first.relative_to(data_dir))] for p in pairs])
    second = np.array([index[str(p.second.relative_to(data_dir))] for p in pairs])
    scores = np.einsum("ij,ij->i", probe[first], reference[second]).astype(np.float64)
    same = np.array([p.same for p in pairs])
    folds = np.array([p.fold for p in pairs])
    fold = metrics.kfold_accuracy(scores, same, folds)
    point = metrics.threshold_at_far(scores, same, 1e-3)
    return {"accuracy": round(fold.mean, 6), "accuracy_std": round(fold.std, 6),
            "per_fold": [round(a, 4) for a in fold.per_fold],
            "tar_at_far_1e-3_pairs": round(point.tar, 6),
            "threshold_at_far_1e-3_pairs": round(point.threshold, 6)}


def all_pairs(probe: np.ndarray, reference: np.ndarray, people: np.ndarray) -> dict[str, Any]:
    if probe is reference:
        impostor, genuine = impostor_genuine(probe, people)
    else:
        scores = probe @ reference.T
        upper = np.triu_indices(len(probe), k=1)
        same = people[upper[0]] == people[upper[1]]
        flat = scores[upper].astype(np.float64)
        impostor, genuine = flat[~same], flat[same]
    ordered = np.sort(impostor)[::-1]
    out: dict[str, Any] = {"impostor_pairs": len(impostor), "genuine_pairs": len(genuine)}
    for far in TARGETS:
        threshold = threshold_at(ordered, far)
        out[f"{far:.0e}"] = {"threshold": round(threshold, 6),
                             "tar": round(float((genuine >= threshold).mean()), 6)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--models-dir", type=Path, default=REPO / "models")
    parser.add_argument("--alignments", default="mesh,keypoints,mesh_contour")
    parser.add_argument("--variants", default="sface_fp16")
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "verify_variants.json")
    args = parser.parse_args()
    marks = landmarks(args.data, args.models_dir)
    index = {str(name): i for i, name in enumerate(marks["paths"])}
    people = np.unique([str(n).split("/")[1] for n in marks["paths"]], return_inverse=True)[1]
    results: dict[str, Any] = {
        "images": len(index),
        "failures_to_detect": int(np.isnan(marks["keypoints"][:, 0, 0]).sum()),
        "no_mesh": int(np.isnan(marks["mesh"][:, 0, 0]).sum()),
        "variants": {},
    }
    for alignment in args.alignments.split(","):
        for variant in args.variants.split(","):
            raw = embeddings(args.data, args.models_dir, marks, alignment, variant)
            plain = normalise_rows(raw["plain"])
            flipped = normalise_rows(raw["plain"] + raw["flip"])
            # flip_reference: only the reference side (an enrolled template, embedded once)
            # is flip-averaged; the probe costs one embedding as without flip.
            kinds = {"": (plain, plain), "/flip": (flipped, flipped),
                     "/flip_reference": (plain, flipped)}
            for suffix, (probe, reference) in kinds.items():
                name = f"{variant}/{alignment}{suffix}"
                entry = score(probe, reference, index, args.data)
                entry["all_pairs"] = all_pairs(probe, reference, people)
                results["variants"][name] = entry
                print(name, json.dumps({k: v for k, v in entry.items() if k != "per_fold"}),
                      flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
