"""`faceterm eval liveness --captures DIR --key FILE`: APCER per instrument, BPCER and a
recommended threshold from pilot captures (called by device/commands/liveness_cmd.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import numpy.typing as npt

from device.capture.evaluate import report, score_captures
from device.capture.store import load_key
from device.errors import ConfigError


def evaluate_captures(args: argparse.Namespace) -> int:
    from device.liveness.antispoof import AntispoofModel
    from device.vision.analyzer import FaceAnalyzer
    from device.vision.models import Manifest
    from device.vision.settings import VisionSettings

    if not args.key:
        raise ConfigError("--key is required with --captures")
    if not 0 <= args.bpcer_target < 100:
        raise ConfigError("--bpcer-target must be a percentage below 100")
    key = load_key(Path(args.key), create=False)
    analyzer = FaceAnalyzer.load(VisionSettings(models_dir=args.models))
    model = AntispoofModel.from_manifest(Manifest.load(Path(args.models)))
    if model is None:
        raise ConfigError(f"{args.models}: no antispoof model to score captures with")

    def scorer(rgb: npt.NDArray[np.uint8]) -> float | None:
        faces = analyzer.analyze(rgb, max_faces=2)
        return model.score(rgb, faces[0].detection.box) if len(faces) == 1 else None

    results = score_captures(Path(args.captures), key, scorer)
    summary = {"model": model.model_id,
               **report(results, model.threshold, args.bpcer_target)}
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(json.dumps(summary, indent=2))
    return 0
