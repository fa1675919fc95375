"""Impostor and genuine acceptance of the session's match policy on lfw-dev
(python -m device.match.far_eval [--threshold T] [--lfw DIR]).

Each image goes through the session's own path: FaceAnalyzer (the face nearest the image centre
when there are several), five-point alignment, the configured embed model. The 1,500 genuine and
1,500 impostor pairs of pairs.txt are scored by cosine and accepted at the threshold the session
uses (by default the manifest's calibrated one). A reference enrolled from several photos is
also tried: for each genuine pair, person A's other lfw-dev photos are averaged with the first
image into the reference, as `faceterm enroll` does.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from device.match.enrol import average, read_rgb
from device.match.matcher import cosine, resolve_threshold
from device.session.settings import SessionSettings
from device.vision.align import align_face, five_points
from device.vision.analyzer import FaceAnalyzer
from device.vision.embed import Embedder
from device.vision.settings import VisionSettings
from device.vision.types import Vector

DEFAULT_LFW = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "lfw-dev"
Pair = tuple[str, str, bool]


def read_pairs(root: Path) -> list[Pair]:
    """(image a, image b, same person) for every line of pairs.txt after the header."""
    pairs: list[Pair] = []
    lines = (root / "pairs.txt").read_text().splitlines()[1:]
    for line in lines:
        parts = line.split()
        if len(parts) == 3:
            pairs.append((f"{parts[0]}/{int(parts[1])}", f"{parts[0]}/{int(parts[2])}", True))
        elif len(parts) == 4:
            pairs.append((f"{parts[0]}/{int(parts[1])}", f"{parts[2]}/{int(parts[3])}", False))
    return pairs


def image_path(root: Path, key: str) -> Path:
    name, index = key.split("/")
    return root / "images" / name / f"{name}_{int(index):04d}.jpg"


def embed_image(analyzer: FaceAnalyzer, embedder: Embedder, path: Path) -> Vector | None:
    rgb = read_rgb(path)
    faces = analyzer.analyze(rgb, max_faces=4)
    if not faces:
        return None
    centre = np.array([rgb.shape[1] / 2.0, rgb.shape[0] / 2.0])
    face = min(
        faces, key=lambda f: float(np.linalg.norm(np.array(f.detection.box.center) - centre))
    )
    return embedder.embed(align_face(rgb, five_points(face)))


def rates(scores: list[tuple[float, bool]], threshold: float) -> dict[str, object]:
    genuine = [s for s, same in scores if same]
    impostor = [s for s, same in scores if not same]
    return {
        "threshold": round(threshold, 4),
        "genuine_pairs": len(genuine),
        "impostor_pairs": len(impostor),
        "gar": round(float(np.mean([s >= threshold for s in genuine])), 4),
        "far": round(float(np.mean([s >= threshold for s in impostor])), 5),
        "false_accepts": int(sum(s >= threshold for s in impostor)),
        "top_impostors": [round(v, 4) for v in sorted(impostor, reverse=True)[:3]],
    }


def enrolled_scores(pairs: list[Pair], cache: dict[str, Vector | None]) -> list[tuple[float, bool]]:
    """Scores against a reference averaged from all of person A's cached photos but b."""
    by_person: dict[str, list[str]] = {}
    for key in cache:
        by_person.setdefault(key.split("/")[0], []).append(key)
    scores = []
    for a, b, same in pairs:
        keys = [k for k in by_person[a.split("/")[0]] if k != b]
        vectors = [v for k in keys if (v := cache[k]) is not None]
        reference, probe = average(vectors), cache[b]
        ok = reference is not None and probe is not None
        scores.append((cosine(reference, probe) if ok else -math.inf, same))  # type: ignore[arg-type]
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lfw", type=Path, default=DEFAULT_LFW)
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--variant", default=VisionSettings().embed_variant)
    args = parser.parse_args(argv)
    settings = VisionSettings(embed_variant=args.variant)
    analyzer = FaceAnalyzer.load(settings)
    embedder = Embedder.from_settings(settings)
    margin = SessionSettings().match_margin
    threshold = resolve_threshold(args.threshold, embedder.threshold, margin)
    pairs = read_pairs(args.lfw)
    started = time.monotonic()
    cache: dict[str, Vector | None] = {}
    for a, b, _ in pairs:
        for key in (a, b):
            if key not in cache:
                cache[key] = embed_image(analyzer, embedder, image_path(args.lfw, key))
    scores = [
        (cosine(va, vb) if va is not None and vb is not None else -math.inf, same)
        for (a, b, same) in pairs
        for va, vb in [(cache[a], cache[b])]
    ]
    base = embedder.threshold if embedder.threshold is not None else threshold
    sweep = [base + d for d in (0.0, 0.005, 0.01, 0.02)]
    report = {
        "model": embedder.model_id,
        "images": len(cache),
        "no_face": sum(v is None for v in cache.values()),
        "seconds": round(time.monotonic() - started, 1),
        "single_image": rates(scores, threshold),
        "enrolled_reference": rates(enrolled_scores(pairs, cache), threshold),
        "sweep": [rates(scores, t) for t in sweep],
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
