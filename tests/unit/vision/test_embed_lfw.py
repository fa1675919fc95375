"""Genuine and impostor LFW-dev pairs through the project's own alignment and the real models.
Skipped (with the reason) where ../shared/data/lfw-dev is absent: it is never copied here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from device.eval.crops import CropMaker, read_rgb
from device.eval.lfw import read_pairs
from device.vision.analyzer import FaceAnalyzer
from device.vision.embed import Embedder
from device.vision.models import Manifest

LFW_DIR = Path(__file__).resolve().parents[4] / "shared" / "data" / "lfw-dev"
PAIRS_PER_KIND = 8

pytestmark = [
    pytest.mark.lfw,
    pytest.mark.skipif(
        not (LFW_DIR / "pairs.txt").is_file(),
        reason=f"LFW-dev data not present at {LFW_DIR} (research-use data, never in the repo)",
    ),
]


@pytest.mark.parametrize("variant", ["sface_fp16", "sface_int8"])
def test_lfw_pairs_separate_at_the_manifest_threshold(
    analyzer: FaceAnalyzer, models_dir: Path, variant: str
) -> None:
    embedder = Embedder.from_manifest(Manifest.load(models_dir), variant, num_threads=2)
    crops = CropMaker(analyzer)
    pairs = read_pairs(LFW_DIR, limit=PAIRS_PER_KIND * 2 * 5)[: PAIRS_PER_KIND * 2]
    scores = {True: [], False: []}  # type: dict[bool, list[float]]
    for pair in pairs:
        first = embedder.embed(crops.crop(read_rgb(pair.first)).crop)
        second = embedder.embed(crops.crop(read_rgb(pair.second)).crop)
        scores[pair.same].append(float(np.dot(first, second)))
    threshold = embedder.threshold
    assert threshold is not None and 0.1 < threshold < 0.6
    assert len(scores[True]) == len(scores[False]) == PAIRS_PER_KIND
    assert np.median(scores[True]) > threshold > np.median(scores[False])
    correct = sum(s >= threshold for s in scores[True]) + sum(s < threshold for s in scores[False])
    assert correct >= 2 * PAIRS_PER_KIND - 2
    assert crops.failures == 0
