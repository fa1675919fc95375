#!/usr/bin/env python3
"""Reference adaptation on the LFW "ageing" protocol (python scripts/eval_adaptation.py).

lfw-dev identities with at least 3 photos: the lowest-numbered photo is the enrolment, the
others are visits in index order (LFW photos carry no dates, so this is a stand-in for ageing:
later visits differ in pose, light, age and expression). Each visit is scored against the
current reference and accepted at the kiosk's threshold (manifest + match margin); a confident
pass (score >= threshold + policy margin) updates the adapted reference (device.match.adapt).
Reported: genuine acceptance with and without adaptation at the same threshold; FAR of the
final references against every image of every other lfw-dev identity (original vs adapted);
and a drag attack: an impostor absorbed at every visit regardless of score, to show the bound.
Liveness and quality are taken as good (offline photos). Embeddings are cached under .cache/.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from device.match.adapt import AdaptPolicy, PassEvidence, adapt, drift, eligible  # noqa: E402
from device.match.far_eval import DEFAULT_LFW, embed_image  # noqa: E402
from device.match.matcher import resolve_threshold  # noqa: E402
from device.session.settings import SessionSettings  # noqa: E402
from device.vision.analyzer import FaceAnalyzer  # noqa: E402
from device.vision.embed import Embedder  # noqa: E402
from device.vision.settings import VisionSettings  # noqa: E402


def embeddings(lfw: Path, cache: Path) -> tuple[list[str], np.ndarray, str, float | None]:
    settings = VisionSettings()
    embedder = Embedder.from_settings(settings)
    cache_file = cache / f"lfw_embeddings_{embedder.model_id}.npz"
    if cache_file.exists():
        data = np.load(cache_file)
        return list(data["keys"]), data["vectors"], embedder.model_id, embedder.threshold
    analyzer = FaceAnalyzer.load(settings)
    keys, vectors = [], []
    for path in sorted((lfw / "images").glob("*/*.jpg")):
        vector = embed_image(analyzer, embedder, path)
        if vector is not None:
            keys.append(f"{path.parent.name}/{int(path.stem.rsplit('_', 1)[1])}")
            vectors.append(vector / np.linalg.norm(vector))
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(cache_file, keys=np.array(keys), vectors=np.array(vectors, dtype=np.float32))
    return keys, np.array(vectors, dtype=np.float32), embedder.model_id, embedder.threshold


def run_visits(vectors: np.ndarray, rows: list[int], threshold: float,
               policy: AdaptPolicy | None) -> tuple[np.ndarray, list[float], int]:
    """The final reference, each visit's score against the reference of its day, updates."""
    original = vectors[rows[0]]
    current, scores, updates = original, [], 0
    for row in rows[1:]:
        score = float(current @ vectors[row])
        scores.append(score)
        evidence = PassEvidence("pass" if score >= threshold else "fail", score,
                            float(original @ vectors[row]), threshold, True, True)
        if policy is not None and eligible(evidence, policy):
            current = adapt(original, current, vectors[row], policy)
            updates += 1
    return current, scores, updates


def impostor_scores(refs: np.ndarray, owners: list[str], vectors: np.ndarray,
                    people: list[str]) -> np.ndarray:
    """Every reference against every image of every other identity."""
    scores = refs @ vectors.T
    other = np.array(owners)[:, None] != np.array(people)[None, :]
    return np.asarray(scores[other])


def threshold_at(impostors: np.ndarray, far: float) -> float:
    return float(np.quantile(impostors, 1.0 - far, method="higher"))


def condition(genuine: list[float], impostors: np.ndarray, threshold: float,
              updates: int) -> dict[str, object]:
    g = np.array(genuine)
    out: dict[str, object] = {
        "visits": len(g), "reference_updates": updates,
        "gar_at_kiosk_threshold": round(float(np.mean(g >= threshold)), 4),
        "far_at_kiosk_threshold": float(np.mean(impostors >= threshold)),
        "impostor_pairs": len(impostors)}
    for far in (1e-3, 1e-4):
        t = threshold_at(impostors, far)
        out[f"gar_at_far_{far:g}"] = {"threshold": round(t, 4),
                                      "gar": round(float(np.mean(g >= t)), 4)}
    return out


