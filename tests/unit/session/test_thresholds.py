"""The threshold range of the embed model in use, read from models/manifest.json: matching cannot
be switched off (everyone or no one passes) without an admin's explicit override."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from device.errors import ConfigError
from device.eval import metrics
from device.match.thresholds import check_threshold, manifest_range
from device.vision.models import Manifest

MODELS = Path(__file__).resolve().parents[3] / "models"


@pytest.mark.parametrize("variant", ["sface_fp16", "sface_int8"])
def test_the_range_is_the_far_1e3_floor_and_the_measured_ceiling(variant: str) -> None:
    entry = Manifest.load(MODELS).find(task="embed", variant=variant)
    bounds = manifest_range(entry.model_id, entry.raw)
    assert bounds is not None
    # The floor is FAR 1e-3 over every cross-identity lfw-dev pair where that was measured
    # (scripts/far_thresholds.py), else the 5-fold operating point of the 1,500 impostor pairs.
    far = entry.raw.get("far_thresholds")
    measured = far["points"]["1e-03"]["threshold"] if far else entry.raw["accuracy"]["lfw"][
        "threshold"]
    assert bounds.floor == measured
    assert bounds.ceiling == entry.raw["threshold_ceiling"]["value"]
    assert 0.3 < bounds.floor < bounds.ceiling < 0.7
    assert entry.raw["threshold_ceiling"]["tar"] == 0.9


@pytest.mark.parametrize("value", [0.0, -0.99, 0.999, 0.2, 0.6])
def test_a_threshold_outside_the_range_is_refused_without_override(value: float) -> None:
    entry = Manifest.load(MODELS).find(task="embed", variant="sface_fp16")
    bounds = manifest_range(entry.model_id, entry.raw)
    with pytest.raises(ConfigError, match="outside"):
        check_threshold(value, bounds, False, entry.model_id)
    assert check_threshold(value, bounds, True, entry.model_id).override is True
    inside = (bounds.floor + bounds.ceiling) / 2.0
    assert check_threshold(inside, bounds, True, entry.model_id).override is False


def test_threshold_at_tar_keeps_that_share_of_genuine_pairs() -> None:
    genuine = np.linspace(0.3, 0.9, 10)
    scores = np.concatenate([genuine, np.array([0.1, 0.2])])
    same = np.array([True] * 10 + [False] * 2)
    point = metrics.threshold_at_tar(scores, same, 0.9)
    assert point.tar == pytest.approx(0.9) and point.threshold == pytest.approx(genuine[1])
