"""Impostor and genuine acceptance on one lfw-dev fold through the session's own pipeline
(analyzer, five-point alignment, embed model) at the session's threshold. The full five folds
run in `python -m device.match.far_eval` (1,500 + 1,500 pairs, about 80 s)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from device.match.far_eval import embed_image, image_path, rates, read_pairs
from device.match.matcher import cosine
from device.vision.analyzer import FaceAnalyzer
from device.vision.embed import Embedder
from device.vision.settings import VisionSettings

REPO = Path(__file__).resolve().parents[2]
LFW = Path(os.environ.get("FACETERM_LFW", REPO.parent / "shared" / "data" / "lfw-dev"))
THRESHOLD = 0.3795  # the session default: manifest 0.36945 (all-pairs FAR 1e-3) + match_margin 0.01


@pytest.mark.lfw
def test_fold_one_acceptance_rates():
    if not (LFW / "pairs.txt").is_file():
        pytest.skip(f"lfw-dev not found at {LFW} (set FACETERM_LFW)")
    settings = VisionSettings(models_dir=str(REPO / "models"))
    analyzer, embedder = FaceAnalyzer.load(settings), Embedder.from_settings(settings)
    pairs = read_pairs(LFW)[:600]  # fold 1: 300 genuine then 300 impostor pairs
    cache = {}
    scores = []
    for a, b, same in pairs:
        for key in (a, b):
            if key not in cache:
                cache[key] = embed_image(analyzer, embedder, image_path(LFW, key))
        scores.append((cosine(cache[a], cache[b]), same))
    result = rates(scores, THRESHOLD)
    assert result["impostor_pairs"] == 300 and result["false_accepts"] == 0
    assert result["gar"] >= 0.97