def drag(vectors: np.ndarray, groups: dict[str, list[int]], people: list[str],
         policy: AdaptPolicy, threshold: float, visits: int) -> dict[str, object]:
    """An impostor who once passed confidently (the closest other-identity image scoring at
    least threshold + margin against the enrolment) comes back `visits` times and is absorbed
    each time the policy allows. Measures how far the reference moves and what it accepts."""
    names = [n for n in sorted(groups)]
    rows_all = np.arange(len(people))
    dragged, refs, owners, drifts, kept = 0, [], [], [], []
    for name in names:
        rows = groups[name]
        original = vectors[rows[0]]
        others = rows_all[np.array(people) != name]
        scores = vectors[others] @ original
        best = int(np.argmax(scores))
        if scores[best] < threshold + policy.confident_margin:
            continue
        impostor = vectors[others[best]]
        dragged += 1
        current = original
        for _ in range(visits):
            evidence = PassEvidence("pass", float(current @ impostor), float(original @ impostor),
                                threshold, True, True)
            if eligible(evidence, policy):
                current = adapt(original, current, impostor, policy)
        refs.append(current)
        owners.append(name)
        drifts.append(drift(original, current))
        kept.extend(float(current @ vectors[r]) >= threshold for r in rows[1:])
    if not refs:
        return {"identities_with_a_confident_impostor": 0}
    impostors = impostor_scores(np.array(refs), owners, vectors, people)
    return {"identities_with_a_confident_impostor": dragged, "absorptions_tried": visits,
            "min_cos_to_original": round(float(np.min(drifts)), 4),
            "genuine_acceptance_after_drag": round(float(np.mean(kept)), 4),
            "far_of_dragged_references": float(np.mean(impostors >= threshold))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lfw", type=Path, default=DEFAULT_LFW)
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "adaptation.json")
    parser.add_argument("--weight", type=float, default=AdaptPolicy().weight)
    parser.add_argument("--margin", type=float, default=AdaptPolicy().confident_margin)
    parser.add_argument("--min-cos", type=float, default=AdaptPolicy().min_cos_to_original)
    args = parser.parse_args()
    started = time.monotonic()
    keys, vectors, model, manifest_threshold = embeddings(args.lfw, args.cache)
    threshold = resolve_threshold(None, manifest_threshold, SessionSettings().match_margin)
    people = [k.split("/")[0] for k in keys]
    groups: dict[str, list[int]] = {}
    for row, key in sorted(enumerate(keys), key=lambda rk: (rk[1].split("/")[0],
                                                            int(rk[1].split("/")[1]))):
        groups.setdefault(key.split("/")[0], []).append(row)
    groups = {n: r for n, r in groups.items() if len(r) >= 3}
    policy = AdaptPolicy(args.weight, args.margin, args.min_cos)
    report: dict[str, object] = {"model": model, "threshold": threshold,
                                 "policy": {"weight": policy.weight,
                                            "confident_margin": policy.confident_margin,
                                            "min_cos_to_original": policy.min_cos_to_original},
                                 "identities": len(groups)}
    for label, chosen in (("without_adaptation", None), ("with_adaptation", policy)):
        refs, owners, genuine, updates = [], [], [], 0
        for name, rows in groups.items():
            ref, scores, up = run_visits(vectors, rows, threshold, chosen)
            refs.append(ref)
            owners.append(name)
            genuine.extend(scores)
            updates += up
        impostors = impostor_scores(np.array(refs), owners, vectors, people)
        report[label] = condition(genuine, impostors, threshold, updates)
    report["drag_attack"] = drag(vectors, groups, people, policy, threshold, visits=50)
    report["seconds"] = round(time.monotonic() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
