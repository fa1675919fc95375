"""The kiosk's floor from every cross-identity pair (scripts/far_thresholds.py): the threshold
for a target FAR, and the manifest update that makes it the embed variant's `threshold`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))

from far_thresholds import OPERATING, threshold_at, with_far_thresholds  # noqa: E402


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(50, 5000), st.sampled_from([1e-1, 1e-2, 1e-3]))
def test_the_threshold_accepts_at_most_the_target_far_and_is_the_lowest_that_does(
    seed: int, count: int, far: float
) -> None:
    rng = np.random.default_rng(seed)
    # Ties on purpose: scores rounded to 3 decimals, as cosines of similar crops can tie.
    impostor = np.round(rng.normal(0.0, 0.1, count), 3)
    threshold = threshold_at(np.sort(impostor)[::-1], far)
    accepted = float(np.mean(impostor >= threshold))
    assert accepted <= far
    lower = impostor[impostor < threshold]
    if lower.size:  # the next score down would accept more than the target
        assert float(np.mean(impostor >= lower.max())) > far


def test_only_the_variants_floor_moves_to_its_far_1e3_threshold() -> None:
    manifest = json.loads((ROOT / "models" / "manifest.json").read_text(encoding="utf-8"))
    result = {"points": {OPERATING: {"threshold": 0.4242}, "1e-04": {"threshold": 0.5}}}
    updated = with_far_thresholds(manifest, "sface_int8", result)
    before = {m["name"]: m for m in manifest["models"]}
    for entry in updated["models"]:
        if entry["variant"] == "sface_int8":
            assert entry["threshold"] == 0.4242 and entry["far_thresholds"] is result
            assert "FAR 1e-3" in entry["threshold_method"]
            assert entry["threshold_ceiling"] == before[entry["name"]]["threshold_ceiling"]
        else:
            assert entry == before[entry["name"]]


def test_the_shipped_default_floor_is_its_all_pairs_far_1e3_threshold() -> None:
    manifest = json.loads((ROOT / "models" / "manifest.json").read_text(encoding="utf-8"))
    (entry,) = [m for m in manifest["models"] if m.get("variant") == "sface_fp16"]
    far = entry["far_thresholds"]
    assert entry["threshold"] == far["points"][OPERATING]["threshold"]
    assert far["impostor_pairs"] > 1_000_000  # every cross-identity pair, not pairs.txt's 1,500
    low, high = far["points"][OPERATING]["ci95_bootstrap_identities"]
    assert low <= entry["threshold"] <= high < entry["threshold_ceiling"]["value"]
