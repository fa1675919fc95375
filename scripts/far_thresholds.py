"""FAR operating points from every cross-identity pair of lfw-dev (the 1,500 impostor pairs of
pairs.txt cannot measure a FAR of 1e-3: about 1.5 expected false accepts).

Every image of lfw-dev is embedded once (own detection, mesh and five-point alignment, the
default variant); all cross-identity pairs (millions) give the impostor scores and all
same-identity pairs the genuine ones. For each target FAR the threshold is the score above which
that fraction of impostor pairs lies; its 95 % interval comes from the Clopper-Pearson bounds of
the false-accept count (which assume independent pairs; pairs sharing an image are not, so the
interval is optimistic) and, separately, from subsampling half the identities (a bootstrap
over identities without replacement). With --write the result goes into models/manifest.json
as `far_thresholds` of the variant, and its FAR 1e-3 threshold becomes the variant's
`threshold` (the kiosk's floor; scripts/build_models.py `far` does the same for every variant).

  python scripts/far_thresholds.py [--variant sface_fp16] [--data LFW] [--write]
      [--out reports/far_thresholds.json] [--from-json EARLIER_OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import beta

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
LFW = REPO.parent / "shared" / "data" / "lfw-dev"
TARGETS = (1e-3, 1e-4, 1e-5)
OPERATING = "1e-03"
THRESHOLD_METHOD = (
    "FAR 1e-3 over every cross-identity pair of lfw-dev (far_thresholds.points['1e-03']); "
    "the kiosk's floor, below which more impostors pass than GB/T 38671-2020 allows"
)
BOOTSTRAP = 200


def embed_all(variant: str, data_dir: Path, models_dir: Path) -> tuple[np.ndarray, np.ndarray, int]:
    from device.eval.crops import CropMaker
    from device.eval.lfw import EmbeddingCache
    from device.vision.embed import Embedder
    from device.vision.models import Manifest

    embedder = Embedder.from_manifest(Manifest.load(models_dir), variant)
    cache = EmbeddingCache(CropMaker.load(models_dir), embedder.embed)
    paths = sorted((data_dir / "images").glob("*/*.jpg"))
    vectors = np.stack([cache(path) for path in paths]).astype(np.float32)
    people = np.unique([p.parent.name for p in paths], return_inverse=True)[1]
    return vectors, people, len(cache.not_found)


def impostor_genuine(vectors: np.ndarray, people: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = vectors @ vectors.T
    upper = np.triu_indices(len(vectors), k=1)
    same = people[upper[0]] == people[upper[1]]
    flat = scores[upper]
    return flat[~same].astype(np.float64), flat[same].astype(np.float64)


def threshold_at(sorted_desc: np.ndarray, far: float) -> float:
    """The smallest threshold whose FAR (score >= t) is at most `far`."""
    k = int(np.floor(far * len(sorted_desc)))
    return float(np.nextafter(sorted_desc[k], np.inf)) if k < len(sorted_desc) else -1.0


def clopper_pearson_interval(sorted_desc: np.ndarray, far: float) -> tuple[float, float]:
    """Thresholds whose false-accept counts are the 95 % Clopper-Pearson bounds for `far`."""
    n = len(sorted_desc)
    k = int(np.floor(far * n))
    low_rate = beta.ppf(0.025, k, n - k + 1) if k > 0 else 0.0
    high_rate = beta.ppf(0.975, k + 1, n - k)
    return threshold_at(sorted_desc, high_rate), threshold_at(sorted_desc, low_rate)


def bootstrap_interval(vectors: np.ndarray, people: np.ndarray, far: float,
                       rng: np.random.Generator) -> tuple[float, float]:
    """2.5 / 97.5 percentiles of the threshold over impostor sets of half the identities."""
    ids = np.unique(people)
    members = [np.flatnonzero(people == i) for i in ids]
    found = []
    for _ in range(BOOTSTRAP):
        chosen = rng.choice(len(ids), size=len(ids) // 2, replace=False)
        rows = np.concatenate([members[c] for c in chosen])
        impostor, _ = impostor_genuine(vectors[rows], people[rows])
        found.append(threshold_at(np.sort(impostor)[::-1], far))
    return float(np.percentile(found, 2.5)), float(np.percentile(found, 97.5))


def measure(variant: str, data_dir: Path = LFW,
            models_dir: Path = REPO / "models") -> dict[str, Any]:
    vectors, people, not_found = embed_all(variant, data_dir, models_dir)
    impostor, genuine = impostor_genuine(vectors, people)
    ordered = np.sort(impostor)[::-1]
    rng = np.random.default_rng(20261202)
    points = {}
    for far in TARGETS:
        threshold = threshold_at(ordered, far)
        cp_low, cp_high = clopper_pearson_interval(ordered, far)
        boot_low, boot_high = bootstrap_interval(vectors, people, far, rng)
        points[f"{far:.0e}"] = {
            "threshold": round(threshold, 6),
            "ci95_clopper_pearson": [round(cp_low, 6), round(cp_high, 6)],
            "ci95_bootstrap_identities": [round(boot_low, 6), round(boot_high, 6)],
            "false_accepts": int((impostor >= threshold).sum()),
            "tar": round(float((genuine >= threshold).mean()), 6),
        }
    return {
        "dataset": "lfw-dev, every image embedded once; all cross-identity pairs impostor, "
                   "all same-identity pairs genuine",
        "images": len(vectors), "identities": len(np.unique(people)),
        "failures_to_enrol": not_found, "impostor_pairs": len(impostor),
        "genuine_pairs": len(genuine), "bootstrap": f"{BOOTSTRAP} subsamples of half the "
        "identities (without replacement: a repeated identity would be its own impostor)",
        "points": points,
    }


def with_far_thresholds(manifest: dict[str, Any], variant: str,
                        result: dict[str, Any]) -> dict[str, Any]:
    """The manifest with the variant's `far_thresholds` set and its `threshold` (the floor) moved
    to the FAR 1e-3 threshold measured on every cross-identity pair."""
    entries = []
    for entry in manifest["models"]:
        if entry.get("task") == "embed" and entry.get("variant") == variant:
            entry = dict(entry, far_thresholds=result,
                         threshold=result["points"][OPERATING]["threshold"],
                         threshold_method=THRESHOLD_METHOD)
        entries.append(entry)
    return dict(manifest, models=entries)


def write_manifest(variant: str, result: dict[str, Any], models_dir: Path) -> None:
    path = models_dir / "manifest.json"
    data = with_far_thresholds(json.loads(path.read_text(encoding="utf-8")), variant, result)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="sface_fp16")
    parser.add_argument("--data", type=Path, default=LFW, help="lfw-dev folder")
    parser.add_argument("--models", type=Path, default=REPO / "models")
    parser.add_argument("--write", action="store_true", help="store into models/manifest.json")
    parser.add_argument("--from-json", type=Path,
                        help="an earlier --out of this script to --write instead of measuring")
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "far_thresholds.json")
    args = parser.parse_args()
    if args.from_json:
        result = json.loads(args.from_json.read_text(encoding="utf-8"))
    else:
        result = measure(args.variant, args.data, args.models)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))
    if args.write:
        write_manifest(args.variant, result, args.models)
    return 0


if __name__ == "__main__":
    sys.exit(main())
